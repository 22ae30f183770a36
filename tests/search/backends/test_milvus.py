"""The Milvus backend on Milvus Lite, through the builder and the retriever: one-file updates
and deletes, snapshots, filters pushed down, exact phrase search, a Lite file open in another
process, two processes sharing one Milvus (a ``milvus-lite server``), and a killed update.
(The search assertions shared with the embedded backend run in tests/search/test_retriever.py.)"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.config import Settings
from assistant.search import Retriever, SearchFilters, build_index
from assistant.search.analysis import Analyzer
from assistant.search.backends.milvus import filter_expr, lex_text, lex_word, literal
from assistant.search.store import IndexLockedError, IndexMismatchError

pytest.importorskip("milvus_lite")
pytestmark = pytest.mark.slow

ITEMS = 60  # more than the retriever's candidate depth for k=1 (50)
A, B, C = "a.txt", "b.txt", 'c"引号.txt'


def write_corpus(root: Path) -> Path:
    """A: 60 items on 双减 (庄浪县, 2023); B: two items on school buildings (佛山市, 2022);
    C: a file whose name holds a double quote (2021, no region)."""
    root.mkdir(parents=True, exist_ok=True)
    items = "\n".join(f"{i}.第{i}项：巩固“双减”成果，规范课后服务。" for i in range(1, ITEMS + 1))
    (root / A).write_text(f"庄浪县教育局2023年教育工作要点\n\n{items}\n", encoding="utf-8")
    (root / B).write_text(
        "佛山市2022年校舍安全工作总结\n\n1.完成校舍安全排查，加固危旧校舍。\n"
        "2.学校食堂完成率达到95%以上。\n",
        encoding="utf-8",
    )
    (root / C).write_text(
        "2021年教师培训计划\n\n一、开展教师全员培训。\n二、组织骨干教师研修。\n", encoding="utf-8"
    )
    return root


@pytest.fixture
def settings(embedding_cache_dir) -> Settings:
    return Settings(cache_dir=embedding_cache_dir, backend="milvus")


@pytest.fixture(scope="module")
def built_once(tmp_path_factory, embedder, embedding_cache_dir) -> Path:
    """A corpus and its Milvus Lite index (index/milvus.db), built once for the module."""
    root = tmp_path_factory.mktemp("milvus-built")
    settings = Settings(cache_dir=embedding_cache_dir, backend="milvus")
    corpus = write_corpus(root / "corpus")
    report = build_index([corpus], root / "index", settings, embedder=embedder, progress=False)
    assert not report.failed and report.chunks == ITEMS + 4
    return root


@pytest.fixture
def built(built_once, tmp_path):
    """A copy of the corpus and its Milvus Lite index (index_dir/milvus.db), the test's own."""
    for name in ("corpus", "index"):
        shutil.copytree(built_once / name, tmp_path / name)
    return tmp_path / "corpus", tmp_path / "index"


def texts(hits) -> list[str]:
    return [h.chunk.text for h in hits]


def test_one_changed_file_is_replaced_and_a_deleted_one_removed(built, embedder, settings):
    corpus, index_dir = built
    old = Retriever.open(index_dir, settings, embedder=embedder)
    query = old.embedder().embed_queries(["校舍"])[0]
    b_rows = old.backend.dense_search(query, 10, SearchFilters(file=B))

    text = (corpus / A).read_text(encoding="utf-8")
    (corpus / A).write_text(text.replace("第7项：", "第7项：全面推行延时托管，"), encoding="utf-8")
    report = build_index([corpus], index_dir, settings, embedder=embedder, progress=False)
    assert report.updated == [A] and report.unchanged == 2
    assert report.embedded == 1  # the one edited item; the other 59 vectors were reused

    # The open retriever still answers from the version it opened, until it reopens.
    assert old.is_stale()
    assert old.phrase_search("延时托管") == []
    new = old.reopen()
    assert [h.chunk.label for h in new.phrase_search("延时托管")] == ["7."]
    assert texts(new.search("延时托管", k=1, mode="bm25"))[0].startswith("7.第7项：全面推行")
    assert len(new) == ITEMS + 4 and len(new.phrase_search("巩固“双减”成果", k=100)) == ITEMS
    # B was not rewritten: its rows keep their ids.
    assert new.backend.dense_search(query, 10, SearchFilters(file=B)) == b_rows

    (corpus / C).unlink()
    report = build_index([corpus], index_dir, settings, embedder=embedder, progress=False)
    assert report.removed == [C] and report.embedded == 0
    newest = new.reopen()
    assert {s.meta.file for s in newest.documents()} == {A, B}
    assert newest.phrase_search("骨干教师") == [] and len(newest) == ITEMS + 2
    assert C not in newest.manifest.files
    for r in (old, new, newest):
        r.close()


def test_filters_are_pushed_down_to_milvus(built, embedder, settings):
    _corpus, index_dir = built
    r = Retriever.open(index_dir, settings, embedder=embedder)
    query = "如何落实双减课后服务"
    # Unfiltered, the 佛山市 items are not among the dense candidates (A's 60 items fill them) ...
    assert not any("校舍" in t for t in texts(r.search(query, k=50, mode="dense")))
    # ... so a region filter applied after ranking would find nothing; pushed down, it does.
    for mode in ("dense", "bm25", "hybrid"):
        hits = r.search(query, k=1, mode=mode, filters=SearchFilters(region="佛山市"))
        if mode == "bm25":  # no shared word: BM25 returns only keyword matches
            assert hits == []
        else:
            assert [h.chunk.doc.region for h in hits] == ["佛山市"]
    year = r.search("教师", k=5, mode="dense", filters=SearchFilters(year=(2020, 2021)))
    assert {h.chunk.doc.file for h in year} == {C}
    quoted = r.search("培训", k=5, filters=SearchFilters(file=C))  # a quote in the file name
    assert {h.chunk.doc.file for h in quoted} == {C}
    assert r.search("培训", k=5, filters=SearchFilters(region='佛山"市')) == []
    r.close()


def test_filter_expression_escapes_values():
    expr = filter_expr(SearchFilters(year=(2023, 2020), region='a"b\\c', file="x.txt"))
    assert expr == (
        '(year >= 2020 and year <= 2023) and region == "a\\"b\\\\c" and '
        '(file == "x.txt" or source_path == "x.txt" or file_rel == "x.txt")'
    )
    assert filter_expr(None) == filter_expr(SearchFilters()) == ""
    assert literal("行\n") == '"行\\n"'


def test_milvus_tokenizer_keeps_each_analyzer_token_as_one_word():
    from milvus_lite.analyzer.factory import create_analyzer

    from assistant.search.backends.milvus import ANALYZER

    analyzer = create_analyzer(ANALYZER)
    words = Analyzer.from_passages(["推行“趴改躺”午休"])
    seen: set[str] = set()
    for text in ("嚴格落實“雙減”，推行趴改躺午休。", "v1.5版 2023-2025年 ____市 c++ 95%以上"):
        tokens = words.tokens(text)
        assert "趴改躺" in tokens or "c++" in tokens
        assert analyzer.tokenize(lex_text(tokens)) == [lex_word(t) for t in tokens]
        seen.update(tokens)
    assert len({lex_word(t) for t in seen}) == len(seen)  # distinct tokens stay distinct


def write_coinage_corpus(root: Path) -> Path:
    """Items that match some queries only through a quoted coinage or a Han bigram."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "q.txt").write_text(
        "某县2023年午休改革方案\n\n1.推行“趴改躺”午休，让学生躺着睡。\n"
        "2.巩固双减成果，完善课后服务。\n3.午休时间不少于30分钟，学生可以趴着休息。\n",
        encoding="utf-8",
    )
    (root / "o.txt").write_text(
        "另一县2022年工作要点\n\n1.推进课后延时服务，丰富社团活动。\n"
        "2.减少作业总量，成立课后服务工作专班。\n3.改造学生宿舍，让学生睡得好。\n",
        encoding="utf-8",
    )
    return root


def bm25_by_chunk(r: Retriever, query: str) -> dict[str, float]:
    """Every BM25 match of ``query`` in the index, by chunk id."""
    found = r.backend.lexical_search(r.lexical_query(query), 100)
    chunks = r.backend.chunks([i for i, _ in found])
    return {chunks[i].chunk_id: score for i, score in found}


def test_bm25_matches_the_embedded_index_with_the_corpus_dictionary_and_bigrams(
    tmp_path, embedder, settings
):
    corpus = write_coinage_corpus(tmp_path / "corpus")
    indexes = {}
    for name, s in (("embedded", replace(settings, backend="embedded")), ("milvus", settings)):
        build_index([corpus], tmp_path / name, s, embedder=embedder, progress=False)
        indexes[name] = Retriever.open(tmp_path / name, s, embedder=embedder)
    embedded, milvus = indexes["embedded"], indexes["milvus"]
    assert milvus.backend.analyzer == embedded.backend.analyzer
    assert "趴改躺" in milvus.backend.analyzer.words
    ratios = []
    # A quoted coinage, a bigram-only match (减成: jieba cuts 双减/成果), plain words.
    for query in ("趴改躺", "减成", "学生午休", "课后服务", "让学生躺着睡"):
        e, m = bm25_by_chunk(embedded, query), bm25_by_chunk(milvus, query)
        assert set(m) == set(e) and e, query
        ratios += [m[c] / e[c] for c in e]
        assert texts(milvus.search(query, k=1, mode="bm25")) == texts(
            embedded.search(query, k=1, mode="bm25")
        )
    # The same tokens everywhere: Milvus's BM25 is the embedded score times one constant.
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-4)
    assert texts(milvus.search("趴改躺", k=1, mode="bm25"))[0].startswith("1.推行“趴改躺”")
    assert texts(milvus.search("减成", k=1, mode="bm25"))[0].startswith("2.巩固双减成果")
    for r in indexes.values():
        r.close()

    # An update keeps the stored dictionary and adds the new file's quoted terms.
    (corpus / "n.txt").write_text("新方案\n\n1.推广“一校一案”，每校一策。\n", encoding="utf-8")
    build_index([corpus], tmp_path / "milvus", settings, embedder=embedder, progress=False)
    r = Retriever.open(tmp_path / "milvus", settings, embedder=embedder)
    assert {"趴改躺", "一校一案"} <= set(r.backend.analyzer.words)
    assert texts(r.search("一校一案", k=1, mode="bm25"))[0].startswith("1.推广“一校一案”")
    assert texts(r.search("趴改躺", k=1, mode="bm25"))[0].startswith("1.推行“趴改躺”")
    r.close()


def test_an_index_of_the_older_layout_must_be_rebuilt(built, embedder, settings):
    corpus, index_dir = built
    r = Retriever.open(index_dir, settings, embedder=embedder)
    client, state = r.backend._client, r.backend._state
    # Make it look like a layout-1 index: the chunks under the old name, no layout in the header.
    legacy = state.collection.replace("_chunks_l2_", "_chunks_")
    client.release_collection(state.collection)
    client.rename_collection(state.collection, legacy)
    key = f"version:{state.version}"
    row = client.query(r.backend._t.catalog, filter=f'key == "{key}"', output_fields=["*"])[0]
    header = json.loads(row["data"])
    header.pop("layout")
    header["collection"] = legacy
    client.upsert(r.backend._t.catalog, [{**row, "data": json.dumps(header, ensure_ascii=False)}])
    r.close()

    with pytest.raises(IndexMismatchError, match=r"older policy-assistant.*--rebuild"):
        Retriever.open(index_dir, settings, embedder=embedder)
    # `assistant index` (no --rebuild needed) rebuilds it and drops the old collection.
    report = build_index([corpus], index_dir, settings, embedder=embedder, progress=False)
    assert sorted(report.added) == sorted([A, B, C]) and not report.failed
    r = Retriever.open(index_dir, settings, embedder=embedder)
    assert r.search("双减成果", k=1, mode="bm25")[0].chunk.doc.file == A
    assert len(r) == ITEMS + 4 and len(r.phrase_search("巩固“双减”成果", k=100)) == ITEMS
    assert legacy not in r.backend._client.list_collections()
    r.close()


def test_phrase_search_is_exact_with_percent_and_underscore(built, embedder, settings):
    _corpus, index_dir = built
    r = Retriever.open(index_dir, settings, embedder=embedder)
    assert texts(r.phrase_search("95%以上")) == ["2.学校食堂完成率达到95%以上。"]
    assert r.phrase_search("95_以上") == []  # "_" is not a wildcard to the user
    assert r.phrase_search("率达%") == []
    top = r.phrase_search("双减", k=3)
    assert len(top) == 3 and all(h.score == 1.0 for h in top)
    assert r.phrase_search("雙減", k=100, filters=SearchFilters(region="佛山市")) == []
    r.close()


def run_cli(*argv: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *argv], capture_output=True, text=True, env=env,
        cwd=cwd, timeout=600,
    )  # fmt: skip


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_BACKEND="milvus", ASSISTANT_CACHE_DIR=str(settings.cache_dir),
        HF_HUB_OFFLINE="1", **extra,
    )  # fmt: skip
    return env


def test_a_lite_file_open_in_another_process_is_refused_and_kept(built, embedder, settings):
    corpus, index_dir = built
    r = Retriever.open(index_dir, settings, embedder=embedder)  # holds the Lite database
    (corpus / B).unlink()
    proc = run_cli("index", str(corpus), "--index-dir", str(index_dir), env=cli_env(settings),
                   cwd=index_dir.parent)  # fmt: skip
    assert proc.returncode == 2
    assert "open in another process" in proc.stderr and "Traceback" not in proc.stderr
    assert not r.is_stale() and len(r.phrase_search("校舍")) == 1
    r.close()
    with pytest.raises(IndexLockedError):  # and the other way round: a writer held elsewhere
        holder = subprocess.Popen(
            [sys.executable, "-c", "import sys, time\n"
             "from pathlib import Path\n"
             "from assistant.config import Settings\n"
             "from assistant.search.backends.milvus import MilvusBackend\n"
             "b = MilvusBackend.open(Path(sys.argv[1]), Settings(backend='milvus'))\n"
             "print('open', flush=True)\n"
             "time.sleep(60)\n", str(index_dir)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert holder.stdout.readline().strip() == "open"
            build_index([corpus], index_dir, settings, embedder=embedder, progress=False)
        finally:
            holder.kill()
            holder.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lite_server(tmp_path):
    """A Milvus Lite database served over gRPC, as a Milvus server would be."""
    port = free_port()
    exe = Path(sys.executable).with_name("milvus-lite")
    proc = subprocess.Popen(
        [str(exe), "server", "--data-dir", str(tmp_path / "server.db"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("milvus-lite server did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def test_two_processes_share_one_milvus(tmp_path, lite_server, embedder, settings):
    corpus = write_corpus(tmp_path / "corpus")
    shared = replace(settings, milvus_uri=lite_server)
    index_dir = tmp_path / "index"
    build_index([corpus], index_dir, shared, embedder=embedder, progress=False)
    app = Retriever.open(index_dir, shared, embedder=embedder)  # e.g. one `assistant serve`
    env = cli_env(settings, ASSISTANT_MILVUS_URI=lite_server)

    # Another process reads the same index, and another one updates it (a deletion: no model).
    proc = run_cli("search", "--phrase", "校舍", "--json", "--index-dir", str(index_dir),
                   env=env, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert '"file": "b.txt"' in proc.stdout
    (corpus / B).unlink()
    proc = run_cli("index", str(corpus), "--index-dir", str(index_dir), "--json", env=env,
                   cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert app.is_stale() and len(app.phrase_search("校舍")) == 1  # its version, until reopened
    fresh = app.reopen()
    assert fresh.phrase_search("校舍") == [] and len(fresh) == ITEMS + 2
    app.close()
    fresh.close()


def test_a_served_index_follows_commits_made_elsewhere(tmp_path, lite_server, embedder, settings):
    from assistant.live_index import LiveIndex

    corpus = write_corpus(tmp_path / "corpus")
    shared = replace(settings, milvus_uri=lite_server)
    index_dir = tmp_path / "index"
    live = LiveIndex(corpus, index_dir, shared, embedder)  # what `assistant serve` holds
    live.update(progress=False)
    assert len(live.retriever.phrase_search("校舍")) == 1
    (corpus / B).unlink()  # another machine runs `assistant index`
    env = cli_env(settings, ASSISTANT_MILVUS_URI=lite_server)
    proc = run_cli("index", str(corpus), "--index-dir", str(index_dir), env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert live.retriever.phrase_search("校舍") == []
    live.retriever.close()


def test_a_killed_update_leaves_the_previous_version_answering(built, embedder, settings):
    corpus, index_dir = built
    before = Retriever.open(index_dir, settings, embedder=embedder)
    version, count = before.backend.version, len(before)
    before.close()
    # A writer that retires B and adds new rows, then dies before its commit.
    script = (
        "import os, signal, sys\n"
        "import numpy as np\n"
        "from pathlib import Path\n"
        "from assistant.config import Settings\n"
        "from assistant.search import Retriever\n"
        "from assistant.search.backends import milvus\n"
        "milvus.BUFFER_ROWS = 1  # rows go into Milvus before the kill\n"
        "from assistant.search.passage import stored_chunk\n"
        "index_dir, settings = Path(sys.argv[1]), Settings(backend='milvus')\n"
        "w = milvus.MilvusWriter(index_dir, settings)\n"
        "w.delete_file('b.txt')\n"
        "from assistant.records import Chunk, DocumentMeta\n"
        "doc = DocumentMeta(doc_id='z', file='z.txt', source_path='z.txt', title='z')\n"
        "c = Chunk('z:0', doc, (), '', '未提交的条目', 0, 6)\n"
        "w.put_file('z.txt', [stored_chunk(c, 'z.txt')], np.ones((1, 384), np.float32) / 20)\n"
        "print('written', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(index_dir)], capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL and "written" in proc.stdout, proc.stderr

    r = Retriever.open(index_dir, settings, embedder=embedder)
    assert (r.backend.version, len(r)) == (version, count)
    assert len(r.phrase_search("校舍")) == 1 and r.phrase_search("未提交") == []
    r.close()
    # The next update removes what the killed writer left and commits normally.
    report = build_index([corpus], index_dir, settings, embedder=embedder, progress=False)
    assert report.unchanged == 3 and not report.failed
    r = Retriever.open(index_dir, settings, embedder=embedder)
    assert r.phrase_search("未提交") == [] and len(r.phrase_search("校舍")) == 1
    client = r.backend._client  # every row, visible or not
    rows = client.query(r.backend._state.collection, filter="", output_fields=["count(*)"])
    assert rows[0]["count(*)"] == count
    r.close()


def beir_folder(root: Path) -> Path:
    """Three passages and two queries in the BEIR layout."""
    root.mkdir()
    passages = {
        "d1": "严格落实双减政策，减轻作业负担。",
        "d2": "校车安全管理制度。",
        "d3": "教师节",
    }
    rows = [{"_id": k, "title": "", "text": v} for k, v in passages.items()]
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    queries = [{"_id": "q1", "text": "双减 作业"}, {"_id": "q2", "text": "校车安全"}]
    (root / "queries.jsonl").write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), encoding="utf-8"
    )
    (root / "qrels.tsv").write_text("q1\td1\t1\nq2\td2\t1\n", encoding="utf-8")
    return root


def test_commands_work_unchanged_with_the_milvus_setting(
    tmp_path, monkeypatch, capsys, embedder, embedding_cache_dir
):
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("ASSISTANT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ASSISTANT_BACKEND", "milvus")
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(embedding_cache_dir))
    corpus, index = write_corpus(tmp_path / "corpus"), tmp_path / "index"

    def run(*argv: str) -> str:
        code = main([*argv])
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    run("index", str(corpus), "--index-dir", str(index), "--quiet")
    assert (index / "milvus.db").is_dir() and not list(index.glob("gen-*"))
    hits = json.loads(run("search", "校舍安全", "--k", "2", "--json", "--index-dir", str(index)))
    assert hits[0]["file"] == B and set(hits[0]["ranks"]) == {"dense", "bm25"}
    hits = json.loads(run("search", "培训", "--year", "2021", "--json", "--index-dir", str(index)))
    assert {h["file"] for h in hits} == {C}
    answer = json.loads(run("ask", "校舍安全排查做了什么", "--json", "--index-dir", str(index)))
    assert answer["found"] and answer["citations"][0]["file"] == B
    report = json.loads(
        run("eval", "--beir", str(beir_folder(tmp_path / "beir")), "--json", "--mode", "bm25",
            "--per-doc", "0", "--quiet")
    )  # fmt: skip
    assert report["datasets"][0]["configs"][0]["metrics"]["hit@1"] == 1.0


def test_serve_builds_into_milvus_and_serves(tmp_path, settings):
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / A).unlink()  # keep the first build short: four passages to embed
    index, port = tmp_path / "index", free_port()
    env = cli_env(settings, GRADIO_ANALYTICS_ENABLED="False")
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--port", str(port), "--corpus",
             str(corpus), "--index-dir", str(index)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail(f"serve did not start:\n{log.read_text(errors='replace')[-3000:]}")
        # serve answers at once and builds in the background: wait for that build's summary
        while time.monotonic() < deadline and "index: added" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            time.sleep(1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    r = Retriever.open(index, settings)  # the index serve built lives in Milvus
    assert {s.meta.file for s in r.documents()} == {B, C}
    assert len(r.phrase_search("校舍")) == 1
    r.close()


def test_bad_backend_settings_are_clear_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("ASSISTANT_")]:
        monkeypatch.delenv(name)
    corpus = write_corpus(tmp_path / "corpus")
    cases = [
        ("faiss", None, "backend must be one of embedded, milvus"),
        ("milvus", str(tmp_path / "pa"), "ending in .db"),
        ("milvus", f"http://127.0.0.1:{free_port()}", "cannot open Milvus at"),
    ]
    for backend, uri, message in cases:
        monkeypatch.setenv("ASSISTANT_BACKEND", backend)
        if uri:
            monkeypatch.setenv("ASSISTANT_MILVUS_URI", uri)
        for argv in (["index", str(corpus)], ["search", "双减"], ["ask", "双减"]):
            assert main([*argv, "--index-dir", str(tmp_path / "index")]) != 0
            err = capsys.readouterr().err
            assert message in err and "Traceback" not in err
    assert not (tmp_path / "pa").exists()
