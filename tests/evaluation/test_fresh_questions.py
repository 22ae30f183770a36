"""The held-out answerability set eval/answer_questions_fresh.jsonl: it loads, it has the sizes
issue 8 asks for, its labels name passages of the current shipped corpus, and none of its
questions repeats one of eval/answer_questions.jsonl (the set the system was tuned on)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.documents import ingest
from assistant.evaluation.datasets import DatasetError, load_answer_questions
from assistant.evaluation.matching import find_broken_labels, match_key, same_file

ROOT = Path(__file__).resolve().parents[2]
FRESH = ROOT / "eval" / "answer_questions_fresh.jsonl"
TUNED = ROOT / "eval" / "answer_questions.jsonl"
CORPUS = ROOT / "corpus"
ID_PREFIX = {"answerable": "fresh-ans-", "near_miss": "fresh-near-", "off_topic": "fresh-off-"}


@pytest.fixture(scope="module")
def questions():
    return load_answer_questions(FRESH)


@pytest.fixture(scope="module")
def chunks():
    report = ingest([CORPUS], progress=False)
    assert report.failures == []
    return report.chunks


def test_the_set_has_80_answerable_40_near_miss_and_40_off_topic_questions(questions):
    assert Counter(q.kind for q in questions) == {
        "answerable": 80,
        "near_miss": 40,
        "off_topic": 40,
    }
    assert {q.split for q in questions} == {"fresh"}


def test_ids_are_unique_and_name_their_kind(questions):
    assert len({q.id for q in questions}) == len(questions)
    misnamed = [
        q.id for q in questions if not re.fullmatch(re.escape(ID_PREFIX[q.kind]) + r"\d{3}", q.id)
    ]
    assert misnamed == []


def test_only_answerable_questions_carry_labels(questions):
    assert all(q.relevant for q in questions if q.answerable)
    assert [q.id for q in questions if not q.answerable and q.relevant] == []


def test_every_label_matches_a_chunk_of_the_current_shipped_corpus(questions, chunks):
    assert [str(b) for b in find_broken_labels(questions, chunks)] == []
    dates: dict[str, set[str]] = {}
    for c in chunks:
        dates.setdefault(c.doc.title, set()).add(c.doc.date or "")
    superseded = []
    for q in questions:
        for rel in q.relevant:
            doc = next(c.doc for c in chunks if same_file(rel.file, c))
            if (doc.date or "") < max(dates[doc.title]):
                superseded.append(f"{q.id}: {rel.file}")
    assert superseded == []


def test_no_question_repeats_a_question_of_the_tuned_set(questions):
    tuned = {
        match_key(json.loads(line)["question"])
        for line in TUNED.read_text("utf-8").splitlines()
        if line.strip()
    }
    mine = [match_key(q.question) for q in questions]
    assert len(set(mine)) == len(mine)
    assert [q.question for q, key in zip(questions, mine, strict=True) if key in tuned] == []


def test_the_answer_set_loader_takes_fresh_but_no_other_new_split(tmp_path):
    row = {
        "id": "x",
        "question": "学校门口可以摆摊吗？",
        "answerable": False,
        "kind": "off_topic",
        "relevant": [],
    }
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text(json.dumps({**row, "split": "fresh"}, ensure_ascii=False), "utf-8")
    bad.write_text(json.dumps({**row, "split": "holdout"}, ensure_ascii=False), "utf-8")
    assert [q.split for q in load_answer_questions(good)] == ["fresh"]
    with pytest.raises(DatasetError, match="split 'holdout' is not one of dev, test, fresh"):
        load_answer_questions(bad)
