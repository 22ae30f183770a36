"""The answer pipeline over hand-made hits, with and without a (fake, real-HTTP) LLM."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from answer_records import SHUANGJIAN_22, SHUANGJIAN_TRAD
from fake_openai import MARKERS_ONLY, copy_of_passage

from assistant.answering.extractive import RELATED_HEAD
from assistant.answering.pipeline import Delta, Notice, Retrieved, answer, stream_answer
from assistant.answering.support import UNVERIFIED
from assistant.config import Settings
from assistant.records import Answer, Hit
from assistant.search.retriever import SearchFilters


@dataclass
class ListRetriever:
    """Returns the same hits for every query and records how it was asked."""

    hits: list[Hit]
    calls: list[dict] = field(default_factory=list)

    def search(self, query, *, k=10, mode="hybrid", filters=None, per_doc=None):
        self.calls.append(
            {"query": query, "k": k, "mode": mode, "filters": filters, "per_doc": per_doc}
        )
        return list(self.hits[:k])


def llm_settings(base_url: str) -> Settings:
    return Settings(llm_base_url=base_url, llm_model="fake-qwen", llm_timeout=5)


def test_without_llm_the_answer_is_extractive_and_cited(shuangjian_hits):
    ans = answer("各地如何落实双减", ListRetriever(shuangjian_hits), Settings())
    assert ans.found and ans.notice is None
    assert len({c.hit.chunk.doc.doc_id for c in ans.citations}) == 2
    assert "[1]" in ans.text and "[2]" in ans.text


def test_unanswerable_question_is_refused_without_asking_the_llm(shuangjian_hits, fake_llm):
    ans = answer(
        "高校科研经费如何管理", ListRetriever(shuangjian_hits), llm_settings(fake_llm.base_url)
    )
    assert not ans.found and ans.citations == []
    assert fake_llm.requests == []


def test_llm_answer_streams_and_keeps_valid_citations(shuangjian_hits, fake_llm):
    fake_llm.reply = "庄浪县要求严格落实“双减”政策，规范课后服务[1]；另一地继续做好“双减”工作[2]。"
    events = list(
        stream_answer(
            "各地如何落实双减", ListRetriever(shuangjian_hits), llm_settings(fake_llm.base_url)
        )
    )
    assert isinstance(events[0], Retrieved)
    deltas = [e.text for e in events if isinstance(e, Delta)]
    assert len(deltas) > 1 and "".join(deltas) == fake_llm.reply
    final = events[-1]
    assert isinstance(final, Answer) and final.found
    assert final.text == fake_llm.reply
    assert [c.hit.chunk.doc.doc_id for c in final.citations] == [
        "001_a2a3b87c571a2f00",
        "004_48a2cbb17aecac52",
    ]
    assert fake_llm.requests[-1]["body"]["stream"] is True


def test_llm_citation_to_no_passage_is_removed_and_the_answer_says_so(shuangjian_hits, fake_llm):
    fake_llm.reply = "庄浪县严格落实双减[1]，全省已全面取消考试[9]。"
    ans = answer(
        "各地如何落实双减", ListRetriever(shuangjian_hits), llm_settings(fake_llm.base_url)
    )
    first_line = ans.text.splitlines()[0]
    # the invented claim keeps no citation and is marked as not found in any passage
    assert first_line == f"庄浪县严格落实双减[1]，全省已全面取消考试{UNVERIFIED}。"
    assert "[9]" in ans.text and "已删除" in ans.text
    assert len(ans.citations) == 1
    assert ans.citations[0].hit.chunk.label == "22."
    # answer() uses one plain (non-streaming) completion
    assert not fake_llm.requests[-1]["body"].get("stream")


def test_prompt_carries_the_passages_as_quoted_data(shuangjian_hits, fake_llm):
    answer("各地如何落实双减", ListRetriever(shuangjian_hits), llm_settings(fake_llm.base_url))
    prompt = fake_llm.prompt()
    assert "<passages>" in prompt and '<passage n="1">' in prompt and '<passage n="2">' in prompt
    assert '"""\n22.严格落实“双减”政策。' in prompt
    assert "繼續做好“雙減”和政府履職評價工作" in prompt
    assert "二十大" not in prompt  # the weak hit is not given as evidence
    system = fake_llm.requests[-1]["body"]["messages"][0]
    assert system["role"] == "system" and "[1]" in system["content"]


def test_unreachable_llm_gives_a_notice_and_the_extractive_answer(shuangjian_hits, closed_port):
    settings = llm_settings(f"http://127.0.0.1:{closed_port}/v1")
    events = list(stream_answer("各地如何落实双减", ListRetriever(shuangjian_hits), settings))
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and "\n" not in notices[0]
    assert f"127.0.0.1:{closed_port}" in notices[0] and "摘自文件" in notices[0]
    final = events[-1]
    assert final.found and final.notice == notices[0]
    assert "庄浪县《2023年全县教育工作要点》" in final.text and "[2]" in final.text
    assert "Traceback" not in final.text


def test_failing_llm_falls_back_too(shuangjian_hits, fake_llm):
    fake_llm.status = 503
    ans = answer(
        "各地如何落实双减", ListRetriever(shuangjian_hits), llm_settings(fake_llm.base_url)
    )
    assert ans.found and ans.notice and "503" in ans.notice
    assert "[1]" in ans.text


@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_relevance_is_judged_on_hybrid_hits_whatever_the_mode(shuangjian_hits, mode):
    retriever = ListRetriever(shuangjian_hits)
    answer("各地如何落实双减", retriever, Settings(), mode=mode)
    assert [c["mode"] for c in retriever.calls] == ["hybrid", mode]
    assert all(c["per_doc"] for c in retriever.calls)


@pytest.mark.parametrize("stream", [True, False])
def test_markers_only_llm_answer_falls_back_to_the_extractive_answer(
    shuangjian_hits, fake_llm, stream
):
    fake_llm.reply = MARKERS_ONLY
    events = list(
        stream_answer(
            "各地如何落实双减",
            ListRetriever(shuangjian_hits),
            llm_settings(fake_llm.base_url),
            stream_llm=stream,
        )
    )
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and "citation markers but no answer" in notices[0]
    final = events[-1]
    assert final.found and final.notice == notices[0]
    assert final.text.startswith("直接依据：") and "庄浪县《2023年全县教育工作要点》" in final.text
    assert fake_llm.requests[-1]["body"].get("stream", False) is stream


def test_copied_passage_cited_under_wrong_numbers_is_cited_as_its_passage(
    shuangjian_hits, fake_llm
):
    fake_llm.reply = copy_of_passage(2, "[4]–[8]")  # three passages are given: 4–8 do not exist
    events = list(
        stream_answer(
            "各地如何落实双减", ListRetriever(shuangjian_hits), llm_settings(fake_llm.base_url)
        )
    )
    final = events[-1]
    assert final.text.startswith(SHUANGJIAN_TRAD) and "[1]" in final.text
    assert [c.hit.chunk.text for c in final.citations] == [SHUANGJIAN_TRAD]
    assert "–" not in final.text and "[4]" not in final.text
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert notices and "1 处已改为引用实际依据的段落" in notices[0]


def test_partly_covered_question_gets_related_provisions_not_an_answer(shuangjian_hits, fake_llm):
    ans = answer(
        "双减与高校科研经费", ListRetriever(shuangjian_hits), llm_settings(fake_llm.base_url)
    )
    assert ans.outcome == "related" and not ans.found
    assert ans.text.startswith(RELATED_HEAD)
    assert ans.citations and ans.citations[0].hit.chunk.text == SHUANGJIAN_22
    assert ans.to_dict()["outcome"] == "related" and ans.to_dict()["found"] is False
    assert fake_llm.requests == []  # no LLM for a question the documents do not answer


def test_answers_leave_superseded_versions_out_unless_asked(shuangjian_hits):
    retriever = ListRetriever(shuangjian_hits)
    answer("各地如何落实双减", retriever, Settings())
    answer("各地如何落实双减", retriever, Settings(), filters=SearchFilters(superseded=True))
    answer("各地如何落实双减", retriever, Settings(), filters=SearchFilters(doc_id="old-law"))
    assert [c["filters"].superseded for c in retriever.calls] == [False, True, True]
