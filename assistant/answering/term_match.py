"""Soft matching of a question's terms to a passage through the embedding model.

A parent asks about 老师, the law says 教师; a question says 打孩子, the passage says 体罚. Literal
coverage (``terms.coverage``) gives such a term nothing. ``soft_coverage`` gives a term that does
not occur literally the credit of its best cosine to a word of the passage, rescaled so that a
cosine at ``floor`` or below earns nothing and 1 earns the full weight. Words and terms are
embedded alike (the model's query prompt on both sides: a symmetric comparison of two short
texts), once per word per process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import jieba
import numpy as np

from assistant.answering.terms import QueryTerm, is_informative

if TYPE_CHECKING:
    from assistant.embedding import Embedder

MAX_CACHED = 200_000  # word vectors kept per process (384 floats each)


class TermMatcher:
    """Embeds short words with a cache, and gives term × word cosines."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def vectors(self, words: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [w for w in dict.fromkeys(words) if w not in self._cache]
        if missing:
            vecs = self.embedder.embed_queries(missing)
            with self._lock:
                if len(self._cache) + len(missing) > MAX_CACHED:
                    self._cache.clear()
                self._cache.update(zip(missing, vecs, strict=True))
        with self._lock:
            return np.stack([self._cache[w] for w in words]) if words else np.empty((0, 0))

    def best_similarity(self, terms: Sequence[str], words: Sequence[str]) -> np.ndarray:
        """For each term, its highest cosine to any of ``words`` (0 when there are none)."""
        if not terms or not words:
            return np.zeros(len(terms), np.float32)
        return (self.vectors(terms) @ self.vectors(words).T).max(axis=1)


def passage_words(text: str) -> list[str]:
    """The informative jieba words of a normalized passage text, without duplicates."""
    return list(dict.fromkeys(w for w in jieba.cut(text) if is_informative(w.strip())))


def soft_coverage(
    terms: Sequence[QueryTerm],
    text: str,
    matcher: TermMatcher,
    *,
    floor: float,
    cap: float | None = None,
) -> float:
    """Weighted share of ``terms`` carried by the normalized ``text``, literally or softly."""
    total = sum(t.weight for t in terms)
    if cap is not None:
        total = min(total, cap)
    if total <= 0:
        return 0.0
    present = sum(t.weight for t in terms if t.text in text)
    absent = [t for t in terms if t.text not in text]
    if absent:
        sims = matcher.best_similarity([t.text for t in absent], passage_words(text))
        credit = np.clip((sims - floor) / max(1e-6, 1.0 - floor), 0.0, 1.0)
        present += float(sum(t.weight * c for t, c in zip(absent, credit, strict=True)))
    return min(1.0, present / total)


_MATCHERS: dict[int, TermMatcher] = {}


def matcher_for(embedder: Embedder) -> TermMatcher:
    """One matcher (and word-vector cache) per loaded embedder."""
    m = _MATCHERS.get(id(embedder))
    if m is None or m.embedder is not embedder:
        m = _MATCHERS[id(embedder)] = TermMatcher(embedder)
    return m
