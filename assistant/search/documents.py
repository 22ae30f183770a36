"""Document-level ranking: which documents answer a query, from the evidence of their items.

A document's score is its best item's score plus a decayed sum of its next items'
(``s1 + decay·s2 + decay²·s3 …``). ``DECAY`` was chosen on the policy dev queries, where the
document of the best item is the labelled one more often than any sum (eval/README.md), so by
default a document is as good as its best item; a positive decay lets evidence spread over
several items add up. Items keep their own scores and stay the unit of citation;
``DocumentHit.hits`` lists the items that carried the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.records import DocumentMeta, Hit

DECAY = 0.0
MAX_ITEMS = 5  # items of one document that count towards its score


@dataclass(frozen=True)
class DocumentHit:
    """A ranked document and its best items among the query's hits (best first)."""

    meta: DocumentMeta
    score: float
    hits: tuple[Hit, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.meta.to_dict(),
            "score": self.score,
            "items": [
                {"chunk_id": h.chunk.chunk_id, "label": h.chunk.label, "score": h.score}
                for h in self.hits
            ],
        }


def rank_documents(
    hits: Sequence[Hit], *, decay: float = DECAY, max_items: int = MAX_ITEMS
) -> list[DocumentHit]:
    """Group ``hits`` (any order) by document and rank the documents, best first."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must be in [0, 1], got {decay}")
    groups: dict[str, list[Hit]] = {}
    for h in hits:
        groups.setdefault(h.chunk.doc.doc_id, []).append(h)
    out = []
    for items in groups.values():
        items.sort(key=lambda h: -h.score)
        top = items[:max_items]
        score = sum(h.score * decay**i for i, h in enumerate(top))
        out.append(DocumentHit(meta=top[0].chunk.doc, score=score, hits=tuple(top)))
    out.sort(key=lambda d: (-d.score, d.meta.doc_id))
    return out
