"""The embedded backend: segments on local disk plus tombstones (see ``assistant.search.store``
for the directory layout and the atomic commit, ``assistant.search.segment`` for one segment).

Writing costs what changed: a put or a deleted file tombstones that file's old chunk ids and
its new chunks go into a new segment; a commit writes the segment and a small generation record.
Segments of similar size are merged on a size rule at commit (``MERGE_FACTOR`` of one size tier
become one), and a segment whose rows are mostly deleted is rewritten, so a one-file update
rewrites nothing else. A build streams: ``SEGMENT_ROWS`` buffered chunks are written out as a
segment and forgotten, so memory does not grow with the corpus.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import shutil
import time
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import replace
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
from assistant.search.dense import choose_kind
from assistant.search.fusion import top_k
from assistant.search.lexical import LexicalStats, Postings, bm25_scores
from assistant.search.segment import Segment, write_segment
from assistant.search.store import (
    DELETED_FILE,
    SEGMENTS_DIR,
    IndexMismatchError,
    IndexNotFoundError,
    Manifest,
    StoredChunk,
    build_lock,
    commit_generation,
    current_generation,
    new_generation,
    new_segment_path,
    read_manifest,
    remove_stale_generations,
    write_manifest,
)
from assistant.search.writer import status

OPEN_ATTEMPTS = 5  # generations a concurrent build may commit while one is being opened
SEGMENT_ROWS = 20_000  # chunks buffered by a writer before they become a segment
MERGE_FACTOR = 4  # this many segments of one size tier are merged into one
TIER_BASE = 1_000  # segments below this many live rows form tier 0
MERGE_BATCH = 8_192  # vectors copied at a time by a merge
REWRITE_DELETED = 0.5  # a segment with more deleted rows than this share is rewritten


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
    if filters.exclude_doc_ids:
        clauses.append(f"d.doc_id NOT IN ({','.join('?' * len(filters.exclude_doc_ids))})")
        params += list(filters.exclude_doc_ids)
    return (" AND ".join(clauses) or "1"), params


def _live_masks(segments: Sequence[Segment], deleted: np.ndarray) -> list[np.ndarray | None]:
    masks: list[np.ndarray | None] = []
    for seg in segments:
        lo, hi = np.searchsorted(deleted, [seg.base, seg.base + seg.count])
        if lo == hi:
            masks.append(None)
            continue
        live = np.ones(seg.count, dtype=bool)
        live[deleted[lo:hi] - seg.base] = False
        masks.append(live)
    return masks


def _open_segments(index_dir: Path, names: Sequence[str]) -> list[Segment]:
    segments: list[Segment] = []
    try:
        for name in names:
            segments.append(Segment(index_dir / SEGMENTS_DIR / name))
    except BaseException:
        for seg in segments:
            seg.close()
        raise
    return segments


class EmbeddedBackend(SearchBackend):
    """One committed generation of an index directory, opened read-only."""

    def __init__(
        self,
        index_dir: Path,
        generation: Path,
        manifest: Manifest,
        segments: list[Segment],
        deleted: np.ndarray,
        analyzer: Analyzer | None = None,
    ) -> None:
        self.index_dir = index_dir
        self._analyzer = analyzer or Analyzer.load(generation)
        # BM25 scores every passage at once; fusion asks for some of them again per query.
        self._last_lexical: tuple[tuple[str, ...], list[np.ndarray]] | None = None
        self.generation = generation
        self._manifest = manifest
        self.segments = sorted(segments, key=lambda s: s.base)
        self.deleted = np.sort(np.asarray(deleted, dtype=np.int64))
        self.live = _live_masks(self.segments, self.deleted)
        self._bases = np.asarray([s.base for s in self.segments], dtype=np.int64)
        self._count = sum(
            s.count if m is None else int(m.sum())
            for s, m in zip(self.segments, self.live, strict=True)
        )
        self._stats = LexicalStats.of(self._lexical_parts())

    @classmethod
    def open(cls, index_dir: Path) -> EmbeddedBackend:
        last_error: Exception | None = None
        for attempt in range(OPEN_ATTEMPTS):
            gen = current_generation(index_dir)
            if gen is None:
                raise IndexNotFoundError(
                    f"no index in {index_dir}: build one with `assistant index` "
                    f"(e.g. `assistant index corpus/ --index-dir {index_dir}`)"
                )
            try:
                return cls._open_generation(index_dir, gen)
            except Exception as exc:
                # A build that commits while we read may delete what this generation named;
                # whatever that breaks (a missing file, SQLite or FAISS failing to read) means:
                # open the new one. The same error on the generation still committed is the
                # index's own.
                if current_generation(index_dir) == gen:
                    raise
                last_error = exc
                time.sleep(0.05 * attempt)
        raise IndexNotFoundError(
            f"could not open the index at {index_dir}: it changed {OPEN_ATTEMPTS} times while "
            f"being opened (last: {type(last_error).__name__}: {last_error}); try again"
        )

    @classmethod
    def _open_generation(cls, index_dir: Path, gen: Path) -> EmbeddedBackend:
        try:
            manifest = read_manifest(gen)
            deleted = np.load(gen / DELETED_FILE)
            segments = _open_segments(index_dir, manifest.segments)
        except FileNotFoundError as exc:
            raise IndexMismatchError(
                f"the index at {index_dir} is incomplete ({exc}); rebuild it with "
                f"`assistant index --rebuild --index-dir {index_dir}`"
            ) from exc
        except ValueError as exc:
            raise IndexMismatchError(
                f"the index at {index_dir} is inconsistent ({exc}); rebuild it with "
                f"`assistant index --rebuild --index-dir {index_dir}`"
            ) from exc
        backend = cls(index_dir, gen, manifest, segments, deleted)
        if backend.count() != manifest.chunks:
            backend.close()
            raise IndexMismatchError(
                f"the index at {index_dir} is inconsistent ({backend.count()} live chunks, "
                f"the manifest says {manifest.chunks}); rebuild it with "
                f"`assistant index --rebuild --index-dir {index_dir}`"
            )
        return backend

    # ------------------------------------------------------------------ helpers

    def _lexical_parts(self) -> list[tuple[Postings, np.ndarray | None]]:
        return [(s.postings, m) for s, m in zip(self.segments, self.live, strict=True)]

    def _bm25(self, tokens: tuple[str, ...]) -> list[np.ndarray]:
        """Per-segment BM25 scores of ``tokens`` (the last query's are kept)."""
        last = self._last_lexical
        if last is not None and last[0] == tokens:
            return last[1]
        scores = bm25_scores(self._lexical_parts(), tokens, self._stats)
        self._last_lexical = (tokens, scores)
        return scores

    def _locate(self, ids: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
        """segment index → [(id, row)] for the given ids."""
        out: dict[int, list[tuple[int, int]]] = {}
        for i in ids:
            s = int(np.searchsorted(self._bases, int(i), side="right")) - 1
            if s >= 0 and int(i) - self.segments[s].base < self.segments[s].count:
                out.setdefault(s, []).append((int(i), int(i) - self.segments[s].base))
        return out

    def _allowed(self, s: int, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        where, params = filter_sql(filters)
        return self.segments[s].filter_rows(where, params)

    @staticmethod
    def _best(found: list[tuple[int, float]], k: int) -> Scored:
        found.sort(key=lambda t: (-t[1], t[0]))
        return found[:k]

    # ------------------------------------------------------------------ SearchBackend

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
        return self._count

    def dense_search(
        self, query: np.ndarray, k: int, filters: SearchFilters | None = None
    ) -> Scored:
        found: list[tuple[int, float]] = []
        for s, seg in enumerate(self.segments):
            allowed = self._allowed(s, filters)
            if allowed is not None and len(allowed) == 0:
                continue
            rows, scores = seg.dense.search(query, k, allowed, self.live[s])
            found += zip((rows + seg.base).tolist(), scores.tolist(), strict=True)
        return self._best(found, k)

    def lexical_search(
        self, query: LexicalQuery, k: int, filters: SearchFilters | None = None
    ) -> Scored:
        if not query.tokens:
            return []
        found: list[tuple[int, float]] = []
        per_segment = self._bm25(query.tokens)
        for s, (seg, scores) in enumerate(zip(self.segments, per_segment, strict=True)):
            allowed = self._allowed(s, filters)
            if allowed is not None and len(allowed) == 0:
                continue
            rows, values = top_k(scores, k, allowed, minimum=0.0)
            found += zip((rows + seg.base).tolist(), values.tolist(), strict=True)
        return self._best(found, k)

    def dense_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        out: dict[int, float] = {}
        for s, pairs in self._locate(ids).items():
            rows = np.asarray([r for _, r in pairs], dtype=np.int64)
            values = self.segments[s].dense.scores(query, rows)
            out.update(zip([i for i, _ in pairs], values.tolist(), strict=True))
        return out

    def lexical_scores(self, query: LexicalQuery, ids: Sequence[int]) -> dict[int, float]:
        located = self._locate(ids)
        if not located:
            return {}
        per_segment = self._bm25(query.tokens)
        return {i: float(per_segment[s][r]) for s, pairs in located.items() for i, r in pairs}

    def phrase_search(
        self, key: str, k: int, filters: SearchFilters | None = None
    ) -> list[tuple[int, int]]:
        where, params = filter_sql(filters)
        found: list[tuple[int, int]] = []
        for seg, live in zip(self.segments, self.live, strict=True):
            extra = 0 if live is None else seg.count - int(live.sum())
            for row, n in seg.phrase_rows(key, where, params, k + extra):
                if live is None or live[row]:
                    found.append((seg.base + row, n))
        found.sort(key=lambda t: (-t[1], t[0]))
        return found[:k]

    def verbatim_counts(self, keys: Sequence[str], ids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for s, pairs in self._locate(ids).items():
            got = self.segments[s].verbatim_counts(keys, [r for _, r in pairs])
            out.update((i, got.get(r, 0)) for i, r in pairs)
        return out

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        out: dict[int, Chunk] = {}
        for s, pairs in self._locate(ids).items():
            got = self.segments[s].chunks([r for _, r in pairs])
            out.update((i, got[r]) for i, r in pairs if r in got)
        return out

    def doc_keys(self, ids: Sequence[int]) -> dict[int, Hashable]:
        return {
            i: (s, int(self.segments[s].doc_rows[r]))
            for s, pairs in self._locate(ids).items()
            for i, r in pairs
        }

    def documents(self) -> list[tuple[DocumentMeta, int]]:
        out: list[tuple[DocumentMeta, int]] = []
        for seg, live in zip(self.segments, self.live, strict=True):
            doc_rows = np.asarray(seg.doc_rows)
            if live is not None:
                doc_rows = doc_rows[live]
            counts = np.bincount(doc_rows, minlength=len(seg.docs))
            out += [
                (meta, int(counts[d])) for d, (_rel, meta) in sorted(seg.docs.items()) if counts[d]
            ]
        return out

    def is_stale(self) -> bool:
        return current_generation(self.index_dir) != self.generation

    def reopen(self) -> EmbeddedBackend:
        return EmbeddedBackend.open(self.index_dir)

    def close(self) -> None:
        for seg in self.segments:
            seg.close()


def _tier(live_rows: int) -> int:
    return 0 if live_rows < TIER_BASE else int(math.log(live_rows / TIER_BASE, MERGE_FACTOR)) + 1


class EmbeddedWriter(IndexWriter):
    """A transaction on an index directory: new segments plus tombstones, one atomic commit."""

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
        self.dense_setting = dense or settings.dense_index
        self.progress = progress
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(build_lock(index_dir))
        self._previous: EmbeddedBackend | None = None
        self._manifest: Manifest | None = None
        self._segments: list[Segment] = []  # committed before, then written by this writer
        self._new: list[Path] = []  # segment directories written by this writer
        self._deleted: set[int] = set()
        self._next_id = 0
        self._buffer: list[tuple[str, list[StoredChunk], np.ndarray]] = []
        self._buffered = 0
        self._analyzer = Analyzer()
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
        self._previous = EmbeddedBackend.open(self.index_dir)
        self._stack.callback(self._previous.close)
        self._manifest = manifest
        self._segments = list(self._previous.segments)
        self._deleted = set(self._previous.deleted.tolist())
        self._next_id = manifest.next_id
        self._analyzer = Analyzer(words=self._previous.analyzer.words)

    @property
    def previous(self) -> Manifest | None:
        return self._manifest

    # ------------------------------------------------------------------ changes

    def reusable_vectors(self, passage_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = set(passage_hashes)
        out: dict[str, np.ndarray] = {}
        for _rel, chunks, vectors in self._buffer:
            for sc, v in zip(chunks, vectors, strict=True):
                if sc.passage_hash in wanted and sc.passage_hash not in out:
                    out[sc.passage_hash] = v
        for seg in reversed(self._segments):  # newest first
            missing = list(wanted.difference(out))
            if not missing:
                break
            found = seg.hash_rows(missing)
            if found:
                rows = np.fromiter(found.values(), dtype=np.int64, count=len(found))
                out.update(zip(found, seg.dense.vectors_at(rows), strict=True))
        return out

    def put_file(self, rel: str, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{rel}: {len(chunks)} chunks but {len(vectors)} vectors")
        self.delete_file(rel)
        self._buffer.append((rel, list(chunks), np.asarray(vectors, dtype=np.float32)))
        self._buffered += len(chunks)
        if self._buffered >= SEGMENT_ROWS:
            self._flush()

    def delete_file(self, rel: str) -> None:
        kept = [b for b in self._buffer if b[0] != rel]
        if len(kept) != len(self._buffer):
            self._buffer = kept
            self._buffered = sum(len(b[1]) for b in kept)
        for seg in self._segments:
            self._deleted.update((seg.file_rows(rel) + seg.base).tolist())

    def _segment_kind(self, rows: int) -> str:
        return choose_kind(rows, self.dense_setting, self.settings.hnsw_threshold)

    def _write(
        self, chunks: Iterable[StoredChunk], postings: Postings, vectors: Iterable[np.ndarray]
    ) -> None:
        path = new_segment_path(self.index_dir, [p.name for p in self._new])
        self._new.append(path)
        n = len(postings)
        kind = self._segment_kind(n)
        status(self.progress, f"writing {n} chunks to {path.name} ({kind} vectors)")
        dim = self._manifest.dim if self._manifest is not None else 0
        vectors = iter(vectors)
        first = next(vectors, None)
        if first is not None:
            dim = first.shape[1]
            vectors = itertools.chain([first], vectors)
        write_segment(path, self._next_id, chunks, postings, vectors, dim, kind)  # type: ignore[arg-type]
        self._next_id += n
        self._segments.append(Segment(path))
        self._stack.callback(self._segments[-1].close)

    def _flush(self) -> None:
        buffer, self._buffer, self._buffered = self._buffer, [], 0
        if not buffer:
            return
        chunks = [sc for _, file_chunks, _ in buffer for sc in file_chunks]
        # The corpus dictionary grows with the passages written; rows of older segments keep
        # their tokens (they still match a new word's pieces and bigrams until a rebuild).
        self._analyzer = self._analyzer.grown(sc.passage for sc in chunks)
        chunks = self._analyzer.retokenize(chunks)
        postings = Postings.build([sc.tokens for sc in chunks])
        self._write(chunks, postings, (vectors for _, _, vectors in buffer))

    def _merge(self, group: list[Segment]) -> None:
        """Rewrite the live rows of ``group`` as one segment, streaming rows and vectors."""
        deleted = np.asarray(sorted(self._deleted), dtype=np.int64)
        masks = [
            m if m is not None else np.ones(s.count, bool)
            for s, m in zip(group, _live_masks(group, deleted), strict=True)
        ]
        postings = Postings.merge(list(zip((s.postings for s in group), masks, strict=True)))

        def chunks() -> Iterator[StoredChunk]:
            for seg, keep in zip(group, masks, strict=True):
                yield from seg.stored(keep)

        def vectors() -> Iterator[np.ndarray]:
            for seg, keep in zip(group, masks, strict=True):
                rows = np.flatnonzero(keep)
                for i in range(0, len(rows), MERGE_BATCH):
                    yield seg.dense.vectors_at(rows[i : i + MERGE_BATCH])

        self._write(chunks(), postings, vectors())
        for seg in group:
            self._deleted.difference_update(range(seg.base, seg.base + seg.count))
            self._segments.remove(seg)

    def _merge_policy(self) -> None:
        """Merge ``MERGE_FACTOR`` segments of one size tier; rewrite mostly-deleted segments and
        those whose vector index kind no longer fits their size or the setting."""
        while True:
            deleted = np.asarray(sorted(self._deleted), dtype=np.int64)
            sizes = {
                seg.path.name: (seg.count if m is None else int(m.sum()))
                for seg, m in zip(self._segments, _live_masks(self._segments, deleted), strict=True)
            }
            for seg in list(self._segments):
                live = sizes[seg.path.name]
                if live == 0:
                    self._deleted.difference_update(range(seg.base, seg.base + seg.count))
                    self._segments.remove(seg)
                elif (
                    seg.count - live > REWRITE_DELETED * seg.count
                    or seg.info.dense != self._segment_kind(live)
                ):
                    self._merge([seg])
                    break
            else:
                tiers: dict[int, list[Segment]] = {}
                for seg in self._segments:
                    tiers.setdefault(_tier(sizes[seg.path.name]), []).append(seg)
                group = next((g for g in tiers.values() if len(g) >= MERGE_FACTOR), None)
                if group is None:
                    return
                self._merge(group)

    def commit(self, manifest: Manifest) -> str:
        self._flush()
        self._merge_policy()
        names = [seg.path.name for seg in self._segments]
        gen = new_generation(self.index_dir)
        try:
            final = replace(manifest, generation=gen.name, segments=names, next_id=self._next_id)
            live = sum(s.count for s in self._segments) - len(self._deleted)
            if live != final.chunks:
                raise ValueError(
                    f"the manifest lists {final.chunks} chunks, the index holds {live}"
                )
            np.save(gen / DELETED_FILE, np.asarray(sorted(self._deleted), dtype=np.int64))
            self._analyzer.save(gen)
            write_manifest(gen, final)
            new = [p for p in self._new if p.name in names]
            commit_generation(self.index_dir, gen, new)
        except BaseException:
            if current_generation(self.index_dir) != gen:
                shutil.rmtree(gen, ignore_errors=True)
            raise
        self._new = []
        return gen.name

    def abort(self) -> None:
        for path in self._new:
            shutil.rmtree(path, ignore_errors=True)
        self._new = []

    def close(self) -> None:
        self._stack.close()
