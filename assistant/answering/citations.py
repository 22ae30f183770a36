"""Checking the [n] citation markers of a generated answer against the passages it was given.

A model may cite a passage number it was never shown ("[9]" with five passages) or use other
bracket styles (【2】, [1, 3]). ``check_citations`` keeps the markers that point to a given
passage, renumbers them 1, 2, … in order of first use so that ``[n]`` is ``citations[n-1]``,
drops the others and appends a note saying which were removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.records import Citation, Hit

# [1] [1,2] [1, 2] [1，2] 【1】 【1、2】; a range like [1-3] is expanded.
MARKER = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*(?:[,，、]|-|–)\s*\d{1,3})*)\s*[\]】]")
_SEP = re.compile(r"\s*[,，、]\s*")
_RANGE = re.compile(r"(\d+)\s*[-–]\s*(\d+)")
_MAX_RANGE = 20


@dataclass(frozen=True)
class CitationCheck:
    """The cleaned answer text, its citations (renumbered) and the markers that were dropped."""

    text: str
    citations: list[Citation]
    removed: list[int]  # cited numbers that pointed to no passage, in order of appearance


def parse_markers(text: str) -> list[int]:
    """All cited numbers in order of appearance (duplicates kept)."""
    return [n for m in MARKER.finditer(text) for n in _numbers(m.group(1))]


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in _SEP.split(group.strip()):
        rng = _RANGE.fullmatch(part)
        if rng:
            lo, hi = int(rng.group(1)), int(rng.group(2))
            if lo <= hi and hi - lo <= _MAX_RANGE:
                out.extend(range(lo, hi + 1))
            else:
                out.extend([lo, hi])
        elif part.isdigit():
            out.append(int(part))
    return out


def removal_note(removed: Sequence[int]) -> str:
    shown = "".join(f"[{n}]" for n in dict.fromkeys(removed))
    return f"（注：回答中的引用 {shown} 不对应任何检索到的段落，已删除。）"


def check_citations(text: str, passages: Sequence[Hit]) -> CitationCheck:
    """Keep valid [n] markers (1 ≤ n ≤ len(passages)), renumber them, remove the rest.

    When the text cites no valid passage at all, every passage is returned with its original
    number, so the reader still sees what the answer was based on.
    """
    order: dict[int, int] = {}  # original number -> new number
    removed: list[int] = []
    for n in parse_markers(text):
        if 1 <= n <= len(passages):
            order.setdefault(n, len(order) + 1)
        else:
            removed.append(n)

    def replace(match: re.Match[str]) -> str:
        seen: list[int] = []
        for n in _numbers(match.group(1)):
            new = order.get(n)
            if new is not None and new not in seen:
                seen.append(new)
        return "".join(f"[{n}]" for n in seen)

    cleaned = MARKER.sub(replace, text)
    cleaned = re.sub(r"[ \t]+([。，；：！？,.;:!?])", r"\1", cleaned).rstrip()
    if removed:
        cleaned = f"{cleaned}\n\n{removal_note(removed)}"
    if order:
        citations = [Citation(n=new, hit=passages[old - 1]) for old, new in order.items()]
    else:
        citations = [Citation(n=i, hit=h) for i, h in enumerate(passages, start=1)]
    return CitationCheck(text=cleaned, citations=citations, removed=removed)
