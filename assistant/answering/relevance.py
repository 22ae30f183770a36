"""Deciding whether the corpus answers a question at all (``Answer.found``).

The raw similarity of the best hit does not tell answerable from unanswerable questions
(``docs/models.md``: with mE5-small, unanswerable questions score inside the band of real
ones). Two signals were tried instead:

- **coverage**: the IDF-weighted share of the question's informative terms (see ``terms.py``)
  that occur in one passage — its locality, issuer, title, heading path and text, normalized —
  taking the best of the top hits. The share is of ``min(total weight, WEIGHT_CAP)``: a short
  question needs nearly all its terms in one passage, while a pasted sentence (many terms) is
  covered by a passage carrying four or five of its specific words. "高校科研经费如何管理" finds
  passages about 高校 and about 经费, but none that speaks of 科研经费; "各地如何落实双减" finds
  items that contain 双减.
- **agreement**: whether the two retrievers agree on the best passages — the share of the top
  hybrid hits that both the dense and the BM25 retriever ranked in their own top ``AGREE_RANK``.
  It is computed and reported, but calibration gave it weight 0: alone it separates the classes
  at 75.3%, and added to coverage it did not raise accuracy.

``score = coverage + AGREEMENT_WEIGHT * agreement``; ``found = score >= THRESHOLD``.

Calibration (``eval/calibrate_relevance.py``, report in ``eval/relevance_calibration.md``): the
shipped corpus (113 files, 5,091 chunks) indexed with the default model, hybrid retrieval as in
the pipeline, on ``eval/relevance_calibration.jsonl`` — 44 answerable questions (work plans and
regulations: topic questions, colloquial paraphrases, one in traditional characters) and 37
unanswerable ones (education topics the corpus does not treat, off-domain questions). A grid over
cap × agreement weight × threshold picks cap 35, weight 0, threshold 0.751 (used: 0.75):
answerable coverage 0.772–1.000, unanswerable 0.301–0.730, 100% on the set, 100% leave-one-out.
Held-out check on the evaluation query set written independently (``eval/policy_queries.jsonl``,
59 answerable, 10 unanswerable): 95.7% (all 10 refused, 3 answerable missed); without the cap
82.6%; the raw top-1 cosine at its best calibration cut 76.8%. The misses are vocabulary the
documents do not use (午休条件, a jieba split of 师德师风) — extend the set with such cases and
re-run the script after changing the model, the tokenizer or the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.terms import QueryTerm, coverage, query_terms
from assistant.records import Hit
from assistant.text import normalize

AGREEMENT_WEIGHT = 0.0  # calibrated: agreement did not improve accuracy
THRESHOLD = 0.75
WEIGHT_CAP = 35.0  # calibrated: about four or five specific words cover a long query
TOP_N = 10  # hits considered for coverage
AGREE_TOP = 5  # fused hits considered for agreement
AGREE_RANK = 10  # a retriever "found" a hit when it ranked it this high or better


@dataclass(frozen=True)
class Relevance:
    found: bool
    score: float
    coverage: float  # best single-passage coverage among the top hits, 0..1
    agreement: float  # share of the top fused hits that both retrievers ranked high, 0..1
    terms: tuple[QueryTerm, ...]
    best: int | None  # index in ``hits`` of the passage with the best coverage

    def to_dict(self) -> dict[str, object]:
        return {
            "found": self.found,
            "score": round(self.score, 4),
            "coverage": round(self.coverage, 4),
            "agreement": round(self.agreement, 4),
            "terms": [t.text for t in self.terms],
        }


def passage_text(hit: Hit) -> str:
    """What coverage looks at: locality, issuer, title, heading path and text, normalized."""
    c = hit.chunk
    d = c.doc
    parts = [d.region or "", d.issuer or "", d.title, *c.path, c.label, c.text]
    return normalize(" ".join(parts)).lower()


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


def features(question: str, hits: Sequence[Hit]) -> tuple[float, float, int | None]:
    """(coverage, agreement, index of the best-covered hit) for the hybrid hits of a question."""
    terms = query_terms(question)
    covs = [hit_coverage(terms, h) for h in hits[:TOP_N]]
    best = max(range(len(covs)), key=covs.__getitem__) if covs else None
    return (covs[best] if best is not None else 0.0), agreement(hits), best


def assess(
    question: str,
    hits: Sequence[Hit],
    *,
    threshold: float = THRESHOLD,
    agreement_weight: float = AGREEMENT_WEIGHT,
) -> Relevance:
    """Judge the hybrid hits of ``question``; ``found`` is False when nothing covers it."""
    terms = tuple(query_terms(question))
    cov, agree, best = features(question, hits)
    score = cov + agreement_weight * agree
    return Relevance(
        found=bool(hits) and score >= threshold,
        score=score,
        coverage=cov,
        agreement=agree,
        terms=terms,
        best=best,
    )
