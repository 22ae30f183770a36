"""Text normalization and tokenization shared by indexing and querying.

Both sides must agree exactly, so this is the one place that decides what a search sees:
traditional → simplified (OpenCC ``t2s``), full-width ASCII → half-width, whitespace collapsed,
and jieba words with punctuation dropped for the keyword index.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import jieba
from opencc import OpenCC

jieba.setLogLevel(logging.WARNING)

_WS = re.compile(r"\s+")
# Fullwidth ASCII variants U+FF01..U+FF5E map to U+0021..U+007E; U+3000 is the ideographic space.
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def to_halfwidth(text: str) -> str:
    return text.translate(_WIDTH)


def normalize(text: str) -> str:
    """The search form of a text: simplified, half-width, single spaces."""
    return _WS.sub(" ", to_simplified(to_halfwidth(text))).strip()


def is_traditional(text: str, sample: int = 4000) -> bool:
    """True when converting to simplified changes a noticeable share of the Han characters."""
    head = text[:sample]
    han = [ch for ch in head if "\u4e00" <= ch <= "\u9fff"]
    if not han:
        return False
    changed = sum(a != b for a, b in zip(head, to_simplified(head), strict=False))
    return changed / len(han) > 0.03


_SENTENCE = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[”’」』）)]*|\n|$)")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, split after 。！？； and line ends (closing quotes stay with their
    sentence)."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _is_word(token: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def tokenize(text: str) -> list[str]:
    """jieba search-mode words of the normalized text, lower-cased, punctuation removed."""
    return words_of_normalized(normalize(text).lower())


def words_of_normalized(norm: str) -> list[str]:
    """``tokenize`` for text that is already normalized and lower-cased."""
    return [t for t in jieba.cut_for_search(norm) if t.strip() and _is_word(t)]
