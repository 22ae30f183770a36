"""The index as a LangChain retriever, so it drops into any LangChain chain.

    retriever = PolicyRetriever.from_index("index", k=5, per_doc=2)
    docs = retriever.invoke("各地如何落实双减")

Each ``Document`` holds the original wording of one numbered item as ``page_content`` and the
hit's provenance (file, doc_id, title, region, year, heading path, label, score, ranks …) as
``metadata``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.config import Settings
from assistant.records import Hit
from assistant.search.retriever import Mode, Retriever, SearchFilters


def hit_to_document(hit: Hit) -> Document:
    data = hit.to_dict()
    text = data.pop("text")
    return Document(page_content=text, metadata=data, id=hit.chunk.chunk_id)


class PolicyRetriever(BaseRetriever):
    """LangChain ``BaseRetriever`` over an opened :class:`Retriever`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int = 10
    mode: Mode = "hybrid"
    filters: SearchFilters | None = None
    per_doc: int | None = None

    @classmethod
    def from_index(
        cls, index_dir: Path | str, settings: Settings | None = None, **kwargs: Any
    ) -> PolicyRetriever:
        return cls(retriever=Retriever.open(Path(index_dir), settings), **kwargs)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.retriever.search(
            query, k=self.k, mode=self.mode, filters=self.filters, per_doc=self.per_doc
        )
        return [hit_to_document(h) for h in hits]
