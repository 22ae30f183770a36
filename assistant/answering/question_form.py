"""What form an answer must take, judged from how a question is asked.

A question that asks for a number ("多少", "几年", "比例") is answered only by a passage that
states one; a yes/no question about what is allowed ("可以…吗", "能不能") by a provision that
permits, obliges or forbids (不得, 可以, 应当 …). ``answer_form`` checks the answer-bearing
sentences of the top passages for that form: +1 when a sentence carrying the question's terms
has it, -1 when none has, 0 when the question asks for neither. These are properties of Chinese
question and statute grammar, not of particular questions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from assistant.answering.terms import QueryTerm
from assistant.text import normalize

_YES_NO = re.compile(
    r"吗\s*[？?]?\s*$|可以|可不可以|能不能|能否|可否|是否|允许|准不准|行不行|会不会|有没有权"
    r"|([\u4e00-\u9fff])[不没]\1"
)
_QUANTITY = re.compile(
    r"多少|几(?:[个年月天日次岁周所名人种项门节课分成倍]|小时|分钟)|多长|多久|多大|多高|多远"
    r"|比例|百分之几|占比"
)
# Words with which provisions permit, oblige or forbid.
DEONTIC = re.compile(r"不得|禁止|严禁|不准|不允许|不应|可以|有权|应当|必须|允许|须")
_UNITS = (
    r"(?:个|年|月|日|天|周|次|人|元|岁|小时|分钟|学时|课时|所|名|倍|项|门|节|平方米|米|公里|"
    r"%|％|万|亿|班|成|户|间|张|册)"
)
_NUMBER = re.compile(
    r"\d|百分之|(?<!第)[零〇一二两三四五六七八九十百千万]+\s*" + _UNITS,
)


def is_yes_no(question: str) -> bool:
    return bool(_YES_NO.search(normalize(question)))


def asks_quantity(question: str) -> bool:
    return bool(_QUANTITY.search(normalize(question)))


def states_number(sentence: str) -> bool:
    """Whether a normalized sentence states a figure (a digit, a percentage, a counted unit)."""
    return bool(_NUMBER.search(sentence))


def answer_form(question: str, terms: Sequence[QueryTerm], sentences: Iterable[str]) -> float:
    """+1 / -1 when the question asks for a number or a permission and an answer-bearing
    sentence does / does not give one; 0 when it asks for neither."""
    if asks_quantity(question):
        form = _NUMBER
    elif is_yes_no(question):
        form = DEONTIC
    else:
        return 0.0
    norm = [normalize(s).lower() for s in sentences]
    bearing = [s for s in norm if any(t.text in s for t in terms)] or norm
    return 1.0 if any(form.search(s) for s in bearing) else -1.0
