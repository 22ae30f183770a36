"""Packaging: the wheel installs and answers on its own (prompt templates included), every
imported package is declared, and the licence the metadata names is shipped."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_canonical(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


def _imported_top_level(folders: list[Path]) -> dict[str, Path]:
    """Absolute imports' top-level names, with one file that imports each."""
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], path)
    return found


def _undeclared(folders: list[Path], declared: set[str], local: set[str]) -> list[str]:
    distributions = packages_distributions()
    problems = []
    for module, path in sorted(_imported_top_level(folders).items()):
        if module in sys.stdlib_module_names or module in local:
            continue
        dists = {_canonical(d) for d in distributions.get(module, [])}
        if not dists:
            problems.append(f"{module} (imported by {path.relative_to(REPO)}) is not installed")
        elif not dists & declared:
            problems.append(f"{module} (imported by {path.relative_to(REPO)}): declare one of "
                            f"{sorted(dists)}")  # fmt: skip
    return problems


def test_every_package_the_code_imports_is_a_declared_dependency():
    # the milvus backend's packages are the optional extra "milvus"
    project = PYPROJECT["project"]
    declared = _requirement_names(
        project["dependencies"] + project["optional-dependencies"]["milvus"]
    )
    assert _undeclared([REPO / "assistant"], declared, {"assistant"}) == []


def test_every_package_the_tests_and_benchmarks_import_is_declared():
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    declared = _requirement_names(project["dependencies"] + extras["test"] + extras["milvus"])
    local = {"assistant"} | {p.stem for d in ("tests", "eval") for p in (REPO / d).rglob("*.py")}
    assert _undeclared([REPO / "tests", REPO / "eval"], declared, local) == []


def test_the_licence_file_matches_the_metadata():
    assert PYPROJECT["project"]["license"] == "MIT"
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text


# --------------------------------------------------------------------------- the wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built by pip from a copy of the sources (the checkout stays clean)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "assistant", src / "assistant",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
        check=True, timeout=600,
    )  # fmt: skip
    (whl,) = dist.glob("policy_assistant-*.whl")
    return whl


@pytest.fixture(scope="module")
def wheel_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; its dependencies come from this environment's
    site-packages through a .pth file (nothing is downloaded). Returns its python."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "_deps_from_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        check=True, timeout=600,
    )  # fmt: skip
    return python


def _clean_env(**extra: str) -> dict[str, str]:
    dropped = ("PYTHONPATH", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in dropped and "ASSISTANT_" not in k}
    return {**env, **extra}


@pytest.mark.slow
def test_the_installed_wheel_answers_through_the_llm_from_outside_the_repository(
    wheel_venv: Path, seed_index_dir: Path, embedding_cache_dir: Path, tmp_path: Path
):
    python = wheel_venv
    where = subprocess.run(
        [python, "-c", "import assistant, importlib.metadata as m; print(assistant.__file__); "
                       "print(m.metadata('policy-assistant').get_all('License-File'))"],
        cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert where[0].startswith(str(wheel_venv.parent.parent))  # the wheel's copy, not the repo's
    assert "LICENSE" in where[1]

    fake = FakeOpenAI(reply="各地严格落实“双减”政策，规范课后服务[1]。").start()
    try:
        proc = subprocess.run(
            [python.with_name("assistant"), "ask", "--json", "各地如何落实双减",
             "--index-dir", str(seed_index_dir)],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
            env=_clean_env(ASSISTANT_LLM_BASE_URL=fake.base_url, ASSISTANT_LLM_MODEL="fake",
                           ASSISTANT_CACHE_DIR=str(embedding_cache_dir)),
        )  # fmt: skip
    finally:
        fake.stop()
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["answer"].startswith("各地严格落实“双减”政策，规范课后服务[1]")  # the LLM's words
    assert data["found"] is True and data["citations"]
    (request,) = fake.requests
    system, user = request["body"]["messages"][0], request["body"]["messages"][-1]
    shipped = (REPO / "assistant" / "prompts" / "system.txt").read_text(encoding="utf-8")
    assert system["content"] == shipped.strip()
    assert "各地如何落实双减" in user["content"] and '<passage n="1">' in user["content"]
