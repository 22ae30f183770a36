"""The shipped query set eval/policy_queries.jsonl: well formed, verbatim, every quote matches
at least one chunk of the shipped corpus as ingestion chunks it today, keyword labels are exact,
and the keyword, precedent and topic queries are split into dev and test."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assistant.evaluation.datasets import QUERY_TYPES, load_policy_queries, select_queries
from assistant.evaluation.matching import find_broken_labels, match_key, passage_matches

ROOT = Path(__file__).resolve().parents[2]
QUERY_SET = ROOT / "eval" / "policy_queries.jsonl"
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def queries():
    return load_policy_queries(QUERY_SET)


def _notes() -> dict[str, str]:
    rows = (json.loads(line) for line in QUERY_SET.read_text("utf-8").splitlines() if line)
    return {row["id"]: row.get("note", "") for row in rows}


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


def test_every_quote_matches_a_chunk_of_the_shipped_corpus(queries, chunks):
    broken = find_broken_labels(queries, chunks)
    assert [str(b) for b in broken] == []


def test_keyword_precedent_and_topic_queries_are_split_about_half_each(queries):
    for qtype, at_least in (("keyword", 20), ("paraphrase", 30), ("topic", 20)):
        assert len(select_queries(queries, split="test", types=[qtype])) >= at_least, qtype
    # the older kinds were used to calibrate the coverage rule: development data only
    older = select_queries(queries, types=["factual", "cross_script", "unanswerable"])
    assert {q.split for q in older} == {"dev"}


def test_exact_keyword_labels_are_every_chunk_that_contains_the_term(queries, chunks):
    notes = _notes()
    exact = [q for q in queries if notes[q.id].startswith("exact-match labels")]
    assert len(exact) >= 40
    wrong = []
    for q in exact:
        term = match_key(q.query)
        containing = {c.chunk_id for c in chunks if term in match_key(c.text)}
        per_label = [{c.chunk_id for c in chunks if passage_matches(p, c)} for p in q.relevant]
        labelled = set().union(*per_label)
        if labelled != containing or any(len(m) != 1 for m in per_label):
            wrong.append(f"{q.id} {q.query}: labelled {len(labelled)}, contain {len(containing)}")
    assert wrong == []


def test_a_precedent_names_the_one_passage_its_sentence_comes_from(queries, chunks):
    notes = _notes()
    precedents = [q for q in queries if notes[q.id].startswith("precedent")]
    assert len(precedents) >= 60
    for q in precedents:
        assert len(q.relevant) == 1, q.id
        matched = [c for c in chunks if passage_matches(q.relevant[0], c)]
        assert len(matched) == 1, q.id
