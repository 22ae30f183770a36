"""The shipped query set eval/policy_queries.jsonl: well formed, verbatim, and every quote
matches at least one chunk of the shipped corpus as ingestion chunks it today."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from assistant.documents import ingest
from assistant.evaluation.datasets import QUERY_TYPES, load_policy_queries
from assistant.evaluation.matching import find_broken_labels

ROOT = Path(__file__).resolve().parents[2]
QUERY_SET = ROOT / "eval" / "policy_queries.jsonl"
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def queries():
    return load_policy_queries(QUERY_SET)


def test_the_set_covers_every_kind_of_question(queries):
    counts = Counter(q.type for q in queries)
    assert len(queries) >= 60
    assert set(counts) == set(QUERY_TYPES)
    assert counts["unanswerable"] >= 8


def test_every_quote_is_verbatim_in_its_source_file(queries):
    files = {p.name: p for p in CORPUS.rglob("*") if p.is_file()}
    texts: dict[str, str] = {}
    missing = []
    for q in queries:
        for rel in q.relevant:
            assert rel.file in files, f"{q.id}: no file {rel.file} in corpus/"
            text = texts.setdefault(rel.file, files[rel.file].read_text(encoding="utf-8"))
            if rel.quote not in text:
                missing.append(f"{q.id}: {rel.file}: {rel.quote}")
    assert missing == []


def test_every_quote_matches_a_chunk_of_the_shipped_corpus(queries):
    report = ingest([CORPUS], progress=False)
    assert report.failures == []
    broken = find_broken_labels(queries, report.chunks)
    assert [str(b) for b in broken] == []
