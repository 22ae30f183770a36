"""The shipped answerability set eval/answer_questions.jsonl: it loads, its labels name passages
of the shipped corpus (current versions), its split holds every kind, and no question repeats
one of the calibration questions the old coverage rule was tuned on."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from label_checks import superseded_labels

from assistant.evaluation.datasets import (
    ANSWER_KINDS,
    SPLITS,
    in_split,
    load_answer_questions,
)
from assistant.evaluation.matching import find_broken_labels
from assistant.text import is_traditional, normalize

ROOT = Path(__file__).resolve().parents[2]
QUESTION_SET = ROOT / "eval" / "answer_questions.jsonl"
CALIBRATION = ROOT / "eval" / "relevance_calibration.jsonl"
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def questions():
    return load_answer_questions(QUESTION_SET)


def test_the_set_has_the_sizes_issue_8_asks_for(questions):
    kinds = Counter(q.kind for q in questions)
    assert kinds["answerable"] >= 150
    assert kinds["near_miss"] + kinds["off_topic"] >= 100
    assert kinds["near_miss"] >= 50 and kinds["off_topic"] >= 50
    assert len({q.id for q in questions}) == len(questions)
    assert len({normalize(q.question) for q in questions}) == len(questions)


def test_both_scripts_are_asked(questions):
    traditional = sum(is_traditional(q.question) for q in questions)
    assert 0.15 <= traditional / len(questions) <= 0.5


def test_each_split_holds_every_kind_about_half_each(questions):
    for kind in ANSWER_KINDS:
        of_kind = [q for q in questions if q.kind == kind]
        sizes = {split: len(in_split(of_kind, split)) for split in SPLITS}
        assert min(sizes.values()) >= 20, (kind, sizes)
        assert abs(sizes["dev"] - sizes["test"]) <= 1, (kind, sizes)


def test_every_quote_is_a_verbatim_passage_of_the_shipped_corpus(questions, chunks):
    files = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.rglob("*") if p.is_file()}
    not_verbatim = [
        f"{q.id}: {rel.file}: {rel.quote}"
        for q in questions
        for rel in q.relevant
        if len(rel.quote) < 8 or rel.quote not in files.get(rel.file, "")
    ]
    assert not_verbatim == []
    assert [str(b) for b in find_broken_labels(questions, chunks)] == []


def test_labels_cite_the_current_version_of_a_text_in_several_versions(questions, chunks):
    assert superseded_labels(questions, chunks) == []


def _bigrams(text: str) -> set[str]:
    chars = "".join(ch for ch in normalize(text) if ch.isalnum())
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def test_no_question_rewords_a_calibration_question(questions):
    calibration = [
        json.loads(line)["question"] for line in CALIBRATION.read_text("utf-8").splitlines()
    ]
    too_close = []
    for q in questions:
        mine = _bigrams(q.question)
        for old in calibration:
            theirs = _bigrams(old)
            shared = len(mine & theirs)
            jaccard = shared / len(mine | theirs)
            containment = shared / min(len(mine), len(theirs))
            if jaccard >= 0.4 or containment >= 0.6:
                too_close.append(f"{q.id} {q.question!r} ~ {old!r}")
    assert too_close == []
