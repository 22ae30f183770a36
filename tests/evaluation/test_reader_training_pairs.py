"""The FAQ pairs of eval/train_reader.py: a question is paired with the opening of its own
answer as the positive and with other answers' windows as negatives; entries that ask nothing
are left out."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "eval"))
import train_reader  # noqa: E402

ENTRIES = [
    ("學童幾歲可以申請入學？", "依規定，年滿六歲之學童應入國民小學就讀。其他情形另行辦理。"),
    ("學童入學要準備哪些文件？", "請攜帶戶口名簿及預防接種紀錄卡到校報到。報到時間另行公告。"),
    ("公園開放時間是多少？", "公園全天開放，夜間請注意安全。"),
    ("交通違規簡訊服務", "交通違規簡訊服務常見問題集說明。"),  # a title, not a question
]


@pytest.fixture
def faq(tmp_path: Path) -> Path:
    path = tmp_path / "faq.jsonl"
    lines = [json.dumps({"question": q, "answer": a}, ensure_ascii=False) for q, a in ENTRIES]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_each_question_gets_its_own_answer_opening_and_other_answers_as_negatives(faq):
    train, held = train_reader.faq_pairs(faq)
    pairs = train + held
    questions = {p[1] for p in pairs}
    assert questions == {"学童几岁可以申请入学?", "学童入学要准备哪些文件?", "公园开放时间是多少?"}
    positives = {p[1]: p[2] for p in pairs if p[3] == 1.0}
    assert positives["学童几岁可以申请入学?"] == "依规定,年满六岁之学童应入国民小学就读。"
    negatives = [p[2] for p in pairs if p[3] == 0.0 and p[1] == "学童入学要准备哪些文件?"]
    assert negatives and not any("户口名簿" in w or "报到" in w for w in negatives)
    assert held == [p for p in pairs if p[0] == "faq-0"]
