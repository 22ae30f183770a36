"""Deciding whether the corpus answers a question at all (``Answer.found``).

The raw similarity of the best hit does not tell answerable from unanswerable questions
(``docs/models.md``: with mE5-small, unanswerable questions score inside the band of real
ones). Two signals were tried instead:

- **coverage**: the IDF-weighted share of the question's informative terms (see ``terms.py``)
  that occur in one passage — its title, heading path and text, normalized — taking the best of
  the top hits. "高校科研经费如何管理" finds passages about 高校 and about 经费, but none that
  speaks of 科研经费; "各地如何落实双减" finds items that contain 双减.
- **agreement**: whether the two retrievers agree on the best passages — the share of the top
  hybrid hits that both the dense and the BM25 retriever ranked in their own top ``AGREE_RANK``.
  It is computed and reported, but calibration gave it weight 0: on its own it separates the
  classes barely better than chance (71.6%), and added to coverage it never improved accuracy.

``score = coverage + AGREEMENT_WEIGHT * agreement``; ``found = score >= THRESHOLD``.

Calibration (``eval/calibrate_relevance.py`` on ``eval/relevance_calibration.jsonl``; the shipped
corpus, 113 files / 5,091 chunks, indexed with the default model; hybrid retrieval as in the
pipeline): 44 answerable questions (work plans and regulations, topic questions, colloquial
paraphrases, one in traditional characters) and 37 unanswerable ones (education topics the
corpus does not treat, and off-domain questions). Coverage alone separates them completely:
answerable 0.751–1.000 (median 1.000), unanswerable 0.268–0.695 (median 0.500); the cut at the
midpoint, 0.72, gives 100% on the set (81/81), 98.8% leave-one-out. For comparison the best cut
on the raw top-1 dense cosine reaches 88.9%. The full table is in ``eval/relevance_calibration.md``.
The set was written by reading the corpus, so real questions will do somewhat worse; the known
weak spot is vocabulary the documents do not use (老师 for 教师, 孩子 for 未成年人), which lowers
coverage of an answerable question — re-run the script after adding such cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.terms import QueryTerm, coverage, query_terms
from assistant.records import Hit
from assistant.text import normalize

AGREEMENT_WEIGHT = 0.0  # calibrated: agreement did not improve accuracy
THRESHOLD = 0.72
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
    """What coverage looks at: title, heading path and text of a hit, normalized."""
    c = hit.chunk
    return normalize(" ".join([c.doc.title, *c.path, c.label, c.text])).lower()


def hit_coverage(terms: Sequence[QueryTerm], hit: Hit) -> float:
    return coverage(terms, passage_text(hit), normalized=True)


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
