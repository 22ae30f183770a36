"""The ``assistant`` command line: errors in plain words, one line and exit status 2; ``--config``
before or after the subcommand."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli import main


def fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI expecting a usage error; return its stderr."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    return err


@pytest.mark.parametrize("command", ["search", "ask"])
def test_a_bad_year_is_explained(command, capsys):
    err = fails([command, "双减", "--year", "abc"], capsys)
    assert err.count("\n") == 1
    assert "--year: expected a year (2023) or a range (2020-2024), got 'abc'" in err
    assert "invalid literal" not in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["chunks"], "the following arguments are required: PATH"),
        (["search", "双减", "--mode", "fuzzy"], "--mode: invalid choice: 'fuzzy'"),
        (["serve", "--port", "eighty"], "--port: invalid int value: 'eighty'"),
        (["search", "双减", "--bogus"], "unrecognized arguments: --bogus"),
        (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
    ],
)
def test_usage_errors_are_one_line(argv, says, capsys):
    err = fails(argv, capsys)
    assert err.count("\n") == 1, err
    assert says in err and "--help" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_is_read_before_or_after_the_subcommand(where, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "elsewhere.toml"
    config.write_text('index_dir = "index-from-config"\n', encoding="utf-8")
    option = ["--config", str(config)]
    argv = [*option, "ask", "问题"] if where == "before" else ["ask", "问题", *option]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "index-from-config" in err  # the config's index folder was used
