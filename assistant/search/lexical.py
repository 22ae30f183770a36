"""Keyword retrieval: BM25 (Lucene variant) over jieba tokens, as per-segment postings.

Each index segment keeps its own inverted index (``Postings``): the sorted term list, and per
term the rows that contain it with their counts, plus every row's token count; all plain
``.npy`` files opened memory-mapped. Scoring uses statistics of the whole live index (live
documents, average length, and per term the live document frequency counted from the postings
themselves, so deleted rows never count), which makes a segmented index score every passage
exactly as one index built from the same passages would. Tokens come from
``assistant.text.tokenize`` (OpenCC t2s, half-width, jieba search mode).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LEXICAL_DIR = "lexical"
K1 = 1.5
B = 0.75
MAX_TERM = 32  # characters; longer tokens (long digit runs, URLs) are not indexed
_FILES = ("terms", "indptr", "rows", "counts", "lengths")


@dataclass
class Postings:
    """One segment's inverted index; row ids are the segment's row numbers."""

    terms: np.ndarray  # sorted unicode [V]
    indptr: np.ndarray  # int64 [V + 1]: postings of term t are rows[indptr[t]:indptr[t+1]]
    rows: np.ndarray  # int32 [nnz], ascending within a term
    counts: np.ndarray  # uint16 [nnz]: occurrences of the term in the row
    lengths: np.ndarray  # float32 [n]: tokens per row

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]]) -> Postings:
        vocab: dict[str, int] = {}
        entry_term: list[int] = []
        entry_row: list[int] = []
        entry_count: list[int] = []
        lengths = np.zeros(len(token_lists), dtype=np.float32)
        for row, tokens in enumerate(token_lists):
            lengths[row] = len(tokens)
            for term, n in Counter(t for t in tokens if len(t) <= MAX_TERM).items():
                entry_term.append(vocab.setdefault(term, len(vocab)))
                entry_row.append(row)
                entry_count.append(n)
        words = np.array(list(vocab), dtype=f"<U{MAX_TERM}")
        order = np.argsort(words, kind="stable")
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order))
        return cls._from_entries(
            words[order],
            rank[np.asarray(entry_term, dtype=np.int32)].astype(np.int32),
            np.asarray(entry_row, dtype=np.int32),
            np.asarray(entry_count, dtype=np.uint16),
            lengths,
        )

    @classmethod
    def _from_entries(
        cls,
        terms: np.ndarray,
        term_ids: np.ndarray,
        rows: np.ndarray,
        counts: np.ndarray,
        lengths: np.ndarray,
    ) -> Postings:
        # Callers give entries in ascending row order per term (build: row by row; merge: part
        # after part, renumbered upwards), so a stable sort by term keeps rows ascending.
        order = np.argsort(term_ids, kind="stable")
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_ids, minlength=len(terms)), out=indptr[1:])
        return cls(terms, indptr, rows[order], counts[order], lengths)

    @classmethod
    def merge(cls, parts: Sequence[tuple[Postings, np.ndarray]]) -> Postings:
        """One index over the kept rows (boolean mask per part) of ``parts``, renumbered in
        order: part 0's kept rows first."""
        union = np.unique(np.concatenate([p.terms for p, _ in parts])) if parts else np.array([])
        ids, rows, counts, lengths = [], [], [], []
        offset = 0
        for p, keep in parts:
            keep = np.asarray(keep, dtype=bool)
            renumber = np.cumsum(keep, dtype=np.int64) - 1 + offset
            term_ids = np.repeat(
                np.searchsorted(union, p.terms).astype(np.int32), np.diff(p.indptr)
            )
            kept = keep[np.asarray(p.rows)]
            ids.append(term_ids[kept])
            rows.append(renumber[np.asarray(p.rows)[kept]].astype(np.int32))
            counts.append(np.asarray(p.counts)[kept])
            lengths.append(np.asarray(p.lengths)[keep])
            offset += int(keep.sum())
        if not parts:
            return cls.build([])
        merged = cls._from_entries(
            union.astype(f"<U{MAX_TERM}"),
            np.concatenate(ids),
            np.concatenate(rows),
            np.concatenate(counts),
            np.concatenate(lengths).astype(np.float32),
        )
        # terms whose every row was dropped stay in the list with empty postings
        return merged

    def save(self, directory: Path) -> None:
        target = directory / LEXICAL_DIR
        target.mkdir(parents=True, exist_ok=True)
        for name in _FILES:
            np.save(target / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, directory: Path) -> Postings:
        target = directory / LEXICAL_DIR
        arrays = {name: np.load(target / f"{name}.npy", mmap_mode="r") for name in _FILES}
        return cls(**arrays)

    def lookup(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, counts) of ``term`` (empty when it is not in this segment)."""
        i = int(np.searchsorted(self.terms, term))
        if i >= len(self.terms) or self.terms[i] != term:
            return _NO_ROWS, _NO_COUNTS
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return np.asarray(self.rows[lo:hi]), np.asarray(self.counts[lo:hi])


_NO_ROWS = np.empty(0, dtype=np.int32)
_NO_COUNTS = np.empty(0, dtype=np.uint16)


@dataclass(frozen=True)
class LexicalStats:
    """Whole-index statistics: live documents and their average length."""

    docs: int
    avg_length: float

    @classmethod
    def of(cls, segments: Sequence[tuple[Postings, np.ndarray | None]]) -> LexicalStats:
        docs, total = 0, 0.0
        for p, live in segments:
            lengths = np.asarray(p.lengths)
            if live is not None:
                lengths = lengths[live]
            docs += len(lengths)
            total += float(lengths.sum())
        return cls(docs, total / docs if docs else 1.0)


def bm25_scores(
    segments: Sequence[tuple[Postings, np.ndarray | None]],
    tokens: Sequence[str],
    stats: LexicalStats,
) -> list[np.ndarray]:
    """BM25 score of every row of every segment for the query tokens (a repeated token
    counts again, as in bm25s); ``live`` masks (None: all live) keep deleted rows at 0."""
    found: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in segments]
    dfs: list[int] = []
    terms = [t for t in tokens if len(t) <= MAX_TERM]
    for term in terms:
        df = 0
        for s, (p, live) in enumerate(segments):
            rows, counts = p.lookup(term)
            if live is not None and len(rows):
                keep = live[rows]
                rows, counts = rows[keep], counts[keep]
            found[s].append((rows, counts))
            df += len(rows)
        dfs.append(df)
    out = []
    n = stats.docs
    for s, (p, _live) in enumerate(segments):
        scores = np.zeros(len(p), dtype=np.float32)
        lengths = np.asarray(p.lengths)
        for (rows, counts), df in zip(found[s], dfs, strict=True):
            if not len(rows):
                continue
            idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
            tf = counts.astype(np.float32)
            norm = K1 * ((1 - B) + B * lengths[rows] / stats.avg_length)
            scores[rows] += (idf * tf / (norm + tf)).astype(np.float32)
        out.append(scores)
    return out
