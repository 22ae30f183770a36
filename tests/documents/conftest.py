"""Fixtures for the ingestion tests: the shipped seed documents, ingested once per session."""

from __future__ import annotations

import pytest
from seedfiles import SEED_PREFIXES, seed_path


@pytest.fixture(scope="session")
def seed_chunks():
    """``{"001": [Chunk, ...], ...}`` for the five seeds."""
    from assistant.documents import ingest_file

    return {p: ingest_file(seed_path(p)) for p in SEED_PREFIXES}


@pytest.fixture(scope="session")
def seed_clean():
    """``{"001": CleanText, ...}``: the cleaned text the chunk offsets refer to."""
    from assistant.documents import clean_file

    return {p: clean_file(seed_path(p)) for p in SEED_PREFIXES}
