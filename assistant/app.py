"""The Gradio app: Chat (cited answers), Precedent (similar wordings) and Documents (upload).

Thin over the Python API: the chat runs ``answering.pipeline.stream_answer`` (the same pipeline
as ``assistant ask``), the precedent tab runs ``Retriever.search(per_doc=1)`` and
``Retriever.phrase_search``, and the documents tab lists ``Retriever.documents()`` and feeds
uploads through ``uploads.store_upload`` and ``LiveIndex.update``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answering.extractive import locality
from assistant.answering.pipeline import Delta, Notice, Retrieved, stream_answer
from assistant.answering.terms import QueryTerm, query_terms
from assistant.cards import COPY_JS, CSS, citation_cards, evidence_cards, precedent_results
from assistant.documents.limits import FileLimits
from assistant.live_index import LiveIndex
from assistant.records import Answer
from assistant.text import normalize
from assistant.uploads import ALLOWED_SUFFIXES, UploadError, store_upload

ALL = "全部"
MODES = [("混合（语义+关键词）", "hybrid"), ("语义 dense", "dense"), ("关键词 BM25", "bm25")]
DOC_HEADERS = ["标题", "地区", "年份", "级别", "发布机关", "文件", "段落数"]
EXAMPLES = ["各地如何落实双减", "如何加强教师队伍建设", "学前教育普及普惠有哪些做法"]
EMPTY_CARDS = '<div class="cite-cards"><p class="empty-note">提问后在这里显示依据。</p></div>'
PRECEDENT_SEMANTIC_K = 8
PRECEDENT_EXACT_K = 20

Message = dict[str, Any]


# ----------------------------------------------------------------------------- filters


def _filter_choices(live: LiveIndex) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    r = live.retriever
    years = [ALL, *[str(y) for y in r.years()]]
    regions = [ALL, *r.regions()]
    docs = [(ALL, "")]
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
    for s in sorted(live.retriever.documents(), key=key):
        m = s.meta
        where = m.source_path or m.file
        rows.append(
            [m.title, locality(m), m.year or "", m.level or "", m.issuer or "", where, s.chunks]
        )
    return rows


# ----------------------------------------------------------------------------- chat


def answer_markdown(answer: Answer) -> str:
    text = answer.text
    if answer.notice:
        text = f"> 注意：{answer.notice}\n\n{text}"
    return text


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
    history += [{"role": "user", "content": question}, {"role": "assistant", "content": "检索中…"}]
    terms: Sequence[QueryTerm] = query_terms(question)
    cards = '<div class="cite-cards"><p class="empty-note">检索中…</p></div>'
    yield history, cards, ""
    streamed = ""
    notice = ""
    events = stream_answer(
        question,
        live.retriever,
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
            notice = event.text
            history[-1] = {"role": "assistant", "content": f"> 注意：{notice}"}
        elif isinstance(event, Delta):
            streamed += event.text
            history[-1] = {"role": "assistant", "content": streamed}
        elif isinstance(event, Answer):
            history[-1] = {"role": "assistant", "content": answer_markdown(event)}
            cards = citation_cards(event.citations, terms)
        yield history, cards, ""


# ----------------------------------------------------------------------------- precedent


def precedent_search(live: LiveIndex, phrase: str) -> str:
    phrase = (phrase or "").strip()
    if not phrase:
        return '<p class="empty-note">请粘贴一句话或一个短语。</p>'
    r = live.retriever
    semantic = r.search(phrase, k=PRECEDENT_SEMANTIC_K, mode="hybrid", per_doc=1)
    exact = r.phrase_search(phrase, k=PRECEDENT_EXACT_K)
    exact_ids = {h.chunk.chunk_id for h in exact}
    semantic = [h for h in semantic if h.chunk.chunk_id not in exact_ids]
    # Mark the informative words for similar wordings and the whole phrase for exact matches.
    terms = [*query_terms(phrase), QueryTerm(normalize(phrase).lower(), 1.0)]
    return precedent_results(semantic, exact, terms)


# ----------------------------------------------------------------------------- documents


def add_documents(live: LiveIndex, files: list[str] | None, progress: gr.Progress) -> str:
    """Check and store uploads, then update the index; a refused file changes nothing."""
    if not files:
        return "请先选择要上传的文件。"
    messages: list[str] = []
    stored = []
    for f in files:
        path = Path(f)
        try:
            up = store_upload(
                path,
                path.name,
                live.corpus_dir,
                max_mb=live.settings.upload_max_mb,
                limits=FileLimits.from_settings(live.settings),
            )
        except UploadError as exc:
            messages.append(f"【未接收】{exc}")
            continue
        stored.append(up)
        note = "（与已有文件相同）" if up.replaced else ""
        messages.append(f"【已接收】{up.name}{note}：{up.chunks} 个段落")
    if stored:
        progress(0, desc="更新索引…")
        try:
            report = live.update(progress=True)
        except Exception as exc:  # the previous index stays in service
            for up in stored:
                if not up.replaced:
                    up.path.unlink(missing_ok=True)
            messages.append(f"【索引未更新】索引保持不变：{type(exc).__name__}: {exc}")
        else:
            failed = {Path(f.path).name: f for f in report.failed}
            for up in stored:
                if up.name in failed:
                    up.path.unlink(missing_ok=True)
                    messages.append(f"【未索引】{up.name}：{failed[up.name].message}")
            messages.append(f"索引已更新：{report.summary()}")
    return "\n\n".join(messages)


# ----------------------------------------------------------------------------- layout


def build_app(live: LiveIndex) -> gr.Blocks:
    years, regions, docs = _filter_choices(live)
    with gr.Blocks(title="政策助手 Policy Assistant", analytics_enabled=False) as app:
        gr.Markdown("## 政策助手 · 教育政策文件检索与问答")
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

                ask.click(turn, inputs, outputs)
                question.submit(turn, inputs, outputs)
                clear.click(lambda: ([], ""), None, [chatbot, cards])

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
                find.click(lambda p: precedent_search(live, p), phrase, results)
                phrase.submit(lambda p: precedent_search(live, p), phrase, results)

            with gr.Tab("文件", id="documents"):
                table = gr.Dataframe(
                    value=document_rows(live),
                    headers=DOC_HEADERS,
                    interactive=False,
                    elem_id="documents",
                    label="已索引的文件",
                    wrap=True,
                    column_widths=["26%", "10%", "7%", "6%", "16%", "27%", "8%"],
                )
                gr.Markdown(
                    f"上传新文件（{' '.join(ALLOWED_SUFFIXES)}，每个不超过 "
                    f"{live.settings.upload_max_mb} MB）；"
                    "文件保存到语料目录的 uploads/ 下并增量索引。"
                )
                files = gr.File(
                    file_count="multiple",
                    file_types=list(ALLOWED_SUFFIXES),
                    label="上传文件",
                    elem_id="upload",
                )
                add = gr.Button("添加并索引", variant="primary", elem_id="add")
                status = gr.Markdown(elem_id="upload-status")

                def on_add(fs, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - gradio API
                    message = add_documents(live, fs, progress)
                    ys, rs, ds = _filter_choices(live)
                    return (
                        message,
                        document_rows(live),
                        None,
                        gr.Dropdown(choices=ys),
                        gr.Dropdown(choices=rs),
                        gr.Dropdown(choices=ds),
                    )

                add.click(on_add, files, [status, table, files, year, region, doc])
    return app


def launch(
    app: gr.Blocks,
    *,
    host: str,
    port: int,
    credentials: tuple[str, str] | None,
    max_upload_mb: int,
    block: bool = True,
) -> None:
    app.queue(default_concurrency_limit=2).launch(
        server_name=host,
        server_port=port,
        auth=credentials,
        css=CSS,
        share=False,
        show_error=False,
        max_file_size=f"{max_upload_mb}mb",
        prevent_thread_lock=not block,
        auth_message="政策助手：请登录" if credentials else None,
        allowed_paths=[],
        quiet=False,
    )
