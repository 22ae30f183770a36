"""Checks shared by the tests of the labelled question sets."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.evaluation.matching import same_file
from assistant.records import Chunk


def superseded_labels(questions: Sequence, chunks: Sequence[Chunk]) -> list[str]:
    """``"id: file"`` for every label naming an older dated version of a title in the corpus."""
    dates: dict[str, set[str]] = {}
    for c in chunks:
        dates.setdefault(c.doc.title, set()).add(c.doc.date or "")
    out = []
    for q in questions:
        for rel in q.relevant:
            doc = next(c.doc for c in chunks if same_file(rel.file, c))
            if (doc.date or "") < max(dates[doc.title]):
                out.append(f"{q.id}: {rel.file}")
    return out
