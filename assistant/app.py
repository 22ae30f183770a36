"""The Gradio app: Chat (cited answers), Precedent (similar wordings) and Documents (upload).

Thin over the Python API: the chat runs ``answering.pipeline.stream_answer`` (the same pipeline
as ``assistant ask``), the precedent tab runs ``search.precedents.find_precedents`` (as
``assistant search --precedent``), and the documents tab lists ``Retriever.documents()`` and
hands uploads to ``upload_queue.UploadQueue`` (processed in a background worker). A status line
shows what the index is doing (``LiveIndex.status``), polled by a timer that also refreshes the
document list and filters when a new generation is served. The named API for programs is
``app_api.PolicyApi``; the UI's own events are private. Text from documents and models reaches
the chat through ``chat_text.chat_markdown``.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answering.extractive import locality
from assistant.answering.pipeline import Delta, Notice, Retrieved, stream_answer
from assistant.answering.terms import QueryTerm, query_terms
from assistant.app_api import PolicyApi, forget_gradio_upload
from assistant.cards import (
    COPY_JS,
    CSS,
    citation_cards,
    evidence_cards,
    precedent_results,
    precedent_terms,
)
from assistant.chat_text import chat_markdown
from assistant.live_index import IndexNotReadyError, LiveIndex
from assistant.records import Answer
from assistant.search.precedents import find_precedents
from assistant.upload_queue import UploadQueue
from assistant.uploads import ALLOWED_SUFFIXES

ALL = "全部"
MODES = [("混合（语义+关键词）", "hybrid"), ("语义 dense", "dense"), ("关键词 BM25", "bm25")]
DOC_HEADERS = ["标题", "地区", "年份", "级别", "发布机关", "文件", "段落数"]
EXAMPLES = ["各地如何落实双减", "如何加强教师队伍建设", "学前教育普及普惠有哪些做法"]
EMPTY_CARDS = '<div class="cite-cards"><p class="empty-note">提问后在这里显示依据。</p></div>'
STATUS_SECONDS = 1.0  # how often each open page polls the index status

Message = dict[str, Any]


# ----------------------------------------------------------------------------- filters


def _filter_choices(live: LiveIndex) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    docs = [(ALL, "")]
    try:
        r = live.retriever
    except IndexNotReadyError:
        return [ALL], [ALL], docs
    years = [ALL, *[str(y) for y in r.years()]]
    regions = [ALL, *r.regions()]
    for s in sorted(r.documents(), key=lambda s: (s.meta.year or 0, s.meta.title), reverse=True):
        where = locality(s.meta)
        docs.append((f"{s.meta.title}（{where}）" if where else s.meta.title, s.meta.doc_id))
    return years, regions, docs


def make_filters(year: str | None, region: str | None, doc_id: str | None):
    from assistant.search.retriever import SearchFilters

    return SearchFilters(
        year=int(year) if year and year != ALL else None,
        region=region if region and region != ALL else None,
        doc_id=doc_id or None,
    )


def document_rows(live: LiveIndex) -> list[list[Any]]:
    """One row per indexed document; uploads first, then by path."""
    from assistant.uploads import UPLOAD_SUBDIR

    def key(s: Any) -> tuple[bool, str, str]:
        path = s.meta.source_path or s.meta.file
        return (not path.startswith(f"{UPLOAD_SUBDIR}/"), path, s.meta.doc_id)

    rows = []
    try:
        documents = live.retriever.documents()
    except IndexNotReadyError:
        return []
    for s in sorted(documents, key=key):
        m = s.meta
        where = m.source_path or m.file
        rows.append(
            [m.title, locality(m), m.year or "", m.level or "", m.issuer or "", where, s.chunks]
        )
    return rows


# ----------------------------------------------------------------------------- chat


RELATED_BANNER = "**相关条文（文件没有直接回答这个问题）**"


def answer_markdown(answer: Answer) -> str:
    text = chat_markdown(answer.text)
    if answer.outcome == "related":
        text = f"{RELATED_BANNER}\n\n{text}"
    if answer.notice:
        text = f"{notice_markdown(answer.notice)}\n\n{text}"
    return text


def notice_markdown(notice: str) -> str:
    return f"> 注意：{chat_markdown(notice)}"


def chat_turn(
    live: LiveIndex,
    question: str,
    history: list[Message] | None,
    year: str | None,
    region: str | None,
    doc_id: str | None,
    mode: str,
) -> Iterator[tuple[list[Message], str, str]]:
    """One chat exchange, streamed: (chat history, citation cards HTML, cleared input)."""
    history = list(history or [])
    question = (question or "").strip()
    if not question:
        yield history, gr.skip(), ""
        return
    history += [
        {"role": "user", "content": chat_markdown(question)},
        {"role": "assistant", "content": "检索中…"},
    ]
    try:
        retriever = live.retriever  # this exchange uses one generation throughout
    except IndexNotReadyError:
        history[-1] = {"role": "assistant", "content": chat_markdown(live.status().text)}
        yield history, gr.skip(), ""
        return
    terms: Sequence[QueryTerm] = query_terms(question)
    cards = '<div class="cite-cards"><p class="empty-note">检索中…</p></div>'
    yield history, cards, ""
    streamed = ""
    events = stream_answer(
        question,
        retriever,
        live.settings,
        filters=make_filters(year, region, doc_id),
        mode=mode or "hybrid",
    )
    for event in events:
        if isinstance(event, Retrieved):
            terms = event.relevance.terms
            cards = evidence_cards(event.evidence, terms) if event.evidence else cards
            history[-1] = {"role": "assistant", "content": "正在生成回答…"}
        elif isinstance(event, Notice):
            history[-1] = {"role": "assistant", "content": notice_markdown(event.text)}
        elif isinstance(event, Delta):
            streamed += event.text
            history[-1] = {"role": "assistant", "content": chat_markdown(streamed)}
        elif isinstance(event, Answer):
            history[-1] = {"role": "assistant", "content": answer_markdown(event)}
            cards = citation_cards(event.citations, terms)
        yield history, cards, ""


# ----------------------------------------------------------------------------- precedent


def precedent_search(live: LiveIndex, phrase: str) -> str:
    phrase = (phrase or "").strip()
    if not phrase:
        return '<p class="empty-note">请粘贴一句话或一个短语。</p>'
    try:
        found = find_precedents(live.retriever, phrase)
    except IndexNotReadyError:
        return f'<p class="empty-note">{html.escape(live.status().text)}</p>'
    return precedent_results(found.similar, found.exact, precedent_terms(phrase))


# ----------------------------------------------------------------------------- documents


def add_documents(
    uploads: UploadQueue, files: list[str] | None, jobs: list[str] | None
) -> tuple[str, list[str]]:
    """Queue the chosen files for the background worker at once: (status lines, job ids)."""
    jobs = list(jobs or [])
    if not files:
        return "请先选择要上传的文件。", jobs
    for f in files:
        path = Path(f)
        jobs.append(uploads.submit(path, path.name).id)
        forget_gradio_upload(path)
    return upload_lines(uploads, jobs), jobs


def upload_lines(uploads: UploadQueue, jobs: Sequence[str]) -> str:
    found = [j for j in (uploads.job(i) for i in jobs) if j is not None]
    return "\n\n".join(chat_markdown(j.text()) for j in found)


def status_html(live: LiveIndex) -> str:
    status = live.status()
    return (
        f'<p class="index-status" data-state="{status.state}" data-generation="'
        f'{html.escape(status.generation)}">{html.escape(status.text)}</p>'
    )


# ----------------------------------------------------------------------------- layout


def build_app(live: LiveIndex, uploads: UploadQueue | None = None) -> gr.Blocks:
    uploads = uploads or UploadQueue(live)
    years, regions, docs = _filter_choices(live)
    private = {"api_visibility": "private"}
    with gr.Blocks(
        title="政策助手 Policy Assistant", analytics_enabled=False, delete_cache=(3600, 3600)
    ) as app:
        gr.Markdown("## 政策助手 · 教育政策文件检索与问答")
        status = gr.HTML(status_html(live), elem_id="index-status")
        served = gr.State(live.status().generation)
        jobs = gr.State([])
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="回答",
                            height=520,
                            elem_id="chatbot",
                            buttons=["copy"],
                            feedback_options=None,
                            latex_delimiters=[],
                        )
                        question = gr.Textbox(
                            label="问题",
                            placeholder="例如：各地如何落实双减",
                            elem_id="question",
                            lines=1,
                        )
                        with gr.Row():
                            ask = gr.Button("提问", variant="primary", elem_id="ask")
                            clear = gr.Button("清空对话", elem_id="clear")
                        gr.Examples(EXAMPLES, inputs=question)
                        with gr.Row():
                            year = gr.Dropdown(years, value=ALL, label="年份", elem_id="f-year")
                            region = gr.Dropdown(
                                regions, value=ALL, label="地区", elem_id="f-region"
                            )
                            doc = gr.Dropdown(docs, value="", label="文件", elem_id="f-doc")
                        mode = gr.Radio(MODES, value="hybrid", label="检索方式", elem_id="mode")
                    with gr.Column(scale=2):
                        gr.Markdown("#### 引用的段落（点击展开全文）")
                        cards = gr.HTML(
                            EMPTY_CARDS,
                            elem_id="citations",
                            js_on_load=None,
                        )
                inputs = [question, chatbot, year, region, doc, mode]
                outputs = [chatbot, cards, question]

                def turn(q, h, y, rg, d, m):
                    yield from chat_turn(live, q, h, y, rg, d, m)

                ask.click(turn, inputs, outputs, **private)
                question.submit(turn, inputs, outputs, **private)
                clear.click(lambda: ([], ""), None, [chatbot, cards], **private)

            with gr.Tab("相似表述", id="precedent"):
                gr.Markdown("粘贴一句话或一个短语，查找其他文件中相同或相近的表述。")
                phrase = gr.Textbox(
                    label="句子或短语",
                    lines=3,
                    elem_id="phrase",
                    placeholder="例如：科学规范开展课后服务",
                )
                find = gr.Button("查找相似表述", variant="primary", elem_id="find")
                results = gr.HTML(elem_id="precedent-results", js_on_load=COPY_JS)
                find.click(lambda p: precedent_search(live, p), phrase, results, **private)
                phrase.submit(lambda p: precedent_search(live, p), phrase, results, **private)

            with gr.Tab("文件", id="documents"):
                table = gr.Dataframe(
                    value=document_rows(live),
                    headers=DOC_HEADERS,
                    interactive=False,
                    elem_id="documents",
                    label="已索引的文件",
                    show_search="search",
                    wrap=True,
                    column_widths=["26%", "10%", "7%", "6%", "16%", "27%", "8%"],
                )
                gr.Markdown(
                    f"上传新文件（{' '.join(ALLOWED_SUFFIXES)}，每个不超过 "
                    f"{live.settings.upload_max_mb} MB）；"
                    "文件在后台检查后保存到语料目录的 uploads/ 下并增量索引，"
                    "内容与已有文件相同的不重复添加。"
                )
                files = gr.File(
                    file_count="multiple",
                    file_types=list(ALLOWED_SUFFIXES),
                    label="上传文件",
                    elem_id="upload",
                )
                add = gr.Button("添加并索引", variant="primary", elem_id="add")
                upload_status = gr.Markdown(elem_id="upload-status")

                def on_add(fs, js):
                    lines, js = add_documents(uploads, fs, js)
                    return lines, None, js

                add.click(on_add, [files, jobs], [upload_status, files, jobs], **private)

        def tick(gen, js):
            """Status line and upload progress; the lists and filters when the index changed."""
            now = live.status().generation
            lines = upload_lines(uploads, js) if js else gr.skip()
            if now == gen:
                return status_html(live), lines, gr.skip(), *[gr.skip()] * 3, gen
            ys, rs, ds = _filter_choices(live)
            return (
                status_html(live),
                lines,
                document_rows(live),
                gr.Dropdown(choices=ys),
                gr.Dropdown(choices=rs),
                gr.Dropdown(choices=ds),
                now,
            )

        timer = gr.Timer(STATUS_SECONDS)
        timer.tick(
            tick,
            [served, jobs],
            [status, upload_status, table, year, region, doc, served],
            concurrency_limit=None,
            show_progress="hidden",
            **private,
        )
        PolicyApi(live, uploads).register()
    return app


def launch(
    app: gr.Blocks,
    *,
    host: str,
    port: int,
    credentials: tuple[str, str] | None,
    max_upload_mb: int,
    concurrency: int,
) -> None:
    """Start serving in background threads and return (``app.block_thread()`` waits)."""
    app.queue(default_concurrency_limit=concurrency).launch(
        server_name=host,
        server_port=port,
        auth=credentials,
        css=CSS,
        share=False,
        show_error=False,
        max_file_size=f"{max_upload_mb}mb",
        prevent_thread_lock=True,
        auth_message="政策助手：请登录" if credentials else None,
        allowed_paths=[],
        quiet=True,
    )
