"""The index directory: generations (commit records), segments, the manifest, atomic commit.

Layout::

    index/
      CURRENT              one line: the name of the live generation, e.g. "gen-000007"
      .lock                held (flock) by a running build
      gen-000007/          one commit: small, rewritten by every commit
        manifest.json      format version, model + dim, normalization, per-file sha256 + chunks,
                           the live segments and the next free chunk id
        deleted.npy        int64 ids of chunks deleted (tombstoned) since their segment was written
      segments/
        seg-000012/        immutable once written (``assistant.search.segment``): chunk rows,
                           vectors, BM25 postings for a contiguous range of chunk ids

A commit writes its new segments and a new generation directory beside the live ones, fsyncs
them, then replaces ``CURRENT`` atomically (temp file + ``os.replace`` + directory fsync) and
only then deletes older generations and the segments no longer named by the live manifest. A
reader opens whatever ``CURRENT`` names, so a build killed at any moment leaves the previous
index untouched; what it half wrote is removed by the next build. Nothing is modified after
commit, so readers open SQLite read-only/immutable and memory-map the arrays.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.records import Chunk

FORMAT_VERSION = 2
CURRENT_FILE = "CURRENT"
LOCK_FILE = ".lock"
MANIFEST_FILE = "manifest.json"
DELETED_FILE = "deleted.npy"
SEGMENTS_DIR = "segments"
_GEN = re.compile(r"^gen-(\d{6})$")
_SEG = re.compile(r"^seg-(\d{6})$")


class IndexNotFoundError(Exception):
    """There is no committed index in the directory."""


class IndexMismatchError(Exception):
    """The index was built with another model or in a format this program cannot read."""


class IndexLockedError(Exception):
    """Another build holds the index directory's lock."""


@dataclass(frozen=True)
class FileEntry:
    """One indexed source file: its content hash and how many chunks it gave."""

    sha256: str
    chunks: int
    size: int = 0


@dataclass(frozen=True)
class Manifest:
    model: str
    dim: int
    files: dict[str, FileEntry]
    chunks: int
    normalization: dict[str, str]
    dense: str = "flat"  # "flat" (exact inner product) or "hnsw"
    pipeline: str = ""  # fingerprint of the ingestion code that made the chunks
    backend: str | None = None
    generation: str = ""
    created: str = ""
    segments: list[str] = field(default_factory=list)  # live segment names, oldest first
    next_id: int = 0  # the next chunk id a segment may use
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        files = {k: FileEntry(**v) for k, v in data.get("files", {}).items()}
        known = {f for f in cls.__dataclass_fields__ if f != "files"}
        return cls(files=files, **{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class StoredChunk:
    """A chunk on its way into the index: the record plus what the retrievers read."""

    chunk: Chunk
    file_rel: str  # source file key (SourceFile.rel), as in the manifest
    passage: str  # normalized "path · text" (embedded and keyword-indexed)
    tokens: tuple[str, ...]  # BM25 tokens of ``passage``
    passage_hash: str  # vector reuse key
    phrase: str  # whitespace-free normalized text for exact phrase matching
    row: int = -1  # row in the segment it was read from


# --------------------------------------------------------------------------- generations


def generation_dirs(index_dir: Path) -> list[Path]:
    if not index_dir.is_dir():
        return []
    return sorted(p for p in index_dir.iterdir() if p.is_dir() and _GEN.match(p.name))


def current_generation(index_dir: Path) -> Path | None:
    """The committed generation directory, or None when the directory holds no index."""
    pointer = index_dir / CURRENT_FILE
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not _GEN.match(name):
        raise IndexMismatchError(
            f"{pointer} is corrupt ({name!r}); rebuild with "
            f"`assistant index --rebuild --index-dir {index_dir}`"
        )
    return index_dir / name


def new_generation(index_dir: Path) -> Path:
    """Create the next (empty) generation directory; it is invisible until committed."""
    index_dir.mkdir(parents=True, exist_ok=True)
    numbers = [int(_GEN.match(p.name).group(1)) for p in generation_dirs(index_dir)]  # type: ignore[union-attr]
    current = current_generation(index_dir)
    if current is not None:
        numbers.append(int(current.name[4:]))
    path = index_dir / f"gen-{max(numbers, default=0) + 1:06d}"
    path.mkdir()
    return path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush every file under ``path`` and the directories themselves to disk."""
    for root, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(Path(root) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def commit_generation(index_dir: Path, gen_dir: Path, new_segments: Sequence[Path] = ()) -> None:
    """Make ``gen_dir`` the live index atomically (after flushing it and ``new_segments`` to
    disk), then delete every other generation and every segment it does not name."""
    for path in new_segments:
        fsync_tree(path)
    if new_segments:
        _fsync_dir(index_dir / SEGMENTS_DIR)
    fsync_tree(gen_dir)
    tmp = index_dir / f".{CURRENT_FILE}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(gen_dir.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / CURRENT_FILE)
    _fsync_dir(index_dir)
    remove_stale_generations(index_dir)


def remove_stale_generations(index_dir: Path) -> list[str]:
    """Delete generations other than the committed one, and segments its manifest does not
    name (call only while holding the lock)."""
    current = current_generation(index_dir)
    removed = []
    for path in generation_dirs(index_dir):
        if current is None or path.name != current.name:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    live: set[str] = set()
    if current is not None:
        try:
            live = set(read_manifest(current).segments)
        except (OSError, ValueError, IndexMismatchError):
            return removed  # unreadable: leave its segments alone
    for path in segment_dirs(index_dir):
        if path.name not in live:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def segment_dirs(index_dir: Path) -> list[Path]:
    root = index_dir / SEGMENTS_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and _SEG.match(p.name))


def new_segment_path(index_dir: Path, taken: Iterable[str] = ()) -> Path:
    """A fresh segment directory path (not created) under ``index_dir/segments``."""
    root = index_dir / SEGMENTS_DIR
    root.mkdir(parents=True, exist_ok=True)
    names = {p.name for p in segment_dirs(index_dir)} | set(taken)
    numbers = [int(n[4:]) for n in names if _SEG.match(n)]
    return root / f"seg-{max(numbers, default=0) + 1:06d}"


def read_manifest(gen_dir: Path) -> Manifest:
    with open(gen_dir / MANIFEST_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    version = int(data.get("format_version", 0))
    if version > FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index at {gen_dir.parent} has format version {version}, newer than this "
            f"program reads ({FORMAT_VERSION}): upgrade policy-assistant, or rebuild with this "
            f"version into a new directory: `assistant index --rebuild --index-dir NEW_DIR`"
        )
    if version < FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index at {gen_dir.parent} has old format version {version} (this program "
            f"writes {FORMAT_VERSION}): rebuild it with "
            f"`assistant index --rebuild --index-dir {gen_dir.parent}`"
        )
    return Manifest.from_dict(data)


def write_manifest(gen_dir: Path, manifest: Manifest) -> None:
    (gen_dir / MANIFEST_FILE).write_text(manifest.to_json() + "\n", encoding="utf-8")


def same_model(a: str, b: str) -> bool:
    """True when two model references name the same model (an id, or the same directory)."""
    if a == b:
        return True
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    if pa.is_dir() and pb.is_dir():
        return pa.resolve() == pb.resolve()
    return False


def check_model(manifest: Manifest, model: str, index_dir: Path, dim: int | None = None) -> None:
    """Raise IndexMismatchError when the index was built with another model."""
    if not same_model(manifest.model, model) or (dim is not None and dim != manifest.dim):
        got = f"{model}" + (f" (dim {dim})" if dim is not None else "")
        raise IndexMismatchError(
            f"the index at {index_dir} was built with embedding model {manifest.model} "
            f"(dim {manifest.dim}) but the configured model is {got}. Either use the index's "
            f"model (set ASSISTANT_EMBED_MODEL={manifest.model} or pass --model "
            f"{manifest.model}), or rebuild: `assistant index --rebuild --index-dir {index_dir}` "
            f"(or into a new --index-dir)"
        )


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index directory's build lock (released by the OS if the process dies)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the block's lifetime
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            raise IndexLockedError(
                f"another build (pid {holder}) is updating {index_dir}; wait for it to finish"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()
