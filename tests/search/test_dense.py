import faiss
import numpy as np
import pytest

from assistant.search.dense import DenseIndex, choose_kind


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_kind_follows_size_and_setting():
    assert choose_kind(10, "auto", threshold=100) == "flat"
    assert choose_kind(100, "auto", threshold=100) == "hnsw"
    assert choose_kind(10, "hnsw") == "hnsw"
    assert choose_kind(10**6, "flat") == "flat"
    with pytest.raises(ValueError):
        choose_kind(10, "ivf")


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_saved_index_finds_nearest_vectors(tmp_path, kind):
    vectors = unit_vectors(300)
    DenseIndex.build(vectors, kind).save(tmp_path)
    index = DenseIndex.load(tmp_path)
    assert index.kind == kind and len(index) == 300 and index.dim == 16
    assert isinstance(index.index, faiss.IndexHNSW) if kind == "hnsw" else index.index is None
    exact = np.argsort(-(vectors @ vectors[42]))[:5]
    rows, scores = index.search(vectors[42], 5)
    assert rows[0] == 42 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert len(set(rows.tolist()) & set(exact.tolist())) >= 4


def test_filtered_search_only_returns_allowed_rows(tmp_path):
    vectors = unit_vectors(50)
    index = DenseIndex.build(vectors, "flat")
    allowed = np.array([3, 10, 20, 30])
    rows, scores = index.search(vectors[42], 10, allowed)
    assert sorted(rows.tolist()) == [3, 10, 20, 30]
    assert list(scores) == sorted(scores, reverse=True)
    assert index.scores(vectors[42], np.array([42]))[0] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_deleted_rows_are_never_returned(tmp_path, kind):
    vectors = unit_vectors(300)
    DenseIndex.build(vectors, kind).save(tmp_path)
    index = DenseIndex.load(tmp_path)
    live = np.ones(300, dtype=bool)
    live[[42, 7, 100]] = False
    rows, _ = index.search(vectors[42], 20, live=live)
    assert 42 not in rows and 7 not in rows and 100 not in rows and len(rows) == 20
    rows, _ = index.search(vectors[42], 5, np.array([42, 3, 4]), live=live)
    assert sorted(rows.tolist()) == [3, 4]
    assert np.allclose(index.vectors_at(np.array([5, 6])), vectors[[5, 6]], atol=1e-6)


def test_empty_index_returns_nothing(tmp_path):
    DenseIndex.build(np.zeros((0, 8), np.float32)).save(tmp_path)
    index = DenseIndex.load(tmp_path)
    assert index.search(np.ones(8, np.float32), 5)[0].size == 0
