"""Soft term matching through the real embedding model: a synonym counts, an unrelated word not."""

import pytest

from assistant.answering.term_match import TermMatcher, passage_words, soft_coverage
from assistant.answering.terms import QueryTerm

pytestmark = pytest.mark.slow

PASSAGE = "教师应当关心爱护学生，不得体罚或者变相体罚学生。"


def test_passage_words_are_its_informative_words():
    assert passage_words(PASSAGE) == ["教师", "关心", "爱护", "学生", "不得", "体罚", "变相"]


def test_a_synonym_earns_soft_credit_and_an_unrelated_word_none(embedder):
    matcher = TermMatcher(embedder)
    teacher, aircon = QueryTerm("老师", 1.0), QueryTerm("空调", 1.0)
    literal = QueryTerm("体罚", 1.0)
    assert soft_coverage([literal], PASSAGE, matcher, floor=0.9) == 1.0
    synonym = soft_coverage([teacher], PASSAGE, matcher, floor=0.9)
    assert 0.2 < synonym < 1.0
    assert soft_coverage([aircon], PASSAGE, matcher, floor=0.9) == 0.0
    both = soft_coverage([literal, aircon], PASSAGE, matcher, floor=0.9)
    assert both == 0.5
    assert matcher.vectors(["老师"]).shape == (1, embedder.dim)  # cached, same shape
