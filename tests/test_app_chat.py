"""The chat handler of the app (no browser): streaming, citation cards, LLM fallback, filters.
Over the real session index of the five seeds; the LLM is a fake OpenAI server on 127.0.0.1."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fake_openai import MARKERS_ONLY, FakeOpenAI, copy_of_passage

from assistant.app import (
    RELATED_BANNER,
    answer_markdown,
    chat_turn,
    document_rows,
    precedent_search,
)
from assistant.config import Settings
from assistant.live_index import LiveIndex
from assistant.records import Answer

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent


def live_index(seed_index_dir, embedder, **settings) -> LiveIndex:
    return LiveIndex(REPO / "corpus" / "work_plans", seed_index_dir, Settings(**settings), embedder)


def test_extractive_turn_shows_answer_and_cards(seed_index_dir, embedder):
    live = live_index(seed_index_dir, embedder)
    steps = list(chat_turn(live, "各地如何落实双减", [], "全部", "全部", "", "hybrid"))
    history, cards, cleared = steps[-1]
    assert cleared == ""
    assert history[0] == {"role": "user", "content": "各地如何落实双减"}
    assert "庄浪县《2023年全县教育工作要点》" in history[1]["content"]
    assert cards.count('class="cite-card"') >= 2
    assert 'data-doc="001_a2a3b87c571a2f00"' in cards and "<mark>" in cards


def test_llm_answer_streams_into_the_chat(seed_index_dir, embedder):
    server = FakeOpenAI(
        reply="庄浪县要求严格落实“双减”政策，规范课后服务[1]。", piece_chars=3
    ).start()
    try:
        live = live_index(seed_index_dir, embedder, llm_base_url=server.base_url, llm_model="fake")
        steps = list(chat_turn(live, "各地如何落实双减", [], None, None, None, "hybrid"))
    finally:
        server.stop()
    shown = [h[-1]["content"] for h, _, _ in steps]
    growing = [s for s in shown if s.startswith("庄浪县要求")]
    assert len(growing) > 3  # the answer appeared piece by piece
    assert all(len(a) <= len(b) for a, b in zip(growing, growing[1:], strict=False))
    assert shown[-1] == "庄浪县要求严格落实“双减”政策，规范课后服务[1]。"
    final_cards = steps[-1][1]
    assert final_cards.count('class="cite-card"') == 1 and 'id="cite-1"' in final_cards


def test_unreachable_llm_shows_a_notice_and_the_extractive_answer(seed_index_dir, embedder):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    live = live_index(
        seed_index_dir,
        embedder,
        llm_base_url=f"http://127.0.0.1:{port}/v1",
        llm_model="fake",
        llm_timeout=5,
    )
    history, _, _ = list(chat_turn(live, "各地如何落实双减", [], None, None, None, "hybrid"))[-1]
    text = history[-1]["content"]
    assert text.startswith("> 注意：") and f"127.0.0.1:{port}" in text
    assert "庄浪县《2023年全县教育工作要点》" in text and "Traceback" not in text


def test_filters_and_modes_reach_the_retriever(seed_index_dir, embedder):
    live = live_index(seed_index_dir, embedder)
    for mode in ("dense", "bm25"):
        _, cards, _ = list(chat_turn(live, "各地如何落实双减", [], "2023", "庄浪县", "", mode))[-1]
        assert 'data-doc="001_a2a3b87c571a2f00"' in cards
        assert "004_48a2cbb17aecac52" not in cards


def test_unanswerable_question_cites_nothing(seed_index_dir, embedder):
    live = live_index(seed_index_dir, embedder)
    history, cards, _ = list(
        chat_turn(live, "驾照科目二考试怎么练车", [], None, None, None, "hybrid")
    )[-1]
    assert "没有涉及" in history[-1]["content"]
    assert "没有引用的段落" in cards


def test_precedent_search_and_document_rows(seed_index_dir, embedder):
    live = live_index(seed_index_dir, embedder)
    html = precedent_search(live, "科学规范开展课后服务")
    exact = html[html.index('id="precedent-exact"') : html.index('id="precedent-semantic"')]
    assert 'data-doc="001_a2a3b87c571a2f00"' in exact
    assert "<mark>科学规范开展课后服务</mark>" in exact
    rows = document_rows(live)
    assert any(r[0] == "2023年全县教育工作要点" and r[1] == "庄浪县" and r[6] > 40 for r in rows)


def test_streamed_markers_only_answer_is_replaced_by_the_extractive_one(seed_index_dir, embedder):
    server = FakeOpenAI(reply=MARKERS_ONLY, piece_chars=2).start()
    try:
        live = live_index(seed_index_dir, embedder, llm_base_url=server.base_url, llm_model="fake")
        # the handler yields one history list it updates: read each state as it comes
        shown = [
            h[-1]["content"]
            for h, _, _ in chat_turn(live, "各地如何落实双减", [], None, None, None, "hybrid")
        ]
    finally:
        server.stop()
    assert any(s.startswith("[1]") for s in shown)  # the markers streamed in as they came
    final = shown[-1]
    assert final.startswith("> 注意：") and "citation markers but no answer" in final
    assert "直接依据：" in final and "庄浪县《2023年全县教育工作要点》" in final


def test_streamed_copy_cited_under_wrong_numbers_cites_the_copied_passage(seed_index_dir, embedder):
    server = FakeOpenAI(reply=copy_of_passage(3, "[4]–[8]"), piece_chars=5).start()
    try:
        live = live_index(seed_index_dir, embedder, llm_base_url=server.base_url, llm_model="fake")
        steps = list(chat_turn(live, "各地如何落实双减", [], None, None, None, "hybrid"))
        prompt = server.prompt()
    finally:
        server.stop()
    history, cards, _ = steps[-1]
    final = history[-1]["content"]
    assert final.startswith("> 注意：") and "已改为引用实际依据的段落" in final
    assert final.rstrip().endswith("[1]") and "[4]" not in final and "–" not in final
    passage3 = prompt.split('<passage n="3">', 1)[1].split('"""')[1].strip()
    assert cards.count('class="cite-card"') == 1 and passage3[:20] in cards


def test_related_answers_are_marked_in_the_chat():
    shown = answer_markdown(Answer(text="文件中没有直接回答……", found=False, outcome="related"))
    assert shown.startswith(RELATED_BANNER)
    assert not answer_markdown(Answer(text="x", found=True)).startswith(RELATED_BANNER)
