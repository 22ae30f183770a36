"""Warnings that parsing libraries (pypdf, python-docx, BeautifulSoup) raise while reading one
file: collected instead of reaching the terminal bare ("EOF marker not found"), then logged once
each, with the file's name and how often they came, on the ``assistant.documents`` logger.

Python's ``warnings`` filters are process-wide, so two files parsed at the same time in two
threads may see each other's warnings.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("assistant.documents")

LIBRARY_LOGGERS = ("pypdf", "docx", "bs4")
MAX_LINES = 3  # distinct warnings logged per file; the rest are counted


class _Collect(logging.Handler):
    def __init__(self, counts: Counter[str]) -> None:
        super().__init__(logging.WARNING)
        self.counts = counts

    def emit(self, record: logging.LogRecord) -> None:
        library = record.name.split(".")[0]
        self.counts[f"{library}: {record.getMessage().strip()}"] += 1


@contextmanager
def file_warnings(path: Path) -> Iterator[None]:
    """Collect library warnings raised inside the block and log them under ``path``'s name."""
    counts: Counter[str] = Counter()
    handler = _Collect(counts)
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    saved = [lg.propagate for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        for lg, propagate in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.propagate = propagate
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
