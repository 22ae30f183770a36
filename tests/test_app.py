"""The real app (`assistant serve` in a subprocess) driven in headless Debian Chromium.

Over a copy of the shipped corpus and of its session index: log in, ask "各地如何落实双减" and see
an answer citing at least two documents, open a citation, run a precedent search and copy a
wording, refuse a bad upload and index a good one. Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from served_app import free_port, wait_until_serving

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = REPO / "test-output" / "browser"
USER, PASSWORD = "staff", "s3cret-pass"
ZL = "001_a2a3b87c571a2f00.txt"
TRAD = "004_48a2cbb17aecac52.txt"

if not CHROMIUM.exists():
    pytest.skip(
        "Debian chromium is not installed (/usr/bin/chromium): apt-get install chromium",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def served(corpus_index_dir, embedding_cache_dir, tmp_path_factory) -> Iterator[dict]:
    work = tmp_path_factory.mktemp("app")
    corpus = work / "corpus"
    index = work / "index"
    shutil.copytree(REPO / "corpus", corpus)  # uploads land here, not in the repository
    shutil.copytree(corpus_index_dir, index)
    port = free_port()
    log = work / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_CACHE_DIR=str(embedding_cache_dir),
        ASSISTANT_AUTH=f"{USER}:{PASSWORD}",
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    exe = Path(sys.executable).with_name("assistant")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(exe),
                "serve",
                "--port",
                str(port),
                "--index-dir",
                str(index),
                "--corpus",
                str(corpus),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=work,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, proc, log)
        yield {"url": url, "corpus": corpus, "log": log}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def page(served):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000},
            permissions=["clipboard-read", "clipboard-write"],
        )
        pg = context.new_page()
        pg.set_default_timeout(180_000)
        yield pg
        browser.close()
    print(f"\nscreenshots: {SHOTS}")


def shot(page, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def test_01_login_is_required(page, served):
    page.goto(served["url"])
    page.wait_for_selector("input[type=password]")
    assert page.locator("#question").count() == 0
    page.fill("input[type=text]", USER)
    page.fill("input[type=password]", "wrong")
    page.click("button:has-text('Login')")
    page.wait_for_selector("text=/incorrect/i")
    page.fill("input[type=text]", USER)  # the form is cleared after a failed attempt
    page.fill("input[type=password]", PASSWORD)
    page.click("button:has-text('Login')")
    page.wait_for_selector("#question textarea")
    shot(page, "00-logged-in")


def test_02_chat_answers_with_citations_from_two_documents(page):
    page.fill("#question textarea", "各地如何落实双减")
    page.click("#ask")
    # the final answer names its documents; the cards then hold the cited passages
    page.wait_for_function(
        "() => document.querySelector('#chatbot')?.innerText.includes('份文件中找到')"
    )
    answer = page.inner_text("#chatbot")
    assert "庄浪县《2023年全县教育工作要点》" in answer
    assert re.search(r"\[1\]", answer) and re.search(r"\[2\]", answer)
    cards = page.locator("#citations .cite-card")
    assert cards.count() >= 2
    docs = {cards.nth(i).get_attribute("data-doc") for i in range(cards.count())}
    assert len(docs) >= 2
    sources = page.locator("#citations").text_content()  # closed cards included
    assert ZL in sources and TRAD in sources
    assert page.locator("#citations mark").count() > 0  # the query's terms are highlighted
    (SHOTS / "answer-shuangjian.txt").write_text(answer, encoding="utf-8")
    print("\nanswer the app gave:\n" + answer)
    shot(page, "01-chat-answer")


def test_03_opening_a_citation_shows_the_full_passage(page):
    card = page.locator("#citations .cite-card").first
    passage = card.locator(".cite-passage")
    assert not passage.is_visible()
    card.locator("summary").click()
    passage.wait_for(state="visible")
    text = passage.inner_text()
    assert "双减" in text or "雙減" in text
    assert len(text) > len(card.locator(".cite-snippet").inner_text())
    assert card.locator(".cite-source").inner_text().startswith("来源文件：")
    shot(page, "02-citation-open")


def test_04_precedent_search_finds_exact_and_similar_wordings(page):
    page.get_by_role("tab", name="相似表述").click()
    page.fill("#phrase textarea", "科学规范开展课后服务")
    page.click("#find")
    page.wait_for_selector("#precedent-exact .precedent")
    exact = page.locator("#precedent-exact .precedent")
    assert ZL in exact.first.inner_text()
    assert exact.first.locator("mark").first.inner_text() == "科学规范开展课后服务"
    semantic = page.locator("#precedent-semantic .precedent")
    assert semantic.count() >= 2
    docs = {semantic.nth(i).get_attribute("data-doc") for i in range(semantic.count())}
    assert len(docs) == semantic.count()  # one wording per document
    button = exact.first.locator("button.copy-btn").first
    button.click()
    page.wait_for_function("(b) => b.dataset.copied === '1'", arg=button.element_handle())
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "科学规范开展课后服务" in copied
    shot(page, "03-precedent")


def test_05_bad_upload_is_refused_and_good_one_is_indexed(page, served, tmp_path):
    page.get_by_role("tab", name="文件").click()
    table = page.locator("#documents")
    table.wait_for()
    before = table.inner_text()
    assert "段落数" in before and "regulations/local/" in before  # a virtualized table: top rows

    bad = tmp_path / "扫描件.pdf"
    bad.write_bytes(b"%PDF-1.4\n%broken\n" + bytes(range(256)) * 4)
    page.set_input_files("#upload input[type=file]", str(bad))
    page.click("#add")
    page.wait_for_selector("#upload-status:has-text('未接收')")  # checked in the background
    assert "扫描件.pdf" in page.inner_text("#upload-status")
    assert not (served["corpus"] / "uploads" / "扫描件.pdf").exists()
    shot(page, "04-upload-refused")

    good = tmp_path / "示例县2025年研学旅行工作方案.md"
    good.write_text(
        "# 示例县2025年研学旅行工作方案\n\n"
        "一、组织研学旅行\n\n"
        "1.每学期组织学生开展一次研学旅行，研学旅行线路由县教育局统一审核备案。\n\n"
        "2.研学旅行费用实行自愿原则，家庭经济困难学生免收费用。\n",
        encoding="utf-8",
    )
    page.set_input_files("#upload input[type=file]", str(good))
    page.click("#add")
    page.wait_for_selector("#upload-status:has-text('【已索引】')")
    status = page.inner_text("#upload-status")
    assert "【已索引】示例县2025年研学旅行工作方案.md" in status
    assert (served["corpus"] / "uploads" / "示例县2025年研学旅行工作方案.md").exists()
    page.wait_for_function(
        "() => document.querySelector('#documents')?.innerText.includes('研学旅行工作方案')"
    )
    shot(page, "05-upload-indexed")

    # the new document answers at once in the chat
    page.get_by_role("tab", name="问答").click()
    page.fill("#question textarea", "研学旅行线路由谁审核")
    page.click("#ask")
    page.wait_for_function(
        "() => document.querySelectorAll('#citations .cite-card').length > 0 && "
        "document.querySelector('#citations').innerText.includes('示例县2025年研学旅行工作方案')"
    )
    shot(page, "06-chat-new-document")


# Three outcomes of the answer decision (questions not in eval/answer_questions.jsonl).
OUTCOME_QUESTIONS = [
    ("answered", "学校可以组织学生在假期集体补课吗", "直接依据："),
    ("related", "乡村学校的班主任津贴每月发多少", "相关条文（文件没有直接回答这个问题）"),
    ("not_covered", "驾照科目二考试怎么练车", "没有涉及"),
]


@pytest.mark.parametrize(("outcome", "question", "shown"), OUTCOME_QUESTIONS)
def test_06_chat_shows_each_outcome_distinctly(page, outcome, question, shown):
    page.get_by_role("tab", name="问答").click()
    page.click("#clear")
    # the clear event has run when the cards are empty (it empties chat and cards together)
    page.wait_for_function("() => document.querySelector('#citations')?.innerText.trim() === ''")
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function(
        "(s) => document.querySelector('#chatbot')?.innerText.includes(s)", arg=shown
    )
    answer = page.inner_text("#chatbot")
    cards = page.locator("#citations .cite-card")
    others = [s for o, _, s in OUTCOME_QUESTIONS if o != outcome]
    assert not any(s in answer for s in others)
    if outcome == "not_covered":
        page.wait_for_selector("#citations:has-text('没有引用的段落')")
        assert cards.count() == 0
    else:
        page.wait_for_selector("#citations .cite-card")
        assert cards.count() >= 1
    shot(page, f"07-outcome-{outcome}")
