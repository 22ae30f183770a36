"""The answer without a language model: the answer-bearing sentences of the best items, cited.

Evidence is grouped by locality and document ("庄浪县《2023年全县教育工作要点》"), groups are
ordered by the strength of their evidence, and each item contributes the sentences that carry
the question's terms rather than its whole text:

    庄浪县《2023年全县教育工作要点》
    - 六、推动全面育人有效落实… 22.：严格落实“双减”政策。…持续加强校外培训治理…[1]

Withheld localities ("xx区", "____市" in the source) are labelled "（地区未具名）". Citation numbers
follow the order of first appearance and refer to ``Answer.citations[n-1]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.direct import direct_sentence, opening_line
from assistant.answering.relevance import Relevance, hit_coverage
from assistant.answering.terms import QueryTerm, coverage
from assistant.documents.versions import collapse_versions
from assistant.records import Answer, Citation, DocumentMeta, Hit
from assistant.text import normalize, split_sentences

WITHHELD = "（地区未具名）"
MAX_ITEMS = 8
MAX_PER_DOC = 3
MIN_SHARE = 0.6  # an item is evidence when it covers this share of what the best item covers
SENTENCES_PER_ITEM = 2
SENTENCE_CHARS = 160
HEADING_CHARS = 14


@dataclass(frozen=True)
class Sentence:
    text: str
    index: int  # position in the item
    score: float


def locality(doc: DocumentMeta) -> str:
    if doc.region:
        return doc.region
    return WITHHELD if doc.region_withheld else ""


def article_number(doc: DocumentMeta) -> int:
    """1 for a file's first document, k for its k-th article (doc_id "<stem>#k")."""
    _, sep, k = doc.doc_id.rpartition("#")
    return int(k) if sep and k.isdigit() else 1


def select_evidence(
    terms: Sequence[QueryTerm],
    hits: Sequence[Hit],
    *,
    max_items: int = MAX_ITEMS,
    max_per_doc: int = MAX_PER_DOC,
    min_share: float = MIN_SHARE,
) -> list[Hit]:
    """The hits that carry the question's terms nearly as well as the best one, in rank order."""
    covs = [hit_coverage(terms, h) for h in hits]
    best = max(covs, default=0.0)
    if best <= 0:
        return list(hits[: min(3, max_items)])
    chosen: list[Hit] = []
    per_doc: dict[str, int] = {}
    for hit, cov in zip(hits, covs, strict=True):
        doc_id = hit.chunk.doc.doc_id
        if cov < min_share * best or per_doc.get(doc_id, 0) >= max_per_doc:
            continue
        per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
        chosen.append(hit)
        if len(chosen) >= max_items:
            break
    return chosen


def _strip_label(text: str, label: str) -> str:
    body = text.lstrip()
    if label and body.startswith(label):
        body = body[len(label) :].lstrip(" :：、.．")
    return body


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def answer_sentences(
    terms: Sequence[QueryTerm], text: str, *, rank: int = 0, limit: int = SENTENCES_PER_ITEM
) -> list[Sentence]:
    """The sentences of an item that carry the answer, in their original order.

    A sentence scores by the weighted share of query terms it contains plus a bonus for the
    item's retrieval rank (better-ranked items keep their second-best sentence more readily); the
    first sentence of an item, usually its topic line, breaks ties.
    """
    sentences = split_sentences(text)
    if not sentences:
        return []
    rank_bonus = 0.3 / (1 + rank)
    scored = [
        Sentence(s, i, coverage(terms, s) + (0.05 if i == 0 else 0.0))
        for i, s in enumerate(sentences)
    ]
    matching = [s for s in scored if s.score > 0.05]
    if not matching:
        return [scored[0]]
    matching.sort(key=lambda s: (-s.score, s.index))
    top = matching[0].score
    keep = [matching[0]]
    for s in matching[1:limit]:
        if s.score + rank_bonus >= 0.5 * top:
            keep.append(s)
    return sorted(keep, key=lambda s: s.index)


def join_sentences(sentences: Sequence[Sentence], total: int) -> str:
    """Picked sentences in order, "…" where sentences were skipped (or follow the last)."""
    parts: list[str] = []
    prev = -1
    for s in sentences:
        if parts and s.index > prev + 1:
            parts.append("…")
        parts.append(_clip(s.text, SENTENCE_CHARS))
        prev = s.index
    tail = "…" if sentences and sentences[-1].index < total - 1 else ""
    return "".join(parts) + tail


def _heading(hit: Hit, topic: str = "") -> str:
    c = hit.chunk
    path = " ".join(_clip(p.strip(), HEADING_CHARS) for p in c.path if p.strip())
    label = f"{c.label}{topic}" if c.label else topic
    return " ".join(x for x in (path, label) if x)


def item_parts(terms: Sequence[QueryTerm], hit: Hit, rank: int) -> tuple[str, str]:
    """(heading path with label and topic line, answer sentences) of one evidence item."""
    c = hit.chunk
    body = _strip_label(c.text, c.label)
    all_sentences = split_sentences(body)
    sentences = answer_sentences(terms, body, rank=rank)
    topic = ""
    # An item's short first sentence is usually its title; show it when it was not picked.
    if all_sentences and sentences and sentences[0].index > 0 and len(all_sentences[0]) <= 30:
        topic = all_sentences[0].rstrip("。；;")
    return _heading(hit, topic), join_sentences(sentences, len(all_sentences))


def format_item(terms: Sequence[QueryTerm], hit: Hit, n: int, rank: int) -> str:
    """One evidence line: heading path, label (and topic line), answer sentences, [n]."""
    heading, excerpt = item_parts(terms, hit, rank)
    return f"- {heading}：{excerpt}[{n}]" if heading else f"- {excerpt}[{n}]"


def _group_header(doc: DocumentMeta) -> str:
    note = doc.version.note if doc.version else ""
    return f"{locality(doc)}《{doc.title}》{note}"


def _group_key(hit: Hit) -> tuple[str, str]:
    """Versions of one text form one group: counts are of documents, not versions."""
    d = hit.chunk.doc
    return locality(d), d.version.current_doc_id if d.version else d.doc_id


def extractive_answer(
    question: str, hits: Sequence[Hit], relevance: Relevance, *, notice: str | None = None
) -> Answer:
    """An answer built from the evidence sentences, grouped by locality and document."""
    if relevance.outcome == "related":
        return related_answer(relevance, hits, notice=notice)
    if not relevance.found:
        return not_found_answer(relevance, hits, notice=notice)
    terms = relevance.terms
    evidence = collapse_versions(select_evidence(terms, hits))
    # Strength of a group: its best item (coverage plus a rank bonus) and a little per extra item.
    groups: dict[tuple[str, str], list[tuple[int, Hit]]] = {}
    for rank, hit in enumerate(evidence):
        groups.setdefault(_group_key(hit), []).append((rank, hit))

    def strength(items: list[tuple[int, Hit]]) -> float:
        best = max(hit_coverage(terms, h) + 0.5 / (1 + r) for r, h in items)
        return best + 0.1 * (len(items) - 1)

    ordered = sorted(groups.values(), key=strength, reverse=True)
    headers = [_group_header(items[0][1].chunk.doc) for items in ordered]
    citations: list[Citation] = []
    blocks: list[str] = []
    for header, items in zip(headers, ordered, strict=True):
        doc = items[0][1].chunk.doc
        if headers.count(header) > 1:  # articles (篇一, 篇二 …) of one file share a title
            header += f"（第{article_number(doc)}篇）"
        lines = [header]
        shown: set[str] = set()
        for rank, hit in items:
            # A document that repeats a sentence word for word (as 004 does) is cited once.
            excerpt = normalize(item_parts(terms, hit, rank)[1])
            if excerpt in shown:
                continue
            shown.add(excerpt)
            n = len(citations) + 1
            citations.append(Citation(n=n, hit=hit))
            lines.append(format_item(terms, hit, n, rank))
        blocks.append("\n".join(lines))
    docs = len(ordered)
    head = "找到的依据："
    if docs > 1:
        head = f"在 {docs} 份文件中找到相关规定或做法（按依据强弱排列）："
    first_group = [hit for _, hit in ordered[0]]
    strongest = first_group + [h for h in evidence if h not in first_group]
    direct = direct_sentence(question, terms, strongest, relevance.reader_window)
    cited = {id(c.hit): c.n for c in citations}
    n = cited.get(id(direct.hit))
    if n is None:  # its item repeated another word for word: cite the passage anyway
        n = len(citations) + 1
        citations.append(Citation(n=n, hit=direct.hit))
    text = opening_line(direct, n) + "\n\n" + head + "\n\n" + "\n\n".join(blocks)
    return Answer(text=text, found=True, citations=citations, notice=notice, outcome="answered")


RELATED_HEAD = (
    "文件中没有直接回答这个问题的规定。以下是最接近的条文，供参考，它们并不直接回答这个问题："
)
RELATED_ITEMS = 3


def related_answer(
    relevance: Relevance, hits: Sequence[Hit], *, notice: str | None = None
) -> Answer:
    """The middle outcome: the closest provisions, saying that they do not answer directly."""
    items = collapse_versions(hits)[:RELATED_ITEMS]
    if not items:
        return not_found_answer(relevance, hits, notice=notice)
    citations: list[Citation] = []
    lines = [RELATED_HEAD, ""]
    for rank, hit in enumerate(items):
        n = rank + 1
        citations.append(Citation(n=n, hit=hit))
        lines.append(f"{_group_header(hit.chunk.doc)}")
        lines.append(format_item(relevance.terms, hit, n, rank))
    return Answer(
        text="\n".join(lines), found=False, citations=citations, notice=notice, outcome="related"
    )


def not_found_answer(
    relevance: Relevance, hits: Sequence[Hit], *, notice: str | None = None
) -> Answer:
    """The refusal: say the documents do not cover the question, and which terms were absent."""
    text = "检索到的文件没有涉及这个问题，无法根据文件作答。"
    if hits and relevance.terms:
        seen = " ".join(normalize(f"{h.chunk.doc.title} {h.chunk.text}").lower() for h in hits)
        absent = [t.text for t in relevance.terms if t.text not in seen]
        if absent:
            text += "最接近的段落也没有提到" + "、".join(f"“{t}”" for t in absent) + "。"
    elif not hits:
        text = "索引中没有可检索的内容（或筛选条件排除了所有文件），无法作答。"
    return Answer(text=text, found=False, citations=[], notice=notice, outcome="not_covered")
