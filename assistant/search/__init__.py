"""The search index: build it from files (``build_index``), open it (``Retriever.open``), search.

    from assistant.search import Retriever, SearchFilters, build_index
    build_index([Path("corpus")], Path("index"))
    hits = Retriever.open(Path("index")).search("各地如何落实双减", k=5, per_doc=2)

Modules: ``backends`` (the storage interface and its implementations), ``store`` (index
directory, manifest, SQLite, atomic commit), ``dense`` (FAISS),
``lexical`` (BM25), ``fusion`` (RRF, diversification), ``passage`` (what is embedded),
``writer`` (one generation), ``builder`` (incremental builds), ``retriever`` (search),
``langchain`` (LangChain adapter).
"""

from __future__ import annotations

from typing import Any

from assistant.search.retriever import DocumentSummary, Mode, Retriever, SearchFilters, parse_year
from assistant.search.store import (
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    Manifest,
)

__all__ = [
    "BuildReport",
    "DocumentSummary",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "Manifest",
    "Mode",
    "Retriever",
    "SearchFilters",
    "build_index",
    "index_chunks",
    "parse_year",
]


def __getattr__(name: str) -> Any:
    # The builder pulls in the ingestion pipeline; load it only when asked for.
    if name in ("build_index", "BuildReport"):
        from assistant.search import builder

        return getattr(builder, name)
    if name == "index_chunks":
        from assistant.search.writer import index_chunks

        return index_chunks
    raise AttributeError(f"module 'assistant.search' has no attribute {name!r}")
