"""The informative terms of a question, weighted by how much they say.

A question such as "各地如何落实双减" is mostly frame: "各地" and "如何" say nothing about which
passage answers it. The informative terms are the jieba words of the normalized question (the
same normalization as the index: traditional → simplified, full → half width) minus question
and frame words and single characters, each weighted by its inverse document frequency in
jieba's general-Chinese IDF table (words the table lacks, often new policy terms such as 双减,
get the table's median, i.e. they count as fairly specific).

Matching is on normalized text by substring, so "雙減" in a traditional document matches "双减".
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import jieba

from assistant.text import normalize

jieba.setLogLevel(logging.WARNING)

# Question words, frame words and generic policy vocabulary that do not identify a topic.
STOPWORDS = frozenset(
    """
    如何 怎样 怎么 怎么样 怎么办 怎么做 什么 哪些 哪个 哪儿 哪里 哪家 多少 几个 为何 为什么
    是否 有无 有没有 能否 可否 可以 能够 应该 应当 需要 必须 是不是 会不会
    请问 请 告诉 介绍 一下 我们 你们 他们 我国 咱们
    各地 各级 各个 各 地方 各省 各市 各县 各区 全国
    相关 有关 关于 方面 情况 问题 内容 具体 主要 哪方面 什么样
    做法 措施 举措 规定 要求 政策 工作 经验 方法 办法 途径 方式 怎样才能 情形
    进行 开展 实施 做好 加强 推进 推动 落实 执行 提出 采取 通过
    的 了 和 与 及 以及 或 或者 在 对 为 有 是 等 中 上 下 里 时 呢 吗 吧 啊
    """.split()
)


# Question phrases cut out before segmentation, so that jieba does not glue their characters to
# a neighbouring word ("普惠有哪些" would otherwise give "普惠有").
_FRAME = re.compile(
    "|".join(
        sorted(
            """
            有哪些 有什么 是什么 为什么 怎么样 怎么办 怎样才能 如何才能 哪些 什么 怎么 怎样 如何
            是否 有没有 能不能 可不可以 是多少 多少 几个 哪个 哪里 请问 哪一天 哪天 什么时候 何时
            """.split(),
            key=len,
            reverse=True,
        )
    )
)


# An "A不A" / "A没A" question ("要不要", "会不会", "能不能"): grammar, not topic.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
# Modal verbs jieba glues to the verb after them ("能报", "要查"): the pair is not a topic word.
_MODALS = "能要会可该想"


@dataclass(frozen=True)
class QueryTerm:
    text: str  # normalized, lower-cased
    weight: float  # IDF from jieba's table


@lru_cache(maxsize=1)
def _idf_table() -> tuple[dict[str, float], float]:
    import jieba.analyse

    tfidf = jieba.analyse.default_tfidf
    return tfidf.idf_freq, tfidf.median_idf


def idf(word: str) -> float:
    table, median = _idf_table()
    return float(table.get(word, median))


def is_informative(word: str) -> bool:
    if word in STOPWORDS or not any(unicodedata.category(ch)[0] in "LN" for ch in word):
        return False
    return len(word) >= 2


def _modal_pair(word: str) -> bool:
    """A modal verb glued to one character ("能用", "要配"), unless the pair is a known word."""
    table, _ = _idf_table()
    return len(word) == 2 and word[0] in _MODALS and word not in table


def query_terms(question: str) -> list[QueryTerm]:
    """The informative terms of ``question`` in order, without duplicates.

    Frame words are dropped only when something else is left, so a question made only of
    generic words ("落实政策") is still matched on them.
    """
    norm = normalize(question).lower()
    norm = _A_NOT_A.sub(" ", _FRAME.sub(" ", norm))
    words = [w.strip() for w in jieba.cut(norm) if w.strip()]
    chosen = [w for w in words if is_informative(w) and not _modal_pair(w)]
    if not chosen:
        chosen = [w for w in words if len(w) >= 2 and any(ch.isalnum() for ch in w)]
    seen: dict[str, QueryTerm] = {}
    for w in chosen:
        seen.setdefault(w, QueryTerm(w, idf(w)))
    return list(seen.values())


def coverage(
    terms: Iterable[QueryTerm], text: str, *, normalized: bool = False, cap: float | None = None
) -> float:
    """Weighted share of ``terms`` that occur in ``text`` (0 when there are no terms).

    With ``cap``, the share is of ``min(total weight, cap)``: a long query (a pasted sentence)
    is fully covered by a passage that carries ``cap`` worth of its specific words, while a short
    question still needs nearly all of its terms.
    """
    terms = list(terms)
    total = sum(t.weight for t in terms)
    if cap is not None:
        total = min(total, cap)
    if total <= 0:
        return 0.0
    hay = text if normalized else normalize(text).lower()
    return min(1.0, sum(t.weight for t in terms if t.text in hay) / total)


def missing(terms: Iterable[QueryTerm], text: str) -> list[QueryTerm]:
    hay = normalize(text).lower()
    return [t for t in terms if t.text not in hay]
