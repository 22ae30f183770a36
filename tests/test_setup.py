"""scripts/install_torch_cpu.sh (run by scripts/setup.sh): torch's CPU build, alone, from the
PyTorch CPU index or a local wheel, and nothing when the pinned version is installed.

The index is a real PEP 503 "simple" index served on 127.0.0.1; the torch it serves is a tiny
stand-in wheel with the pinned version, so the test downloads nothing.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "install_torch_cpu.sh"
PINNED = re.search(r"^torch==(\S+)$", (REPO / "constraints.txt").read_text(), re.M).group(1)


def make_wheel(folder: Path, version: str) -> Path:
    """A minimal, valid wheel named torch (one module saying which build it is)."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"torch-{version}.dist-info"
    files = {
        "torch/__init__.py": f"__version__ = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    path = folder / f"torch-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


class Index:
    """A simple index on 127.0.0.1 that serves one project, torch, and logs what is asked."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        index = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                index.requests.append(self.path)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=root))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"


@pytest.fixture
def cpu_index(tmp_path: Path) -> Iterator[Index]:
    root = tmp_path / "index"
    wheel = make_wheel(root / "files", f"{PINNED}+cpu")
    (root / "simple" / "torch").mkdir(parents=True)
    (root / "simple" / "torch" / "index.html").write_text(
        f'<a href="../../files/{wheel.name}">{wheel.name}</a>\n', encoding="utf-8"
    )
    index = Index(root)
    yield index
    index.server.shutdown()


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    return folder / "bin" / "python"


@pytest.fixture
def venv(fresh_venv: Path) -> Iterator[Path]:
    """A venv (with pip) without torch; returns its python."""
    yield fresh_venv
    subprocess.run([fresh_venv, "-m", "pip", "uninstall", "-q", "-y", "torch"], check=True,
                   capture_output=True)  # fmt: skip


def install_torch(python: Path, index_url: str, find_links: Path | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    # No pip configuration file: no find-links or extra index of this machine.
    env |= {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "TORCH_INDEX_URL": index_url}  # fmt: skip
    if find_links is not None:
        env["PIP_FIND_LINKS"] = str(find_links)
    return subprocess.run(["sh", str(SCRIPT), str(python)], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def installed(python: Path) -> list[str]:
    out = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return out.split()


def test_torch_comes_alone_from_the_cpu_index_and_only_once(venv, cpu_index):
    proc = install_torch(venv, cpu_index.url)
    assert proc.returncode == 0, proc.stderr
    assert f"torch=={PINNED}+cpu" in installed(venv)
    assert not [p for p in installed(venv) if p.startswith("nvidia")]
    assert "/simple/torch/" in cpu_index.requests  # asked the CPU index …
    assert "CPU build" in proc.stderr  # … and said so before downloading

    cpu_index.requests.clear()
    proc = install_torch(venv, cpu_index.url)
    assert proc.returncode == 0, proc.stderr
    assert cpu_index.requests == [] and proc.stderr == ""  # already there: nothing to do


def test_a_local_wheel_is_used_without_asking_the_index(venv, cpu_index, tmp_path):
    local = tmp_path / "wheels"
    make_wheel(local, f"{PINNED}+cpu")
    proc = install_torch(venv, cpu_index.url, find_links=local)
    assert proc.returncode == 0, proc.stderr
    assert f"torch=={PINNED}+cpu" in installed(venv)
    assert cpu_index.requests == []


def test_an_unreachable_index_fails_with_pips_error(venv, tmp_path):
    import socket

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = install_torch(venv, f"http://127.0.0.1:{port}/simple/")
    assert proc.returncode != 0
    assert "torch" in proc.stderr and "No matching distribution" in proc.stderr
