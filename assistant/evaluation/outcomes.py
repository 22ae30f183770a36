"""Answer outcomes on the answerability question set, per split and kind of question.

Each question of ``eval/answer_questions.jsonl`` has a split (dev, test) and a kind:
``answerable`` (the corpus answers it; its passages are labelled), ``near_miss`` (an education
topic the corpus does not cover) or ``off_topic``. The answer pipeline's retrieval and decision
(``answering.pipeline.retrieve``) run on each, without an LLM, and the outcome is compared with
what it should be: answerable → answered; near-miss and off-topic → refused (related or not
covered). For answerable questions the report also says whether a labelled passage is among the
evidence an answer cites or, when judged related, among the provisions shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tqdm import tqdm

from assistant.evaluation.matching import passage_matches

if TYPE_CHECKING:
    from assistant.answering.relevance import AnswerabilityModel
    from assistant.config import Settings
    from assistant.evaluation.datasets import RelevantPassage

KINDS = ("answerable", "near_miss", "off_topic")
OUTCOME_NAMES = ("answered", "related", "not_covered")


class OutcomeQuestion(Protocol):
    """What is needed of a question (``datasets.AnswerQuestion``)."""

    id: str
    question: str
    split: str
    kind: str

    @property
    def relevant(self) -> Sequence[RelevantPassage]: ...


@dataclass(frozen=True)
class OutcomeRow:
    id: str
    split: str
    kind: str
    question: str
    outcome: str
    probability: float
    features: dict[str, float]
    # answerable, answered or related: a labelled passage is among those cited or shown
    cites_label: bool | None = None

    @property
    def correct(self) -> bool:
        return (self.outcome == "answered") == (self.kind == "answerable")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "probability": round(self.probability, 4)}


@dataclass
class OutcomeSummary:
    split: str
    kind: str
    n: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOME_NAMES, 0))
    cites_label: int = 0  # answered answerable questions citing a labelled passage
    checked: int = 0  # answered answerable questions whose citations were checked
    related_shows_label: int = 0  # answerable questions judged related showing a labelled one
    related_checked: int = 0

    @property
    def accuracy(self) -> float:
        """answerable: share answered; near-miss / off-topic: share refused."""
        if not self.n:
            return 0.0
        answered = self.counts["answered"]
        return (answered if self.kind == "answerable" else self.n - answered) / self.n

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accuracy": round(self.accuracy, 4)}


def judge_questions(
    questions: Sequence[OutcomeQuestion],
    retriever: Any,  # assistant.search.retriever.Retriever
    *,
    model: AnswerabilityModel | None = None,
    progress: bool = True,
) -> list[OutcomeRow]:
    """The pipeline's outcome for every question (its retrieval and decision, no LLM)."""
    from assistant.answering.pipeline import retrieve

    rows: list[OutcomeRow] = []
    for q in tqdm(questions, desc="answer outcomes", unit="question", disable=not progress,
                  leave=False):  # fmt: skip
        got = retrieve(q.question, retriever, model=model)
        rel = got.relevance
        cites = None
        if q.kind == "answerable" and rel.outcome in ("answered", "related"):
            cites = any(passage_matches(p, h.chunk) for p in q.relevant for h in got.evidence)
        rows.append(
            OutcomeRow(
                q.id, q.split, q.kind, q.question, rel.outcome, rel.probability, rel.features, cites
            )  # fmt: skip
        )
    return rows


def answer_outcomes(
    questions: Sequence[OutcomeQuestion],
    corpus_dir: Path,
    settings: Settings,
    index_dir: Path,
    *,
    progress: bool = True,
) -> tuple[list[OutcomeRow], list[OutcomeSummary]]:
    """Bring the index of ``corpus_dir`` up to date, judge every question, summarize."""
    from assistant.search.builder import build_index
    from assistant.search.retriever import Retriever

    index_dir.mkdir(parents=True, exist_ok=True)
    build_index([corpus_dir], index_dir, settings, progress=progress)
    retriever = Retriever.open(index_dir, settings)
    try:
        rows = judge_questions(questions, retriever, progress=progress)
    finally:
        retriever.close()
    return rows, summarize(rows)


def summarize(rows: Iterable[OutcomeRow]) -> list[OutcomeSummary]:
    """One summary per (split, kind), plus "unanswerable" (near-miss and off-topic together)."""
    table: dict[tuple[str, str], OutcomeSummary] = {}
    for r in rows:
        kinds = [r.kind] + (["unanswerable"] if r.kind != "answerable" else [])
        for kind in kinds:
            s = table.setdefault((r.split, kind), OutcomeSummary(r.split, kind))
            s.n += 1
            s.counts[r.outcome] += 1
            if r.outcome == "answered":
                s.cites_label += bool(r.cites_label)
                s.checked += r.cites_label is not None
            elif r.outcome == "related":
                s.related_shows_label += bool(r.cites_label)
                s.related_checked += r.cites_label is not None
    order = {k: i for i, k in enumerate((*KINDS, "unanswerable"))}
    return sorted(table.values(), key=lambda s: (s.split, order.get(s.kind, 99)))


def render_outcomes(summaries: Sequence[OutcomeSummary], title: str = "") -> str:
    """A markdown table: per split and kind, the outcomes and the accuracy."""
    lines = [f"#### {title}", ""] if title else []
    lines += [
        "| split | kind | n | answered | related | not covered | accuracy |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        c = s.counts
        target = "answered" if s.kind == "answerable" else "refused"
        cited = f" (a labelled passage cited: {s.cites_label})" if s.checked else ""
        shown = f" (a labelled passage shown: {s.related_shows_label})" if s.related_checked else ""
        lines.append(
            f"| {s.split} | {s.kind} | {s.n} | {c['answered']}{cited} | {c['related']}{shown} | "
            f"{c['not_covered']} | {s.accuracy:.1%} {target} |"
        )
    return "\n".join(lines)
