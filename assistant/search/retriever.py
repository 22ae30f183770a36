"""Search an index: hybrid (dense + BM25 fused by weighted RRF), dense-only or BM25-only.

``Retriever.open(index_dir)`` loads the committed generation once (SQLite, FAISS, BM25); the
embedding model is loaded on the first dense or hybrid query and kept for the process. Each
``search`` embeds the query once. Filters (year or year range, region, document, file) restrict
both retrievers before ranking, and ``per_doc`` keeps at most N hits per document.

``Hit.score`` is the fused RRF score in hybrid mode and the retriever's raw score (cosine or
BM25) in a single mode; ``Hit.ranks`` gives the 1-based rank in each retriever's candidate list
(None when outside it) and ``Hit.scores`` the raw scores of both retrievers where computed.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from assistant.config import Settings, load_settings
from assistant.records import DocumentMeta, Hit
from assistant.search.dense import DenseIndex
from assistant.search.fusion import diversify, ranks_of, top_k, weighted_rrf
from assistant.search.lexical import LexicalIndex
from assistant.search.passage import phrase_key
from assistant.search.store import (
    CHUNKS_FILE,
    ChunkTable,
    IndexMismatchError,
    IndexNotFoundError,
    Manifest,
    check_model,
    current_generation,
    read_manifest,
)
from assistant.text import normalize, tokenize

if TYPE_CHECKING:
    from assistant.embedding import Embedder

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = get_args(Mode)
MIN_CANDIDATES = 50  # per retriever, before fusion


@dataclass(frozen=True)
class SearchFilters:
    year: int | tuple[int, int] | None = None  # exact year or inclusive range
    region: str | None = None  # exact locality, e.g. "庄浪县"
    doc_id: str | None = None
    file: str | None = None  # file name (or its path relative to the corpus root)

    def is_empty(self) -> bool:
        return self.year is None and not self.region and not self.doc_id and not self.file

    def sql(self) -> tuple[str, list[Any]]:
        """A WHERE clause over ``documents d`` and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if isinstance(self.year, tuple):
            lo, hi = self.year
            clauses.append("d.year BETWEEN ? AND ?")
            params += [min(lo, hi), max(lo, hi)]
        elif self.year is not None:
            clauses.append("d.year = ?")
            params.append(int(self.year))
        if self.region:
            clauses.append("d.region = ?")
            params.append(self.region)
        if self.doc_id:
            clauses.append("d.doc_id = ?")
            params.append(self.doc_id)
        if self.file:
            clauses.append("(d.file = ? OR d.source_path = ? OR c.file_rel = ?)")
            params += [self.file] * 3
        return (" AND ".join(clauses) or "1"), params


def parse_year(text: str) -> int | tuple[int, int]:
    """ "2023" → 2023; "2020-2023" → (2020, 2023). Raises ValueError, in plain words, otherwise."""
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", text)
    if not m:
        raise ValueError(f"expected a year (2023) or a range (2020-2024), got {text!r}")
    return (int(m[1]), int(m[2])) if m[2] else int(m[1])


@dataclass(frozen=True)
class DocumentSummary:
    meta: DocumentMeta
    chunks: int


class Retriever:
    """An opened index generation plus the (lazily loaded) query embedder."""

    def __init__(
        self,
        index_dir: Path,
        generation: Path,
        manifest: Manifest,
        table: ChunkTable,
        dense: DenseIndex,
        lexical: LexicalIndex,
        settings: Settings,
        embedder: Embedder | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.generation = generation
        self._manifest = manifest
        self._table = table
        self._dense = dense
        self._lexical = lexical
        self.settings = settings
        self._embedder = embedder
        self._embedder_lock = threading.Lock()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls, index_dir: Path, settings: Settings | None = None, *, embedder: Embedder | None = None
    ) -> Retriever:
        settings = settings or load_settings()
        index_dir = Path(index_dir)
        last_error: Exception | None = None
        for _attempt in range(3):  # a build may swap generations while we open one
            gen = current_generation(index_dir)
            if gen is None:
                raise IndexNotFoundError(
                    f"no index in {index_dir}: build one with `assistant index` "
                    f"(e.g. `assistant index corpus/ --index-dir {index_dir}`)"
                )
            try:
                manifest = read_manifest(gen)
                model = embedder.model_name if embedder is not None else settings.embed_model
                check_model(
                    manifest, model, index_dir, dim=embedder.dim if embedder is not None else None
                )
                table = ChunkTable(gen / CHUNKS_FILE)
                dense = DenseIndex.load(gen)
                lexical = LexicalIndex.load(gen)
            except FileNotFoundError as exc:
                last_error = exc
                if current_generation(index_dir) != gen:
                    continue
                raise IndexMismatchError(
                    f"the index at {index_dir} is incomplete ({exc}); rebuild it with "
                    f"`assistant index --rebuild --index-dir {index_dir}`"
                ) from exc
            if not (len(table) == len(dense) == len(lexical) == manifest.chunks):
                raise IndexMismatchError(
                    f"the index at {index_dir} is inconsistent ({len(table)} chunks, "
                    f"{len(dense)} vectors, {len(lexical)} BM25 documents); rebuild it with "
                    f"`assistant index --rebuild --index-dir {index_dir}`"
                )
            return cls(index_dir, gen, manifest, table, dense, lexical, settings, embedder)
        raise IndexNotFoundError(f"could not open the index at {index_dir}: {last_error}")

    def is_stale(self) -> bool:
        """True when a newer build has been committed since this retriever was opened."""
        return current_generation(self.index_dir) != self.generation

    def reopen(self) -> Retriever:
        """A retriever on the newest committed generation, sharing this one's embedder."""
        return Retriever.open(self.index_dir, self.settings, embedder=self._embedder)

    def close(self) -> None:
        self._table.close()

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    def __len__(self) -> int:
        return len(self._table)

    def embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None:
                from assistant.embedding import load_embedder

                emb = load_embedder(self.settings)
                check_model(self._manifest, emb.model_name, self.index_dir, dim=emb.dim)
                self._embedder = emb
            return self._embedder

    # ------------------------------------------------------------------ search

    def _allowed_rows(self, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        where, params = filters.sql()
        return np.asarray(self._table.filter_rows(where, params), dtype=np.int64)

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        mode: Mode = "hybrid",
        filters: SearchFilters | None = None,
        per_doc: int | None = None,
    ) -> list[Hit]:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if per_doc is not None and per_doc < 1:
            raise ValueError(f"per_doc must be >= 1, got {per_doc}")
        if k <= 0 or not query.strip() or len(self) == 0:
            return []
        allowed = self._allowed_rows(filters)
        if allowed is not None and len(allowed) == 0:
            return []
        depth = max(MIN_CANDIDATES, 5 * k, 20 * k if per_doc else 0)

        rankings: dict[str, list[int]] = {}
        raw: dict[str, dict[int, float]] = {}
        qvec = None
        bm25_all = None
        if mode in ("hybrid", "dense"):
            qvec = self.embedder().embed_queries([normalize(query)])[0]
            rows, scores = self._dense.search(qvec, depth, allowed)
            rankings["dense"] = rows.tolist()
            raw["dense"] = dict(zip(rows.tolist(), scores.tolist(), strict=True))
        if mode in ("hybrid", "bm25"):
            # Scored once: the full vector also gives raw BM25 scores to dense-only candidates.
            bm25_all = self._lexical.scores(tokenize(query))
            rows, scores = top_k(bm25_all, depth, allowed, minimum=0.0)
            rankings["bm25"] = rows.tolist()
            raw["bm25"] = dict(zip(rows.tolist(), scores.tolist(), strict=True))

        if mode == "hybrid":
            weights = {"dense": self.settings.dense_weight, "bm25": self.settings.bm25_weight}
            fused = weighted_rrf(rankings, weights, k=self.settings.rrf_k)
        else:
            fused = [(row, raw[mode][row]) for row in rankings[mode]]
        fused = diversify(fused, key=lambda rs: self._table.doc_row(rs[0]), per_key=per_doc)[:k]
        if not fused:
            return []

        rows = [row for row, _ in fused]
        rank_maps = {name: ranks_of(r) for name, r in rankings.items()}
        if qvec is not None:  # raw cosine for BM25-only candidates too
            missing = np.asarray([r for r in rows if r not in raw["dense"]], dtype=np.int64)
            raw["dense"].update(
                zip(missing.tolist(), self._dense.scores(qvec, missing).tolist(), strict=True)
            )
        if bm25_all is not None:
            raw["bm25"].update({r: float(bm25_all[r]) for r in rows if r not in raw["bm25"]})
        chunks = self._table.chunks(rows)
        return [
            Hit(
                chunk=chunks[row],
                score=float(score),
                ranks={name: rank_maps[name].get(row) for name in rankings},
                scores={name: float(raw[name][row]) for name in rankings},
            )
            for row, score in fused
        ]

    def phrase_search(
        self, phrase: str, *, k: int = 20, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """Chunks whose text contains ``phrase`` exactly, after normalization (t2s, width,
        whitespace removed); the most occurrences first. ``Hit.score`` is the count."""
        key = phrase_key(phrase)
        if not key or k <= 0:
            return []
        where, params = (filters or SearchFilters()).sql()
        found = self._table.phrase_rows(key, where, params, k)
        chunks = self._table.chunks([row for row, _ in found])
        return [
            Hit(chunk=chunks[row], score=float(n), ranks={"phrase": i}, scores={"phrase": float(n)})
            for i, (row, n) in enumerate(found, start=1)
        ]

    # ------------------------------------------------------------------ browsing

    def documents(self) -> list[DocumentSummary]:
        return [DocumentSummary(meta=m, chunks=n) for m, n in self._table.documents()]

    def regions(self) -> list[str]:
        return sorted({m.region for m, _ in self._table.documents() if m.region})

    def years(self) -> list[int]:
        return sorted({m.year for m, _ in self._table.documents() if m.year is not None})
