"""Prompt templates: shipped with the package, overridden by ./prompts/ or the prompts_dir
setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.prompts import read_template


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch) -> Path:
    """A working directory with no prompts/ folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_shipped_templates_are_found_from_any_working_directory(elsewhere):
    assert "{{passages}}" in read_template("answer")
    assert "{{question}}" in read_template("answer")
    assert read_template("system").strip()


def test_a_local_prompts_folder_overrides_file_by_file(elsewhere):
    (elsewhere / "prompts").mkdir()
    (elsewhere / "prompts" / "system.txt").write_text("你是本地的助手。", encoding="utf-8")
    assert read_template("system") == "你是本地的助手。"
    assert "{{passages}}" in read_template("answer")  # not overridden: the shipped one


def test_the_prompts_dir_setting_must_hold_the_template(elsewhere):
    folder = elsewhere / "my-prompts"
    folder.mkdir()
    (folder / "answer.txt").write_text("问：{{question}}\n{{passages}}", encoding="utf-8")
    assert read_template("answer", folder).startswith("问：")
    with pytest.raises(FileNotFoundError, match=r"my-prompts/system\.txt.*prompts_dir"):
        read_template("system", folder)
