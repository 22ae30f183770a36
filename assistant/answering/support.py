"""Checking a generated answer against its passages, not only its citation numbers.

- ``substantive``: an answer must say something beyond citation markers: a small local model
  may reply ``[1] [2][3]\\n[4] [5]``. Fewer than ``MIN_CHARS`` word characters once the markers
  are removed is not an answer; the pipeline then falls back to the extractive answer.
- ``check_support``: each cited claim (a sentence, or the part of one before its citation) is
  compared with the passages it cites by character bigram containment (the share of the
  claim's bigrams, normalized, that occur in the passage with its locality, title and heading
  path, which the prompt gives the model too). A claim its passages do not support
  (below ``SUPPORTED``) gets its citation moved to the passage that does support it, or, when
  none comes even near (all below ``UNSUPPORTED``), the mark ``UNVERIFIED`` after its
  citation. Claims shorter than ``MIN_CHARS`` ("另见[3]") are not checked. Support is measured
  on the original passage numbers, before renumbering.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.answering.citations import MARKER, parse_markers
from assistant.answering.relevance import passage_text
from assistant.records import Hit
from assistant.text import normalize

MIN_CHARS = 8
# Containment of a sentence's bigrams in a passage at and above which the passage supports it
# (calibration: eval/answerability.md, "Citation support").
SUPPORTED = 0.6
# Below this in every passage, a claim is marked as unverified; between the two it is left as
# cited (a model that rewords keeps fewer of the passage's bigrams than a copy).
UNSUPPORTED = 0.35
UNVERIFIED = "（此处引用未能在所引段落中核实）"
# "[4]–[8]", "[4]-[8]", "[4]至[8]": a range written as two markers.
_ONE = r"[\[【]\s*(\d{1,3})\s*[\]】]"
_MARKER_RANGE = re.compile(_ONE + r"\s*[-–—~～至到]\s*" + _ONE)
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def join_marker_ranges(text: str) -> str:
    """Write "[4]–[8]" as "[4-8]", which the citation parser expands."""
    return _MARKER_RANGE.sub(lambda m: f"[{m.group(1)}-{m.group(2)}]", text)


def word_chars(text: str) -> str:
    norm = normalize(text)
    return "".join(ch for ch in norm if unicodedata.category(ch)[0] in "LN").lower()


def substantive(text: str) -> bool:
    """True when ``text`` says something beyond citation markers (at least a short sentence)."""
    return len(word_chars(MARKER.sub("", text))) >= MIN_CHARS


def bigrams(text: str) -> set[str]:
    chars = word_chars(text)
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def support(sentence: str, passage: str) -> float:
    """Share of the sentence's character bigrams that occur in the passage (0..1)."""
    own = bigrams(MARKER.sub("", sentence))
    return len(own & bigrams(passage)) / len(own) if own else 0.0


@dataclass(frozen=True)
class SupportCheck:
    text: str
    moved: list[tuple[list[int], int]] = field(default_factory=list)  # (cited, now cited)
    unverified: list[list[int]] = field(default_factory=list)  # citations nothing supports


def sentences_with_markers(text: str) -> list[str]:
    """Sentences of ``text``, each keeping the markers that follow its end ("…。[1]")."""
    parts = [p for p in _SENTENCE_END.split(text) if p]
    out: list[str] = []
    for part in parts:
        lead = re.match(r"^(?:\s*" + MARKER.pattern + r")+", part)
        if lead and out:
            out[-1] += lead.group(0)
            part = part[lead.end() :]
        if part:
            out.append(part)
    return out


def claims(text: str) -> list[str]:
    """Cited claims: sentences, further cut after each run of markers followed by more text
    ("A[1]，B[2]。" is two claims, "A[1]" and "，B[2]。")."""
    out: list[str] = []
    for sentence in sentences_with_markers(text):
        start = 0
        for m in re.finditer(r"(?:\s*" + MARKER.pattern + r")+", sentence):
            if word_chars(sentence[m.end() :]):
                out.append(sentence[start : m.end()])
                start = m.end()
        out.append(sentence[start:])
    return [c for c in out if c]


def check_support(text: str, passages: Sequence[Hit]) -> SupportCheck:
    """Move or mark the citations of claims their cited passages do not support."""
    texts = [passage_text(h) for h in passages]  # its locality and title support a claim too
    moved: list[tuple[list[int], int]] = []
    unverified: list[list[int]] = []
    out: list[str] = []
    for sentence in claims(join_marker_ranges(text)):
        cited = [n for n in dict.fromkeys(parse_markers(sentence)) if 1 <= n <= len(texts)]
        numbers = parse_markers(sentence)
        if not numbers or len(word_chars(MARKER.sub("", sentence))) < MIN_CHARS:
            out.append(sentence)  # no citation, or too short to be a claim ("另见[3]")
            continue
        scores = [support(sentence, t) for t in texts]
        own = max((scores[n - 1] for n in cited), default=0.0)
        best = max(range(len(texts)), key=scores.__getitem__) if texts else -1
        if own >= SUPPORTED:
            out.append(sentence)
        elif best >= 0 and scores[best] >= SUPPORTED:
            moved.append((numbers, best + 1))
            out.append(_replace_markers(sentence, f"[{best + 1}]"))
        elif max(scores, default=0.0) < UNSUPPORTED:
            unverified.append(numbers)
            out.append(_mark_unverified(sentence))
        else:  # in between: a rewording of its passage is as likely as a wrong citation
            out.append(sentence)
    return SupportCheck(text="".join(out), moved=moved, unverified=unverified)


def _replace_markers(sentence: str, marker: str) -> str:
    first = True

    def sub(_m: re.Match[str]) -> str:
        nonlocal first
        keep, first = first, False
        return marker if keep else ""

    return MARKER.sub(sub, sentence)


def _mark_unverified(sentence: str) -> str:
    last = list(MARKER.finditer(sentence))[-1]
    return sentence[: last.end()] + UNVERIFIED + sentence[last.end() :]
