"""Dense retrieval: inner-product search over L2-normalized passage vectors, per segment.

A small segment keeps its vectors as ``vectors.npy`` and is searched exactly with numpy over the
memory-mapped array; a large one (or any, when asked) is an HNSW graph (FAISS ``IndexHNSWFlat``,
inner product) whose vector storage is opened memory-mapped too (``IO_FLAG_MMAP_IFC``), so a
serving process shares the pages with the OS cache instead of copying them. Deleted rows (a
boolean ``live`` mask) and filters (an explicit row list, scored exactly) apply to both kinds.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import faiss
import numpy as np
from threadpoolctl import ThreadpoolController

from assistant.search.fusion import top_k

DenseKind = Literal["flat", "hnsw"]
VECTORS_FILE = "vectors.npy"
FAISS_FILE = "dense.faiss"
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512  # recall against exact search: eval/README.md
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
    """One segment's vectors: row i ↔ segment row i. ``index`` is None for exact search."""

    index: faiss.Index | None
    vectors: np.ndarray | None  # float32 [n × dim] (memory-mapped once saved); None for HNSW
    kind: DenseKind
    n: int
    dim: int

    def __len__(self) -> int:
        return self.n

    @classmethod
    def build(cls, vectors: np.ndarray, kind: DenseKind = "flat") -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D, got shape {vectors.shape}")
        n, dim = vectors.shape
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            if n:
                index.add(vectors)
            return cls(index=index, vectors=None, kind=kind, n=n, dim=dim)
        return cls(index=None, vectors=vectors, kind=kind, n=n, dim=dim)

    @staticmethod
    def write(
        directory: Path, batches: Iterable[np.ndarray], n: int, dim: int, kind: DenseKind
    ) -> None:
        """Write ``n`` vectors arriving in batches straight to disk (never all in memory at
        once beyond what the HNSW graph itself holds); ``load`` opens the result."""
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            for batch in batches:
                index.add(np.ascontiguousarray(batch, dtype=np.float32))
            if index.ntotal != n:
                raise ValueError(f"expected {n} vectors, got {index.ntotal}")
            faiss.write_index(index, str(directory / FAISS_FILE))
            return
        out = np.lib.format.open_memmap(
            directory / VECTORS_FILE, mode="w+", dtype=np.float32, shape=(n, dim)
        )
        filled = 0
        for batch in batches:
            out[filled : filled + len(batch)] = batch
            filled += len(batch)
        if filled != n:
            raise ValueError(f"expected {n} vectors, got {filled}")
        out.flush()
        del out

    def save(self, directory: Path) -> None:
        if self.index is not None:
            faiss.write_index(self.index, str(directory / FAISS_FILE))
        else:
            np.save(directory / VECTORS_FILE, self.vectors)

    @classmethod
    def load(cls, directory: Path) -> DenseIndex:
        path = directory / FAISS_FILE
        if path.is_file():
            flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
            index = faiss.read_index(str(path), flags)
            return cls(index=index, vectors=None, kind="hnsw", n=index.ntotal, dim=index.d)
        vectors = np.load(directory / VECTORS_FILE, mmap_mode="r")
        n, dim = vectors.shape
        return cls(index=None, vectors=vectors, kind="flat", n=n, dim=dim)

    def vectors_at(self, rows: np.ndarray) -> np.ndarray:
        """float32 copies of the vectors at ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        if self.vectors is not None:
            return np.asarray(self.vectors[rows], dtype=np.float32)
        assert self.index is not None
        return self.index.reconstruct_batch(rows)

    def search(
        self,
        query: np.ndarray,
        k: int,
        rows: np.ndarray | None = None,
        live: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best ``k`` rows by inner product with ``query``: only among ``rows`` if given (scored
        exactly), never a row whose ``live`` entry is False."""
        if k <= 0 or self.n == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if rows is not None:
            rows = np.asarray(rows, dtype=np.int64)
            if live is not None:
                rows = rows[live[rows]]
            best, values = top_k(self.scores(q[0], rows), k)
            return rows[best], values
        if self.index is None:
            assert self.vectors is not None
            with one_blas_thread():
                scores = np.asarray(self.vectors @ q[0], dtype=np.float32)
            if live is not None:
                scores[~live] = -np.inf
                alive = int(live.sum())
                if alive == 0:
                    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
                k = min(k, alive)
            return top_k(scores, k)
        k = min(k, self.n)
        selector = bitmap = None
        if live is not None and not live.all():
            bitmap = _bitmap(live)  # must outlive the search
            selector = faiss.IDSelectorBitmap(len(live), faiss.swig_ptr(bitmap))
        params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, k), sel=selector)
        scores, ids = self.index.search(q, k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Inner products of ``query`` with the vectors at ``rows``."""
        if len(rows) == 0:
            return np.empty(0, dtype=np.float32)
        matrix = self.vectors_at(rows)
        with one_blas_thread():
            return (matrix @ np.asarray(query, dtype=np.float32).reshape(-1)).astype(np.float32)


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager:
    """BLAS on one thread for a query's matrix-vector products: they are too small to split,
    and on a busy machine the extra thread mostly waits for a core."""
    return _blas().limit(limits=1, user_api="blas")


def _bitmap(live: np.ndarray) -> np.ndarray:
    """FAISS ``IDSelectorBitmap`` layout: bit i (little-endian within each byte) set ↔ keep i."""
    return np.packbits(live.astype(np.uint8), bitorder="little")
