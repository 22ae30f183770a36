"""Keyword retrieval: BM25 (bm25s, Lucene variant) over jieba tokens of normalized text.

The index is built once per build from pre-tokenized passages (``assistant.text.tokenize``:
OpenCC t2s, half-width, jieba search mode) and saved; a search loads nothing and rebuilds
nothing, it scores the query's tokens against the saved sparse matrix.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from assistant.search.fusion import top_k

# bm25s sets its own logger to DEBUG, so any root handler (an application's basicConfig)
# would print a line per build.
logging.getLogger("bm25s").setLevel(logging.WARNING)

BM25_DIR = "bm25"
_EMPTY_MARK = "empty.json"
K1 = 1.5
B = 0.75


class LexicalIndex:
    def __init__(self, model: bm25s.BM25 | None, n: int) -> None:
        self._model = model
        self._n = n

    def __len__(self) -> int:
        return self._n

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]], *, progress: bool = False) -> LexicalIndex:
        if not token_lists:
            return cls(None, 0)
        model = bm25s.BM25(k1=K1, b=B, method="lucene")
        model.index([list(t) for t in token_lists], show_progress=progress)
        return cls(model, len(token_lists))

    def save(self, directory: Path) -> None:
        target = directory / BM25_DIR
        target.mkdir(parents=True, exist_ok=True)
        if self._model is None:
            (target / _EMPTY_MARK).write_text(json.dumps({"num_docs": 0}), encoding="utf-8")
        else:
            self._model.save(str(target), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        target = directory / BM25_DIR
        if (target / _EMPTY_MARK).is_file():
            return cls(None, 0)
        if not target.is_dir():
            raise FileNotFoundError(target)
        model = bm25s.BM25.load(str(target), show_progress=False)
        return cls(model, int(model.scores["num_docs"]))

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every passage for the query tokens (0 where no token matches)."""
        if self._model is None:
            return np.zeros(0, dtype=np.float32)
        ids = self._model.get_tokens_ids(list(tokens))
        if not ids:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._model.get_scores_from_ids(ids), dtype=np.float32)

    def search(
        self, tokens: Sequence[str], k: int, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best ``k`` rows with a positive score (only among ``rows`` if given)."""
        return top_k(self.scores(tokens), k, rows, minimum=0.0)
