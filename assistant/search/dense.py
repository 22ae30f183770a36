"""Dense retrieval: FAISS inner-product search over L2-normalized passage vectors.

Exact search (``IndexFlatIP``) while the index is small; HNSW (``IndexHNSWFlat`` with inner
product) once it holds ``hnsw_threshold`` vectors or more, or when asked. The raw vectors are
kept beside the FAISS file (``vectors.npy``) so that an incremental build copies the vectors of
unchanged chunks instead of re-embedding them, and so that a filtered search can score exactly
the rows the filter allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

from assistant.search.fusion import top_k

DenseKind = Literal["flat", "hnsw"]
VECTORS_FILE = "vectors.npy"
FAISS_FILE = "dense.faiss"
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512  # recall@10 0.978 vs exact at 106k vectors, < 1 ms (eval/README.md)
DEFAULT_HNSW_THRESHOLD = 50_000


def choose_kind(
    n: int, setting: str = "auto", threshold: int = DEFAULT_HNSW_THRESHOLD
) -> DenseKind:
    """ "flat" or "hnsw" for an index of ``n`` vectors under the given setting."""
    if setting in ("flat", "hnsw"):
        return setting  # type: ignore[return-value]
    if setting != "auto":
        raise ValueError(f"dense index kind must be auto, flat or hnsw, not {setting!r}")
    return "hnsw" if n >= threshold else "flat"


@dataclass
class DenseIndex:
    index: faiss.Index
    vectors: np.ndarray  # float32 [n × dim], row i ↔ FAISS id i ↔ chunk row i
    kind: DenseKind

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @classmethod
    def build(cls, vectors: np.ndarray, kind: DenseKind = "flat") -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D, got shape {vectors.shape}")
        dim = vectors.shape[1]
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return cls(index=index, vectors=vectors, kind=kind)

    def save(self, directory: Path) -> None:
        np.save(directory / VECTORS_FILE, self.vectors)
        faiss.write_index(self.index, str(directory / FAISS_FILE))

    @classmethod
    def load(cls, directory: Path) -> DenseIndex:
        vectors = np.load(directory / VECTORS_FILE, mmap_mode="r")
        index = faiss.read_index(str(directory / FAISS_FILE))
        kind: DenseKind = "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"
        if index.ntotal != vectors.shape[0]:
            raise ValueError(
                f"{directory}: FAISS holds {index.ntotal} vectors but "
                f"{VECTORS_FILE} holds {vectors.shape[0]}"
            )
        return cls(index=index, vectors=vectors, kind=kind)

    def search(
        self, query: np.ndarray, k: int, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best ``k`` rows by inner product with ``query`` (only among ``rows`` if given)."""
        if k <= 0 or len(self) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if rows is not None:
            # Filtered: score exactly the allowed rows (a filter rarely allows many).
            rows = np.asarray(rows, dtype=np.int64)
            best, values = top_k(self.scores(q[0], rows), k)
            return rows[best], values
        k = min(k, len(self))
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, k))
            scores, ids = self.index.search(q, k, params=params)
        else:
            scores, ids = self.index.search(q, k)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Inner products of ``query`` with the vectors at ``rows``."""
        if len(rows) == 0:
            return np.empty(0, dtype=np.float32)
        matrix = np.asarray(self.vectors[np.asarray(rows, dtype=np.int64)])
        return (matrix @ np.asarray(query, dtype=np.float32).reshape(-1)).astype(np.float32)
