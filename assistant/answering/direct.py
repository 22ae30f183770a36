"""The opening sentence of an extractive answer: one sentence that answers, from the strongest
passage, cited.

When the answer reader has read the top passages, the window (a sentence, or two neighbouring
ones) it found best answers the question opens the answer, if its passage is among the evidence:
the reader reads question and sentence together, which term overlap cannot. Otherwise the
candidates are the sentences of the first few evidence items. A sentence scores by the share of
the question's terms it carries plus a bonus for its item's rank. A yes/no question ("可以…吗",
"能不能…", "是否…") asks whether something is permitted, so a sentence that permits or forbids
(不得, 禁止, 可以, 应当 …) is preferred: that provision is the answer. Likewise a question that
asks for a figure ("多少", "几年") opens with a sentence that states one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.question_form import DEONTIC, asks_quantity, is_yes_no, states_number
from assistant.answering.terms import QueryTerm, coverage
from assistant.records import Hit
from assistant.text import normalize, split_sentences

CANDIDATE_ITEMS = 3
MAX_CHARS = 160


@dataclass(frozen=True)
class Direct:
    sentence: str
    hit: Hit  # the passage the sentence is taken from


def _body(hit: Hit) -> str:
    return _unlabelled(hit, hit.chunk.text.lstrip())


def direct_sentence(
    question: str,
    terms: Sequence[QueryTerm],
    evidence: Sequence[Hit],
    reader_window: tuple[str, str] | None = None,
) -> Direct:
    """The sentence that best answers ``question``: the reader's ``(chunk id, window)`` when
    that passage is among the evidence, else the best among the first evidence items."""
    if not evidence:
        raise ValueError("no evidence to answer from")
    if reader_window is not None:
        chunk_id, window = reader_window
        hit = next((h for h in evidence if h.chunk.chunk_id == chunk_id), None)
        if hit is not None:
            return Direct(sentence=_shorten(_unlabelled(hit, window)), hit=hit)
    figure = asks_quantity(question)
    yes_no = not figure and is_yes_no(question)
    best: tuple[float, str, Hit] | None = None
    for rank, hit in enumerate(evidence[:CANDIDATE_ITEMS]):
        for sentence in split_sentences(_body(hit)) or [_body(hit)]:
            score = coverage(terms, sentence) + 0.3 / (1 + rank)
            norm = normalize(sentence)
            if (figure and states_number(norm)) or (yes_no and DEONTIC.search(norm)):
                score += 0.5
            if best is None or score > best[0]:
                best = (score, sentence, hit)
    assert best is not None
    _, sentence, hit = best
    return Direct(sentence=_shorten(sentence), hit=hit)


def _unlabelled(hit: Hit, text: str) -> str:
    """``text`` without the item's label in front (the opening line names the article)."""
    label = hit.chunk.label
    if label and text.startswith(label):
        return text[len(label) :].lstrip(" :：、.．")
    return text


def _shorten(sentence: str) -> str:
    return sentence if len(sentence) <= MAX_CHARS else sentence[: MAX_CHARS - 1] + "…"


def source_name(hit: Hit) -> str:
    """《title》, its version note and article label: 《…法》（2024年版，现行版本）第三十条."""
    d = hit.chunk.doc
    note = d.version.note if d.version else ""
    label = hit.chunk.label if hit.chunk.label.startswith("第") else ""
    return f"《{d.title}》{note}{label}"


def opening_line(direct: Direct, n: int) -> str:
    """The answer's first line: the sentence, where it comes from, and its citation."""
    sentence = direct.sentence.rstrip("。；;")
    return f"直接依据：{source_name(direct.hit)}：{sentence}。[{n}]"
