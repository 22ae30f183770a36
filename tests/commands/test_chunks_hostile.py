"""``assistant chunks`` on hostile files: what the user sees (exit status, one clear line each)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import SENTENCE, docx_bomb, numbered_list, pdf_bytes

import assistant
from assistant.cli import main

CODE_ROOT = Path(assistant.__file__).resolve().parents[1]  # the code under test, for subprocesses
GOOD = "一、总体要求\n落实“双减”政策，减轻学生作业负担。\n"


def json_lines(out: str) -> list[dict]:
    """``chunks --json`` prints JSON Lines: one chunk per line."""
    return [json.loads(line) for line in out.splitlines()]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def run_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: its own process, its own terminal output."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", "chunks", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(CODE_ROOT), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        timeout=120,
    )


def test_a_docx_zip_bomb_is_refused_with_its_size_and_ratio(tmp_path, capsys) -> None:
    bomb = docx_bomb(tmp_path / "bomb.docx", 8 * 1024 * 1024, blank=True)
    assert bomb.stat().st_size < 64 * 1024
    code, out, err = run_cli(["chunks", str(bomb)], capsys)
    assert code == 2 and out == ""
    assert re.search(
        r"^failed \[too_large\] .*bomb\.docx: document\.xml expands to 8\.0 MB "
        r"\(ratio \d+:1\), over the 100:1 compression limit",
        err,
        re.M,
    )


def test_the_bounds_are_settings(tmp_path, capsys) -> None:
    big = docx_bomb(tmp_path / "big.docx", 2 * 1024 * 1024)
    config = tmp_path / "assistant.toml"
    config.write_text("max_expanded_mb = 1\nmax_zip_ratio = 1000000\n", encoding="utf-8")
    code, _, err = run_cli(["--config", str(config), "chunks", str(big)], capsys)
    assert code == 2
    assert "parts expand to 2.0 MB, over the 1.0 MB limit (max_expanded_mb)" in err


def test_a_6_mb_single_line_is_refused_with_the_chunks_it_would_make(tmp_path, capsys) -> None:
    line = tmp_path / "one-line.txt"
    line.write_text(SENTENCE * (6 * 1024 * 1024 // len(SENTENCE.encode())), encoding="utf-8")
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    code, out, err = run_cli(["chunks", str(tmp_path), "--json"], capsys)
    assert code == 1  # one file refused, the other read
    assert [c["file"] for c in json_lines(out)] == ["good.txt"]
    m = re.search(
        r"^failed \[too_many_chunks\] .*one-line\.txt: would produce (\d+) chunks", err, re.M
    )
    assert m and int(m.group(1)) > 2000
    assert "over the limit of 2000 per file (max_chunks_per_file)" in err


def test_a_folder_walk_stays_inside_the_corpus_and_reports_every_skip(tmp_path, capsys) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD, encoding="utf-8")
    outside = tmp_path / "outside.txt"
    outside.write_text("一、机密\nOUTSIDE-SECRET\n", encoding="utf-8")
    (corpus / "secret.txt").symlink_to(outside)
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "loop.txt").symlink_to("loop.txt")
    for name in ("old.doc", "table.xlsx", "other.xlsx", ".hidden.txt", "~$lock.docx"):
        (corpus / name).write_bytes(b"x")
    code, out, err = run_cli(["chunks", str(corpus), "--json", "--full"], capsys)
    assert code == 0
    assert [c["file"] for c in json_lines(out)] == ["good.txt"]
    assert "OUTSIDE-SECRET" not in out and "root:" not in out
    lines = err.splitlines()
    assert "skipped 3 files: unsupported type (.doc, .xlsx): old.doc, other.xlsx, table.xlsx" in (
        lines
    )
    assert "skipped 2 hidden files: .hidden.txt, ~$lock.docx" in lines
    assert "skipped 1 symlink loop: loop.txt" in lines
    assert (
        "skipped 2 symlinks outside the corpus: passwd.txt → /etc/passwd, "
        f"secret.txt → {outside}" in lines
    )
    assert lines[-1] == "1 files, 1 chunks, 0 failed"


def test_a_symlink_loop_given_directly_is_one_clear_line(tmp_path) -> None:
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    done = run_process("loop.txt", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "failed [symlink_loop] loop.txt: symlink loop (the link leads back to itself)",
        "1 files, 0 chunks, 1 failed (symlink_loop: 1)",
    ]


def test_items_numbered_past_999_keep_their_labels(tmp_path, capsys) -> None:
    f = tmp_path / "list.txt"
    f.write_text(numbered_list(999, 1002), encoding="utf-8")
    code, out, _ = run_cli(["chunks", str(f), "--json"], capsys)
    assert code == 0
    assert [(c["label"], c["part"]) for c in json_lines(out)] == [
        ("999.", 0),
        ("1000.", 0),
        ("1001.", 0),
        ("1002.", 0),
    ]


def test_shift_jis_is_read_as_japanese_and_garble_is_refused(tmp_path, capsys) -> None:
    japanese = "学校における働き方改革について、教員の長時間勤務を見直す必要があります。\n"
    (tmp_path / "jp.txt").write_bytes(japanese.encode("shift_jis"))
    (tmp_path / "kanji.txt").write_bytes(("教員長時間勤務見直必要。\n" * 5).encode("shift_jis"))
    code, out, err = run_cli(["chunks", str(tmp_path), "--json"], capsys)
    assert code == 1
    assert [c["text"] for c in json_lines(out)] == [japanese.strip()]
    assert re.search(
        r"^failed \[encoding\] .*kanji\.txt: text decodes but reads as garble", err, re.M
    )


def test_pdf_library_warnings_name_the_file_once_each(tmp_path) -> None:
    pdf = pdf_bytes()
    (tmp_path / "cut.pdf").write_bytes(pdf[: int(len(pdf) * 0.8)])
    (tmp_path / "bad-xref.pdf").write_bytes(pdf.replace(b"startxref\n", b"startxref\n9"))
    done = run_process("cut.pdf", "bad-xref.pdf", cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert "warning: cut.pdf: pypdf: EOF marker not found" in lines
    assert "warning: bad-xref.pdf: pypdf: incorrect startxref pointer(2)" in lines
    assert any(ln.startswith("failed [corrupt] cut.pdf: PDF cannot be parsed") for ln in lines)
    library = [ln for ln in lines if not ln.startswith(("failed ", "2 files"))]
    assert all(re.match(r"warning: (cut|bad-xref)\.pdf: pypdf: ", ln) for ln in library)
    assert len(library) == len(set(library))
