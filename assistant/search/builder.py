"""Build or update an index directory from corpus files, incrementally and atomically.

Each file's sha256 is compared with the manifest of the live generation: unchanged files carry
their chunks, tokens and vectors over without being read again; new and changed files are
ingested, and only passages whose vector is not already in the index are embedded (so an edit
to one item of a file re-embeds about one passage); files that disappeared are dropped. A file
that fails to load is reported with its kind and message, and if an earlier version of it is
indexed, that version is kept. When the ingestion code itself changed since the last build
(see ``pipeline_fingerprint``), every file is re-ingested, still reusing vectors by passage.

Everything goes into a new generation directory committed by an atomic pointer swap (see
``assistant.search.store``); a build that fails or is killed leaves the previous index as it was.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from assistant.config import Settings, load_settings
from assistant.documents import FileFailure, FileLimits, Skipped, ingest_file, walk
from assistant.documents.loaders import LoadError, SourceFile
from assistant.search.dense import DenseIndex
from assistant.search.passage import stored_chunk
from assistant.search.store import (
    CHUNKS_FILE,
    ChunkTable,
    FileEntry,
    IndexMismatchError,
    Manifest,
    StoredChunk,
    build_lock,
    check_model,
    current_generation,
    read_manifest,
    remove_stale_generations,
)
from assistant.search.writer import (
    NORMALIZATION,
    LazyEmbedder,
    dense_kind,
    embed_passages,
    now_iso,
    write_generation,
)

if TYPE_CHECKING:
    from assistant.embedding import Embedder

_CARRY = "carry"  # marker: take this file's chunks from the previous generation


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
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class _Previous:
    manifest: Manifest
    table: ChunkTable
    dense: DenseIndex


def _open_previous(index_dir: Path, model: str, rebuild: bool) -> _Previous | None:
    gen = current_generation(index_dir)
    if gen is None or rebuild:
        return None
    try:
        manifest = read_manifest(gen)
    except IndexMismatchError as exc:
        if "newer" in str(exc):
            raise
        return None  # an older format: nothing can be reused, build afresh
    except FileNotFoundError:
        return None
    check_model(manifest, model, index_dir)
    return _Previous(manifest, ChunkTable(gen / CHUNKS_FILE), DenseIndex.load(gen))


@dataclass
class _Plan:
    """What each source file contributes to the new generation."""

    per_file: dict[str, list[StoredChunk] | str] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


def _plan(
    sources: Sequence[SourceFile], prev: _Previous | None, pipeline: str,
    report: BuildReport, progress: bool, limits: FileLimits,
) -> _Plan:  # fmt: skip
    old_files = prev.manifest.files if prev else {}
    same_pipeline = prev is not None and prev.manifest.pipeline == pipeline
    plan = _Plan()
    bar = tqdm(sources, desc="reading", unit="file", disable=not progress, dynamic_ncols=True)
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
            plan.per_file[sf.rel], plan.hashes[sf.rel], plan.sizes[sf.rel] = _CARRY, digest, size
            report.unchanged += 1
            continue
        try:
            chunks = ingest_file(sf.path, sf.rel, limits, notes=report.warnings)
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the build
            kind = exc.kind if isinstance(exc, LoadError) else "corrupt"
            message = str(exc)
            if not isinstance(exc, LoadError):
                message = f"{sf.path}: could not be processed ({type(exc).__name__}: {exc})"
            if prior is not None:
                message += " (the previously indexed version is kept)"
                plan.per_file[sf.rel] = _CARRY
                plan.hashes[sf.rel], plan.sizes[sf.rel] = prior.sha256, prior.size
                report.kept.append(sf.rel)
            report.failed.append(_failure(sf, kind, message))
            continue
        plan.per_file[sf.rel] = [stored_chunk(c, sf.rel) for c in chunks]
        plan.hashes[sf.rel], plan.sizes[sf.rel] = digest, size
        if prior is None:
            report.added.append(sf.rel)
        elif digest != prior.sha256:
            report.updated.append(sf.rel)
        else:
            report.unchanged += 1
            report.reingested += 1
    report.removed = sorted(set(old_files) - set(plan.per_file))
    return plan


def _assemble(plan: _Plan, prev: _Previous | None) -> list[StoredChunk]:
    """The new generation's chunks in file order; carried ones keep their old ``row``."""
    carried: dict[str, list[StoredChunk]] = {}
    if prev is not None:
        carry = [rel for rel, v in plan.per_file.items() if v == _CARRY]
        for sc in prev.table.stored(carry):
            carried.setdefault(sc.file_rel, []).append(sc)
    stored: list[StoredChunk] = []
    for rel in sorted(plan.per_file):
        v = plan.per_file[rel]
        stored.extend(carried.get(rel, []) if v == _CARRY else v)  # type: ignore[arg-type]
    return stored


def _nothing_changed(report: BuildReport, manifest: Manifest, kind: str) -> bool:
    return (
        not (report.added or report.updated or report.removed or report.reingested)
        and manifest.dense == kind
        and manifest.normalization == NORMALIZATION
    )


def _write(
    index_dir: Path, lazy: LazyEmbedder, prev: _Previous | None, plan: _Plan,
    stored: list[StoredChunk], kind: str, pipeline: str, report: BuildReport, progress: bool,
) -> tuple[Path, str]:  # fmt: skip
    """Vectors (carried by row, reused by passage, or embedded), then the new generation."""
    by_hash = prev.table.rows_by_hash() if prev is not None else {}
    source = np.array(
        [sc.row if sc.row >= 0 else by_hash.get(sc.passage_hash, -1) for sc in stored],
        dtype=np.int64,
    )
    to_embed = np.flatnonzero(source < 0)
    fresh = None
    mark = time.perf_counter()
    if len(to_embed):
        fresh = embed_passages(lazy, [stored[i].passage for i in to_embed], progress)
    report.timings["embed"] = time.perf_counter() - mark
    if lazy.loaded or prev is None:
        emb = lazy.get()
        model, dim, backend = emb.model_name, emb.dim, getattr(emb, "backend", None)
        if prev is not None:
            check_model(prev.manifest, model, index_dir, dim=dim)
    else:
        model, dim, backend = prev.manifest.model, prev.manifest.dim, prev.manifest.backend
    vectors = np.zeros((len(stored), dim), dtype=np.float32)
    if prev is not None and (source >= 0).any():
        vectors[source >= 0] = np.asarray(prev.dense.vectors[source[source >= 0]])
    if fresh is not None:
        vectors[to_embed] = fresh
    report.embedded = int(len(to_embed))
    report.reused = int((source >= 0).sum())

    counts = Counter(sc.file_rel for sc in stored)
    files = {
        rel: FileEntry(sha256=plan.hashes[rel], chunks=counts[rel], size=plan.sizes.get(rel, 0))
        for rel in sorted(plan.per_file)
    }
    manifest = Manifest(
        model=model, dim=dim, files=files, chunks=len(stored),
        normalization=dict(NORMALIZATION), dense=kind, pipeline=pipeline, backend=backend,
        created=now_iso(),
    )  # fmt: skip
    mark = time.perf_counter()
    gen = write_generation(index_dir, stored, vectors, manifest, progress=progress)
    report.timings["write"] = time.perf_counter() - mark
    return gen, model


def build_index(
    paths: Sequence[Path],
    index_dir: Path,
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    progress: bool = True,
    rebuild: bool = False,
    dense: str | None = None,
) -> BuildReport:
    """Index the files under ``paths`` into ``index_dir`` (incrementally unless ``rebuild``).

    ``dense`` is "auto" (flat below the HNSW threshold, HNSW above), "flat" or "hnsw"; default
    from settings. Raises IndexMismatchError when the existing index used another model (pass
    ``rebuild=True`` to replace it) and IndexLockedError when another build is running. The
    embedding model is loaded only when some passage needs embedding.
    """
    started = time.perf_counter()
    settings = settings or load_settings()
    index_dir = Path(index_dir)
    lazy = LazyEmbedder(settings, embedder)
    model = embedder.model_name if embedder is not None else settings.embed_model
    report = BuildReport(
        added=[], updated=[], removed=[], unchanged=0, failed=[], chunks=0, seconds=0.0,
        index_dir=str(index_dir),
    )  # fmt: skip
    with build_lock(index_dir):
        remove_stale_generations(index_dir)  # left behind by a build that was killed
        prev = _open_previous(index_dir, model, rebuild)
        try:
            pipeline = pipeline_fingerprint()
            found = walk([Path(p) for p in paths])
            report.skipped = found.skipped
            limits = FileLimits.from_settings(settings)
            plan = _plan(found.files, prev, pipeline, report, progress, limits)
            stored = _assemble(plan, prev)
            report.timings["read"] = time.perf_counter() - started

            kind = dense_kind(settings, len(stored), dense)
            if prev is not None and _nothing_changed(report, prev.manifest, kind):
                # Same files, same code, same settings: the live generation stays as it is.
                report.reused = len(stored)
                gen, model = current_generation(index_dir), prev.manifest.model
            else:
                gen, model = _write(
                    index_dir, lazy, prev, plan, stored, kind, pipeline, report, progress
                )
        finally:
            if prev is not None:
                prev.table.close()
    report.chunks = len(stored)
    report.generation = gen.name
    report.model = model
    report.dense = kind
    report.seconds = time.perf_counter() - started
    return report
