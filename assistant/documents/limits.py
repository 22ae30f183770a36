"""Per-file bounds that a hostile file cannot get past: size on disk, expanded size of zip-based
formats (.docx), size of the extracted text, and chunks per file.

The bounds are settings (``max_file_mb``, ``max_expanded_mb``, ``max_zip_ratio``,
``max_chunks_per_file``). A zip's declared entry sizes are a hard bound on what Python's
``zipfile`` inflates (it stops at the declared size and checks the CRC), so checking them before
parsing bounds the memory a .docx can take. Each check returns the reason for refusing, or None.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Settings

MB = 1024 * 1024
# An entry is judged by its compression ratio only from this expanded size on: small parts
# (styles, settings) of real documents compress far better than text and are harmless.
RATIO_MIN_BYTES = 1 * MB


@dataclass(frozen=True)
class FileLimits:
    max_file_bytes: int = 50 * MB  # on disk, and the text extracted from the file
    max_expanded_bytes: int = 100 * MB  # sum of the declared sizes of a zip's entries
    max_zip_ratio: float = 100.0  # expanded : compressed, per entry of RATIO_MIN_BYTES or more
    max_chunks: int = 2000  # chunks one file may produce
    size_setting: str = "max_file_mb"  # the setting that sets max_file_bytes, for messages

    @classmethod
    def from_settings(cls, settings: Settings) -> FileLimits:
        return cls(
            max_file_bytes=int(settings.max_file_mb * MB),
            max_expanded_bytes=int(settings.max_expanded_mb * MB),
            max_zip_ratio=float(settings.max_zip_ratio),
            max_chunks=int(settings.max_chunks_per_file),
        )

    def size_refusal(self, size: int, what: str = "file is") -> str | None:
        """Why ``size`` bytes (of the file, or of its text) are refused, or None."""
        if size <= self.max_file_bytes:
            return None
        return (
            f"{what} {_mb(size)}, over the {_mb(self.max_file_bytes)} limit ({self.size_setting})"
        )

    def zip_refusal(self, path: Path) -> str | None:
        """Why a zip-based file would expand too far, from its declared entry sizes, or None.

        Raises ``zipfile.BadZipFile`` when ``path`` is not a zip archive."""
        with zipfile.ZipFile(path) as zf:
            entries = zf.infolist()
        total = sum(e.file_size for e in entries)
        for e in sorted(entries, key=lambda e: e.file_size, reverse=True):
            if e.file_size < RATIO_MIN_BYTES:
                break
            ratio = e.file_size / max(e.compress_size, 1)
            if ratio > self.max_zip_ratio:
                return (
                    f"{e.filename.rsplit('/', 1)[-1]} expands to {_mb(e.file_size)} "
                    f"(ratio {ratio:.0f}:1), over the {self.max_zip_ratio:g}:1 compression "
                    "limit (max_zip_ratio); probably a zip bomb"
                )
        if total > self.max_expanded_bytes:
            return (
                f"its {len(entries)} parts expand to {_mb(total)}, over the "
                f"{_mb(self.max_expanded_bytes)} limit (max_expanded_mb)"
            )
        return None

    def chunks_refusal(self, count: int) -> str | None:
        if count <= self.max_chunks:
            return None
        return (
            f"would produce {count} chunks, over the limit of {self.max_chunks} per file "
            "(max_chunks_per_file); refused whole rather than cut short: split the file or raise "
            "the limit"
        )


def _mb(size: int) -> str:
    return f"{size / MB:.0f} MB" if size >= 10 * MB else f"{size / MB:.1f} MB"
