"""Settings from the environment and assistant.toml: yes/no settings read as users write them."""

from __future__ import annotations

import pytest

from assistant.config import load_settings


@pytest.mark.parametrize(("raw", "value"), [("off", False), ("0", False), ("True", True)])
def test_a_yes_no_setting_reads_from_the_environment(raw, value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray assistant.toml
    assert load_settings(environ={"ASSISTANT_ANSWER_READER": raw}).answer_reader is value


def test_a_yes_no_setting_reads_from_toml(tmp_path):
    config = tmp_path / "assistant.toml"
    config.write_text("answer_reader = false\n", encoding="utf-8")
    assert load_settings(config, environ={}).answer_reader is False


def test_a_word_that_is_not_yes_or_no_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="answer_reader: 'maybe'"):
        load_settings(environ={"ASSISTANT_ANSWER_READER": "maybe"})
