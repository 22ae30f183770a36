"""`assistant serve` refuses bad settings before loading anything (the running app is driven
in a real browser by tests/test_app.py)."""

from __future__ import annotations

import pytest

from assistant.cli import main
from assistant.commands.serve import parse_auth


def test_auth_setting_is_user_colon_password():
    assert parse_auth(None) is None
    assert parse_auth("staff:pa:ss") == ("staff", "pa:ss")
    for bad in ("staff", ":secret", "staff:"):
        with pytest.raises(ValueError, match="user:password"):
            parse_auth(bad)


def test_malformed_auth_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANT_AUTH", "nopassword")
    assert main(["serve", "--corpus", str(tmp_path)]) == 2
    assert "user:password" in capsys.readouterr().err


def test_missing_corpus_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSISTANT_AUTH", raising=False)
    assert main(["serve", "--corpus", str(tmp_path / "nowhere")]) == 2
    assert "corpus folder not found" in capsys.readouterr().err


def test_help_explains_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out and "--corpus" in out and "login" in out
