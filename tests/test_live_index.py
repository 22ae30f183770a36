"""The index a running app serves: newest committed generation, background update with progress.

Real builds on a copy of the seed index; another writer holds the real build lock where a test
needs an update to wait (as `assistant index` in another process does).
"""

from __future__ import annotations

import re
import shutil
import time

import pytest
from live_corpus import NEW_PLAN, NEW_PLAN_TEXT, seed_copy

from assistant.answering.reader import load_reader
from assistant.config import Settings
from assistant.live_index import IndexNotReadyError, LiveIndex
from assistant.search.builder import build_index
from assistant.search.store import build_lock, commit_generation, current_generation

pytestmark = pytest.mark.slow


def found(live: LiveIndex, query: str = "研学旅行线路由谁审核") -> bool:
    hits = live.retriever.search(query, k=5, mode="bm25")
    return any(h.chunk.doc.file == NEW_PLAN for h in hits)


def wait_for(predicate, what: str, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.002)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_generation_committed_by_another_writer_is_served_from_the_next_request(
    seed_index_dir, embedder, tmp_path
):
    corpus, index = seed_copy(seed_index_dir, tmp_path)
    live = LiveIndex(corpus, index, Settings(), embedder)
    before = live.retriever
    assert not found(live)
    (corpus / NEW_PLAN).write_text(NEW_PLAN_TEXT, encoding="utf-8")
    build_index([corpus], index, Settings(), embedder=embedder, progress=False)  # `assistant index`
    assert live.retriever is not before and live.retriever.generation == current_generation(index)
    assert found(live)
    # a request still holding the old generation finishes on it
    assert before.search("双减", k=1, mode="bm25")


def test_update_in_the_background_serves_the_old_index_and_shows_progress(
    seed_index_dir, embedder, tmp_path
):
    corpus, index = seed_copy(seed_index_dir, tmp_path)
    (corpus / NEW_PLAN).write_text(NEW_PLAN_TEXT, encoding="utf-8")
    live = LiveIndex(corpus, index, Settings(), embedder)
    old = live.retriever.generation
    with build_lock(index):  # another process is building
        thread = live.start_update(warm=False)
        wait_for(lambda: "等待另一个进程" in live.status().text, "the wait to show")
        status = live.status()
        assert status.state == "updating" and status.generation == old.name
        assert not found(live)  # answering from the index as it was
    texts = set()

    def ready() -> bool:
        texts.add(live.status().text)
        return not thread.is_alive()

    wait_for(ready, "the update")
    assert any(re.search(r"索引更新中：.* \d+/\d+", t) for t in texts), texts
    assert live.status().state == "ready" and found(live)


def test_a_fresh_machine_says_the_index_is_being_built(embedder, tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / NEW_PLAN).write_text(NEW_PLAN_TEXT, encoding="utf-8")
    live = LiveIndex(corpus, index, Settings(), embedder)
    assert not live.ready()
    with pytest.raises(IndexNotReadyError):
        live.retriever  # noqa: B018
    with build_lock(index):
        thread = live.start_update(warm=False)
        wait_for(lambda: "等待另一个进程" in live.status().text, "the wait to show")
        assert live.status().state == "building"
        assert live.status().text.startswith("索引正在建立")
    thread.join(300)
    assert live.ready() and found(live) and live.status().text == "索引就绪：1 个文件，40 个段落"


def test_a_generation_that_cannot_be_opened_leaves_the_old_one_serving(
    seed_index_dir, embedder, tmp_path
):
    corpus, index = seed_copy(seed_index_dir, tmp_path)
    live = LiveIndex(corpus, index, Settings(), embedder)
    served = live.retriever
    broken = index / "gen-000099"
    shutil.copytree(served.generation, broken)
    (broken / "deleted.npy").write_bytes(b"not an array")  # a damaged commit record
    commit_generation(index, broken)
    assert live.retriever is served
    status = live.status()
    assert status.state == "failed" and "新提交的索引无法打开" in status.text
    assert served.search("双减", k=1, mode="bm25")


def test_warming_up_for_answers_loads_the_answer_reader_before_any_question(
    seed_index_dir, embedder, tmp_path
):
    corpus, index = seed_copy(seed_index_dir, tmp_path)
    live = LiveIndex(corpus, index, Settings(), embedder)
    load_reader.cache_clear()
    live.warm_up()
    assert load_reader.cache_info().currsize == 0  # the query embedder only
    live.warm_up(answers=True)
    assert load_reader.cache_info().currsize == 1
    assert live.activity == "" and live.status().state == "ready"
