"""The answerability sets written to be held out, eval/answer_questions_fresh*.jsonl: each loads,
has the sizes issue 8 asks for, labels passages of the current shipped corpus, and repeats no
question of the other question sets in eval/."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from label_checks import superseded_labels

from assistant.evaluation.datasets import DatasetError, load_answer_questions
from assistant.evaluation.matching import find_broken_labels, match_key

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "eval"
HELD_OUT = {f"fresh{n}": f"answer_questions_fresh{n}.jsonl" for n in ("", "2", "3", "4", "5")}
OTHER_SETS = (
    "answer_questions.jsonl",
    "policy_queries.jsonl",
    "relevance_calibration.jsonl",
    *HELD_OUT.values(),
)
KIND_PREFIX = {"answerable": "ans", "near_miss": "near", "off_topic": "off"}


@pytest.fixture(scope="module", params=sorted(HELD_OUT))
def held_out(request):
    split = request.param
    return split, load_answer_questions(EVAL / HELD_OUT[split])


def test_the_set_has_80_answerable_40_near_miss_and_40_off_topic_questions(held_out):
    split, questions = held_out
    assert Counter(q.kind for q in questions) == {
        "answerable": 80,
        "near_miss": 40,
        "off_topic": 40,
    }
    assert {q.split for q in questions} == {split}


def test_ids_are_unique_and_name_their_kind(held_out):
    split, questions = held_out
    assert len({q.id for q in questions}) == len(questions)
    misnamed = [
        q.id for q in questions if not re.fullmatch(rf"{split}-{KIND_PREFIX[q.kind]}-\d{{3}}", q.id)
    ]
    assert misnamed == []


def test_only_answerable_questions_carry_labels(held_out):
    _, questions = held_out
    assert all(q.relevant for q in questions if q.answerable)
    assert [q.id for q in questions if not q.answerable and q.relevant] == []


def test_every_label_matches_a_chunk_of_the_current_shipped_corpus(held_out, chunks):
    _, questions = held_out
    assert [str(b) for b in find_broken_labels(questions, chunks)] == []
    assert superseded_labels(questions, chunks) == []


def test_no_question_repeats_a_question_of_another_set(held_out):
    split, questions = held_out
    others: set[str] = set()
    for name in OTHER_SETS:
        if name == HELD_OUT[split]:
            continue
        for line in (EVAL / name).read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                others.add(match_key(row.get("question") or row["query"]))
    mine = [match_key(q.question) for q in questions]
    assert len(set(mine)) == len(mine)
    assert [q.question for q, key in zip(questions, mine, strict=True) if key in others] == []


def test_the_answer_set_loader_takes_the_held_out_splits_but_no_other_new_one(tmp_path):
    row = {
        "id": "x",
        "question": "学校门口可以摆摊吗？",
        "answerable": False,
        "kind": "off_topic",
        "relevant": [],
    }
    for split in HELD_OUT:
        good = tmp_path / f"{split}.jsonl"
        good.write_text(json.dumps({**row, "split": split}, ensure_ascii=False), "utf-8")
        assert [q.split for q in load_answer_questions(good)] == [split]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**row, "split": "holdout"}, ensure_ascii=False), "utf-8")
    message = "split 'holdout' is not one of dev, test, fresh, fresh2, fresh3, fresh4, fresh5"
    with pytest.raises(DatasetError, match=message):
        load_answer_questions(bad)
