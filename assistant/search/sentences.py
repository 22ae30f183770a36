"""Sentence-level evidence: how well the best sentence of a candidate item matches the query.

Items stay the unit of display and citation, but a long item whose one sentence is what a writer
half remembers has an item vector dominated by its other sentences. For the first
``SENTENCE_TOP`` fused candidates, each item is split into sentences (``text.split_sentences``),
the sentences are embedded as passages, and the best sentence's cosine with the query re-ranks
those candidates (min-max scaled like the dense channel, added with ``weight``).

Sentence vectors are computed at query time and kept per chunk id in the process
(``SentenceVectors``), so repeated queries over the same items are cheap but a cold query
embeds every sentence of its candidates; it is a setting (``sentence_weight``, 0 = off).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from assistant.records import Chunk
from assistant.search.fusion import unit_scale
from assistant.text import normalize, split_sentences

if TYPE_CHECKING:
    from assistant.embedding import Embedder

SENTENCE_TOP = 30  # fused candidates whose sentences are looked at
MIN_SENTENCE = 8  # characters; a heading or "第三条" alone is no evidence
SPAN = 0.15  # least cosine range stretched to [0, 1], as for the dense channel


def item_sentences(text: str) -> list[str]:
    """The normalized sentences of an item worth embedding (the whole item if none is long)."""
    out = [s for s in (normalize(x) for x in split_sentences(text)) if len(s) >= MIN_SENTENCE]
    return out or [normalize(text)]


class SentenceVectors:
    """Sentence vectors per chunk id, embedded on first use and kept (least recently used
    chunks are dropped beyond ``max_chunks``)."""

    def __init__(self, embedder: Embedder, max_chunks: int = 5_000) -> None:
        self.embedder = embedder
        self.max_chunks = max_chunks
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def best_cosine(self, query_vec: np.ndarray, chunks: Mapping[int, Chunk]) -> dict[int, float]:
        """For each row, the cosine of its best sentence with ``query_vec``."""
        with self._lock:
            return self._best_cosine(query_vec, chunks)

    def _best_cosine(self, query_vec: np.ndarray, chunks: Mapping[int, Chunk]) -> dict[int, float]:
        missing = [c for c in chunks.values() if c.chunk_id not in self._vectors]
        if missing:
            texts = [item_sentences(c.text) for c in missing]
            flat = [s for ss in texts for s in ss]
            vecs = self.embedder.embed_passages(flat, progress=False)
            start = 0
            for c, ss in zip(missing, texts, strict=True):
                self._vectors[c.chunk_id] = vecs[start : start + len(ss)]
                start += len(ss)
        out = {}
        for row, c in chunks.items():
            self._vectors.move_to_end(c.chunk_id)
            out[row] = float(np.max(self._vectors[c.chunk_id] @ query_vec))
        while len(self._vectors) > self.max_chunks:
            self._vectors.popitem(last=False)
        return out


def with_sentence_evidence(
    fused: Sequence[tuple[int, float]], best: Mapping[int, float], weight: float
) -> list[tuple[int, float]]:
    """``fused`` with the rows in ``best`` (its head) re-ranked by score plus ``weight`` × their
    scaled best-sentence cosine; the rest keep their order below them."""
    if weight <= 0 or not best:
        return list(fused)
    scaled = unit_scale(best, minmax=True, min_span=SPAN)
    head = [(row, score + weight * scaled[row]) for row, score in fused if row in best]
    head.sort(key=lambda rs: (-rs[1], rs[0]))
    return head + [(row, score) for row, score in fused if row not in best]
