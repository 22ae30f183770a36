"""The live app (`assistant serve` in a subprocess, no login) over HTTP and in headless Chromium.

Over a copy of the seed corpus and index, with a new document whose text carries markup, links
and images. The test holds the index's real build lock at start, as `assistant index` in another
process would, so the app's background update waits where the test can see it. Then: the app
answers from the old index at once and shows the update; document markup shows as text and
never runs; a commit from the command line is served by the next request; uploads are
deduplicated, refused without a trace in Gradio's temp folder, or indexed with progress; the
README's `gradio_client` example runs. A second server starts on a machine with no index.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest
from live_corpus import NEW_PLAN, NEW_PLAN_TEXT, REPO, ZL, seed_copy
from served_app import ASSISTANT, serve_env, serving

from assistant.search.store import build_lock

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SHOTS = REPO / "test-output" / "browser"
TITLE = "政策助手 Policy Assistant"

HOSTILE = "示例区2025年校外培训治理通知.txt"
HOSTILE_TEXT = (
    "示例区2025年校外培训治理通知\n\n一、规范校外培训\n\n"
    "1.校外培训机构<img src=x onerror=\"window.__pwned=1;document.title='pwned'\">夜间停课。\n\n"
    "2.校外培训机构<script>window.__pwned=2;document.title='pwned'</script>广告下架。\n\n"
    "3.校外培训机构[入口](javascript:window.__pwned=3)![图](http://127.0.0.1:9/t.png)。\n"
)
LITERALS = ("<img src=x onerror=", "<script>window.__pwned=2", "[入口](javascript:")
SPORTS = "示例县2025年体育工作要点.txt"
SPORTS_TEXT = (
    "示例县2025年体育工作要点\n\n一、体育\n\n1.全面推行体育大课间，每天校内体育活动不少于一小时。\n"
)

if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed (/usr/bin/chromium)", allow_module_level=True)


def api(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def wait_for(predicate, what: str, timeout: float = 300, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def files_of(hits: list[dict]) -> set[str]:
    return {h["file"] for h in hits}


@pytest.fixture(scope="module")
def app(seed_index_dir, embedding_cache_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("live-app")
    corpus, index = seed_copy(seed_index_dir, work)
    (corpus / HOSTILE).write_text(HOSTILE_TEXT, encoding="utf-8")  # not indexed yet
    gradio_tmp = work / "gradio-tmp"
    env = serve_env(embedding_cache_dir, GRADIO_TEMP_DIR=str(gradio_tmp))
    with ExitStack() as stack:
        held = ExitStack()
        held.enter_context(build_lock(index))  # "another process" is building this index
        stack.callback(held.close)
        args = ["--index-dir", str(index), "--corpus", str(corpus)]
        served = stack.enter_context(serving(args, env, work / "serve.log", work))
        yield {
            **served,
            "corpus": corpus,
            "index": index,
            "env": env,
            "work": work,
            "gradio_tmp": gradio_tmp,
            "release": held.close,
        }


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(180_000)
    page.goto(url)
    page.wait_for_selector("#question textarea")
    return page


@pytest.fixture(scope="module")
def page(browser, app):
    page = new_page(browser, app["url"])
    yield page
    page.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_01_the_app_answers_from_the_existing_index_while_the_update_waits(app, page):
    client = api(app["url"])
    status = client.predict(api_name="/status")
    assert status["state"] == "updating" and "等待另一个进程" in status["text"], status
    assert ZL in files_of(client.predict(query="双减", k=5, api_name="/search"))
    assert HOSTILE not in files_of(
        client.predict(query="夜间授课", k=5, mode="bm25", api_name="/search")
    )
    page.wait_for_selector("#index-status :text('索引更新中')")
    shot(page, "live-01-updating")

    app["release"]()  # the other build finished: the app's update runs now
    wait_for(lambda: client.predict(api_name="/status")["state"] == "ready", "the update")
    hits = client.predict(query="夜间授课", k=5, mode="bm25", api_name="/search")
    assert HOSTILE in files_of(hits)
    page.wait_for_selector("#index-status :text('索引就绪：6 个文件')")


def test_02_document_markup_shows_as_text_and_never_runs(app, page):
    page.evaluate("() => { delete window.__pwned; }")
    page.fill("#question textarea", "校外培训机构如何治理")
    page.click("#ask")
    page.wait_for_function(
        "() => document.querySelector('#citations')?.innerText.includes('校外培训治理通知')"
        " && document.querySelector('#chatbot')?.innerText.includes('份文件中找到')"
    )
    page.wait_for_timeout(1000)  # let any injected handler fire
    chat = page.inner_text("#chatbot")
    cards = page.locator("#citations").text_content()
    for literal in LITERALS:  # shown literally…
        assert literal in chat, chat
        assert literal in cards, cards
    assert "![图](http://127.0.0.1:9/t.png)" in cards
    assert page.evaluate("() => window.__pwned") is None  # …and nothing ran
    assert page.title() == TITLE
    for scope in ("#chatbot", "#citations"):
        assert page.locator(f"{scope} img[src='x']").count() == 0
        assert page.locator(f"{scope} img[src*='t.png']").count() == 0
        assert page.locator(f"{scope} a[href^='javascript']").count() == 0
        assert page.locator(f"{scope} script").count() == 0
    shot(page, "live-02-markup-as-text")


def test_03_a_commit_from_the_command_line_is_served_by_the_next_request(app, page):
    (app["corpus"] / SPORTS).write_text(SPORTS_TEXT, encoding="utf-8")
    done = subprocess.run(
        [str(ASSISTANT), "index", str(app["corpus"]), "--index-dir", str(app["index"])],
        capture_output=True,
        text=True,
        env=app["env"],
        cwd=app["work"],
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    hits = api(app["url"]).predict(query="体育大课间", k=3, mode="bm25", api_name="/search")
    assert hits and hits[0]["file"] == SPORTS
    page.get_by_role("tab", name="文件").click()
    listed(page, "体育", "体育工作要点")
    page.wait_for_selector("#index-status :text('索引就绪：7 个文件')")


def listed(page, search: str, title: str) -> None:
    """Wait until the documents table, searched the way a user would, lists ``title`` (only
    the rows in view are rendered)."""
    page.fill("#documents input[placeholder]", search)
    page.wait_for_function(
        f"() => document.querySelector('#documents')?.innerText.includes('{title}')"
    )


def _upload(page, path: Path) -> list[str]:
    """Upload through the page; return the server-side paths Gradio stored the files at."""
    with page.expect_response(re.compile(r"/gradio_api/upload(\?|$)")) as response:
        page.set_input_files("#upload input[type=file]", str(path))
    stored = response.value.json()
    page.wait_for_selector("#upload .file-preview, #upload table")
    page.click("#add")
    return stored


def _not_downloadable(url: str, server_path: str) -> bool:
    try:
        quoted = urllib.parse.quote(server_path)
        with urllib.request.urlopen(f"{url}gradio_api/file={quoted}", timeout=10):
            return False
    except urllib.error.HTTPError as exc:
        return exc.code in (403, 404)


def test_04_uploads_deduplicated_refused_without_a_trace_or_indexed_with_progress(
    app, page, tmp_path
):
    page.get_by_role("tab", name="文件").click()
    copy = tmp_path / "庄浪县要点（另存）.txt"
    copy.write_bytes((app["corpus"] / ZL).read_bytes())
    _upload(page, copy)
    page.wait_for_selector("#upload-status :text('【已索引过】')")
    assert f"与已有文件 {ZL} 内容相同" in page.inner_text("#upload-status")

    bad = tmp_path / "扫描件.pdf"
    bad.write_bytes(b"%PDF-1.4\n%broken\n" + bytes(range(256)) * 4)
    stored = _upload(page, bad)
    page.wait_for_selector("#upload-status :text('【未接收】扫描件.pdf')")
    assert not (app["corpus"] / "uploads" / "扫描件.pdf").exists()
    assert not list(app["gradio_tmp"].rglob("扫描件.pdf"))
    assert stored and all(_not_downloadable(app["url"], p) for p in stored)
    shot(page, "live-03-upload-refused")

    good = tmp_path / NEW_PLAN
    good.write_text(NEW_PLAN_TEXT, encoding="utf-8")
    with build_lock(app["index"]):  # another build runs: the upload waits, visibly
        _upload(page, good)
        page.wait_for_selector(f"#upload-status :text('【处理中】{NEW_PLAN}：更新索引')")
        page.wait_for_selector("#index-status :text('等待另一个进程')")
        shot(page, "live-04-upload-in-progress")
    page.wait_for_selector(f"#upload-status :text('【已索引】{NEW_PLAN}：40 个段落')")
    assert not list(app["gradio_tmp"].rglob(NEW_PLAN))
    listed(page, "研学", "研学旅行工作方案")
    shot(page, "live-05-upload-indexed")


def readme_api_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For programs: the app's API", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_05_the_readme_gradio_client_example_runs(app, tmp_path):
    code = readme_api_example().replace("http://127.0.0.1:7860/", app["url"])
    (tmp_path / "示例方案.md").write_text(
        "# 示例方案\n\n一、课后服务\n\n1.课后服务结束时间不早于当地正常下班时间。\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=600
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("索引就绪：")
    # found, and the answer opens with one cited sentence
    assert lines[1].startswith("True ") and "[1]" in lines[1]
    assert any(re.match(r"1 .+ \S+ \S+\.txt$", line) for line in lines)  # a citation
    assert lines[-1].startswith("indexed 【已索引】示例方案.md")


def test_06_the_api_page_lists_only_the_named_endpoints(app):
    with urllib.request.urlopen(f"{app['url']}gradio_api/info", timeout=30) as resp:
        info = json.load(resp)
    endpoints = info["named_endpoints"]
    assert sorted(endpoints) == [
        "/ask", "/precedent", "/search", "/status", "/upload", "/upload_status",
    ]  # fmt: skip
    assert not info["unnamed_endpoints"]
    assert [p["parameter_name"] for p in endpoints["/ask"]["parameters"]] == [
        "question", "year", "region", "doc_id", "mode",
    ]  # fmt: skip
    assert "answer: str, found: bool" in endpoints["/ask"]["returns"][0]["python_type"]["type"]


def test_07_the_terminal_shows_no_per_request_noise(app):
    log = app["log"].read_text(errors="replace")
    assert "Deprecat" not in log and "Traceback" not in log, log[-3000:]


# --------------------------------------------------------------------------- a fresh machine


def test_a_fresh_machine_serves_at_once_and_says_the_index_is_being_built(
    embedding_cache_dir, tmp_path, browser
):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / NEW_PLAN).write_text(NEW_PLAN_TEXT, encoding="utf-8")
    env = serve_env(embedding_cache_dir)
    args = ["--index-dir", str(index), "--corpus", str(corpus)]
    with ExitStack() as held:
        held.enter_context(build_lock(index))
        with serving(args, env, tmp_path / "serve.log", tmp_path) as served:
            fresh = new_page(browser, served["url"])
            fresh.wait_for_selector("#index-status :text('索引正在建立')")
            fresh.fill("#question textarea", "研学旅行线路由谁审核")
            fresh.click("#ask")
            fresh.wait_for_function(
                "() => document.querySelector('#chatbot')?.innerText.includes('索引正在建立')"
            )
            shot(fresh, "live-06-fresh-machine")
            held.close()  # the other build is done: the app builds its index now
            fresh.wait_for_selector("#index-status :text('索引就绪：1 个文件，40 个段落')")
            fresh.click("#clear")
            fresh.fill("#question textarea", "研学旅行线路由谁审核")
            fresh.click("#ask")
            fresh.wait_for_function(
                "() => document.querySelector('#citations')?.innerText.includes('研学旅行')"
            )
            status = api(served["url"]).predict(api_name="/status")
            assert status == {
                "state": "ready",
                "text": "索引就绪：1 个文件，40 个段落",
                "generation": "gen-000001",
                "files": 1,
                "chunks": 40,
            }
            fresh.close()
