"""Recurring n-grams of the corpus become dictionary words of its index."""

import pytest

from assistant.config import Settings
from assistant.search.analysis import Analyzer
from assistant.search.builder import build_index
from assistant.search.ngrams import recurring_ngrams
from assistant.search.retriever import Retriever

SLOGAN = "产教融合"  # jieba: 产教 / 融合
CONTEXTS = ["各地要深化{}。", "推进{}，服务产业。", "{}是职业教育的方向。", "学校开设{}课程。"]


def docs(n: int, slogan: str = SLOGAN) -> list[list[str]]:
    """``n`` documents using ``slogan`` each in its own sentence."""
    return [[CONTEXTS[i].format(slogan)] for i in range(n)]


def test_a_slogan_in_three_documents_that_jieba_splits_becomes_a_word():
    assert recurring_ngrams(docs(3)) == [SLOGAN]
    assert recurring_ngrams(docs(2)) == []  # two documents are not enough
    once = [[f"深化{SLOGAN}，{SLOGAN}，{SLOGAN}"], ["无关"], ["无关"]]
    assert recurring_ngrams(once) == []  # one document repeating it is still one document


def test_only_the_longest_shared_string_becomes_a_word():
    same = [[f"{c}深化{SLOGAN}"] for c in ("一", "二", "三")]
    assert recurring_ngrams(same) == [f"深化{SLOGAN}"]  # never seen apart: one unit


def test_no_word_jieba_keeps_whole_or_that_crosses_punctuation_or_a_word():
    assert recurring_ngrams(docs(3, "中华人民共和国")) == []  # a jieba word already
    assert recurring_ngrams(docs(3, "产教，融合")) == []
    # 人的特点 recurs only as the tail of a word (未成年人, 病人, 工人) and the next words.
    assert (
        recurring_ngrams([["符合未成年人的特点。"], ["了解病人的特点。"], ["掌握工人的特点。"]])
        == []
    )


def test_the_index_dictionary_finds_the_slogan_as_one_term():
    analyzer = Analyzer().grown(docs(3))
    plain = Analyzer()
    assert SLOGAN not in plain.tokens(f"推进{SLOGAN}")
    assert SLOGAN in analyzer.tokens(f"推進{SLOGAN}")  # traditional query, simplified words
    assert set(plain.tokens(SLOGAN)) <= set(analyzer.tokens(SLOGAN))  # pieces still match


@pytest.mark.slow
def test_an_index_keeps_its_recurring_words_for_later_queries(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, context in enumerate(CONTEXTS[:3]):
        (corpus / f"plan{i}.txt").write_text(f"第{i}号文件\n{context.format(SLOGAN)}\n", "utf-8")
    (corpus / "other.txt").write_text(
        "产教协同的研究\n产教双方开展研究，推动资源融合与文化融合，开展产教对话。\n", "utf-8"
    )
    index = tmp_path / "index"
    build_index([corpus], index, Settings(cache_dir=tmp_path), embedder=embedder, progress=False)
    r = Retriever.open(index, Settings(cache_dir=tmp_path), embedder=embedder)  # reads it back
    try:
        assert SLOGAN in r.backend.analyzer.words
        assert "产教对话" not in r.backend.analyzer.words  # in one document only
        hits = r.search(SLOGAN, k=4, mode="bm25")
        assert [SLOGAN in h.chunk.text for h in hits] == [True, True, True, False]
    finally:
        r.close()
