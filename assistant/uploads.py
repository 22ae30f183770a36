"""Accepting uploaded files into the corpus: type, size, safe name, readability, then storage.

An upload is checked before anything is stored: its type must be one the loaders read, its
size and the size of its text within ``settings.upload_max_mb``, the other per-file bounds of
``FileLimits`` kept (zip expansion, chunks). Content already in the corpus (the same bytes under
any name, compared by sha256 with the index manifest and with ``uploads/``) is not stored again:
the upload names the existing file. Otherwise it must actually load and yield chunks (an empty,
binary, corrupt or zip-bomb file is refused with the loader's own explanation). Only then is it
copied to ``<corpus>/uploads/`` under a safe name: directory parts and ``..`` stripped, control
and shell characters replaced, CJK kept. The index is updated afterwards by the caller.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.documents.limits import MB, FileLimits
from assistant.documents.walk import SUPPORTED_SUFFIXES
from assistant.hashing import file_sha256

ALLOWED_SUFFIXES = SUPPORTED_SUFFIXES  # scans (.png .jpg .tif …) included: they are read by OCR
UPLOAD_SUBDIR = "uploads"
MAX_NAME_CHARS = 120

_UNSAFE = re.compile(r"[^\w\-.()（）【】《》\[\]，、 ]")


class UploadError(ValueError):
    """The upload was refused; the message says why, for the user."""


@dataclass(frozen=True)
class StoredUpload:
    path: Path  # where it now lives under the corpus
    name: str  # its safe file name
    chunks: int  # chunks it yielded in the check (0 for a duplicate, which is not read)
    duplicate_of: str | None = None  # corpus-relative path of a file with the same content


def safe_name(original: str) -> str:
    """A file name that is safe to create in one directory, keeping CJK characters.

    >>> safe_name("../../etc/双减 方案（2023）.PDF")
    '双减 方案（2023）.pdf'
    """
    name = re.split(r"[\\/]", original.strip())[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = _UNSAFE.sub("_", stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip(" ._") or "upload"
    suffix = re.sub(r"[^0-9A-Za-z]", "", suffix).lower()
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1]
    return f"{stem}.{suffix}" if suffix else stem


def upload_limits(max_mb: float, limits: FileLimits | None) -> FileLimits:
    """``limits`` with ``max_mb`` bounding the file and its expanded text."""
    limits = limits or FileLimits()
    if max_mb * MB < limits.max_file_bytes:
        limits = replace(limits, max_file_bytes=int(max_mb * MB), size_setting="upload_max_mb")
    return limits


def check_upload(path: Path, original_name: str, limits: FileLimits) -> None:
    """Raise ``UploadError`` unless the file's type and size are acceptable."""
    shown = safe_name(original_name)
    suffix = Path(shown).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadError(
            f"{shown}: file type {suffix or '(none)'} is not accepted; "
            f"allowed: {' '.join(ALLOWED_SUFFIXES)}"
        )
    refusal = limits.size_refusal(path.stat().st_size)
    if refusal:  # before copying it for the full check
        raise UploadError(f"{shown}: {refusal}")


def count_chunks(path: Path, original_name: str, limits: FileLimits) -> int:
    """Load the file as the index would; raise ``UploadError`` unless it yields chunks."""
    from assistant.documents import LoadError, ingest_file

    shown = safe_name(original_name)
    # Check under the final name: loaders decide the type by suffix.
    probe_dir = path.parent / f".probe-{file_sha256(path)[:12]}"
    probe_dir.mkdir(exist_ok=True)
    probe = probe_dir / shown
    try:
        shutil.copyfile(path, probe)
        chunks = ingest_file(probe, rel=shown, limits=limits)
    except LoadError as exc:
        raise UploadError(f"{shown}: {exc.kind}: {exc.reason}") from exc
    except Exception as exc:  # a loader bug must not take the app down
        raise UploadError(f"{shown}: could not be read ({type(exc).__name__}: {exc})") from exc
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    if not chunks:
        raise UploadError(f"{shown}: no text could be extracted from the file")
    return len(chunks)


def find_duplicate(digest: str, corpus_dir: Path, indexed: Mapping[str, str]) -> str | None:
    """The corpus-relative path of a file with content ``digest``: one the index holds
    (``indexed`` maps sha256 to path) or one already stored in ``uploads/``."""
    if digest in indexed:
        return indexed[digest]
    target_dir = corpus_dir / UPLOAD_SUBDIR
    if target_dir.is_dir():
        for p in sorted(target_dir.iterdir()):
            if p.is_file() and not p.name.startswith(".") and file_sha256(p) == digest:
                return p.relative_to(corpus_dir).as_posix()
    return None


def store_upload(
    path: Path,
    original_name: str,
    corpus_dir: Path,
    *,
    max_mb: float,
    limits: FileLimits | None = None,
    indexed: Mapping[str, str] | None = None,
) -> StoredUpload:
    """Check an uploaded file and copy it into ``<corpus_dir>/uploads/``, unless the corpus
    already holds the same content (then nothing is stored and ``duplicate_of`` names it)."""
    limits = upload_limits(max_mb, limits)
    check_upload(path, original_name, limits)
    same = find_duplicate(file_sha256(path), corpus_dir, indexed or {})
    if same is not None:
        return StoredUpload(corpus_dir / same, Path(same).name, 0, duplicate_of=same)
    chunks = count_chunks(path, original_name, limits)
    target_dir = corpus_dir / UPLOAD_SUBDIR
    target_dir.mkdir(parents=True, exist_ok=True)
    name = safe_name(original_name)
    target = target_dir / name
    n = 2
    while target.exists():
        stem, suffix = Path(name).stem, Path(name).suffix
        target = target_dir / f"{stem}-{n}{suffix}"
        n += 1
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(path, tmp)
    tmp.replace(target)
    return StoredUpload(target, target.name, chunks)
