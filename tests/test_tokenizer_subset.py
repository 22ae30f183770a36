"""The quick-loading subset tokenizer gives exactly the full tokenizer's ids, for covered text
from the subset and for anything else from the full tokenizer."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from assistant.tokenizer_subset import load_tokenizer

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def full(embedder) -> Tokenizer:
    tok = Tokenizer.from_file(str(embedder.model_path / "tokenizer.json"))
    tok.enable_truncation(512)
    tok.no_padding()
    return tok


def corpus_lines(limit: int = 3000) -> list[str]:
    lines = [
        line.strip()
        for path in sorted((REPO / "corpus").rglob("*.txt"))
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if line.strip()
    ]
    random.Random(7).shuffle(lines)
    return lines[:limit]


def test_corpus_text_gets_the_full_tokenizers_ids_without_loading_it(embedder, full, tmp_path):
    tok = load_tokenizer(embedder.model_path / "tokenizer.json", tmp_path, 512)
    lines = corpus_lines() + [
        "query: 老師能不能沒收學生手機？",
        "ＡＩ教育 ５０％ ① 2024年",
        "x" * 999,
    ]
    inside = [line for line in lines if tok.covers(line)]
    assert len(inside) >= 0.99 * len(lines) and inside[-3:] == lines[-3:]
    assert tok.encode_batch(inside) == [e.ids for e in full.encode_batch(inside)]
    assert not tok.full_loaded


def test_other_scripts_go_to_the_full_tokenizer(embedder, full, tmp_path):
    tok = load_tokenizer(embedder.model_path / "tokenizer.json", tmp_path, 512)
    texts = ["학교 폭력 예방", "éducation nationale", "教育 😀", "Образование", "双减"]
    assert [tok.covers(t) for t in texts] == [False, False, False, False, True]
    assert tok.encode_batch(texts) == [e.ids for e in full.encode_batch(texts)]
    assert tok.full_loaded


def test_the_subset_is_derived_once_and_rederived_when_damaged(embedder, full, tmp_path):
    path = embedder.model_path / "tokenizer.json"
    load_tokenizer(path, tmp_path, 512)
    [saved] = (tmp_path / "tokenizers").iterdir()
    assert sorted(p.name for p in saved.iterdir()) == ["ids.npy", "tokenizer.json"]
    (saved / "tokenizer.json").write_text("{not json", encoding="utf-8")
    text = ["义务教育阶段学校不得分设重点班"]
    assert load_tokenizer(path, tmp_path, 512).encode_batch(text) == [full.encode(text[0]).ids]
    Tokenizer.from_file(str(saved / "tokenizer.json"))  # repaired for the next start
