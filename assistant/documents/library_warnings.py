"""Warnings that parsing libraries (pypdf, python-docx, BeautifulSoup) raise while reading one
file: collected instead of reaching the terminal bare ("EOF marker not found"), then logged once
each, with the file's name and how often they came, on the ``assistant.documents`` logger.

The libraries' loggers are routed here once, at import; records are collected per thread, so
files read in parallel threads keep their own. Python's ``warnings`` filters are process-wide,
so a ``warnings.warn`` raised in another thread at the same moment may be attributed to this file.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("assistant.documents")

LIBRARY_LOGGERS = ("pypdf", "docx", "bs4")
MAX_LINES = 3  # distinct warnings logged per file; the rest are counted

_active = threading.local()  # .counts: the Counter of the file being read in this thread


class _Route(logging.Handler):
    """Library records: counted for the file being read, else logged with the library's name."""

    def emit(self, record: logging.LogRecord) -> None:
        message = f"{record.name.split('.')[0]}: {record.getMessage().strip()}"
        counts: Counter[str] | None = getattr(_active, "counts", None)
        if counts is None:
            log.warning("warning: %s", message)
        else:
            counts[message] += 1


_ROUTE = _Route(logging.WARNING)
for _name in LIBRARY_LOGGERS:
    logging.getLogger(_name).addHandler(_ROUTE)
    logging.getLogger(_name).propagate = False


@contextmanager
def file_warnings(path: Path) -> Iterator[None]:
    """Collect library warnings raised inside the block and log them under ``path``'s name."""
    counts: Counter[str] = Counter()
    outer = getattr(_active, "counts", None)
    _active.counts = counts
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        _active.counts = outer
        for w in caught:
            library = w.category.__module__.split(".")[0]
            if library == "builtins":  # a plain UserWarning: name the package that raised it
                library = Path(w.filename).parent.name
            counts[f"{library}: {str(w.message).strip()}"] += 1
        _report(Path(path).name, counts)


def _report(name: str, counts: Counter[str]) -> None:
    items = counts.most_common()
    for message, n in items[:MAX_LINES]:
        log.warning("warning: %s: %s%s", name, message, f" ({n} times)" if n > 1 else "")
    if len(items) > MAX_LINES:
        rest = sum(n for _, n in items[MAX_LINES:])
        log.warning("warning: %s: %d more library warnings", name, rest)
