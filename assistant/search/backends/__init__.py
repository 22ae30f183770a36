"""Index backends: ``open_backend`` (read a committed snapshot) and ``open_writer`` (one write
transaction), chosen by ``settings.backend`` ("embedded", the default, or another backend)."""

from __future__ import annotations

from pathlib import Path

from assistant.config import Settings
from assistant.search.backends.base import (
    IndexWriter,
    LexicalQuery,
    Scored,
    SearchBackend,
    SearchFilters,
)

__all__ = [
    "IndexWriter",
    "LexicalQuery",
    "Scored",
    "SearchBackend",
    "SearchFilters",
    "backend_name",
    "open_backend",
    "open_writer",
]


def backend_name(settings: Settings) -> str:
    return str(getattr(settings, "backend", None) or "embedded")


def _unknown(name: str) -> ValueError:
    return ValueError(f"unknown index backend {name!r}; the embedded backend is 'embedded'")


def open_backend(index_dir: Path, settings: Settings) -> SearchBackend:
    """The committed snapshot of the index (raises IndexNotFoundError when there is none)."""
    name = backend_name(settings)
    if name == "embedded":
        from assistant.search.backends.embedded import EmbeddedBackend

        return EmbeddedBackend.open(Path(index_dir))
    raise _unknown(name)


def open_writer(
    index_dir: Path,
    settings: Settings,
    *,
    rebuild: bool = False,
    dense: str | None = None,
    progress: bool = False,
) -> IndexWriter:
    """A write transaction (use as a context manager). ``rebuild`` starts from an empty index;
    ``dense`` overrides ``settings.dense_index`` for this build; ``progress`` shows bars."""
    name = backend_name(settings)
    if name == "embedded":
        from assistant.search.backends.embedded import EmbeddedWriter

        return EmbeddedWriter(
            Path(index_dir), settings, rebuild=rebuild, dense=dense, progress=progress
        )
    raise _unknown(name)
