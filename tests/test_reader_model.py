"""Building the answer reader from the embedding model and the shipped deltas."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import reader_model as rm


@pytest.mark.parametrize("shape", [(3, 5), (4, 384), (7,)])
def test_4_bit_deltas_come_back_within_half_a_step_of_their_row(shape):
    rng = np.random.default_rng(0)
    delta = rng.normal(0, 1e-3, shape).astype(np.float32)
    packed, scale = rm.pack_q4(delta)
    back = rm.unpack_q4(packed, scale, delta.shape)
    rows = back.reshape(scale.shape[0], -1) - delta.reshape(scale.shape[0], -1)
    assert back.shape == delta.shape
    assert np.all(np.abs(rows) <= scale.astype(np.float32) / 2 + 1e-9)
    assert packed.nbytes == (delta.size + 1) // 2


def test_deltas_apply_to_the_embedding_model_s_tensors_under_classifier_names():
    base = {"encoder.w": np.ones((2, 4), np.float32), "frozen": np.zeros(3, np.float32)}
    packed, scale = rm.pack_q4(np.full((2, 4), 0.5, np.float32))
    head = np.array([[2.0]], np.float32)
    deltas = {"bert.encoder.w.q4": packed, "bert.encoder.w.scale": scale, "classifier.weight": head}
    state = rm.apply_deltas(base, deltas)
    assert set(state) == {"bert.encoder.w", "bert.frozen", "classifier.weight"}
    assert np.allclose(state["bert.encoder.w"], 1.5, atol=0.05)
    assert np.array_equal(state["bert.frozen"], base["frozen"])
    assert np.array_equal(state["classifier.weight"], head)


@pytest.mark.slow
def test_deltas_that_do_not_match_the_embedding_model_are_refused_and_nothing_is_installed(
    embedder, embedding_cache_dir: Path, tmp_path: Path
):
    from assistant.offline_model import offline_model_dir

    with np.load(rm.shipped(rm.DELTA_FILE)) as z:
        deltas = {k: z[k] for k in z.files}
    name = next(k for k in deltas if k.endswith(".scale"))
    deltas[name] = (deltas[name].astype(np.float32) * 50).astype(np.float16)  # damaged
    bad = tmp_path / rm.DELTA_FILE
    np.savez(bad, **deltas)
    shutil.copy(rm.shipped(rm.CHECK_FILE), tmp_path / rm.CHECK_FILE)
    dest = tmp_path / "models" / "reader"
    dest.parent.mkdir()
    with pytest.raises(rm.ReaderModelError, match="not the ones it was trained with"):
        rm.build_reader(offline_model_dir(embedding_cache_dir), dest, bad, progress=False)
    assert list(dest.parent.iterdir()) == []


@pytest.mark.slow
def test_deltas_without_check_logits_beside_them_are_refused_and_nothing_is_installed(
    embedder, embedding_cache_dir: Path, tmp_path: Path
):
    from assistant.offline_model import offline_model_dir

    lone = tmp_path / rm.DELTA_FILE
    shutil.copy(rm.shipped(rm.DELTA_FILE), lone)
    dest = tmp_path / "models" / "reader"
    dest.parent.mkdir()
    with pytest.raises(rm.ReaderModelError, match="cannot be checked"):
        rm.build_reader(offline_model_dir(embedding_cache_dir), dest, lone, progress=False)
    assert list(dest.parent.iterdir()) == []


@pytest.mark.slow
def test_the_reader_is_built_once_and_then_reused(answer_reader, embedding_cache_dir: Path):
    model_dir = rm.ensure_reader_model(embedding_cache_dir, progress=False)
    info = rm.read_build(model_dir)
    assert info is not None and info.max_diff_int8 <= rm.INT8_MAX_DIFF
    built = (model_dir / info.onnx_file).stat().st_mtime_ns
    assert rm.ensure_reader_model(embedding_cache_dir, progress=False) == model_dir
    assert (model_dir / info.onnx_file).stat().st_mtime_ns == built
