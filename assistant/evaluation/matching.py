"""Quote-based relevance: which chunks a labelled passage ``(file, quote, grade)`` names.

A chunk is relevant when it comes from the labelled file and its text, normalized
(:func:`assistant.text.normalize`: traditional → simplified, full → half width) with all
whitespace removed, contains the quote normalized the same way. So a label written in
simplified characters matches a traditional source, and line breaks or spaces inside the
source do not matter. A label that matches no chunk at all is a *broken label*: it is reported,
never silently ignored, because a silently unmatched label would read as a retrieval miss.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.evaluation.datasets import PolicyQuery, RelevantPassage
from assistant.records import Chunk
from assistant.text import normalize

_WS = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def match_key(text: str) -> str:
    """The form both sides are compared in: normalized, with every whitespace removed."""
    return _WS.sub("", normalize(text))


def same_file(label_file: str, chunk: Chunk) -> bool:
    """A label names a file by its name or by a path ending (``national/…/教育法.md``)."""
    meta = chunk.doc
    if label_file == meta.file:
        return True
    source = meta.source_path.replace("\\", "/")
    return source == label_file or source.endswith("/" + label_file.lstrip("/"))


def passage_matches(passage: RelevantPassage, chunk: Chunk) -> bool:
    return same_file(passage.file, chunk) and match_key(passage.quote) in match_key(chunk.text)


def label_id(query: PolicyQuery, index: int) -> str:
    """The id a labelled passage has in qrels and runs: ``"<query id>#<n>"``."""
    return f"{query.id}#{index}"


def qrels_for(query: PolicyQuery) -> dict[str, int]:
    return {label_id(query, i): p.grade for i, p in enumerate(query.relevant)}


def units_for(query: PolicyQuery, chunk: Chunk) -> list[str]:
    """What a retrieved chunk counts as for ``query``: the labels it satisfies, or itself.

    A chunk that holds no labelled quote stands for itself (a non-relevant result); a chunk
    that holds several (e.g. after a chunking change merged two items) satisfies all of them.
    """
    matched = [
        label_id(query, i) for i, p in enumerate(query.relevant) if passage_matches(p, chunk)
    ]
    return matched or [f"chunk:{chunk.chunk_id}"]


@dataclass(frozen=True)
class BrokenLabel:
    query_id: str
    file: str
    quote: str
    reason: str  # "file not in corpus" or "quote not found in any chunk of the file"

    def __str__(self) -> str:
        return f"{self.query_id}: {self.file}: {self.quote!r}: {self.reason}"


def find_broken_labels(
    queries: Iterable[PolicyQuery], chunks: Sequence[Chunk]
) -> list[BrokenLabel]:
    """Every labelled passage that no chunk of the corpus satisfies, with the reason."""
    by_file: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_file.setdefault(c.doc.file, []).append(c)
    broken: list[BrokenLabel] = []
    for query in queries:
        for passage in query.relevant:
            in_file = by_file.get(passage.file) or [c for c in chunks if same_file(passage.file, c)]
            if not in_file:
                broken.append(
                    BrokenLabel(query.id, passage.file, passage.quote, "file not in corpus")
                )
            elif not any(passage_matches(passage, c) for c in in_file):
                broken.append(
                    BrokenLabel(
                        query.id,
                        passage.file,
                        passage.quote,
                        "quote not found in any chunk of the file",
                    )
                )
    return broken
