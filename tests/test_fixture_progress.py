"""The long session fixtures (tests/conftest.py) show their progress although pytest captures
output: a line saying what is built, then the build's progress bars."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_the_seed_index_fixture_shows_what_it_builds_and_its_progress(embedding_cache_dir):
    one_test = "tests/commands/test_search.py::test_traditional_query_finds_simplified_text"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {"ASSISTANT_CACHE_DIR": str(embedding_cache_dir), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", one_test],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    shown = proc.stdout + proc.stderr
    assert proc.returncode == 0, shown[-3000:]
    assert "[seed_index_dir] indexing corpus/work_plans/ for the tests" in shown
    assert "embedding" in shown and "passage" in shown  # the embedding progress bar
    assert "1 passed" in proc.stdout
