"""The one answer pipeline behind ``assistant ask`` and the chat.

retrieve (hybrid, diversified per document) → judge relevance (``relevance.py``) → select the
evidence → answer with the configured LLM (streamed, citations checked) or, without one or when
it fails, extractively. ``stream_answer`` yields events as they happen; ``answer`` returns the
final ``Answer``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.answering.citations import check_citations
from assistant.answering.extractive import extractive_answer, not_found_answer, select_evidence
from assistant.answering.llm import LLMConfig, LLMError, llm_config, stream_chat
from assistant.answering.prompting import build_prompt
from assistant.answering.relevance import Relevance, assess
from assistant.config import Settings
from assistant.records import Answer, Hit

if TYPE_CHECKING:
    from assistant.search.retriever import SearchFilters

SEARCH_K = 20
PER_DOC = 3


class SearchesIndex(Protocol):
    """What the pipeline needs of ``assistant.search.retriever.Retriever``."""

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        mode: str = "hybrid",
        filters: SearchFilters | None = None,
        per_doc: int | None = None,
    ) -> list[Hit]: ...


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]  # what the selected mode returned
    relevance: Relevance  # judged on the hybrid hits, whatever the mode
    evidence: list[Hit]  # the passages an answer may rest on


@dataclass(frozen=True)
class Retrieved:
    """First event: the passages the answer will be built from."""

    evidence: list[Hit]
    relevance: Relevance


@dataclass(frozen=True)
class Delta:
    """A piece of the answer text as it is generated."""

    text: str


@dataclass(frozen=True)
class Notice:
    """Something the user should know, e.g. that the LLM was unreachable."""

    text: str


StreamEvent = Retrieved | Delta | Notice | Answer


def retrieve(
    question: str,
    retriever: SearchesIndex,
    *,
    filters: SearchFilters | None = None,
    mode: str = "hybrid",
) -> Retrieval:
    hybrid = retriever.search(question, k=SEARCH_K, mode="hybrid", filters=filters, per_doc=PER_DOC)
    relevance = assess(question, hybrid)
    hits = (
        hybrid
        if mode == "hybrid"
        else retriever.search(question, k=SEARCH_K, mode=mode, filters=filters, per_doc=PER_DOC)
    )
    evidence = select_evidence(relevance.terms, hits) if relevance.found else []
    return Retrieval(hits=hits, relevance=relevance, evidence=evidence)


def _fallback_notice(reason: str) -> str:
    return f"{reason}；以下是不经语言模型、直接摘自文件的答案。"


def stream_answer(
    question: str,
    retriever: SearchesIndex,
    settings: Settings,
    *,
    filters: SearchFilters | None = None,
    mode: str = "hybrid",
    stream_llm: bool = True,
) -> Iterator[StreamEvent]:
    """Yield ``Retrieved``, then ``Delta``/``Notice`` events, and finally the ``Answer``.

    ``stream_llm=False`` asks the LLM for the whole reply in one response (the CLI's way).
    """
    question = question.strip()
    if not question:
        yield Answer(text="请输入一个问题。", found=False)
        return
    got = retrieve(question, retriever, filters=filters, mode=mode)
    yield Retrieved(got.evidence, got.relevance)
    if not got.relevance.found:
        final = not_found_answer(got.relevance, got.hits)
        yield Delta(final.text)
        yield final
        return
    try:
        config = llm_config(settings)
    except LLMError as exc:
        config, notice = None, _fallback_notice(str(exc))
        yield Notice(notice)
    else:
        notice = None
    if config is None:
        final = extractive_answer(question, got.evidence, got.relevance, notice=notice)
        yield Delta(final.text)
        yield final
        return
    yield from _llm_answer(
        question, got, config, stream=stream_llm, prompts_dir=settings.prompts_dir
    )


def _llm_answer(
    question: str,
    got: Retrieval,
    config: LLMConfig,
    *,
    stream: bool,
    prompts_dir: Path | None,
) -> Iterator[StreamEvent]:
    system, user = build_prompt(question, got.evidence, prompts_dir)
    pieces: list[str] = []
    try:
        for piece in stream_chat(config, system, user, stream=stream):
            pieces.append(piece)
            yield Delta(piece)
    except LLMError as exc:
        notice = _fallback_notice(str(exc))
        yield Notice(notice)
        yield extractive_answer(question, got.evidence, got.relevance, notice=notice)
        return
    text = "".join(pieces).strip()
    if not text:
        notice = _fallback_notice(f"LLM {config.description} returned an empty answer")
        yield Notice(notice)
        yield extractive_answer(question, got.evidence, got.relevance, notice=notice)
        return
    checked = check_citations(text, got.evidence)
    yield Answer(text=checked.text, found=True, citations=checked.citations)


def answer(
    question: str,
    retriever: SearchesIndex,
    settings: Settings,
    *,
    filters: SearchFilters | None = None,
    mode: str = "hybrid",
) -> Answer:
    """The final answer to ``question`` (the same pipeline as the chat, without streaming)."""
    final: Answer | None = None
    events = stream_answer(
        question, retriever, settings, filters=filters, mode=mode, stream_llm=False
    )
    for event in events:
        if isinstance(event, Answer):
            final = event
    assert final is not None  # stream_answer always ends with an Answer
    return final
