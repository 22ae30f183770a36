"""Build or update an index directory from corpus files, incrementally and atomically.

Each file's sha256 is compared with the manifest of the live index: unchanged files are left
where they are without being read again; new and changed files are
ingested, and only passages whose vector is not already in the index are embedded (so an edit
to one item of a file re-embeds about one passage); files that disappeared are dropped. A file
that fails to load is reported with its kind and message, and if an earlier version of it is
indexed, that version is kept. When the ingestion code itself changed since the last build
(see ``pipeline_fingerprint``), every file is re-ingested, still reusing vectors by passage.

Ingested files stream through the backend's ``IndexWriter`` (``assistant.search.backends``) in
batches of ``STREAM_PASSAGES`` (embed, write, forget); deleted files are removed through it, and
one atomic commit makes the changes visible: a build that fails or is killed leaves the previous
index as it was.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from assistant.config import Settings, load_settings
from assistant.documents import FileFailure, FileLimits, Skipped, ingest_file, walk
from assistant.documents.loaders import LoadError, SourceFile
from assistant.hashing import file_sha256
from assistant.search.backends import IndexWriter, open_writer
from assistant.search.passage import stored_chunk
from assistant.search.store import FileEntry, Manifest, StoredChunk, check_model
from assistant.search.writer import (
    NORMALIZATION,
    LazyEmbedder,
    dense_kind,
    embed_passages,
    now_iso,
)
from assistant.text import load_jieba_dictionary

if TYPE_CHECKING:
    from assistant.embedding import Embedder

STREAM_PASSAGES = 4096  # passages ingested before they are embedded and written


@dataclass
class BuildReport:
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: int
    failed: list[FileFailure]
    chunks: int
    seconds: float
    embedded: int = 0  # passages the model encoded in this build
    reused: int = 0  # passages whose vectors came from the previous generation
    kept: list[str] = field(default_factory=list)  # failed files whose previous chunks were kept
    reingested: int = 0  # unchanged files read again because the ingestion code changed
    index_dir: str = ""
    generation: str = ""
    model: str = ""
    dense: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds: read, embed, write
    skipped: list[Skipped] = field(default_factory=list)  # not read: see documents.walk
    warnings: list[str] = field(default_factory=list)  # e.g. scanned pages OCR could not read

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed "
            f"{len(self.removed)}, unchanged {self.unchanged}, failed {len(self.failed)} "
            f"files; {self.chunks} chunks; {self.seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": [_failure_dict(f) for f in self.failed],
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "embedded": self.embedded,
            "reused": self.reused,
            "kept": self.kept,
            "reingested": self.reingested,
            "index_dir": self.index_dir,
            "generation": self.generation,
            "model": self.model,
            "dense": self.dense,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "skipped": [s.to_dict() for s in self.skipped],
            "warnings": self.warnings,
        }


def _failure_dict(f: FileFailure) -> dict[str, Any]:
    if hasattr(f, "to_dict"):
        return f.to_dict()
    return {k: str(v) for k, v in vars(f).items()}


def _failure(sf: SourceFile, kind: str, message: str) -> FileFailure:
    return FileFailure(path=str(sf.path), kind=kind, message=message)


def pipeline_fingerprint() -> str:
    """Hash of the code that turns a file into passages (ingestion, normalization, recipe)."""
    root = Path(__file__).resolve().parent.parent
    files = sorted((root / "documents").rglob("*.py"))
    files += [root / "text.py", Path(__file__).with_name("passage.py")]
    files += [Path(__file__).with_name("analysis.py")]  # the keyword tokens
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@dataclass
class _Plan:
    """What to do with each source file: keep its indexed chunks, or (re)ingest it."""

    keep: dict[str, FileEntry] = field(default_factory=dict)  # rel → entry already indexed
    ingest: list[tuple[SourceFile, str, int]] = field(default_factory=list)  # file, sha, size


def _plan(
    sources: Sequence[SourceFile], previous: Manifest | None, pipeline: str,
    report: BuildReport, progress: bool,
) -> _Plan:  # fmt: skip
    old_files = previous.files if previous else {}
    same_pipeline = previous is not None and previous.pipeline == pipeline
    plan = _Plan()
    bar = tqdm(sources, desc="hashing", unit="file", disable=not progress, dynamic_ncols=True)
    seen: set[str] = set()
    for sf in bar:
        if sf.rel in seen:
            message = f"{sf.path}: another file has the same relative path {sf.rel!r}; skipped"
            report.failed.append(_failure(sf, "duplicate", message))
            continue
        seen.add(sf.rel)
        prior = old_files.get(sf.rel)
        try:
            digest = file_sha256(sf.path)
            size = sf.path.stat().st_size
        except OSError:
            digest, size = "", 0
        if prior is not None and digest == prior.sha256 and same_pipeline:
            plan.keep[sf.rel] = prior
            report.unchanged += 1
        else:
            plan.ingest.append((sf, digest, size))
    report.removed = sorted(set(old_files) - seen)
    return plan


class _Stream:
    """Ingested files waiting for vectors; flushed to the writer every ``STREAM_PASSAGES``
    passages so that memory holds one batch, not the corpus."""

    def __init__(
        self, writer: IndexWriter, lazy: LazyEmbedder, report: BuildReport, bar: tqdm
    ) -> None:
        self.writer, self.lazy, self.report, self.bar = writer, lazy, report, bar
        self.pending: list[tuple[str, list[StoredChunk]]] = []
        self.passages = 0

    def add(self, rel: str, chunks: list[StoredChunk]) -> None:
        self.pending.append((rel, chunks))
        self.passages += len(chunks)
        if self.passages >= STREAM_PASSAGES:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        mark = time.perf_counter()
        hashes = {sc.passage_hash for _, chunks in self.pending for sc in chunks}
        known = self.writer.reusable_vectors(hashes)
        missing: dict[str, str] = {}
        for _, chunks in self.pending:
            for sc in chunks:
                if sc.passage_hash not in known:
                    missing.setdefault(sc.passage_hash, sc.passage)
        self.report.timings["write"] += time.perf_counter() - mark
        if missing:
            mark = time.perf_counter()
            fresh = embed_passages(self.lazy, list(missing.values()), bar=self.bar)
            known.update(zip(missing, fresh, strict=True))
            self.report.timings["embed"] += time.perf_counter() - mark
        mark = time.perf_counter()
        for rel, chunks in self.pending:
            self.report.embedded += sum(1 for sc in chunks if sc.passage_hash in missing)
            dim = self.lazy.get().dim if not known else len(next(iter(known.values())))
            vectors = np.zeros((len(chunks), dim), dtype=np.float32)
            for i, sc in enumerate(chunks):
                vectors[i] = known[sc.passage_hash]
            self.writer.put_file(rel, chunks, vectors)
        self.report.timings["write"] += time.perf_counter() - mark
        self.pending, self.passages = [], 0


def _ingest(
    plan: _Plan, previous: Manifest | None, stream: _Stream, report: BuildReport,
    progress: bool, limits: FileLimits,
) -> dict[str, FileEntry]:  # fmt: skip
    """Ingest the planned files into ``stream``; the manifest entries of what ends up indexed."""
    old_files = previous.files if previous else {}
    entries = dict(plan.keep)
    bar = tqdm(plan.ingest, desc="reading", unit="file", disable=not progress, dynamic_ncols=True)
    for sf, digest, size in bar:
        prior = old_files.get(sf.rel)
        mark = time.perf_counter()
        try:
            chunks = ingest_file(sf.path, sf.rel, limits, notes=report.warnings)
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the build
            kind = exc.kind if isinstance(exc, LoadError) else "corrupt"
            message = str(exc)
            if not isinstance(exc, LoadError):
                message = f"{sf.path}: could not be processed ({type(exc).__name__}: {exc})"
            if prior is not None:
                message += " (the previously indexed version is kept)"
                entries[sf.rel] = prior
                report.kept.append(sf.rel)
            report.failed.append(_failure(sf, kind, message))
            continue
        stored = [stored_chunk(c, sf.rel) for c in chunks]
        report.timings["read"] += time.perf_counter() - mark
        entries[sf.rel] = FileEntry(sha256=digest, chunks=len(stored), size=size)
        if prior is None:
            report.added.append(sf.rel)
        elif digest != prior.sha256:
            report.updated.append(sf.rel)
        else:
            report.unchanged += 1
            report.reingested += 1
        stream.add(sf.rel, stored)
    stream.flush()
    return entries


def _nothing_changed(report: BuildReport, manifest: Manifest, kind: str) -> bool:
    return (
        not (report.added or report.updated or report.removed or report.reingested)
        and manifest.dense == kind
        and manifest.normalization == NORMALIZATION
    )


def build_index(
    paths: Sequence[Path],
    index_dir: Path,
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    progress: bool = True,
    rebuild: bool = False,
    dense: str | None = None,
    release_model: bool = False,
) -> BuildReport:
    """Index the files under ``paths`` into ``index_dir`` (incrementally unless ``rebuild``).

    ``dense`` is "auto" (flat below the HNSW threshold, HNSW above), "flat" or "hnsw"; default
    from settings. Raises IndexMismatchError when the existing index used another model (pass
    ``rebuild=True`` to replace it) and IndexLockedError when another build is running. The
    embedding model is loaded only when some passage needs embedding; ``release_model`` lets
    go of a model it loaded itself before the commit merges segments (a one-shot build: the
    model and the merge then do not hold memory at the same time).
    """
    started = time.perf_counter()
    settings = settings or load_settings()
    index_dir = Path(index_dir)
    lazy = LazyEmbedder(settings, embedder)
    model = embedder.model_name if embedder is not None else settings.embed_model
    report = BuildReport(
        added=[], updated=[], removed=[], unchanged=0, failed=[], chunks=0, seconds=0.0,
        index_dir=str(index_dir), timings={"read": 0.0, "embed": 0.0, "write": 0.0},
    )  # fmt: skip
    writer = open_writer(index_dir, settings, rebuild=rebuild, dense=dense, progress=progress)
    with writer:
        previous = writer.previous
        if previous is not None:
            check_model(previous, model, index_dir)
        pipeline = pipeline_fingerprint()
        found = walk([Path(p) for p in paths])
        report.skipped = found.skipped
        plan = _plan(found.files, previous, pipeline, report, progress)
        if plan.ingest:
            lazy.prefetch()
            load_jieba_dictionary(settings.cache_dir)
        with tqdm(
            total=0, desc="embedding", unit="passage", disable=not progress,
            dynamic_ncols=True, file=sys.stderr,
        ) as bar:  # fmt: skip
            stream = _Stream(writer, lazy, report, bar)
            limits = FileLimits.from_settings(settings)
            entries = _ingest(plan, previous, stream, report, progress, limits)
        for rel in report.removed:
            writer.delete_file(rel)
        total = sum(e.chunks for e in entries.values())
        report.reused = total - report.embedded
        kind = dense_kind(settings, total, dense)
        if previous is not None and _nothing_changed(report, previous, kind):
            # Same files, same code, same settings: the live snapshot stays as it is.
            version, model = previous.generation, previous.model
        else:
            if lazy.loaded or previous is None:
                emb = lazy.get()
                model, dim, backend = emb.model_name, emb.dim, getattr(emb, "backend", None)
                del emb  # no reference may outlive lazy.release() below
                if previous is not None:
                    check_model(previous, model, index_dir, dim=dim)
            else:
                model, dim, backend = previous.model, previous.dim, previous.backend
            manifest = Manifest(
                model=model, dim=dim, files=dict(sorted(entries.items())), chunks=total,
                normalization=dict(NORMALIZATION), dense=kind, pipeline=pipeline,
                backend=backend, created=now_iso(),
            )  # fmt: skip
            if release_model:
                lazy.release()
            mark = time.perf_counter()
            version = writer.commit(manifest)
            report.timings["write"] += time.perf_counter() - mark
    report.chunks = total
    report.generation = version
    report.model = model
    report.dense = kind
    report.seconds = time.perf_counter() - started
    return report
