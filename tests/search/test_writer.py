"""Writing one generation: the all-or-nothing commit and the vector index choice."""

import numpy as np
import pytest

from assistant.config import Settings
from assistant.search.backends.embedded import EmbeddedWriter
from assistant.search.passage import stored_chunk
from assistant.search.retriever import Retriever
from assistant.search.store import (
    FileEntry,
    Manifest,
    current_generation,
    generation_dirs,
    read_manifest,
    segment_dirs,
)
from assistant.search.writer import NORMALIZATION, dense_kind, index_chunks


def test_dense_kind_follows_settings_and_override():
    assert dense_kind(Settings(), 10) == "flat"
    assert dense_kind(Settings(), 50_000) == "hnsw"
    assert dense_kind(Settings(hnsw_threshold=5), 7) == "hnsw"
    assert dense_kind(Settings(dense_index="flat", hnsw_threshold=5), 7) == "flat"
    assert dense_kind(Settings(dense_index="flat"), 7, "hnsw") == "hnsw"


def manifest(n: int, dim: int) -> Manifest:
    return Manifest(
        model="m",
        dim=dim,
        files={"f": FileEntry(sha256="", chunks=n)},
        chunks=n,
        normalization=dict(NORMALIZATION),
    )


def test_a_failed_write_leaves_the_committed_generation_alone(tmp_path, chunks):
    stored = [stored_chunk(c, "f") for c in chunks]
    vectors = np.eye(len(stored), 8, dtype=np.float32)
    with EmbeddedWriter(tmp_path, Settings()) as writer:
        writer.put_file("f", stored, vectors)
        first = writer.commit(manifest(len(stored), 8))
    with pytest.raises(ValueError, match="7 chunks but 3 vectors"):
        with EmbeddedWriter(tmp_path, Settings()) as writer:
            writer.put_file("f", stored, vectors[:3])
    with pytest.raises(ValueError, match="lists 8 chunks, the index holds 7"):
        with EmbeddedWriter(tmp_path, Settings()) as writer:
            writer.put_file("f", stored, vectors)
            writer.commit(manifest(len(stored) + 1, 8))
    assert current_generation(tmp_path).name == first and generation_dirs(tmp_path) == [
        tmp_path / first
    ]
    assert [p.name for p in segment_dirs(tmp_path)] == read_manifest(tmp_path / first).segments


@pytest.mark.slow
def test_index_chunks_builds_a_searchable_index(tmp_path, chunks, embedder):
    gen = index_chunks(
        chunks, tmp_path, Settings(hnsw_threshold=5), embedder=embedder, progress=False
    )
    r = Retriever.open(tmp_path, Settings(), embedder=embedder)
    assert r.generation == gen and r.manifest.dense == "hnsw" and len(r) == 7
    assert r.manifest.files == {
        "plans/zl.txt": FileEntry(sha256="", chunks=3),
        "plans/fs.txt": FileEntry(sha256="", chunks=2),
        "laws/教育法.md": FileEntry(sha256="", chunks=2),
    }
    assert r.search("学校的义务", k=1)[0].chunk.chunk_id == "law:1"


@pytest.mark.slow
def test_a_build_lets_go_only_of_a_model_it_loaded_itself(
    embedding_cache_dir, embedder, monkeypatch
):
    import assistant.embedding as embedding
    from assistant.search.writer import LazyEmbedder

    settings = Settings(cache_dir=embedding_cache_dir)
    given = LazyEmbedder(settings, embedder)
    given.get()
    given.release()
    assert given.loaded  # the caller's model stays with the caller
    shared = LazyEmbedder(settings)
    held = shared.get()  # the process held it already (the session's model)
    shared.release()
    assert embedding.load_query_embedder(settings) is held

    monkeypatch.setattr(embedding, "_CACHE", {})  # a process that has not loaded it yet
    monkeypatch.setattr(embedding, "_QUERY_CACHE", {})
    own = LazyEmbedder(settings)
    first = own.get()
    own.release()
    assert not own.loaded
    assert embedding.load_query_embedder(settings) is not first  # no cache keeps it either
