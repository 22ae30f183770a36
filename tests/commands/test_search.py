"""`assistant search` on a real index of the five seeds, run in-process through the CLI."""

from __future__ import annotations

import json

import pytest

from assistant.cli import main

pytestmark = pytest.mark.slow

ZL = "001_a2a3b87c571a2f00.txt"  # 庄浪县, simplified
TRAD = "004_48a2cbb17aecac52.txt"  # four 2024 plans, traditional


@pytest.fixture
def search(seed_index_dir, embedder, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray assistant.toml

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["search", *argv, "--index-dir", str(seed_index_dir)])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def hits_of(search, *argv):
    code, out, err = search(*argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_shuang_jian_items_of_both_scripts_are_in_the_top_5(search):
    hits = hits_of(search, "各地如何落实双减", "--k", "5")
    assert len(hits) == 5
    assert any(h["file"] == ZL and h["label"] == "22." and "双减" in h["text"] for h in hits)
    assert any(h["file"] == TRAD and "雙減" in h["text"] for h in hits)
    for h in hits:
        assert {
            "file",
            "doc_id",
            "title",
            "region",
            "year",
            "path",
            "label",
            "text",
            "score",
            "ranks",
        } <= set(h)
        assert set(h["ranks"]) == {"dense", "bm25"}


def test_traditional_query_finds_simplified_text(search):
    hits = hits_of(search, "嚴格落實雙減政策，規範課後服務", "--k", "3")
    assert hits[0]["file"] == ZL and "双减" in hits[0]["text"]


def test_simplified_query_finds_traditional_text(search):
    hits = hits_of(search, "持续巩固提升双减成效，开展五大行动", "--k", "3")
    assert hits[0]["file"] == TRAD and "鞏固提升“雙減”成效" in hits[0]["text"]


@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_single_modes(search, mode):
    hits = hits_of(search, "课后服务", "--mode", mode, "--k", "4")
    assert len(hits) == 4 and all(set(h["ranks"]) == {mode} for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_filters(search):
    hits = hits_of(search, "教育", "--region", "庄浪县")
    assert hits and {h["region"] for h in hits} == {"庄浪县"}
    assert {h["year"] for h in hits_of(search, "教育", "--year", "2024")} == {2024}
    assert {h["year"] for h in hits_of(search, "教育", "--year", "2010-2015")} == {2013}
    assert {h["file"] for h in hits_of(search, "教育", "--file", TRAD)} == {TRAD}
    doc = "004_48a2cbb17aecac52#3"
    assert {h["doc_id"] for h in hits_of(search, "教育", "--doc", doc)} == {doc}
    assert hits_of(search, "教育", "--region", "火星市") == []


def test_per_doc_spreads_results(search):
    plain = hits_of(search, "课后服务", "--k", "6")
    spread = hits_of(search, "课后服务", "--k", "6", "--per-doc", "1")
    assert len({h["doc_id"] for h in spread}) == 6
    assert len({h["doc_id"] for h in plain}) < 6


def test_phrase_search(search):
    hits = hits_of(search, "持续巩固提升“双减”成效", "--phrase")
    assert [h["file"] for h in hits] == [TRAD] and hits[0]["ranks"] == {"phrase": 1}


def test_precedent_lists_exact_occurrences_then_one_similar_wording_per_document(search):
    found = hits_of(search, "持续巩固提升“双减”成效", "--precedent")
    assert [h["file"] for h in found["exact"]] == [TRAD]
    similar = found["similar"]
    assert similar and len({h["doc_id"] for h in similar}) == len(similar)
    assert found["exact"][0]["chunk_id"] not in {h["chunk_id"] for h in similar}
    code, out, _ = search("持续巩固提升“双减”成效", "--precedent")
    assert code == 0 and out.startswith("完全相同的表述（1）\n 1. ")
    assert "语义相近的表述（每份文件一条）" in out
    code, _, err = search("双减", "--precedent", "--phrase")
    assert code == 2 and "--phrase cannot be combined with --precedent" in err


def test_human_output_is_numbered_with_source_path_and_ranks(search):
    code, out, _ = search("各地如何落实双减", "--k", "3")
    assert code == 0
    assert out.startswith(" 1. ")
    assert " 2. " in out and " 3. " in out and " 4. " not in out
    assert "2023年全县教育工作要点  (庄浪县 · 2023)" in out
    assert "六、推动全面育人有效落实" in out and "› 22." in out
    assert ZL in out and "dense #" in out and "bm25 #" in out


def test_batch_queries_print_one_json_line_per_query(search, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "q1", "query": "各地如何落实双减"}\n\n{"id": 2, "query": "教师培训"}\n',
        encoding="utf-8",
    )
    code, out, _ = search("--queries", str(queries), "--json", "--k", "3")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["id"] for x in lines] == ["q1", 2]
    assert all(len(x["hits"]) == 3 for x in lines)
    assert any(h["file"] == ZL for h in lines[0]["hits"])


def test_bad_batch_line_names_the_line(search, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "q1", "query": "双减"}\n{"query": "no id"}\n', encoding="utf-8")
    code, _, err = search("--queries", str(queries))
    assert code == 2 and "q.jsonl:2" in err


def test_documents_lists_each_document_once_with_its_items(search):
    docs = hits_of(search, "庄浪县高考目标", "--documents", "--k", "3")
    assert 1 <= len(docs) <= 3
    assert len({d["doc_id"] for d in docs}) == len(docs)
    assert docs[0]["file"] == ZL and docs[0]["items"]
    assert [d["score"] for d in docs] == sorted((d["score"] for d in docs), reverse=True)
    code, out, _ = search("庄浪县高考目标", "--documents", "--k", "2")
    assert code == 0 and out.startswith(" 1. ") and ZL in out
    code, _, err = search("双减", "--documents", "--per-doc", "2")
    assert code == 2 and "--documents" in err


def test_usage_errors(search):
    assert search()[0] == 2
    with pytest.raises(SystemExit) as exited:  # argparse: one line, exit status 2
        search("双减", "--year", "soon")
    assert exited.value.code == 2


def test_missing_index_says_how_to_build_one(capsys, tmp_path):
    assert main(["search", "双减", "--index-dir", str(tmp_path / "none")]) == 2
    assert "assistant index" in capsys.readouterr().err


def test_index_of_another_model_says_what_to_do(search):
    code, _, err = search("双减", "--model", "BAAI/bge-small-zh-v1.5")
    assert code == 2
    assert "ASSISTANT_EMBED_MODEL=intfloat/multilingual-e5-small" in err and "--rebuild" in err


def test_search_on_an_existing_index_never_imports_torch(seed_index_dir, embedding_cache_dir):
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from assistant.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers')"
        " if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(embedding_cache_dir)}
    done = subprocess.run(
        [sys.executable, "-c", script, "search", "各地如何落实双减", "--k", "3", "--json",
         "--index-dir", str(seed_index_dir)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 3  # dense + BM25 answered
    assert "HEAVY=\n" in done.stderr or done.stderr.rstrip().endswith("HEAVY=")
