"""Every command in README.md's ```sh blocks runs as written.

Commands run with ``sh`` in a scratch copy of the checkout: ``corpus/`` and ``eval/`` copied,
``index/`` a copy of the session's index of the shipped corpus (so ``index`` only checks it and
``search``/``ask``/``eval`` find it current), ``.venv`` a link to the environment running the
tests and ``../shared`` a link to the shared folder beside the checkout. Each command must exit
0 and print no traceback, warning or debug line. A command that starts ``assistant serve`` must
answer HTTP on its port; it is then stopped. Steps that would set up this very environment or
run this test suite again (``scripts/setup.sh``, ``pytest``) are not run here: CI runs them, and
the test checks that .ci/run runs the README's test command as written.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
# Tracebacks, Python warnings (UserWarning, DeprecationWarning …), logging's "WARNING:" and
# "DEBUG" records, deprecation notices. The program's own "warning: …" lines are allowed.
NOISE = re.compile(r"Traceback|[A-Z]\w*Warning\b|^WARNING\b|\bDEBUG\b|[Dd]eprecat")
SERVE_TIMEOUT = 300  # seconds for `assistant serve` to answer (it checks the index first)


@dataclass(frozen=True)
class Command:
    line: int  # README line number
    text: str

    @property
    def steps(self) -> list[str]:
        """The ``&&``-separated parts, without the trailing comment."""
        return [s.strip() for s in _without_comment(self.text).split("&&")]


def _without_comment(line: str) -> str:
    """``line`` up to its first unquoted ``#`` that starts a word."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line


def readme_commands(text: str) -> list[Command]:
    """The commands of every ```sh block (backslash continuations joined, comments dropped)."""
    out: list[Command] = []
    block, pending, start = False, "", 0
    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            block = line.strip() == "```sh" if not block else False
            continue
        if not block or not line.strip() or line.lstrip().startswith("#"):
            continue
        if not pending:
            start = n
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append(Command(start, pending + line))
        pending = ""
    return out


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))


def _sets_up_or_tests(step: str) -> bool:
    return "scripts/setup.sh" in step or re.search(r"\bpytest\b", step) is not None


def test_the_readme_has_commands_and_ci_runs_its_test_command():
    assert len(COMMANDS) >= 5
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_lines = [c for c in COMMANDS if any(re.search(r"\bpytest\b", s) for s in c.steps)]
    assert test_lines, "the README says how to run the tests"
    for c in test_lines:
        assert " && ".join(c.steps) in ci, f"README line {c.line} is not what .ci/run runs"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A scratch checkout: corpus/ and eval/ copied, .venv the running environment, ../shared
    the shared folder (when there is one). Commands run in it in README order, as a reader's."""
    root = tmp_path_factory.mktemp("readme") / "repo"
    root.mkdir()
    for name in ("corpus", "eval"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("tmp*"))
    (root / ".venv").symlink_to(Path(sys.prefix))
    shared = Path(os.environ.get("ASSISTANT_SHARED_DIR") or REPO.parent / "shared")
    if shared.is_dir():
        (root.parent / "shared").symlink_to(shared.resolve())
    return root


@pytest.fixture(scope="module")
def indexed_workdir(workdir: Path, corpus_index_dir: Path) -> Path:
    """The scratch checkout with index/: a copy of the session's index of the shipped corpus."""
    shutil.copytree(corpus_index_dir, workdir / "index")
    return workdir


@pytest.fixture
def env(embedding_cache_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_CACHE_DIR=str(embedding_cache_dir),
        ASSISTANT_PORT=str(_free_port()),  # the default port may be taken on a shared machine
        PYTHONPATH=str(REPO),  # this checkout's code, whatever .venv has installed
    )
    return env


def _assert_quiet(cmd: Command, stderr: str) -> None:
    noisy = [line for line in stderr.splitlines() if NOISE.search(line)]
    assert not noisy, f"README line {cmd.line}: third-party noise on stderr:\n" + "\n".join(noisy)


def _serve(cmd: Command, step: str, workdir: Path, env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{env['ASSISTANT_PORT']}/"
    proc = subprocess.Popen(["sh", "-c", step], cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while True:
            assert proc.poll() is None, f"README line {cmd.line}: serve exited {proc.returncode}"
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, f"README line {cmd.line}: no answer at {url}"
                time.sleep(1)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
    _assert_quiet(cmd, err)


def _needs(step: str, workdir: Path) -> str | None:
    """Why ``step`` cannot run here, or None."""
    if "../shared" in step and not (workdir.parent / "shared").is_dir():
        return "no shared/ folder beside the checkout (set ASSISTANT_SHARED_DIR)"
    if re.search(r"\bdocker\b|MILVUS_URI=https?://", step):
        return "needs a Docker engine and a Milvus server (none runs here; Milvus Lite is tested)"
    return None


def _needs_index(cmd: Command) -> bool:
    """Everything but `chunks` loads the embedding model or an index."""
    return not all(_sets_up_or_tests(s) or " chunks " in f" {s} " for s in cmd.steps)


@pytest.mark.parametrize(
    "cmd",
    [
        pytest.param(c, id=f"line{c.line}", marks=[pytest.mark.slow] if _needs_index(c) else [])
        for c in COMMANDS
    ],
)
def test_readme_command_runs_as_written(cmd: Command, request):
    steps = [s for s in cmd.steps if not _sets_up_or_tests(s)]
    if not steps:
        pytest.skip("sets up this environment or runs the tests: CI runs it (see .ci/run)")
    workdir = request.getfixturevalue("indexed_workdir" if _needs_index(cmd) else "workdir")
    env = request.getfixturevalue("env")
    for step in steps:
        if reason := _needs(step, workdir):
            pytest.skip(reason)
        if re.search(r"\bassistant serve\b", step):
            _serve(cmd, step, workdir, env)
            continue
        proc = subprocess.run(["sh", "-c", step], cwd=workdir, env=env, capture_output=True,
                              text=True, timeout=1800)  # fmt: skip
        assert proc.returncode == 0, (
            f"README line {cmd.line}: `{step}` exited {proc.returncode}\n{proc.stderr[-3000:]}"
        )
        _assert_quiet(cmd, proc.stderr)
