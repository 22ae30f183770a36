"""HTML for the app's citation cards and precedent results, with the query's terms marked.

Cards are ``<details>`` elements: the summary shows the number, title, locality, year, heading
path and label and the answer-bearing sentences; opening a card shows the full passage and its
source file. Every text is escaped before ``<mark>`` tags are added, so document text cannot
inject markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from assistant.answering.extractive import (
    answer_sentences,
    article_number,
    join_sentences,
    locality,
    split_sentences,
)
from assistant.answering.terms import QueryTerm, query_terms
from assistant.records import Citation, Hit, ocr_mark
from assistant.text import normalize, to_halfwidth, to_simplified

CSS = """
.cite-cards, .precedents { display: flex; flex-direction: column; gap: 8px; }
.cite-card, .precedent { border: 1px solid var(--border-color-primary, #ddd); border-radius: 8px;
  padding: 8px 10px; background: var(--background-fill-secondary, #fafafa); }
.cite-card summary, .precedent summary { cursor: pointer; list-style: none; }
.cite-card summary::-webkit-details-marker { display: none; }
.cite-n { font-weight: 700; color: #b45309; margin-right: 4px; }
.cite-title { font-weight: 600; }
.cite-meta, .cite-source { color: #666; font-size: 0.85em; }
.cite-where { font-size: 0.9em; color: #374151; margin-top: 2px; }
.cite-snippet { margin-top: 4px; line-height: 1.6; }
.cite-passage { margin-top: 6px; padding: 6px 8px; background: var(--background-fill-primary, #fff);
  border-left: 3px solid #f59e0b; white-space: pre-wrap; line-height: 1.7; }
.cite-ocr { font-size: 0.8em; color: #92400e; border: 1px solid #f59e0b; border-radius: 4px;
  padding: 0 4px; margin-left: 6px; }
.cite-card mark, .precedent mark { background: #fde68a; padding: 0 1px; }
.copy-btn { margin-left: 8px; font-size: 0.8em; padding: 1px 8px; border-radius: 6px;
  border: 1px solid #999; cursor: pointer; background: #fff; }
.section-title { font-weight: 700; margin: 6px 0 2px; }
.empty-note { color: #666; }
"""

# Delegated click handler for copy buttons (gr.HTML runs it once with ``element`` bound).
COPY_JS = """
element.addEventListener('click', function (event) {
  const btn = event.target.closest('button.copy-btn');
  if (!btn) return;
  event.preventDefault();
  event.stopPropagation();
  const text = btn.dataset.copy || '';
  const done = function () { btn.textContent = '已复制'; btn.dataset.copied = '1'; };
  const fallback = function () {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); } finally { document.body.removeChild(area); }
    done();
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, fallback);
  } else { fallback(); }
});
"""


def _search_form(text: str) -> str | None:
    """The text as the terms see it, when that keeps every character's position."""
    form = to_simplified(to_halfwidth(text)).lower()
    return form if len(form) == len(text) else None


def highlight(text: str, terms: Iterable[QueryTerm | str]) -> str:
    """``text`` escaped for HTML with every occurrence of a term wrapped in ``<mark>``.

    Terms are normalized (simplified); a traditional passage is matched on its simplified form
    and marked at the same positions of the original characters.
    """
    words = sorted(
        {t.text if isinstance(t, QueryTerm) else t for t in terms} - {""}, key=len, reverse=True
    )
    form = _search_form(text) or text.lower()
    marked = [False] * len(text)
    for w in words:
        start = form.find(w)
        while start != -1:
            for i in range(start, start + len(w)):
                marked[i] = True
            start = form.find(w, start + len(w))
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and marked[j] == marked[i]:
            j += 1
        piece = html.escape(text[i:j])
        out.append(f"<mark>{piece}</mark>" if marked[i] else piece)
        i = j
    return "".join(out)


def _where(hit: Hit) -> str:
    c = hit.chunk
    return " › ".join([*c.path, c.label] if c.label else list(c.path))


def _ocr_badge(hit: Hit) -> str:
    mark = ocr_mark(hit.chunk.ocr, hit.chunk.page)
    title = "这段文字由扫描件OCR识别，个别字可能有误，请核对原件"
    return f'<span class="cite-ocr" title="{title}">{html.escape(mark)}</span>' if mark else ""


def _meta_line(hit: Hit) -> str:
    d = hit.chunk.doc
    article = f"第{article_number(d)}篇" if "#" in d.doc_id else ""
    parts = [locality(d), str(d.year) if d.year else "", d.issuer or "", article]
    note = d.version.note if d.version else ""
    return " · ".join(p for p in parts if p) + note


def _snippet(hit: Hit, terms: Sequence[QueryTerm]) -> str:
    text = hit.chunk.text
    picked = answer_sentences(terms, text)
    if picked:
        text = join_sentences(picked, len(split_sentences(text))).rstrip("…")
    return text if len(text) <= 220 else text[:219] + "…"


def citation_card(n: int, hit: Hit, terms: Sequence[QueryTerm], *, open_: bool = False) -> str:
    c = hit.chunk
    d = c.doc
    e = html.escape
    return (
        f'<details class="cite-card" id="cite-{n}" data-n="{n}" data-doc="{e(d.doc_id)}"'
        f"{' open' if open_ else ''}>"
        f"<summary>"
        f'<span class="cite-n">[{n}]</span><span class="cite-title">《{e(d.title)}》</span>'
        f"{_ocr_badge(hit)}"
        f'<div class="cite-meta">{e(_meta_line(hit))}</div>'
        f'<div class="cite-where">{e(_where(hit))}</div>'
        f'<div class="cite-snippet">{highlight(_snippet(hit, terms), terms)}</div>'
        f"</summary>"
        f'<div class="cite-passage">{highlight(c.text, terms)}</div>'
        f'<div class="cite-source">来源文件：{e(d.source_path or d.file)}</div>'
        f"</details>"
    )


def citation_cards(citations: Sequence[Citation], terms: Sequence[QueryTerm]) -> str:
    if not citations:
        return '<div class="cite-cards"><p class="empty-note">没有引用的段落。</p></div>'
    cards = "".join(citation_card(c.n, c.hit, terms) for c in citations)
    return f'<div class="cite-cards">{cards}</div>'


def evidence_cards(hits: Sequence[Hit], terms: Sequence[QueryTerm]) -> str:
    """Cards for passages being used while the answer streams (numbered as given)."""
    return citation_cards([Citation(n=i, hit=h) for i, h in enumerate(hits, start=1)], terms)


def precedent_item(hit: Hit, terms: Sequence[QueryTerm], kind: str) -> str:
    c = hit.chunk
    d = c.doc
    e = html.escape
    excerpt = _snippet(hit, terms)
    source = f"{locality(d)}《{d.title}》{_where(hit)}"
    return (
        f'<details class="precedent" data-kind="{kind}" data-doc="{e(d.doc_id)}">'
        f"<summary>"
        f'<div class="cite-snippet">{highlight(excerpt, terms)}'
        f'<button class="copy-btn" type="button" data-copy="{e(excerpt, quote=True)}">'
        f"复制</button></div>"
        f'<div class="cite-meta">{e(source)} · {e(d.source_path or d.file)}{_ocr_badge(hit)}</div>'
        f"</summary>"
        f'<div class="cite-passage">{highlight(c.text, terms)}</div>'
        f'<button class="copy-btn" type="button" data-copy="{e(c.text, quote=True)}">'
        f"复制全文</button>"
        f"</details>"
    )


def precedent_terms(phrase: str) -> list[QueryTerm]:
    """What precedent cards mark: the phrase's informative words and, for exact matches, the
    whole phrase."""
    return [*query_terms(phrase), QueryTerm(normalize(phrase).lower(), 1.0)]


def precedent_results(
    semantic: Sequence[Hit], exact: Sequence[Hit], terms: Sequence[QueryTerm]
) -> str:
    def section(title: str, hits: Sequence[Hit], kind: str, empty: str) -> str:
        body = "".join(precedent_item(h, terms, kind) for h in hits)
        body = body or f'<p class="empty-note">{empty}</p>'
        return (
            f'<div class="section-title">{title}（{len(hits)}）</div>'
            f'<div class="precedents" id="precedent-{kind}">{body}</div>'
        )

    return section("完全相同的表述", exact, "exact", "没有文件包含这段原文。") + section(
        "语义相近的表述（每份文件一条）", semantic, "semantic", "没有找到相近的表述。"
    )
