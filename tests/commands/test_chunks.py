"""``assistant chunks``: JSON for machines, an outline for people, failures and exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "corpus" / "work_plans"
SEED_001 = SEEDS / "001_a2a3b87c571a2f00.txt"
SEED_004 = SEEDS / "004_48a2cbb17aecac52.txt"
REQUIRED = {
    "file",
    "doc_id",
    "title",
    "region",
    "year",
    "issuer",
    "path",
    "label",
    "text",
    "start",
    "end",
}


def json_lines(out: str) -> list[dict]:
    """JSON Lines: every line is one JSON object."""
    return [json.loads(line) for line in out.splitlines()]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["chunks", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lines_give_every_chunk_with_the_documented_fields(capsys) -> None:
    code, out, err = run_cli([str(SEED_001), str(SEED_004), "--json"], capsys)
    assert code == 0
    data = json_lines(out)
    assert all(isinstance(obj, dict) for obj in data)
    assert all(REQUIRED <= set(obj) for obj in data)
    item22 = next(o for o in data if o["label"] == "22.")
    assert item22["file"] == "001_a2a3b87c571a2f00.txt"
    assert (
        item22["region"] == "庄浪县"
        and item22["year"] == 2023
        and item22["issuer"] == "庄浪县教育局"
    )
    assert item22["path"] == ["六、推动全面育人有效落实,促进学生全面发展"]
    assert item22["text"].startswith("22.严格落实“双减”政策。")
    assert len({o["doc_id"] for o in data if o["file"] == SEED_004.name}) == 4
    assert "雙減" in out  # ensure_ascii=False: the original characters, not \\u escapes
    assert err.strip() == f"2 files, {len(data)} chunks, 0 failed"


def test_outline_shows_documents_headings_labels_and_previews(capsys) -> None:
    code, out, _ = run_cli([str(SEED_001)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "== 001_a2a3b87c571a2f00.txt  [001_a2a3b87c571a2f00]"
    assert (
        "《2023年全县教育工作要点》" in lines[1]
        and "庄浪县" in lines[1]
        and "2023-04-19" in lines[1]
    )
    heading = lines.index("   六、推动全面育人有效落实,促进学生全面发展")
    assert lines[heading + 2].startswith("      22.  严格落实“双减”政策。")


def test_some_files_failing_gives_status_1_and_one_line_per_failure(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    (tmp_path / "good.txt").write_text(SEED_001.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = run_cli([str(tmp_path), "--json"], capsys)
    assert code == 1
    assert json_lines(out)  # the good file's chunks are still printed
    err_lines = err.strip().splitlines()
    assert err_lines[0].startswith("failed [empty] ") and "empty.txt" in err_lines[0]
    assert err_lines[1].startswith("failed [corrupt] ") and "scan.pdf" in err_lines[1]
    assert err_lines[-1].startswith("3 files, ") and err_lines[-1].endswith(
        "chunks, 2 failed (corrupt: 1, empty: 1)"
    )


def test_nothing_readable_gives_status_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty.md").write_bytes(b"")
    code, out, err = run_cli([str(tmp_path / "empty.md")], capsys)
    assert code == 2 and out == ""
    assert "1 files, 0 chunks, 1 failed (empty: 1)" in err
    code, _, err = run_cli([str(tmp_path / "nothing-here")], capsys)
    assert code == 2 and "not_found" in err
    (tmp_path / "sub").mkdir()
    code, _, err = run_cli([str(tmp_path / "sub")], capsys)
    assert code == 2 and "no supported files" in err


def test_bad_arguments_give_status_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["chunks"])
    assert exc.value.code == 2


def test_the_installed_command_prints_json_for_the_seed_folder() -> None:
    exe = Path(sys.executable).with_name("assistant")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant"]
    proc = subprocess.run(
        [*cmd, "chunks", str(SEEDS), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json_lines(proc.stdout)
    assert {o["file"] for o in data} == {p.name for p in SEEDS.glob("*.txt")}
    assert "5 files" in proc.stderr
