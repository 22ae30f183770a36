"""Text normalization and tokenization shared by indexing and querying.

Both sides must agree exactly, so this is the one place that decides what a search sees:
traditional → simplified (OpenCC ``t2s``), full-width ASCII → half-width, whitespace collapsed,
and jieba words with punctuation dropped for the keyword index.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import unicodedata
import zipfile
from functools import lru_cache
from pathlib import Path

import jieba
import numpy as np
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


JIEBA_CACHE_FORMAT = 1


def load_jieba_dictionary(cache_dir: Path) -> None:
    """Initialise jieba's default dictionary from ``cache_dir``: its words and frequencies as
    arrays, which load several times faster than jieba's own marshal cache (start-up time of
    every short command). Derived from jieba the first time; a custom jieba dictionary, or a
    dictionary already loaded, is left alone."""
    dt = jieba.dt
    if dt.initialized or dt.dictionary != jieba.DEFAULT_DICT:
        return
    path = cache_dir / f"jieba-{jieba.__version__}-{JIEBA_CACHE_FORMAT}.npz"
    with dt.lock:
        if dt.initialized:
            return
        try:
            with np.load(path) as saved:
                words = saved["words"].tobytes().decode("utf-8").split("\n")
                freq = dict(zip(words, saved["freq"].tolist(), strict=True))
                total = int(saved["total"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # none, or damaged
            dt.initialize()
            with contextlib.suppress(OSError):
                _save_jieba_dictionary(path, dt.FREQ, dt.total)
            return
        dt.FREQ, dt.total, dt.initialized = freq, total, True


def _save_jieba_dictionary(path: Path, freq: dict[str, int], total: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".jieba-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(
                out,
                words=np.frombuffer("\n".join(freq).encode("utf-8"), dtype=np.uint8),
                freq=np.fromiter(freq.values(), dtype=np.int64, count=len(freq)),
                total=np.int64(total),
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
