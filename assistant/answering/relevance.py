"""Deciding whether the corpus answers a question: answered, related, or not covered.

The raw similarity of the best hit does not separate answerable from unanswerable questions
(``docs/models.md``), and demanding the question's literal words refuses questions worded unlike
the documents (老师 where the law says 教师). The decision combines several signals of the hybrid
hits, each computed on the passage as a reader sees it (locality, issuer, title, heading path,
label and text):

- ``dense``: the best raw cosine of the question to a top passage;
- ``gap``: how far the best cosine stands above the median of the top hits (one passage that
  stands out, rather than a flat field of loosely related ones);
- ``lexical``: the IDF-weighted share of the question's informative terms (``terms.py``) that
  occur literally in one passage, of ``min(total weight, WEIGHT_CAP)``;
- ``soft``: the same share with soft matching: a term absent from the passage counts by its
  best cosine, in the embedding model, to a word of the passage, rescaled from ``soft_floor`` (no
  credit) to 1 (``term_match.py``);
- ``agreement``: the share of the top fused hits that both retrievers ranked high;
- ``focus``: the share of the top fused hits that come from the best hit's document (a
  question a law answers tends to draw several of its articles; a vague match scatters);
- ``form``: whether the answer-bearing sentences of the top passages have the form the question
  asks for — a number for "多少", a permission or prohibition for "可以…吗"
  (``question_form.py``): +1, -1, or 0 when the question asks for neither;
- ``figure``: for a question that asks for a figure, what its coverage loses when only
  sentences that state a number count: the soft coverage of the best such sentence of the top
  passages (read with its passage's locality, title and headings) minus ``soft``. A passage on
  the topic that states no figure for it does not answer "多少". 0 for other questions;
- ``reader``: the answer reader's best logit over the sentences of the top passages
  (``reader.py``): a cross-encoder reads question and sentence together, so it can tell a
  provision that answers from one on the same topic that does not. Left out without a reader;
  the model then counts it as neutral.

A logistic model over (some of) these features (``AnswerabilityModel``, parameters in
``answerability.json``, fitted by ``eval/fit_answerability.py`` on the question splits set aside
for fitting; the file records how) gives a probability that the top passages
answer the question. At or above the answer threshold the question is ``answered`` (cite the
evidence). Below it, ``related`` (show the closest provisions and say they do not answer
directly) or ``not_covered`` (cite nothing) is a question of topic, not of the form of the
answer: the same probability with ``form`` and ``figure`` set to their neutral 0 (as if the
question asked for no particular form of answer) and the reader neutral, when higher, is cut at
the related threshold.
Rules that name 班主任津贴 but state no amount do not answer "班主任每月津贴是多少钱", but they
are the related provisions to show.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assistant.answering.question_form import answer_form, asks_quantity, states_number
from assistant.answering.term_match import TermMatcher, soft_coverage
from assistant.answering.terms import QueryTerm, coverage, query_terms
from assistant.records import Hit
from assistant.text import normalize, split_sentences

if TYPE_CHECKING:
    from assistant.answering.reader import AnswerReader

Outcome = Literal["answered", "related", "not_covered"]
OUTCOMES: tuple[Outcome, ...] = ("answered", "related", "not_covered")
FEATURES = ("dense", "gap", "lexical", "soft", "agreement", "focus", "form", "figure", "reader")
MODEL_FILE = Path(__file__).with_name("answerability.json")
WEIGHT_CAP = 35.0  # about four or five specific words cover a long query
TOP_N = 10  # hits considered for lexical coverage, gap and agreement
SOFT_TOP = 3  # hits considered for soft coverage (each needs its words embedded)
AGREE_TOP = 5  # fused hits considered for agreement
AGREE_RANK = 10  # a retriever "found" a hit when it ranked it this high or better
FORM_FEATURES = ("form", "figure")  # whether passages have an answer's form; 0 is neutral
ANSWER_FEATURES = ("reader",)  # whether a passage answers; neutral when absent (its mean)


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic model over standardized features, and the two cuts of its probability."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    answer_threshold: float  # probability at or above which the question is answered
    related_threshold: float  # at or above (and below the answer cut): related provisions
    soft_floor: float  # cosine below which a soft term match earns nothing
    fitted: dict[str, Any] = field(default_factory=dict)  # how and on what it was fitted

    def probability(self, values: dict[str, float]) -> float:
        """A feature missing from ``values`` counts as neutral (its mean)."""
        z = self.bias + sum(
            w * (values.get(f, m) - m) / s
            for f, m, s, w in zip(self.features, self.mean, self.scale, self.weights, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def topic_probability(self, values: dict[str, float]) -> float:
        """The probability with the answer-form signals (0) and the reader neutral: whether
        the passages are on the question's topic, whatever form of answer it asks for and
        whether or not they give it."""
        topic = {k: v for k, v in values.items() if k not in ANSWER_FEATURES}
        return self.probability({**topic, **dict.fromkeys(FORM_FEATURES, 0.0)})

    def decide(self, values: dict[str, float]) -> tuple[Outcome, float]:
        """The outcome for these feature values, and the probability that they answer."""
        p = self.probability(values)
        if p >= self.answer_threshold:
            return "answered", p
        topic = max(p, self.topic_probability(values))
        return ("related" if topic >= self.related_threshold else "not_covered"), p

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
            "answer_threshold": self.answer_threshold,
            "related_threshold": self.related_threshold,
            "soft_floor": self.soft_floor,
            "fitted": self.fitted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerabilityModel:
        unknown = set(data["features"]) - set(FEATURES)
        if unknown:
            raise ValueError(f"answerability model uses unknown features {sorted(unknown)}")
        return cls(
            features=tuple(data["features"]),
            mean=tuple(float(x) for x in data["mean"]),
            scale=tuple(float(x) for x in data["scale"]),
            weights=tuple(float(x) for x in data["weights"]),
            bias=float(data["bias"]),
            answer_threshold=float(data["answer_threshold"]),
            related_threshold=float(data["related_threshold"]),
            soft_floor=float(data["soft_floor"]),
            fitted=dict(data.get("fitted", {})),
        )


def load_model(path: Path = MODEL_FILE) -> AnswerabilityModel:
    return AnswerabilityModel.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_model() -> AnswerabilityModel:
    """The shipped model (``answerability.json``), read once per process."""
    return load_model(MODEL_FILE)


def save_model(model: AnswerabilityModel, path: Path = MODEL_FILE) -> None:
    text = json.dumps(model.to_dict(), ensure_ascii=False, indent=1)
    Path(path).write_text(text + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Relevance:
    outcome: Outcome
    probability: float
    features: dict[str, float]
    terms: tuple[QueryTerm, ...]
    best: int | None  # index in ``hits`` of the passage that best carries the question
    # (chunk id, its sentence or two) that the answer reader found best answers the question
    reader_window: tuple[str, str] | None = None

    @property
    def found(self) -> bool:
        return self.outcome == "answered"

    def to_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "probability": round(self.probability, 4),
            "features": {k: round(v, 4) for k, v in self.features.items()},
            "terms": [t.text for t in self.terms],
        }


def passage_header(hit: Hit) -> str:
    """The locality, issuer, title, heading path and label of a passage, normalized."""
    c = hit.chunk
    d = c.doc
    return normalize(" ".join([d.region or "", d.issuer or "", d.title, *c.path, c.label])).lower()


def passage_text(hit: Hit) -> str:
    """What coverage looks at: the passage's header and text, normalized."""
    return f"{passage_header(hit)} {normalize(hit.chunk.text).lower()}"


def hit_coverage(terms: Sequence[QueryTerm], hit: Hit, *, cap: float | None = WEIGHT_CAP) -> float:
    return coverage(terms, passage_text(hit), normalized=True, cap=cap)


def agreement(hits: Sequence[Hit], *, top: int = AGREE_TOP, rank: int = AGREE_RANK) -> float:
    head = list(hits[:top])
    if not head:
        return 0.0

    def both(h: Hit) -> bool:
        d, b = h.ranks.get("dense"), h.ranks.get("bm25")
        return d is not None and b is not None and d <= rank and b <= rank

    return sum(both(h) for h in head) / len(head)


def focus(hits: Sequence[Hit], *, top: int = AGREE_TOP) -> float:
    head = list(hits[:top])
    if not head:
        return 0.0
    doc = head[0].chunk.doc.doc_id
    return sum(h.chunk.doc.doc_id == doc for h in head) / len(head)


def figure_coverage(
    question: str,
    terms: Sequence[QueryTerm],
    hits: Sequence[Hit],
    matcher: TermMatcher | None,
    *,
    soft_floor: float,
) -> float | None:
    """For a question asking for a figure: the best coverage of the question by one sentence of
    the top passages that states a number, read with its passage's header (0 when none states
    one). None for other questions."""
    if not asks_quantity(question):
        return None
    best = 0.0
    for hit in hits[:SOFT_TOP]:
        head = passage_header(hit)
        for sentence in split_sentences(hit.chunk.text):
            norm = normalize(sentence).lower()
            if not states_number(norm):
                continue
            text = f"{head} {norm}"
            if matcher is None:
                cov = coverage(terms, text, normalized=True, cap=WEIGHT_CAP)
            else:
                cov = soft_coverage(terms, text, matcher, floor=soft_floor, cap=WEIGHT_CAP)
            best = max(best, cov)
    return best


def features(
    question: str,
    terms: Sequence[QueryTerm],
    hits: Sequence[Hit],
    matcher: TermMatcher | None,
    *,
    soft_floor: float,
    reader: AnswerReader | None = None,
) -> tuple[dict[str, float], int | None, tuple[str, str] | None]:
    """The feature values of the hybrid hits, the index of the best-carrying hit, and the
    (chunk id, window) the reader scored highest. Without a reader, ``reader`` is left out (the
    model then counts it as neutral) and there is no window."""
    top = list(hits[:TOP_N])
    if not top:
        return dict.fromkeys(FEATURES, 0.0), None, None
    cosines = [h.scores.get("dense") or 0.0 for h in top]
    texts = [passage_text(h) for h in top]
    lexical = [coverage(terms, t, normalized=True, cap=WEIGHT_CAP) for t in texts]
    soft = list(lexical)
    if matcher is not None:
        for i, text in enumerate(texts[:SOFT_TOP]):
            soft[i] = max(
                lexical[i],
                soft_coverage(terms, text, matcher, floor=soft_floor, cap=WEIGHT_CAP),
            )
    best = max(range(len(top)), key=lambda i: (soft[i], lexical[i], -i))
    figure = figure_coverage(question, terms, top, matcher, soft_floor=soft_floor)
    values = {
        "dense": max(cosines),
        "gap": max(cosines) - statistics.median(cosines),
        "lexical": max(lexical),
        "soft": max(soft),
        "agreement": agreement(hits),
        "focus": focus(hits),
        "form": answer_form(
            question, terms, (s for h in top[:SOFT_TOP] for s in split_sentences(h.chunk.text))
        ),
        "figure": 0.0 if figure is None else figure - max(soft),
    }
    window = None
    if reader is not None:
        readings = reader.read(question, [h.chunk.text for h in top[:SOFT_TOP]])
        i = max(range(len(readings)), key=lambda j: readings[j].score)
        values["reader"] = readings[i].score
        window = (top[i].chunk.chunk_id, readings[i].window)
    return values, best, window


def assess(
    question: str,
    hits: Sequence[Hit],
    *,
    matcher: TermMatcher | None = None,
    reader: AnswerReader | None = None,
    model: AnswerabilityModel | None = None,
) -> Relevance:
    """Judge the hybrid hits of ``question``: answered, related or not covered."""
    model = model or default_model()
    terms = tuple(query_terms(question))
    values, best, window = features(
        question, terms, hits, matcher, soft_floor=model.soft_floor, reader=reader
    )
    if not hits:
        return Relevance("not_covered", 0.0, values, terms, None)
    outcome, p = model.decide(values)
    return Relevance(outcome, p, values, terms, best, window)
