"""Running `assistant serve` in a subprocess for the tests that drive it over HTTP or a browser."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ASSISTANT = Path(sys.executable).with_name("assistant")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(embedding_cache_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_CACHE_DIR=str(embedding_cache_dir),
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        **extra,
    )
    return env


def wait_until_serving(url: str, proc: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"assistant serve exited with {proc.returncode}:\n"
                f"{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(
        f"assistant serve did not start:\n{log.read_text(errors='replace')[-3000:]}"
    )


@contextmanager
def serving(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> Iterator[dict]:
    """`assistant serve ARGS --port FREE` until the block ends; yields url, port, log, proc."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(ASSISTANT), "serve", *args, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, proc, log)
        yield {"url": url, "port": port, "log": log, "proc": proc}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
