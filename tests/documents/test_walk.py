"""Folder walks: symlinks stay inside the root, loops are reported, every skip has a reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.documents.walk import skip_summary, walk


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "good.txt").write_text("一、总体要求\n落实双减。\n", encoding="utf-8")
    (root / "sub" / "inner.md").write_text("# 方案\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET", encoding="utf-8")
    return root


def kinds(found) -> dict[str, str]:
    return {s.rel: s.kind for s in found.skipped}


def test_symlinks_out_of_the_root_are_skipped_and_reported(corpus: Path) -> None:
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "secret.txt").symlink_to(corpus.parent / "outside" / "secret.txt")
    (corpus / "escape").symlink_to(corpus.parent / "outside", target_is_directory=True)
    found = walk([corpus])
    assert [s.rel for s in found.files] == ["good.txt", "sub/inner.md"]
    assert kinds(found) == {
        "escape": "symlink_outside",
        "passwd.txt": "symlink_outside",
        "secret.txt": "symlink_outside",
    }
    passwd = next(s for s in found.skipped if s.rel == "passwd.txt")
    assert passwd.target == "/etc/passwd" and "outside the folder" in passwd.reason


def test_symlinks_inside_the_root_are_followed(corpus: Path) -> None:
    (corpus / "alias.txt").symlink_to(corpus / "sub" / "inner.md")
    (corpus / "link.md").symlink_to("good.txt")
    (corpus / "again").symlink_to("sub", target_is_directory=True)
    found = walk([corpus])
    # each real file once; the folder link adds nothing (its files are read from sub/)
    assert sorted(os.path.realpath(s.path) for s in found.files) == sorted(
        os.path.realpath(corpus / p) for p in ("good.txt", "sub/inner.md")
    )
    assert found.skipped == []


def test_loops_and_broken_links_are_reported_and_the_walk_ends(corpus: Path) -> None:
    (corpus / "loop.txt").symlink_to("loop.txt")
    (corpus / "a.txt").symlink_to("b.txt")
    (corpus / "b.txt").symlink_to("a.txt")
    (corpus / "sub" / "up").symlink_to("..", target_is_directory=True)
    (corpus / "gone.txt").symlink_to("nowhere.txt")
    found = walk([corpus])
    assert [s.rel for s in found.files] == ["good.txt", "sub/inner.md"]
    assert kinds(found) == {
        "a.txt": "symlink_loop",
        "b.txt": "symlink_loop",
        "loop.txt": "symlink_loop",
        "sub/up": "symlink_loop",
        "gone.txt": "broken_symlink",
    }


def test_hidden_unsupported_and_special_files_are_listed_one_summary_line_per_reason(
    corpus: Path,
) -> None:
    (corpus / ".git").mkdir()
    (corpus / ".git" / "HEAD.txt").write_text("x", encoding="utf-8")
    for name in (".hidden.txt", "~$lock.docx", "old.doc", "sub/table.xlsx", "README"):
        (corpus / name).write_bytes(b"x")
    os.mkfifo(corpus / "pipe.txt")  # reading it would block the walk
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    found = walk([corpus])
    assert [s.rel for s in found.files] == ["good.txt", "sub/inner.md"]
    assert kinds(found) == {
        ".git": "hidden_folder",
        ".hidden.txt": "hidden",
        "~$lock.docx": "hidden",
        "old.doc": "unsupported",
        "sub/table.xlsx": "unsupported",
        "README": "unsupported",
        "pipe.txt": "special",
        "passwd.txt": "symlink_outside",
    }
    assert sorted(skip_summary(found.skipped)) == [
        "skipped 1 hidden folder: .git",
        "skipped 1 special file (not a regular file): pipe.txt",
        "skipped 1 symlink outside the corpus: passwd.txt → /etc/passwd",
        "skipped 2 hidden files: .hidden.txt, ~$lock.docx",
        "skipped 3 files: unsupported type (no suffix, .doc, .xlsx): README, old.doc, "
        "sub/table.xlsx",
    ]


def test_a_summary_line_names_a_few_files_and_counts_the_rest(tmp_path: Path) -> None:
    for n in range(8):
        (tmp_path / f"t{n}.xlsx").write_bytes(b"x")
    (line,) = skip_summary(walk([tmp_path]).skipped)
    assert line == (
        "skipped 8 files: unsupported type (.xlsx): t0.xlsx, t1.xlsx, t2.xlsx, t3.xlsx, "
        "t4.xlsx and 3 more"
    )


def test_a_path_given_directly_is_taken_as_named(corpus: Path) -> None:
    (corpus / "loop.txt").symlink_to("loop.txt")
    found = walk([corpus / "loop.txt", corpus / "old.doc"])
    assert [s.rel for s in found.files] == ["loop.txt", "old.doc"]  # loading says what is wrong
