"""The shipped corpus's chunks, read once for every question-set test."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.documents import ingest

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


@pytest.fixture(scope="session")
def chunks():
    report = ingest([CORPUS], progress=False)
    assert report.failures == []
    return report.chunks
