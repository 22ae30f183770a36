"""The answer reader: a provision that answers a question scores above one that does not."""

from __future__ import annotations

import pytest

from assistant.answering.reader import windows


def test_windows_are_sentences_and_neighbouring_pairs_as_written():
    text = "第一条 学校不得收取借读费。違反規定的，責令退還。注："
    assert windows(text) == [
        "第一条 学校不得收取借读费。",
        "違反規定的，責令退還。",
        "第一条 学校不得收取借读费。違反規定的，責令退還。",
    ]


def test_a_passage_without_a_long_sentence_is_read_whole():
    assert windows("附则") == ["附则"]


@pytest.mark.slow
def test_the_provision_that_answers_outscores_one_on_the_same_topic(answer_reader):
    question = "学校能不能让学生在校外培训机构补课？"
    answers = "学校不得组织学生参加校外培训机构的补课活动。"
    same_topic = "县级人民政府应当加强对校外培训机构的监督管理，建立健全准入制度。"
    unrelated = "图书馆应当每周开放不少于四十小时。"
    a, s, u = answer_reader.best(question, [answers, same_topic, unrelated])
    assert a > s and a > u


@pytest.mark.slow
def test_traditional_characters_read_like_simplified(answer_reader):
    passage = "学校不得组织学生参加商业性庆典活动。"
    (simplified,) = answer_reader.best("学校可以组织学生参加商业庆典吗", [passage])
    (traditional,) = answer_reader.best("學校可以組織學生參加商業慶典嗎", [passage])
    assert traditional == pytest.approx(simplified, abs=1e-4)


@pytest.mark.slow
def test_the_reader_is_built_beside_the_embedding_model_in_use(embedder, tmp_path):
    from assistant.answering.reader import reader_cache_dir

    beside = embedder.model_path.parent.parent
    assert reader_cache_dir(embedder, tmp_path) == beside
    assert reader_cache_dir(object(), tmp_path) == tmp_path  # another model: the settings' cache
