"""Small explicit fixtures for the answering tests: hand-made hits and a fake LLM server."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from answer_records import (
    PARTY,
    SHUANGJIAN_22,
    SHUANGJIAN_TRAD,
    WITHHELD,
    ZHUANGLANG,
    make_chunk,
    make_hit,
)
from fake_openai import FakeOpenAI

from assistant.answering import relevance
from assistant.records import Hit

# The former literal-coverage rule as a model: coverage >= 0.75 is answered, 0.3..0.75 related.
# Tests over hand-made hits pin it, so that they do not depend on the shipped (fitted) model.
LEXICAL_RULE = relevance.AnswerabilityModel(
    features=("lexical",), mean=(0.75,), scale=(0.05,), weights=(1.0,), bias=0.0,
    answer_threshold=0.5, related_threshold=1.2e-4, soft_floor=0.85,
)  # fmt: skip


@pytest.fixture(autouse=True)
def lexical_rule(monkeypatch: pytest.MonkeyPatch) -> relevance.AnswerabilityModel:
    monkeypatch.setattr(relevance, "default_model", lambda: LEXICAL_RULE)
    return LEXICAL_RULE


@pytest.fixture
def shuangjian_hits() -> list[Hit]:
    """Hybrid hits for 各地如何落实双减: two 双减 items from two documents, one unrelated item."""
    return [
        make_hit(
            make_chunk(
                ZHUANGLANG,
                SHUANGJIAN_22,
                label="22.",
                path=("六、推动全面育人有效落实",),
                ordinal=22,
            ),
            1,
        ),
        make_hit(make_chunk(WITHHELD, SHUANGJIAN_TRAD, label="十一、", ordinal=11), 2),
        make_hit(
            make_chunk(
                ZHUANGLANG,
                PARTY,
                label="1.",
                path=("一、坚持“一个统领”，加强党对教育事业的全面领导",),
                ordinal=1,
            ),
            3,
            bm25=40,
        ),
    ]


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MakeHit = Callable[..., Hit]
