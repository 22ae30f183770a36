"""The one answer pipeline behind ``assistant ask`` and the chat.

retrieve (hybrid, diversified per document; superseded versions left out unless the filters
keep them; hits from elsewhere than a place the question names moved down, ``place.py``) →
judge relevance (``relevance.py``: answered / related / not covered) → select the evidence →
answer with the configured LLM (streamed, then checked: an answer of markers only falls back to
the extractive one, citations are checked against their passages) or, without one or when it
fails, extractively. A question judged "related" gets the closest provisions, "not covered" a
refusal, neither asks the LLM. ``stream_answer`` yields events as they happen;
``answer`` returns the final ``Answer``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.answering.citations import check_citations
from assistant.answering.extractive import (
    RELATED_ITEMS,
    extractive_answer,
    not_found_answer,
    related_answer,
    select_evidence,
)
from assistant.answering.llm import LLMConfig, LLMError, llm_config, stream_chat
from assistant.answering.place import prefer_place
from assistant.answering.prompting import build_prompt
from assistant.answering.reader import AnswerReader, load_reader, reader_cache_dir
from assistant.answering.relevance import AnswerabilityModel, Relevance, assess
from assistant.answering.support import check_support, join_marker_ranges, substantive
from assistant.answering.term_match import TermMatcher, matcher_for
from assistant.config import Settings
from assistant.documents.versions import collapse_versions
from assistant.records import Answer, Hit

if TYPE_CHECKING:
    from assistant.search.retriever import SearchFilters

SEARCH_K = 20
PER_DOC = 3
PLACE_DEPTH = 3 * SEARCH_K  # hits re-ordered by place before the first SEARCH_K are kept


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


def answer_filters(filters: SearchFilters | None) -> SearchFilters:
    """The filters answers use: superseded versions left out unless asked for (or unless one
    document or file is chosen: then that one is what the user wants)."""
    from assistant.search.retriever import SearchFilters

    filters = filters or SearchFilters()
    if filters.superseded is not None:
        return filters
    return replace(filters, superseded=bool(filters.doc_id or filters.file))


def term_matcher(retriever: SearchesIndex) -> TermMatcher | None:
    """Soft term matching with the retriever's embedding model, when it has one."""
    embedder = getattr(retriever, "embedder", None)
    return matcher_for(embedder()) if callable(embedder) else None


def answer_reader(retriever: SearchesIndex) -> AnswerReader | None:
    """The answer reader, when the retriever has settings and they ask for one; built beside
    the offline embedding model the retriever embeds with, else under its cache directory."""
    settings = getattr(retriever, "settings", None)
    if settings is None or not settings.answer_reader:
        return None
    embedder = getattr(retriever, "embedder", None)
    loaded = embedder() if callable(embedder) else None
    return load_reader(reader_cache_dir(loaded, settings.cache_dir))


def answer_hits(
    question: str,
    retriever: SearchesIndex,
    *,
    filters: SearchFilters | None = None,
    mode: str = "hybrid",
) -> list[Hit]:
    """The hits an answer to ``question`` is judged and drawn from (diversified per document,
    under ``answer_filters``, hits from elsewhere than a place it names moved down)."""
    hits = retriever.search(
        question, k=PLACE_DEPTH, mode=mode, filters=answer_filters(filters), per_doc=PER_DOC
    )
    return prefer_place(question, hits)[:SEARCH_K]


def retrieve(
    question: str,
    retriever: SearchesIndex,
    *,
    filters: SearchFilters | None = None,
    mode: str = "hybrid",
    model: AnswerabilityModel | None = None,
) -> Retrieval:
    hybrid = answer_hits(question, retriever, filters=filters)
    relevance = assess(
        question, hybrid, matcher=term_matcher(retriever), reader=answer_reader(retriever),
        model=model,
    )  # fmt: skip
    hits = hybrid
    if mode != "hybrid":
        hits = answer_hits(question, retriever, filters=filters, mode=mode)
    if relevance.found:
        evidence = collapse_versions(select_evidence(relevance.terms, hits))
    elif relevance.outcome == "related":
        evidence = collapse_versions(hits)[:RELATED_ITEMS]
    else:
        evidence = []
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
        if got.relevance.outcome == "related":
            final = related_answer(got.relevance, got.evidence)
        else:
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
    text = join_marker_ranges("".join(pieces).strip())
    if not substantive(text):
        what = "an empty answer" if not text else "citation markers but no answer"
        notice = _fallback_notice(f"LLM {config.description} returned {what}")
        yield Notice(notice)
        yield extractive_answer(question, got.evidence, got.relevance, notice=notice)
        return
    supported = check_support(text, got.evidence)
    checked = check_citations(supported.text, got.evidence)
    notice = None
    if supported.moved or supported.unverified:
        notice = (
            f"语言模型的 {len(supported.moved) + len(supported.unverified)} 处引用与所引段落不符："
            f"{len(supported.moved)} 处已改为引用实际依据的段落，"
            f"{len(supported.unverified)} 处在段落中找不到依据，已标注。"
        )
        yield Notice(notice)
    yield Answer(
        text=checked.text,
        found=True,
        citations=checked.citations,
        notice=notice,
        outcome="answered",
    )


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
