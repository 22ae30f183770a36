"""Precedent wording: where the corpus already says what a writer wants to say.

A writer pastes a sentence they half remember or want to reuse. ``find_precedents`` returns the
passages that contain it verbatim (``Retriever.phrase_search``) and similar wordings, one per
document, ranked by hybrid search with best-sentence evidence
(``settings.precedent_sentence_weight``): the pasted sentence matches one sentence of a long
item, which the item's own vector averages away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.records import Hit
from assistant.search.retriever import Retriever, SearchFilters

SIMILAR_K = 8
EXACT_K = 20


@dataclass(frozen=True)
class Precedents:
    similar: list[Hit]  # similar wordings, at most one per document, best first
    exact: list[Hit]  # passages containing the phrase itself

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The ``/precedent`` API's and ``assistant search --precedent --json``'s shape."""
        return {
            "exact": [h.to_dict() for h in self.exact],
            "similar": [h.to_dict() for h in self.similar],
        }


def find_precedents(r: Retriever, phrase: str, filters: SearchFilters | None = None) -> Precedents:
    """Exact occurrences of ``phrase`` and similar wordings in other passages."""
    exact = r.phrase_search(phrase, k=EXACT_K, filters=filters)
    seen = {h.chunk.chunk_id for h in exact}
    similar = r.search(
        phrase,
        k=SIMILAR_K,
        mode="hybrid",
        filters=filters,
        per_doc=1,
        sentence_weight=r.settings.precedent_sentence_weight,
    )
    return Precedents([h for h in similar if h.chunk.chunk_id not in seen], exact)
