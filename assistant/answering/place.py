"""The place a question asks about, and hits ordered to respect it.

A question that names a locality ("在洛阳，学校能…", "山東的高中…") asks about that locality's
rules: another city's regulation on the same topic is not its answer. The places are the regions
of the retrieved documents that the question names (a region's name with or without its
suffix: 洛阳市 or 洛阳, in either script). Hits from another region of the same administrative
level (another city for a city, another province for a province) then come after the others;
national texts, and regions of another level (which may contain the place), keep their rank.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.documents.cleaning import fold
from assistant.documents.metadata import NATIONAL_REGION, short_name
from assistant.records import Hit, Level


def asked_places(question: str, hits: Sequence[Hit]) -> dict[str, Level | None]:
    """The regions of ``hits``' documents that ``question`` names, with their levels."""
    folded = fold(question)
    regions = {h.chunk.doc.region: h.chunk.doc.level for h in hits if h.chunk.doc.region}
    return {
        region: level
        for region, level in regions.items()
        if region != NATIONAL_REGION and fold(short_name(region)) in folded
    }


def prefer_place(question: str, hits: Sequence[Hit]) -> list[Hit]:
    """``hits`` with those from elsewhere than the places ``question`` names moved last (stable)."""
    places = asked_places(question, hits)
    if not places:
        return list(hits)
    levels = {level for level in places.values() if level}

    def elsewhere(h: Hit) -> bool:
        doc = h.chunk.doc
        return (
            doc.region is not None
            and doc.region != NATIONAL_REGION
            and doc.region not in places
            and doc.level in levels
        )

    return [h for h in hits if not elsewhere(h)] + [h for h in hits if elsewhere(h)]
