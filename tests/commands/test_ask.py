"""`assistant ask` over a real index of the shipped corpus, in-process through the CLI, and once
as a real subprocess; the LLM path against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI

from assistant.cli import main

pytestmark = pytest.mark.slow

ZL = "001_a2a3b87c571a2f00.txt"  # 庄浪县, simplified
TRAD = "004_48a2cbb17aecac52.txt"  # four 2024 plans, traditional, locality withheld


@pytest.fixture
def ask(corpus_index_dir, embedder, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray assistant.toml
    for name in ("ASSISTANT_LLM_BASE_URL", "ASSISTANT_LLM_MODEL", "ASSISTANT_LLM_PROVIDER"):
        monkeypatch.delenv(name, raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["ask", *argv, "--index-dir", str(corpus_index_dir)])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def ask_json(ask, question: str, *argv: str) -> dict:
    code, out, err = ask(question, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def test_question_the_corpus_does_not_cover_is_refused(ask):
    data = ask_json(ask, "驾照科目二考试怎么练车")
    assert data["found"] is False and data["outcome"] == "not_covered"
    assert data["citations"] == []
    assert "没有涉及" in data["answer"]


def test_question_the_corpus_only_comes_close_to_shows_related_provisions(ask):
    data = ask_json(ask, "乡村学校的班主任津贴每月发多少")
    assert data["found"] is False and data["outcome"] == "related"
    assert data["answer"].startswith("文件中没有直接回答这个问题的规定")
    assert 1 <= len(data["citations"]) <= 3


def test_shuang_jian_answer_cites_both_seed_documents(ask):
    data = ask_json(ask, "各地如何落实双减")
    assert data["found"] is True
    files = {c["file"] for c in data["citations"]}
    assert {ZL, TRAD} <= files
    assert len({c["doc_id"] for c in data["citations"]}) >= 2
    for c in data["citations"]:
        assert {"n", "file", "doc_id", "title", "region", "year", "path", "label", "text"} <= set(c)
        assert "双减" in c["text"] or "雙減" in c["text"]
    # every [n] in the answer refers to citations[n-1], and every citation is used
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])}
    assert cited == {c["n"] for c in data["citations"]} == set(range(1, len(data["citations"]) + 1))
    zl = next(c for c in data["citations"] if c["file"] == ZL)
    assert zl["label"] == "22." and zl["region"] == "庄浪县"
    assert "庄浪县《2023年全县教育工作要点》" in data["answer"]
    assert "（地区未具名）" in data["answer"]  # 004's localities are withheld ("____市")


def test_filters_narrow_the_evidence(ask):
    data = ask_json(ask, "各地如何落实双减", "--region", "庄浪县")
    assert data["found"] is True
    assert {c["file"] for c in data["citations"]} == {ZL}


def test_readable_output_lists_numbered_sources(ask):
    code, out, _ = ask("各地如何落实双减")
    assert code == 0
    answer, _, sources = out.partition("来源：")
    assert "[1]" in answer
    assert re.search(r"^\[1\] 庄浪县《2023年全县教育工作要点》", sources, re.M)
    assert ZL in sources


def test_llm_configured_by_environment_writes_the_answer(ask, monkeypatch):
    server = FakeOpenAI(
        reply="庄浪县严格落实“双减”政策[1]；另有文件要求继续做好“雙減”工作[2]。另见[99]。"
    )
    server.start()
    try:
        monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("ASSISTANT_LLM_MODEL", "qwen2.5-7b-instruct")
        monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "sk-local")
        data = ask_json(ask, "各地如何落实双减")
    finally:
        server.stop()
    assert data["found"] is True
    # [2] points to the passage that says it (the check moves a citation that its passage does
    # not support); [99] points to no passage and is removed
    assert data["answer"].startswith(
        "庄浪县严格落实“双减”政策[1]；另有文件要求继续做好“雙減”工作[2]。另见。"
    )
    assert "[99]" in data["answer"] and "已删除" in data["answer"]
    assert len(data["citations"]) == 2
    assert "雙減" in data["citations"][1]["text"]
    prompt = "\n".join(m["content"] for m in server.requests[-1]["body"]["messages"])
    assert '<passage n="1">' in prompt and "双减" in prompt
    assert server.requests[-1]["auth"] == "Bearer sk-local"


def test_unreachable_llm_gives_notice_and_extractive_answer(ask, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "qwen")
    monkeypatch.setenv("ASSISTANT_LLM_TIMEOUT", "5")
    code, out, err = ask("各地如何落实双减", "--json")
    assert code == 0 and "Traceback" not in err
    data = json.loads(out)
    assert data["found"] is True and "[1]" in data["answer"]
    assert f"127.0.0.1:{port}" in data["notice"] and "\n" not in data["notice"]


def test_missing_index_is_a_clear_error(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["ask", "各地如何落实双减", "--index-dir", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert code == 1
    assert "assistant index" in err and "Traceback" not in err


def test_ask_json_as_a_real_command(corpus_index_dir, embedding_cache_dir, tmp_path):
    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(embedding_cache_dir), "HF_HUB_OFFLINE": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("ASSISTANT_LLM_")}
    exe = Path(sys.executable).with_name("assistant")
    proc = subprocess.run(
        [str(exe), "ask", "--json", "驾照科目二考试怎么练车", "--index-dir", str(corpus_index_dir)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["found"] is False


OLD_LAW = "未成年人保护法(2020-10-17).md"
NEW_LAW = "未成年人保护法(2024-04-26).md"
LAW_QUESTION = "未成年人保护法对学校处理学生欺凌有什么规定"


def test_a_law_in_two_versions_is_cited_in_its_current_version_only(ask):
    data = ask_json(ask, LAW_QUESTION)
    assert data["found"] is True and data["outcome"] == "answered"
    law = [c for c in data["citations"] if c["title"] == "中华人民共和国未成年人保护法"]
    assert law, data["answer"]
    assert {c["file"] for c in law} == {NEW_LAW}
    assert all(
        c["version"]["current"] and c["version"]["editions"] == ["2020", "2024"] for c in law
    )
    assert OLD_LAW not in {c["file"] for c in data["citations"]}
    assert "《中华人民共和国未成年人保护法》（2024年版，现行版本）" in data["answer"]


def test_with_all_versions_a_passage_both_versions_carry_is_cited_once(ask):
    data = ask_json(ask, LAW_QUESTION, "--versions", "all")
    texts = [re.sub(r"\s", "", c["text"]) for c in data["citations"]]
    assert len(texts) == len(set(texts))


def test_search_keeps_the_older_version_and_says_what_replaced_it(corpus_index_dir, capsys):
    argv = ["search", "未成年人保护法 学生欺凌", "--k", "20", "--index-dir", str(corpus_index_dir)]
    assert main([*argv, "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    old = [h for h in hits if h["file"] == OLD_LAW]
    assert old and all(h["version"]["note"] == "（2020年版，已被2024年版取代）" for h in old)
    assert main([*argv, "--versions", "current"]) == 0
    assert OLD_LAW not in capsys.readouterr().out


def test_a_question_naming_a_city_is_answered_from_that_citys_regulation(ask):
    # Several Henan cities have a regulation on school land; the one asked about comes first.
    data = ask_json(ask, "开封的中小学校园用地可以改作别的用途吗")
    assert data["found"] is True
    assert data["citations"][0]["region"] == "开封市", data["answer"]
    other_henan_cities = set("安阳市 洛阳市 南阳市 新乡市 漯河市 焦作市 郑州市 驻马店市".split())
    assert not other_henan_cities & {c["region"] for c in data["citations"]}, data["answer"]
