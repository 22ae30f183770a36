"""The embedded backend: the index directory on local disk (SQLite, FAISS, BM25 files).

Layout, atomic commit and the build lock are described in ``assistant.search.store``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.records import Chunk, DocumentMeta
from assistant.search.analysis import Analyzer
from assistant.search.backends.base import (
    IndexWriter,
    LexicalQuery,
    Scored,
    SearchBackend,
    SearchFilters,
)
from assistant.search.dense import DenseIndex
from assistant.search.fusion import top_k
from assistant.search.lexical import LexicalIndex
from assistant.search.store import (
    CHUNKS_FILE,
    ChunkTable,
    IndexMismatchError,
    IndexNotFoundError,
    Manifest,
    StoredChunk,
    build_lock,
    current_generation,
    read_manifest,
    remove_stale_generations,
)


def filter_sql(filters: SearchFilters | None) -> tuple[str, list[Any]]:
    """A WHERE clause over ``chunks c JOIN documents d`` and its parameters."""
    if filters is None:
        return "1", []
    clauses: list[str] = []
    params: list[Any] = []
    years = filters.year_range()
    if years is not None:
        clauses.append("d.year BETWEEN ? AND ?")
        params += list(years)
    if filters.region:
        clauses.append("d.region = ?")
        params.append(filters.region)
    if filters.doc_id:
        clauses.append("d.doc_id = ?")
        params.append(filters.doc_id)
    if filters.file:
        clauses.append("(d.file = ? OR d.source_path = ? OR c.file_rel = ?)")
        params += [filters.file] * 3
    return (" AND ".join(clauses) or "1"), params


class EmbeddedBackend(SearchBackend):
    """One committed generation of an index directory, opened read-only."""

    def __init__(
        self,
        index_dir: Path,
        generation: Path,
        manifest: Manifest,
        table: ChunkTable,
        dense: DenseIndex,
        lexical: LexicalIndex,
        analyzer: Analyzer,
    ) -> None:
        self.index_dir = index_dir
        self._analyzer = analyzer
        # BM25 scores every passage at once; fusion asks for some of them again per query.
        self._last_lexical: tuple[tuple[str, ...], np.ndarray] | None = None
        self.generation = generation
        self._manifest = manifest
        self._table = table
        self._dense = dense
        self._lexical = lexical

    @classmethod
    def open(cls, index_dir: Path) -> EmbeddedBackend:
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
                table = ChunkTable(gen / CHUNKS_FILE)
                dense = DenseIndex.load(gen)
                lexical = LexicalIndex.load(gen)
                analyzer = Analyzer.load(gen)
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
            return cls(index_dir, gen, manifest, table, dense, lexical, analyzer)
        raise IndexNotFoundError(f"could not open the index at {index_dir}: {last_error}")

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    @property
    def version(self) -> str:
        return self.generation.name

    @property
    def analyzer(self) -> Analyzer:
        return self._analyzer

    def count(self) -> int:
        return len(self._table)

    def _allowed(self, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        where, params = filter_sql(filters)
        return np.asarray(self._table.filter_rows(where, params), dtype=np.int64)

    def dense_search(
        self, query: np.ndarray, k: int, filters: SearchFilters | None = None
    ) -> Scored:
        allowed = self._allowed(filters)
        if allowed is not None and len(allowed) == 0:
            return []
        rows, scores = self._dense.search(query, k, allowed)
        return list(zip(rows.tolist(), scores.tolist(), strict=True))

    def lexical_search(
        self, query: LexicalQuery, k: int, filters: SearchFilters | None = None
    ) -> Scored:
        allowed = self._allowed(filters)
        if allowed is not None and len(allowed) == 0:
            return []
        rows, scores = top_k(self._lexical_all(query.tokens), k, allowed, minimum=0.0)
        return list(zip(rows.tolist(), scores.tolist(), strict=True))

    def dense_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        rows = np.asarray(list(ids), dtype=np.int64)
        return dict(zip(rows.tolist(), self._dense.scores(query, rows).tolist(), strict=True))

    def lexical_scores(self, query: LexicalQuery, ids: Sequence[int]) -> dict[int, float]:
        if not ids:
            return {}
        scores = self._lexical_all(query.tokens)
        return {int(i): float(scores[int(i)]) if len(scores) else 0.0 for i in ids}

    def _lexical_all(self, tokens: tuple[str, ...]) -> np.ndarray:
        last = self._last_lexical
        if last is not None and last[0] == tokens:
            return last[1]
        scores = self._lexical.scores(tokens)
        self._last_lexical = (tokens, scores)
        return scores

    def phrase_search(
        self, key: str, k: int, filters: SearchFilters | None = None
    ) -> list[tuple[int, int]]:
        where, params = filter_sql(filters)
        return self._table.phrase_rows(key, where, params, k)

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        return self._table.chunks(ids)

    def doc_keys(self, ids: Sequence[int]) -> dict[int, Hashable]:
        return {int(i): self._table.doc_row(int(i)) for i in ids}

    def documents(self) -> list[tuple[DocumentMeta, int]]:
        return self._table.documents()

    def is_stale(self) -> bool:
        return current_generation(self.index_dir) != self.generation

    def reopen(self) -> EmbeddedBackend:
        return EmbeddedBackend.open(self.index_dir)

    def close(self) -> None:
        self._table.close()


class EmbeddedWriter(IndexWriter):
    """A build of the next generation: unchanged files are carried over at commit."""

    def __init__(
        self,
        index_dir: Path,
        settings: Settings,
        *,
        rebuild: bool = False,
        dense: str | None = None,
        progress: bool = False,
    ) -> None:
        self.index_dir = index_dir
        self.settings = settings
        self.progress = progress
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(build_lock(index_dir))
        self._puts: dict[str, tuple[list[StoredChunk], np.ndarray]] = {}
        self._deleted: set[str] = set()
        self._manifest: Manifest | None = None
        self._table: ChunkTable | None = None
        self._dense: DenseIndex | None = None
        try:
            remove_stale_generations(index_dir)  # left behind by a build that was killed
            if not rebuild:
                self._open_previous()
        except BaseException:
            self.close()
            raise

    def _open_previous(self) -> None:
        gen = current_generation(self.index_dir)
        if gen is None:
            return
        try:
            manifest = read_manifest(gen)
        except IndexMismatchError as exc:
            if "newer" in str(exc):
                raise
            return  # an older format: nothing can be reused, build afresh
        except FileNotFoundError:
            return
        self._manifest = manifest
        self._table = self._stack.enter_context(contextlib.closing(ChunkTable(gen / CHUNKS_FILE)))
        self._dense = DenseIndex.load(gen)

    @property
    def previous(self) -> Manifest | None:
        return self._manifest

    def reusable_vectors(self, passage_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        if self._table is None or self._dense is None:
            return {}
        by_hash = self._table.rows_by_hash()
        found = {h: by_hash[h] for h in passage_hashes if h in by_hash}
        if not found:
            return {}
        rows = np.fromiter(found.values(), dtype=np.int64, count=len(found))
        vectors = np.asarray(self._dense.vectors[rows])
        return dict(zip(found, vectors, strict=True))

    def put_file(self, rel: str, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{rel}: {len(chunks)} chunks but {len(vectors)} vectors")
        self._puts[rel] = (list(chunks), np.asarray(vectors, dtype=np.float32))
        self._deleted.discard(rel)

    def delete_file(self, rel: str) -> None:
        self._puts.pop(rel, None)
        self._deleted.add(rel)

    def commit(self, manifest: Manifest) -> str:
        from assistant.search.writer import write_generation

        carry = [rel for rel in manifest.files if rel not in self._puts]
        carried: dict[str, list[StoredChunk]] = {}
        if self._table is not None and carry:
            for sc in self._table.stored(carry):
                carried.setdefault(sc.file_rel, []).append(sc)
        stored: list[StoredChunk] = []
        parts: list[np.ndarray] = []
        for rel in sorted(manifest.files):
            if rel in self._puts:
                chunks, vectors = self._puts[rel]
                stored.extend(chunks)
                parts.append(vectors)
            elif carried.get(rel):
                assert self._dense is not None
                rows = np.asarray([sc.row for sc in carried[rel]], dtype=np.int64)
                stored.extend(carried[rel])
                parts.append(np.asarray(self._dense.vectors[rows]))
        vectors = np.concatenate(parts) if parts else np.zeros((0, manifest.dim), np.float32)
        gen = write_generation(self.index_dir, stored, vectors, manifest, progress=self.progress)
        return gen.name

    def close(self) -> None:
        self._stack.close()
