"""Keep third-party chatter out of the command's output.

Only messages that say nothing to a user of this program are dropped, each named here: Gradio
reads deprecated Starlette status names on every queued request, and Starlette warns each time.
Library logging is quieted where the library is imported (jieba in text.py).
"""

from __future__ import annotations

import warnings

_IGNORED_WARNINGS = (
    # starlette.status: "'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated. Use '…' instead."
    r"'HTTP_\d{3}_[A-Z_]+' is deprecated",
)


def silence_third_party_warnings() -> None:
    """Install warning filters for the messages above (idempotent)."""
    for pattern in _IGNORED_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
