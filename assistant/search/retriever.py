"""Search an index: hybrid (dense + BM25, convex fusion with a verbatim tier, or weighted RRF
with ``settings.fusion = "rrf"``), dense-only or BM25-only; documents ranked by their items.

``Retriever.open(index_dir)`` opens the committed snapshot once through its storage backend
(``assistant.search.backends``: the embedded files by default); the embedding model is loaded
on the first dense or hybrid query and kept for the process. Each ``search`` embeds the query
once. Filters (year or year range, region, document, file) restrict both retrievers before
ranking, and ``per_doc`` keeps at most N hits per document.

``Hit.score`` is the fused score in hybrid mode (convex: the number of the query's verbatim
keys the item contains plus a weighted score in [0, 1], plus the best-sentence evidence when
``settings.sentence_weight`` is set; or the RRF score) and the retriever's
raw score (cosine or BM25) in a single mode; ``Hit.ranks`` gives the 1-based rank in each
retriever's candidate list (None when outside it) and ``Hit.scores`` the raw scores of both
retrievers where computed.
"""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from assistant.config import Settings, load_settings
from assistant.documents.versions import find_versions, superseded_ids, with_version
from assistant.records import Chunk, DocumentMeta, Hit
from assistant.search.backends import SearchBackend, SearchFilters, open_backend
from assistant.search.backends.base import LexicalQuery
from assistant.search.documents import DocumentHit, rank_documents
from assistant.search.evidence import verbatim_keys
from assistant.search.fusion import (
    Candidates,
    FusionWeights,
    convex_fusion,
    diversify,
    ranks_of,
    weighted_rrf,
)
from assistant.search.passage import phrase_key
from assistant.search.sentences import SENTENCE_TOP, SentenceVectors, with_sentence_evidence
from assistant.search.store import Manifest, check_model
from assistant.text import load_jieba_dictionary, normalize

if TYPE_CHECKING:
    import numpy as np

    from assistant.embedding import Embedder

__all__ = ["MODES", "DocumentSummary", "Mode", "Retriever", "SearchFilters", "parse_year"]

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = get_args(Mode)
MIN_CANDIDATES = 50  # per retriever, before fusion
DOCUMENT_ITEMS = 5  # item hits looked at per document asked for


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
    """An opened index snapshot (any backend) plus the (lazily loaded) query embedder."""

    def __init__(
        self,
        index_dir: Path,
        backend: SearchBackend,
        settings: Settings,
        embedder: Embedder | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.backend = backend
        self.settings = settings
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self.versions = find_versions(m for m, _ in backend.documents())
        self.fusion_weights = FusionWeights()
        self._sentences: SentenceVectors | None = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls, index_dir: Path, settings: Settings | None = None, *, embedder: Embedder | None = None
    ) -> Retriever:
        settings = settings or load_settings()
        index_dir = Path(index_dir)
        load_jieba_dictionary(settings.cache_dir)
        backend = open_backend(index_dir, settings)
        try:
            model = embedder.model_name if embedder is not None else settings.embed_model
            dim = embedder.dim if embedder is not None else None
            check_model(backend.manifest, model, index_dir, dim=dim)
        except BaseException:
            backend.close()
            raise
        return cls(index_dir, backend, settings, embedder)

    @property
    def generation(self) -> Path:
        """Where the opened snapshot lives (its version under the index directory)."""
        return self.index_dir / self.backend.version

    def is_stale(self) -> bool:
        """True when a newer build has been committed since this retriever was opened."""
        return self.backend.is_stale()

    def reopen(self) -> Retriever:
        """A retriever on the newest committed snapshot, sharing this one's embedder."""
        return Retriever.open(self.index_dir, self.settings, embedder=self._embedder)

    def close(self) -> None:
        self.backend.close()

    @property
    def manifest(self) -> Manifest:
        return self.backend.manifest

    def __len__(self) -> int:
        return self.backend.count()

    def embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None:
                from assistant.embedding import load_query_embedder

                emb = load_query_embedder(self.settings)
                check_model(self.manifest, emb.model_name, self.index_dir, dim=emb.dim)
                self._embedder = emb
            return self._embedder

    def _prefetch_embedder(self) -> None:
        def load() -> None:
            with contextlib.suppress(Exception):  # the caller's own embedder() call reports it
                self.embedder()

        threading.Thread(target=load, name="load-query-model", daemon=True).start()

    # ------------------------------------------------------------------ search

    def _resolved(self, filters: SearchFilters | None) -> SearchFilters | None:
        """``filters`` with ``superseded=False`` turned into the document ids to leave out
        (what backends translate); None when nothing restricts."""
        if filters is not None and filters.superseded is False:
            old = tuple(superseded_ids(self.versions))
            filters = replace(filters, superseded=None, exclude_doc_ids=old)
        return None if filters is None or filters.is_empty() else filters

    def _versioned(self, chunk: Chunk) -> Chunk:
        doc = with_version(chunk.doc, self.versions)
        return chunk if doc is chunk.doc else replace(chunk, doc=doc)

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        mode: Mode = "hybrid",
        filters: SearchFilters | None = None,
        per_doc: int | None = None,
        sentence_weight: float | None = None,
    ) -> list[Hit]:
        """The ``k`` best items (``per_doc``: at most that many per document). ``sentence_weight``
        overrides the setting of the same name for this query (best-sentence evidence)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if per_doc is not None and per_doc < 1:
            raise ValueError(f"per_doc must be >= 1, got {per_doc}")
        if k <= 0 or not query.strip() or len(self) == 0:
            return []
        filters = self._resolved(filters)
        depth = max(MIN_CANDIDATES, 5 * k, 20 * k if per_doc else 0)

        rankings, raw, qvec, lexical = self._channels(query, mode, depth, filters)

        if mode == "hybrid" and self.settings.fusion == "convex":
            cands = self._candidates(query, rankings, raw, qvec, lexical)
            fused = convex_fusion(cands, self.fusion_weights)
            if sentence_weight is None:
                sentence_weight = self.settings.sentence_weight
            if sentence_weight > 0 and qvec is not None:
                best = self.sentence_scores(qvec, [row for row, _ in fused[:SENTENCE_TOP]])
                fused = with_sentence_evidence(fused, best, sentence_weight)
        elif mode == "hybrid":
            weights = {"dense": self.settings.dense_weight, "bm25": self.settings.bm25_weight}
            fused = weighted_rrf(rankings, weights, k=self.settings.rrf_k)
        else:
            fused = [(row, raw[mode][row]) for row in rankings[mode]]
        if per_doc:
            keys = self.backend.doc_keys([row for row, _ in fused])
            fused = diversify(fused, key=lambda rs: keys[rs[0]], per_key=per_doc)
        fused = fused[:k]
        if not fused:
            return []

        rows = [row for row, _ in fused]
        rank_maps = {name: ranks_of(r) for name, r in rankings.items()}
        if qvec is not None:  # raw cosine for BM25-only candidates too
            missing = [r for r in rows if r not in raw["dense"]]
            raw["dense"].update(self.backend.dense_scores(qvec, missing))
        if lexical is not None:  # and raw BM25 for dense-only ones
            missing = [r for r in rows if r not in raw["bm25"]]
            raw["bm25"].update(self.backend.lexical_scores(lexical, missing))
        chunks = self.backend.chunks(rows)
        return [
            Hit(
                chunk=self._versioned(chunks[row]),
                score=float(score),
                ranks={name: rank_maps[name].get(row) for name in rankings},
                scores={name: float(raw[name][row]) for name in rankings},
            )
            for row, score in fused
        ]

    def _channels(
        self, query: str, mode: Mode, depth: int, filters: SearchFilters | None
    ) -> tuple[dict[str, list[int]], dict[str, dict[int, float]], np.ndarray | None,
               LexicalQuery | None]:  # fmt: skip
        """Each channel's top ``depth`` ids and raw scores (the query vector and keyword query
        are returned for scoring further ids)."""
        rankings: dict[str, list[int]] = {}
        raw: dict[str, dict[int, float]] = {}
        qvec = None
        lexical = None
        if mode == "hybrid" and self._embedder is None:
            self._prefetch_embedder()  # a first query: the model loads while keywords are scored
        if mode in ("hybrid", "bm25"):
            lexical = self.lexical_query(query)
            found = self.backend.lexical_search(lexical, depth, filters)
            rankings["bm25"] = [i for i, _ in found]
            raw["bm25"] = dict(found)
        if mode in ("hybrid", "dense"):
            qvec = self.query_vector(query)
            found = self.backend.dense_search(qvec, depth, filters)
            rankings["dense"] = [i for i, _ in found]
            raw["dense"] = dict(found)
        return rankings, raw, qvec, lexical

    def candidates(
        self, query: str, *, depth: int = MIN_CANDIDATES, filters: SearchFilters | None = None
    ) -> tuple[Candidates, dict[int, Chunk]]:
        """What convex fusion ranks for a hybrid query, and the candidates' chunks (for tuning
        the fusion weights offline: ``fusion.convex_fusion(candidates, weights)``)."""
        rankings, raw, qvec, lexical = self._channels(query, "hybrid", depth, filters)
        cands = self._candidates(query, rankings, raw, qvec, lexical)
        return cands, self.backend.chunks(cands.rows)

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding, as the dense channel uses it."""
        return self.embedder().embed_queries([normalize(query)])[0]

    def sentence_scores(self, query_vec: np.ndarray, rows: list[int]) -> dict[int, float]:
        """Each row's best-sentence cosine with the query (``sentences.SentenceVectors``, kept
        for this retriever's lifetime)."""
        if self._sentences is None:
            self._sentences = SentenceVectors(self.embedder())
        return self._sentences.best_cosine(query_vec, self.backend.chunks(rows))

    def lexical_query(self, query: str) -> LexicalQuery:
        """The keyword query, tokenized as this index's keyword channel was."""
        return LexicalQuery(
            text=normalize(query), tokens=tuple(self.backend.analyzer.tokens(query))
        )

    def _candidates(
        self,
        query: str,
        rankings: dict[str, list[int]],
        raw: dict[str, dict[int, float]],
        qvec: np.ndarray | None,
        lexical: LexicalQuery | None,
    ) -> Candidates:
        """Both channels' scores and the verbatim evidence for the union of the candidates
        (``raw`` is completed in place)."""
        rows = list(dict.fromkeys(row for ranking in rankings.values() for row in ranking))
        if qvec is not None:
            raw["dense"].update(
                self.backend.dense_scores(qvec, [r for r in rows if r not in raw["dense"]])
            )
        if lexical is not None:
            raw["bm25"].update(
                self.backend.lexical_scores(lexical, [r for r in rows if r not in raw["bm25"]])
            )
        keys = verbatim_keys(query)
        cands = Candidates(rows=rows)
        cands.verbatim = self.backend.verbatim_counts(keys, rows) if keys else {}
        for row in rows:
            cands.dense[row] = raw["dense"].get(row, 0.0) if qvec is not None else 0.0
            cands.lexical[row] = raw["bm25"].get(row, 0.0) if lexical is not None else 0.0
        if qvec is None:
            cands.dense.clear()
        if lexical is None:
            cands.lexical.clear()
        return cands

    def search_documents(
        self,
        query: str,
        *,
        k: int = 10,
        mode: Mode = "hybrid",
        filters: SearchFilters | None = None,
        items: int = DOCUMENT_ITEMS,
    ) -> list[DocumentHit]:
        """The ``k`` documents whose items answer ``query`` best (``documents.rank_documents``
        over the top ``items × k`` item hits)."""
        if k <= 0:
            return []
        hits = self.search(query, k=max(MIN_CANDIDATES, items * k), mode=mode, filters=filters)
        return rank_documents(hits)[:k]

    def phrase_search(
        self, phrase: str, *, k: int = 20, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """Chunks whose text contains ``phrase`` exactly, after normalization (t2s, width,
        whitespace removed); the most occurrences first. ``Hit.score`` is the count."""
        key = phrase_key(phrase)
        if not key or k <= 0:
            return []
        filters = self._resolved(filters)
        found = self.backend.phrase_search(key, k, filters)
        chunks = self.backend.chunks([row for row, _ in found])
        return [
            Hit(
                chunk=self._versioned(chunks[row]),
                score=float(n),
                ranks={"phrase": i},
                scores={"phrase": float(n)},
            )
            for i, (row, n) in enumerate(found, start=1)
        ]

    # ------------------------------------------------------------------ browsing

    def documents(self) -> list[DocumentSummary]:
        return [
            DocumentSummary(meta=with_version(m, self.versions), chunks=n)
            for m, n in self.backend.documents()
        ]

    def regions(self) -> list[str]:
        return sorted({m.region for m, _ in self.backend.documents() if m.region})

    def years(self) -> list[int]:
        return sorted({m.year for m, _ in self.backend.documents() if m.year is not None})
