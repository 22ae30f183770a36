"""`assistant serve` refuses bad settings and addresses before loading anything, warns about an
open bind, and keeps the terminal quiet (the running app is driven in a real browser by
tests/test_app.py and tests/test_app_live.py)."""

from __future__ import annotations

import socket
import subprocess

import pytest
from served_app import ASSISTANT, free_port, serve_env, serving

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


# --------------------------------------------------------------------------- the address


def serve_cmd(embedding_cache_dir, tmp_path, *args: str, timeout: float = 120):
    return subprocess.run(
        [str(ASSISTANT), "serve", "--no-update", "--index-dir", str(tmp_path / "no-index"), *args],
        capture_output=True,
        text=True,
        env=serve_env(embedding_cache_dir),
        cwd=tmp_path,
        timeout=timeout,
    )


def test_a_busy_port_is_one_clear_line_and_exit_code_2(embedding_cache_dir, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = serve_cmd(embedding_cache_dir, tmp_path, "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: cannot serve on 127.0.0.1:{port}: the port is in use by another program "
        "(choose one with --port)"
    ]
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("host", "reason"),
    [("no-such-host.invalid", "unknown host"), ("192.0.2.7", "Cannot assign requested address")],
)
def test_a_bad_host_is_one_clear_line_and_exit_code_2(embedding_cache_dir, tmp_path, host, reason):
    done = serve_cmd(embedding_cache_dir, tmp_path, "--host", host, "--port", str(free_port()))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot serve on {host}:")
    assert reason in lines[0]


@pytest.mark.slow
def test_a_public_bind_without_login_warns_and_requests_leave_no_noise(
    seed_index_dir, embedding_cache_dir, tmp_path
):
    from gradio_client import Client

    args = ["--host", "0.0.0.0", "--no-update", "--index-dir", str(seed_index_dir)]
    env = serve_env(embedding_cache_dir)
    with serving(args, env, tmp_path / "serve.log", tmp_path) as app:
        client = Client(app["url"], verbose=False)
        for _ in range(3):
            assert client.predict(query="双减", k=2, api_name="/search")
        log = app["log"].read_text()
    lines = log.splitlines()
    warning = next(i for i, line in enumerate(lines) if line.startswith("warning: serving on"))
    serving_on = next(i for i, line in enumerate(lines) if line.startswith("serving on"))
    assert warning < serving_on and "without a login" in lines[warning]
    assert "ASSISTANT_AUTH" in lines[warning]
    assert "Deprecat" not in log and "Traceback" not in log, log


@pytest.mark.slow
def test_a_login_or_a_loopback_bind_gives_no_warning(seed_index_dir, embedding_cache_dir, tmp_path):
    args = ["--no-update", "--index-dir", str(seed_index_dir)]
    with serving(args, serve_env(embedding_cache_dir), tmp_path / "a.log", tmp_path) as app:
        assert "warning" not in app["log"].read_text()
    env = serve_env(embedding_cache_dir, ASSISTANT_AUTH="staff:pw")
    with serving(["--host", "0.0.0.0", *args], env, tmp_path / "b.log", tmp_path) as app:
        assert "warning" not in app["log"].read_text()
