"""Exact-match labels for one-term keyword queries: every chunk of the corpus that contains the
term (after :func:`assistant.evaluation.matching.match_key`) becomes one labelled passage.

Each label's quote is a stretch of one source line around the term that no other chunk of the
same file contains (widened to clause boundaries so it reads), so a label names exactly one
chunk. Usage:

    python eval/keyword_labels.py corpus 一校一案 五育並舉 … > labels.jsonl

prints one JSON line per term: ``{"query": term, "relevant": [{"file", "quote", "grade": 2}]}``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from assistant.documents import ingest
from assistant.evaluation.matching import match_key
from assistant.records import Chunk

MIN_QUOTE = 8
CLAUSE_ENDS = "，。；：！？,;:!?"
MAX_WIDEN = 30  # characters a quote may grow on each side to reach a clause boundary


def _occurrence(line: str, key: str) -> tuple[int, int] | None:
    """The shortest span of ``line`` whose match key contains ``key``."""
    best = None
    for i in range(len(line)):
        for j in range(i + 1, min(len(line), i + 3 * len(key) + 4) + 1):
            if key in match_key(line[i:j]):
                if best is None or j - i < best[1] - best[0]:
                    best = (i, j)
                break
    return best


def _to_clause(line: str, i: int, j: int) -> str:
    """``line[i:j]`` widened to the clause it sits in (a superset stays unique)."""
    start = i
    while start > 0 and i - start < MAX_WIDEN and line[start - 1] not in CLAUSE_ENDS:
        start -= 1
    end = j
    while end < len(line) and end - j < MAX_WIDEN and line[end - 1] not in CLAUSE_ENDS:
        end += 1
    return line[start:end]


def quote_for(chunk: Chunk, term: str, same_file: Sequence[Chunk]) -> str:
    """A verbatim quote around ``term`` in ``chunk`` that no other chunk of its file holds."""
    key = match_key(term)
    others = [match_key(c.text) for c in same_file if c.chunk_id != chunk.chunk_id]
    for line in chunk.text.splitlines():
        span = _occurrence(line, key)
        if span is None:
            continue
        i, j = span
        while True:
            quote = line[i:j]
            qkey = match_key(quote)
            if len(quote.strip()) >= MIN_QUOTE and not any(qkey in o for o in others):
                return _to_clause(line, i, j).strip()
            if i == 0 and j == len(line):
                break
            i, j = max(0, i - 1), min(len(line), j + 1)
    raise ValueError(f"{chunk.chunk_id}: no quote around {term!r} names this chunk alone")


def keyword_labels(term: str, chunks: Sequence[Chunk]) -> list[dict[str, object]]:
    """One grade-2 label per chunk that contains ``term`` verbatim after normalization."""
    key = match_key(term)
    by_file: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_file.setdefault(c.doc.file, []).append(c)
    return [
        {"file": c.doc.file, "quote": quote_for(c, term, by_file[c.doc.file]), "grade": 2}
        for c in chunks
        if key in match_key(c.text)
    ]


def main(argv: Sequence[str]) -> int:
    corpus, *terms = argv
    chunks = ingest([Path(corpus)], progress=False).chunks
    for term in terms:
        row = {"query": term, "relevant": keyword_labels(term, chunks)}
        print(json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
