"""`assistant index`: summary, exit status, failures, and what an interrupted build leaves."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.config import Settings
from assistant.search.builder import build_index
from assistant.search.retriever import Retriever
from assistant.search.store import build_lock, current_generation, generation_dirs

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "corpus" / "work_plans"
SUMMARY = re.compile(
    r"^added (\d+), updated (\d+), removed (\d+), unchanged (\d+), failed (\d+) files; "
    r"(\d+) chunks; [\d.]+ s$",
    re.M,
)
QUERIES = ("各地如何落实双减", "教师队伍建设")


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    for name in ("000_19cf16a0cc95029b.txt", "002_94f0555eafe58452.txt"):
        shutil.copy(SEEDS / name, root / name)
    return root


@pytest.fixture
def cli(embedder, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["index", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_summary_line_and_exit_status(cli, corpus, tmp_path):
    index_dir = str(tmp_path / "index")
    code, out, _ = cli(str(corpus), "--index-dir", index_dir)
    assert code == 0
    added, updated, removed, unchanged, failed, chunks = map(int, SUMMARY.search(out).groups())
    assert (added, updated, removed, unchanged, failed) == (2, 0, 0, 0, 0) and chunks == 30
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 not a real docx")
    (corpus / "002_94f0555eafe58452.txt").unlink()
    code, out, _ = cli(str(corpus), "--index-dir", index_dir)
    assert code == 1  # a file failed, but the index was still written
    assert SUMMARY.search(out).groups()[:5] == ("0", "0", "1", "1", "1")
    assert re.search(r"^FAILED \[corrupt\] .*broken\.docx", out, re.M)
    r = Retriever.open(Path(index_dir), Settings())
    assert len(r) == 14 and {d.meta.file for d in r.documents()} == {"000_19cf16a0cc95029b.txt"}


def test_hostile_files_leave_what_was_indexed_in_place(cli, corpus, tmp_path):
    from hostile import SENTENCE, docx_bomb

    index_dir = str(tmp_path / "index")
    assert cli(str(corpus), "--index-dir", index_dir)[0] == 0
    before = Retriever.open(Path(index_dir), Settings())
    kept = len(before), sorted(d.meta.file for d in before.documents())
    before.close()
    docx_bomb(corpus / "bomb.docx", 8 * 1024 * 1024, blank=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("一、机密\nOUTSIDE-SECRET\n", encoding="utf-8")
    (corpus / "secret.txt").symlink_to(outside)
    (corpus / "loop.txt").symlink_to("loop.txt")
    (corpus / "old.doc").write_bytes(b"x")
    # an indexed file replaced by a hostile one keeps its indexed version
    one_line = SENTENCE * (6 * 1024 * 1024 // len(SENTENCE.encode()))
    (corpus / "000_19cf16a0cc95029b.txt").write_text(one_line, encoding="utf-8")

    code, out, _ = cli(str(corpus), "--index-dir", index_dir)
    assert code == 1
    assert SUMMARY.search(out).groups()[:5] == ("0", "0", "0", "1", "2")
    assert re.search(r"^FAILED \[too_large\] .*bomb\.docx: document\.xml expands to", out, re.M)
    assert re.search(
        r"^FAILED \[too_many_chunks\] .*000_19cf16a0cc95029b\.txt: would produce \d+ chunks.*"
        r"\(the previously indexed version is kept\)$",
        out,
        re.M,
    )
    assert f"skipped 1 symlink outside the corpus: secret.txt → {outside}" in out.splitlines()
    assert "skipped 1 symlink loop: loop.txt" in out.splitlines()
    assert "skipped 1 file: unsupported type (.doc): old.doc" in out.splitlines()
    after = Retriever.open(Path(index_dir), Settings())
    assert (len(after), sorted(d.meta.file for d in after.documents())) == kept
    after.close()
    code, out, _ = cli(str(corpus), "--index-dir", index_dir, "--json")
    skipped = {s["rel"]: s["kind"] for s in json.loads(out)["skipped"]}
    assert skipped == {
        "loop.txt": "symlink_loop",
        "old.doc": "unsupported",
        "secret.txt": "symlink_outside",
    }


def test_json_report(cli, corpus, tmp_path):
    code, out, _ = cli(str(corpus), "--index-dir", str(tmp_path / "index"), "--json")
    data = json.loads(out)
    assert code == 0 and data["chunks"] == 30 and data["embedded"] == 30
    assert sorted(data["added"]) == sorted(p.name for p in corpus.iterdir())
    assert data["failed"] == [] and data["model"] == "intfloat/multilingual-e5-small"


def test_defaults_are_corpus_and_index_in_the_working_directory(cli, corpus, tmp_path):
    assert cli()[0] == 0  # cwd is tmp_path, which holds corpus/
    assert current_generation(tmp_path / "index") is not None


def test_missing_path_is_a_usage_error(cli, tmp_path):
    code, _, err = cli(str(tmp_path / "nope"), "--index-dir", str(tmp_path / "index"))
    assert code == 2 and "nope" in err


def test_second_build_is_refused_while_one_runs(cli, corpus, tmp_path):
    with build_lock(tmp_path / "index"):
        code, _, err = cli(str(corpus), "--index-dir", str(tmp_path / "index"))
    assert code == 2 and "another build" in err


def test_other_model_needs_rebuild(cli, corpus, tmp_path):
    assert cli(str(corpus), "--index-dir", str(tmp_path / "index"))[0] == 0
    code, _, err = cli(
        str(corpus), "--index-dir", str(tmp_path / "index"), "--model", "BAAI/bge-small-zh-v1.5"
    )
    assert code == 2 and "--rebuild" in err


# ------------------------------------------------------------------ interrupted builds


def answers(index_dir: Path, embedder) -> list[list[str]]:
    r = Retriever.open(index_dir, Settings(), embedder=embedder)
    try:
        return [[h.chunk.chunk_id for h in r.search(q, k=5)] for q in QUERIES]
    finally:
        r.close()


def start_build_and_wait_for_embedding(corpus: Path, index_dir: Path, cache_dir: Path):
    """Run `assistant index` in a subprocess; return it once it is embedding passages."""
    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(cache_dir), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "index", str(corpus), "--index-dir", str(index_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=corpus.parent,
        # a runner started in the background (`cmd &`) ignores SIGINT, and children inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = bytearray()

    def read() -> None:
        while chunk := proc.stderr.read1(256):
            seen.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    while b"embedding" not in seen:
        assert proc.poll() is None, f"build ended before embedding: {bytes(seen).decode()}"
        assert time.monotonic() < deadline, "build never started embedding"
        time.sleep(0.05)
    return proc, reader, seen


def grow(corpus: Path) -> None:
    shutil.copy(SEEDS / "004_48a2cbb17aecac52.txt", corpus)  # 36 more chunks


def grow_a_lot(corpus: Path) -> None:
    """Enough new passages (the shipped laws, ~5k) that embedding outlasts a signal's delivery."""
    grow(corpus)
    shutil.copytree(SEEDS.parent / "regulations", corpus / "regulations")


def test_kill_9_mid_embedding_leaves_the_previous_index_usable(
    corpus, tmp_path, embedder, embedding_cache_dir
):
    index_dir = tmp_path / "index"
    build_index([corpus], index_dir, Settings(), embedder=embedder, progress=False)
    before_gen, before = current_generation(index_dir), answers(index_dir, embedder)
    grow(corpus)
    proc, _reader, _seen = start_build_and_wait_for_embedding(
        corpus, index_dir, embedding_cache_dir
    )
    proc.kill()  # SIGKILL: no cleanup code runs
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    assert current_generation(index_dir) == before_gen
    assert answers(index_dir, embedder) == before  # same index, same answers
    # a re-run completes, adds the new files and clears whatever the killed build left
    report = build_index([corpus], index_dir, Settings(), embedder=embedder, progress=False)
    assert report.added == ["004_48a2cbb17aecac52.txt"] and report.embedded == 36
    assert report.unchanged == 2 and report.chunks == 30 + 36
    assert generation_dirs(index_dir) == [current_generation(index_dir)]


def test_ctrl_c_reports_that_the_previous_index_is_kept(
    corpus, tmp_path, embedder, embedding_cache_dir
):
    index_dir = tmp_path / "index"
    build_index([corpus], index_dir, Settings(), embedder=embedder, progress=False)
    before_gen, before = current_generation(index_dir), answers(index_dir, embedder)
    grow_a_lot(corpus)
    proc, reader, seen = start_build_and_wait_for_embedding(corpus, index_dir, embedding_cache_dir)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(120) == 130
    reader.join(10)
    assert "interrupted, previous index kept" in bytes(seen).decode()
    assert current_generation(index_dir) == before_gen
    assert generation_dirs(index_dir) == [before_gen]
    assert answers(index_dir, embedder) == before
