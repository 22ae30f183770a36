"""Session fixtures shared by every test package. Keep each section small and self-contained."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def shown(request: pytest.FixtureRequest, what: str) -> Iterator[None]:
    """Let a long session fixture's progress bars reach the terminal (and a CI log): pytest
    captures output otherwise, and the run looks stuck for minutes. Says first what is built."""
    plugins = request.config.pluginmanager
    capture = plugins.getplugin("capturemanager")
    reporter = plugins.getplugin("terminalreporter")
    with capture.global_and_fixture_disabled():
        if reporter is not None:
            reporter.write_line("")
            reporter.write_line(f"[{request.fixturename}] {what}", bold=True)
        yield


# --------------------------------------------------------------------------- embedding model
# `embedder`: the default embedder (intfloat/multilingual-e5-small, ONNX int8), loaded once per
# session. `load_embedder()` caches per (model, backend), so code under test that calls
# `load_embedder(settings)` for the default model gets this same object back.
# `embedding_cache_dir`: the cache directory holding the built model. For a subprocess running
# the `assistant` command, set ASSISTANT_CACHE_DIR to it so the model is not built again.


@pytest.fixture(scope="session")
def embedding_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's cache when it already holds a complete, verified build; otherwise a session
    temp dir where the model gets built once (about a minute, e.g. on a clean CI machine)."""
    from assistant.config import load_settings
    from assistant.offline_model import offline_model_dir, read_build_info

    default = load_settings().cache_dir
    if read_build_info(offline_model_dir(default)) is not None:
        return default
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def embedder(embedding_cache_dir: Path, request: pytest.FixtureRequest):
    from assistant.config import DEFAULT_EMBED_MODEL, Settings
    from assistant.embedding import load_embedder
    from assistant.offline_model import offline_model_dir, read_build_info

    settings = Settings(cache_dir=embedding_cache_dir)
    built = read_build_info(offline_model_dir(embedding_cache_dir)) is not None
    with (
        contextlib.nullcontext()
        if built
        else shown(request, f"building the embedding model into {embedding_cache_dir} (once)")
    ):
        return load_embedder(
            settings, model=DEFAULT_EMBED_MODEL, backend="onnx-int8", progress=not built
        )


@pytest.fixture(scope="session")
def answer_reader(embedder, embedding_cache_dir: Path, request: pytest.FixtureRequest):
    """The answer reader, built beside the embedding model once (about half a minute)."""
    from assistant.answering.reader import load_reader
    from assistant.reader_model import read_build, reader_dir

    built = read_build(reader_dir(embedding_cache_dir)) is not None
    with (
        contextlib.nullcontext()
        if built
        else shown(request, f"building the answer reader into {embedding_cache_dir} (once)")
    ):
        return load_reader(embedding_cache_dir)


# --------------------------------------------------------------------------- seed index
# `seed_index_dir`: a real index (FAISS + SQLite + BM25 on disk) of the five seed documents in
# corpus/work_plans, built once per session with the session embedder. Read-only: tests that
# change an index build their own in tmp_path.

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def seed_index_dir(
    tmp_path_factory: pytest.TempPathFactory, embedder, request: pytest.FixtureRequest
) -> Path:
    from assistant.config import Settings
    from assistant.search.builder import build_index

    path = tmp_path_factory.mktemp("seed-index")
    seeds = REPO / "corpus" / "work_plans"
    with shown(request, f"indexing {seeds.relative_to(REPO)}/ for the tests"):
        report = build_index([seeds], path, Settings(), embedder=embedder, progress=True)
    assert not report.failed, report.failed
    return path


# --------------------------------------------------------------------------- shipped-corpus index
# `corpus_index_dir`: a real index of the whole shipped corpus (corpus/, ~5k chunks), built once
# per session (about 1–3 minutes of embedding on 2 cores). Used where a claim is about the
# product as shipped (e.g. `assistant ask` refusing what the corpus does not cover, the browser
# test). Built from the path `corpus/` so that `assistant serve --corpus corpus` finds it current.


@pytest.fixture(scope="session")
def corpus_index_dir(
    tmp_path_factory: pytest.TempPathFactory, embedder, request: pytest.FixtureRequest
) -> Path:
    from assistant.config import Settings
    from assistant.search.builder import build_index

    path = tmp_path_factory.mktemp("corpus-index")
    with shown(request, "indexing corpus/ for the tests (a few minutes on 2 cores)"):
        report = build_index([REPO / "corpus"], path, Settings(), embedder=embedder, progress=True)
    assert not report.failed, report.failed
    return path
