"""BEIR folders (plain and gzip corpus, qrels with and without header, qrels/ layout), the
quote-labelled policy query set loader with its dev/test split, and the answerability set loader."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from assistant.evaluation.datasets import (
    DatasetError,
    beir_chunks,
    in_split,
    load_answer_questions,
    load_beir,
    load_policy_queries,
    read_qrels,
    select_queries,
    split_passage,
)

CORPUS = [
    {"_id": "d1", "title": "双减", "text": "严格落实双减政策。减轻作业负担。"},
    {"_id": "d2", "title": "", "text": "學校應當建立安全制度。"},
    {"_id": "d3", "title": "校车", "text": "校车应当定期检验。"},
]
QUERIES = [
    {"_id": "q1", "text": "双减怎么落实"},
    {"_id": "q2", "text": "学校安全制度"},
    {"_id": "q3", "text": "没有标注的问题"},
]


def _write_jsonl(path: Path, rows: list[dict], gz: bool = False) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")


def make_beir(folder: Path, *, gz: bool = False, header: bool = True, layout: str = "flat") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write_jsonl(folder / ("corpus.jsonl.gz" if gz else "corpus.jsonl"), CORPUS, gz=gz)
    _write_jsonl(folder / "queries.jsonl", QUERIES)
    rows = "q1\td1\t1\nq2\td2\t2\nq2\td3\t0\n"
    text = ("query-id\tcorpus-id\tscore\n" if header else "") + rows
    if layout == "flat":
        (folder / "qrels.tsv").write_text(text, encoding="utf-8")
    else:
        (folder / "qrels").mkdir()
        (folder / "qrels" / "test.tsv").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("header", [True, False], ids=["header", "no-header"])
def test_load_beir_plain_and_gzip_with_and_without_header(tmp_path, gz, header):
    ds = load_beir(make_beir(tmp_path / "set", gz=gz, header=header))
    assert set(ds.corpus) == {"d1", "d2", "d3"}
    assert ds.corpus["d1"].title == "双减"
    assert ds.corpus["d2"].text == "學校應當建立安全制度。"
    # q3 has no judgement and the 0-score row is a judged non-relevant document: both left out
    assert ds.queries == {"q1": "双减怎么落实", "q2": "学校安全制度"}
    assert ds.qrels == {"q1": {"d1": 1}, "q2": {"d2": 2}}
    assert ds.skipped_queries == 1


def test_load_beir_standard_qrels_folder_layout(tmp_path):
    ds = load_beir(make_beir(tmp_path / "set", layout="qrels-dir"))
    assert ds.qrels == {"q1": {"d1": 1}, "q2": {"d2": 2}}


def test_read_qrels_rejects_a_bad_score_after_the_first_line(tmp_path):
    p = tmp_path / "qrels.tsv"
    p.write_text("q1\td1\t1\nq2\td2\tx\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"qrels.tsv:2: score 'x'"):
        read_qrels(p)


def test_load_beir_missing_pieces_are_named(tmp_path):
    folder = make_beir(tmp_path / "set")
    (folder / "queries.jsonl").unlink()
    with pytest.raises(DatasetError, match="no queries.jsonl"):
        load_beir(folder)
    with pytest.raises(DatasetError, match="not a directory"):
        load_beir(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match=r"no corpus\.jsonl or corpus\.jsonl\.gz"):
        load_beir(empty)


def test_load_beir_qrels_naming_an_unknown_document_is_an_error(tmp_path):
    folder = make_beir(tmp_path / "set")
    (folder / "qrels.tsv").write_text("q1\tnope\t1\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="not in the corpus"):
        load_beir(folder)


def test_limited_sample_is_fixed_by_the_seed(tmp_path):
    ds = load_beir(make_beir(tmp_path / "set"))
    a, b = ds.limited(1), ds.limited(1)
    assert list(a.queries) == list(b.queries) and len(a.queries) == 1
    assert set(a.qrels) == set(a.queries)
    assert ds.limited(None) is ds


def test_split_passage_cuts_at_sentence_ends_within_the_limit():
    text = "第一句话很长很长。" * 10 + "没有句号的尾巴"
    parts = split_passage(text, max_chars=30)
    assert "".join(parts) == text
    assert all(len(p) <= 30 for p in parts)
    assert all(p.endswith("。") for p in parts[:-1])
    # a single sentence longer than the limit is cut hard rather than kept whole
    assert [len(p) for p in split_passage("长" * 25, max_chars=10)] == [10, 10, 5]


def test_beir_chunks_keep_the_corpus_id_and_normalize_search_text(tmp_path):
    ds = load_beir(make_beir(tmp_path / "set"))
    long_text = "这是一个很长的句子。" * 120  # 1,200 characters
    ds.corpus["d4"] = type(ds.corpus["d1"])("d4", "长文", long_text)
    chunks = beir_chunks(ds, max_chars=500)
    d4 = [c for c in chunks if c.doc.doc_id == "d4"]
    assert len(d4) == 3 and all(len(c.text) <= 500 for c in d4)
    assert "".join(c.text for c in d4) == long_text
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    d2 = next(c for c in chunks if c.doc.doc_id == "d2")
    assert d2.doc.script == "traditional"
    assert d2.text == "學校應當建立安全制度。"  # display text stays original
    assert "学校应当" in d2.search_text  # search form is simplified
    d1 = next(c for c in chunks if c.doc.doc_id == "d1")
    assert d1.doc.title == "双减" and d1.text == CORPUS[0]["text"]  # the index prepends titles


def _write_policy(path: Path, rows: list[dict]) -> Path:
    _write_jsonl(path, rows)
    return path


def test_load_policy_queries_reads_labels(tmp_path):
    p = _write_policy(
        tmp_path / "q.jsonl",
        [
            {
                "id": "a",
                "query": "双减",
                "type": "topic",
                "relevant": [{"file": "001.txt", "quote": "严格落实", "grade": 2}],
            },
            {"id": "b", "query": "高校科研经费", "type": "unanswerable", "relevant": []},
        ],
    )
    qs = load_policy_queries(p)
    assert [q.id for q in qs] == ["a", "b"]
    assert qs[0].relevant[0].grade == 2 and qs[0].answerable
    assert not qs[1].answerable


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "a", "query": "x", "type": "nonsense", "relevant": []}, "type 'nonsense'"),
        ({"id": "a", "query": "x", "type": "topic", "relevant": []}, "at least one"),
        (
            {
                "id": "a",
                "query": "x",
                "type": "unanswerable",
                "relevant": [{"file": "f", "quote": "q", "grade": 1}],
            },
            "no relevant passages",
        ),
        (
            {
                "id": "a",
                "query": "x",
                "type": "topic",
                "relevant": [{"file": "f", "quote": "q", "grade": 3}],
            },
            "grade must be 1 or 2",
        ),
        (
            {"id": "a", "query": "x", "type": "topic", "relevant": [{"file": "f"}]},
            "needs 'file' and 'quote'",
        ),
    ],
)
def test_load_policy_queries_rejects_bad_rows_with_line_numbers(tmp_path, row, message):
    p = _write_policy(tmp_path / "q.jsonl", [row])
    with pytest.raises(DatasetError, match=rf"q\.jsonl:1: .*{message}"):
        load_policy_queries(p)


def test_load_policy_queries_rejects_duplicate_ids(tmp_path):
    row = {"id": "a", "query": "x", "type": "unanswerable", "relevant": []}
    p = _write_policy(tmp_path / "q.jsonl", [row, row])
    with pytest.raises(DatasetError, match=r"q\.jsonl:2: duplicate id 'a'"):
        load_policy_queries(p)


def test_policy_queries_carry_their_split_and_default_to_dev(tmp_path):
    rel = [{"file": "001.txt", "quote": "严格落实", "grade": 2}]
    p = _write_policy(
        tmp_path / "q.jsonl",
        [
            {"id": "a", "query": "双减", "type": "keyword", "relevant": rel},
            {"id": "b", "query": "一校一案", "type": "keyword", "split": "test", "relevant": rel},
            {"id": "c", "query": "怎么减负", "type": "topic", "split": "test", "relevant": rel},
            {"id": "d", "query": "科研经费", "type": "unanswerable", "relevant": []},
        ],
    )
    qs = load_policy_queries(p)
    assert [q.split for q in qs] == ["dev", "test", "test", "dev"]
    assert [q.id for q in select_queries(qs, split="test")] == ["b", "c"]
    assert [q.id for q in select_queries(qs, split="test", types=["keyword"])] == ["b"]
    assert [q.id for q in select_queries(qs, types=["keyword", "unanswerable"])] == ["a", "b", "d"]
    assert [q.id for q in in_split(qs, "dev")] == ["a", "d"]
    assert len(select_queries(qs)) == 4


def test_a_split_or_type_that_does_not_exist_is_refused(tmp_path):
    row = {"id": "a", "query": "x", "type": "unanswerable", "split": "train", "relevant": []}
    with pytest.raises(DatasetError, match=r"q\.jsonl:1: split 'train' is not one of dev, test"):
        load_policy_queries(_write_policy(tmp_path / "q.jsonl", [row]))
    with pytest.raises(DatasetError, match="split 'validation'"):
        select_queries([], split="validation")
    with pytest.raises(DatasetError, match="unknown query type"):
        select_queries([], types=["precedents"])


def _answer_row(**overrides):
    row = {
        "id": "ans-1",
        "question": "老师能打学生吗",
        "answerable": True,
        "kind": "answerable",
        "split": "dev",
        "relevant": [{"file": "教师法.md", "quote": "不得体罚学生", "grade": 2}],
        "note": "colloquial",
    }
    return {**row, **overrides}


def test_load_answer_questions_reads_kinds_splits_and_labels(tmp_path):
    rows = [
        _answer_row(),
        _answer_row(
            id="near-1", question="北大录取线", answerable=False, kind="near_miss", relevant=[]
        ),
        _answer_row(
            id="off-1",
            question="公积金提取",
            answerable=False,
            kind="off_topic",
            split="test",
            relevant=[],
        ),
    ]
    qs = load_answer_questions(_write_policy(tmp_path / "a.jsonl", rows))
    assert [(q.id, q.kind, q.split, q.answerable) for q in qs] == [
        ("ans-1", "answerable", "dev", True),
        ("near-1", "near_miss", "dev", False),
        ("off-1", "off_topic", "test", False),
    ]
    assert qs[0].relevant[0].quote == "不得体罚学生" and qs[0].note == "colloquial"
    assert [q.id for q in in_split(qs, "test")] == ["off-1"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "maybe"}, "kind 'maybe'"),
        ({"answerable": False}, "'answerable' must be True for kind 'answerable'"),
        ({"relevant": []}, "needs at least one relevant passage"),
        ({"split": None}, "split None is not one of dev, test"),
        ({"question": "  "}, "empty question"),
        (
            {"kind": "near_miss", "answerable": False},
            "an unanswerable one has none",
        ),
    ],
)
def test_load_answer_questions_rejects_bad_rows_with_line_numbers(tmp_path, overrides, message):
    p = _write_policy(tmp_path / "a.jsonl", [_answer_row(**overrides)])
    with pytest.raises(DatasetError, match=rf"a\.jsonl:1: .*{message}"):
        load_answer_questions(p)


def test_load_answer_questions_rejects_duplicate_ids(tmp_path):
    p = _write_policy(tmp_path / "a.jsonl", [_answer_row(), _answer_row()])
    with pytest.raises(DatasetError, match=r"a\.jsonl:2: duplicate id 'ans-1'"):
        load_answer_questions(p)
