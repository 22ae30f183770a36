"""``assistant eval``: JSON metrics for a BEIR folder, saved runs and their comparison,
label checking, and clear errors for bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.cli import main

REPO = Path(__file__).resolve().parents[2]

PASSAGES = {
    "d1": "严格落实双减政策，减轻学生过重作业负担。",
    "d2": "使用校车的学校应当建立健全校车安全管理制度。",
    "d3": "每年九月十日为教师节。",
    "d4": "大熊猫主要生活在四川的竹林里。",
    "d5": "萬里長城是古代修築的軍事工程。",
}
QUERIES = {"q1": "双减 作业负担", "q2": "校车安全管理", "q3": "教师节是哪天", "q4": "长城"}
QRELS = {"q1": "d1", "q2": "d2", "q3": "d3", "q4": "d5"}


@pytest.fixture
def beir_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny_beir"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": "", "text": v}, ensure_ascii=False) + "\n"
                for k, v in PASSAGES.items()), encoding="utf-8")  # fmt: skip
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": k, "text": v}, ensure_ascii=False) + "\n"
                for k, v in QUERIES.items()), encoding="utf-8")  # fmt: skip
    (folder / "qrels.tsv").write_text("".join(f"{q}\t{d}\t1\n" for q, d in QRELS.items()),
                                      encoding="utf-8")  # fmt: skip
    return folder


@pytest.fixture
def env(monkeypatch, tmp_path, embedding_cache_dir, embedder):
    """Run in a scratch folder, with the session's model (load_embedder returns it)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(embedding_cache_dir))
    return tmp_path


@pytest.mark.slow
def test_beir_json_prints_metrics_and_writes_nothing(env, beir_dir, capsys):
    code = main(["eval", "--beir", str(beir_dir), "--json", "--mode", "bm25", "--per-doc", "0",
                 "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    (ds,) = data["datasets"]
    assert ds["name"].endswith("tiny_beir") and ds["kind"] == "beir"
    assert ds["n_queries"] == 4 and ds["n_passages"] == 5
    (cfg,) = ds["configs"]
    assert cfg["name"] == "bm25"
    assert cfg["metrics"]["hit@1"] == 1.0  # each query shares its words with one passage only
    assert set(cfg["latency"]) == {"p50_ms", "p95_ms", "mean_ms"}
    assert "per_query" not in cfg
    assert not (env / "eval").exists()  # --json alone saves no files


@pytest.mark.slow
def test_saved_runs_and_their_comparison(env, beir_dir, capsys, monkeypatch):
    args = ["eval", "--beir", str(beir_dir), "--mode", "bm25", "--mode", "hybrid", "--quiet"]
    assert main([*args, "--out", str(env / "before")]) == 0
    monkeypatch.setenv("ASSISTANT_DENSE_WEIGHT", "0")  # hybrid becomes BM25 order
    assert main([*args, "--limit", "3", "--out", str(env / "after")]) == 0
    out = capsys.readouterr().out
    assert "| bm25 |" in out and "| hybrid |" in out  # the markdown table on stdout
    for name in ("results.json", "report.md", "chart.png"):
        assert (env / "after" / name).is_file()
    report = (env / "after" / "report.md").read_text(encoding="utf-8")
    assert "seeded sample of 3 of 4, seed 13" in report

    assert main(["eval", "--compare", str(env / "before"), str(env / "after"), "--json"]) == 0
    cmp = json.loads(capsys.readouterr().out)
    assert (cmp["before"], cmp["after"]) == ("before", "after")
    metrics = {(d["config"], d["metric"]) for d in cmp["deltas"]}
    assert ("hybrid", "ndcg@10") in metrics and ("bm25", "p95_ms") in metrics
    for d in cmp["deltas"]:
        assert d["delta"] == pytest.approx(d["after"] - d["before"])
    assert main(["eval", "--compare", str(env / "before"), str(env / "after")]) == 0
    assert "→" in capsys.readouterr().out


def test_bad_inputs_get_clear_errors(tmp_path, capsys):
    assert main(["eval", "--beir", str(tmp_path / "missing")]) == 2
    assert "not a directory (expected a BEIR dataset folder)" in capsys.readouterr().err
    assert main(["eval", "--compare", str(tmp_path), str(tmp_path)]) == 2
    assert "no results.json" in capsys.readouterr().err
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "a", "query": "x", "type": "topic", "relevant": []}\n', encoding="utf-8")
    assert main(["eval", "--policy", str(bad), "--corpus", str(tmp_path)]) == 2
    assert "q.jsonl:1:" in capsys.readouterr().err
    dev_only = tmp_path / "dev.jsonl"
    dev_only.write_text(
        '{"id": "a", "query": "x", "type": "unanswerable", "split": "dev", "relevant": []}\n',
        encoding="utf-8",
    )
    args = ["eval", "--policy", str(dev_only), "--policy-split", "test", "--corpus", str(tmp_path)]
    assert main(args) == 2
    assert "dev.jsonl: no query in split 'test'" in capsys.readouterr().err


def test_check_labels_reports_quotes_that_match_no_chunk(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "工作要点\n一、安全\n1.高度重视防溺水安全教育。\n", encoding="utf-8"
    )
    qs = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "ok",
            "query": "防溺水",
            "type": "keyword",
            "relevant": [{"file": "a.txt", "quote": "重視防溺水", "grade": 2}],
        },
        {
            "id": "bad",
            "query": "双减",
            "type": "keyword",
            "relevant": [{"file": "a.txt", "quote": "落实双减", "grade": 2}],
        },
    ]
    qs.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    code = main(["eval", "--check-labels", "--policy", str(qs), "--corpus", str(corpus)])
    out = capsys.readouterr().out
    assert code == 1
    assert "broken label: bad: a.txt: '落实双减': quote not found" in out
    assert "2 queries, 2 labels, 1 broken" in out


@pytest.mark.slow
def test_an_up_to_date_product_index_is_evaluated_without_embedding(
    env, embedder, capsys, monkeypatch
):
    from assistant.config import Settings
    from assistant.search.builder import build_index

    corpus = env / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "工作要点\n一、安全\n1.高度重视防溺水安全教育。\n2.严格落实双减政策。\n", encoding="utf-8"
    )
    build_index([corpus], env / "index", Settings(), embedder=embedder, progress=False)
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(env / "cache"))  # the embedder stays loaded
    qs = env / "q.jsonl"
    row = {"id": "k", "query": "防溺水", "type": "keyword",
           "relevant": [{"file": "a.txt", "quote": "防溺水安全教育", "grade": 2}]}  # fmt: skip
    qs.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")

    code = main(["eval", "--policy", str(qs), "--corpus", str(corpus), "--json", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "using the index in index: it holds the same 1 file of" in err
    (ds,) = json.loads(out)["datasets"]
    assert ds["index_reused"] is True and ds["configs"][0]["metrics"]["hit@1"] == 1.0
    assert not (env / "cache" / "eval-index").exists()  # no evaluation index was built


@pytest.mark.slow
def test_answer_outcomes_say_whether_a_labelled_passage_is_cited_or_shown(
    env, corpus_index_dir, capsys
):
    index = env / "index"
    shutil.copytree(corpus_index_dir, index)  # --answers brings it up to date: not the session's
    label = {"file": "青岛市职业教育条例(2015-09-24).md", "grade": 2,
             "quote": "职业学校安排教师和管理人员担任班主任的，应当支付相应津贴"}  # fmt: skip
    questions = [
        # the rules name the allowance but give no amount: related provisions, this one among them
        {"id": "a1", "question": "乡村学校的班主任津贴每月发多少", "answerable": True,
         "kind": "answerable", "split": "dev", "relevant": [label]},
        {"id": "o1", "question": "驾照科目二考试怎么练车", "answerable": False,
         "kind": "off_topic", "split": "dev", "relevant": []},
    ]  # fmt: skip
    qs = env / "answers.jsonl"
    qs.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), "utf-8")
    argv = ["eval", "--answers", str(qs), "--corpus", str(REPO / "corpus"), "--index-dir",
            str(index), "--quiet"]  # fmt: skip

    assert main(argv) == 0
    out = capsys.readouterr().out
    shown = "1 (a labelled passage shown: 1)"
    assert f"| dev | answerable | 1 | 0 | {shown} | 0 | 0.0% answered |" in out
    assert "| dev | off_topic | 1 | 0 | 0 | 1 | 100.0% refused |" in out
