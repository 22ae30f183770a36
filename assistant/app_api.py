"""The app's named API: ``/ask``, ``/search``, ``/precedent``, ``/upload``, ``/upload_status``,
``/status``, registered with ``gr.api`` by ``app.build_app`` (README: "Calling the app from a
program").

Typed methods over the served index: their parameter names are the API's parameter names and
the keys of the dicts they return are its named results. ``ask`` returns what ``assistant ask
--json`` prints and ``search`` the hits of ``assistant search --json``. Annotations are real
types (no ``from __future__ import annotations``): Gradio reads them for the API page.
"""

from pathlib import Path
from typing import Any, TypedDict

import gradio as gr
from gradio.data_classes import FileData

from assistant.answering.pipeline import answer
from assistant.live_index import IndexNotReadyError, LiveIndex
from assistant.search.precedents import find_precedents
from assistant.search.retriever import MODES, Retriever, SearchFilters
from assistant.upload_queue import UploadQueue

MAX_K = 100


class AskResult(TypedDict):
    answer: str  # the answer text, citing passages as [n]
    found: bool  # False when the documents do not cover the question
    citations: list[dict[str, Any]]  # n, file, doc_id, title, region, year, path, label, text
    notice: str | None  # e.g. that the LLM was unreachable and the answer is extractive


class PrecedentResult(TypedDict):
    exact: list[dict[str, Any]]  # passages containing the phrase itself (search-hit shape)
    similar: list[dict[str, Any]]  # similar wordings, at most one per document


class UploadStatus(TypedDict):
    job: str  # pass to /upload_status
    name: str
    state: str  # queued, checking, indexing, indexed, duplicate, refused, failed
    finished: bool
    text: str  # one line for people, e.g. "【已索引】x.md：3 个段落"
    chunks: int
    # corpus-relative path of the stored file or of the one with the same content ("file": a
    # "path" key would make gradio_client try to download it)
    file: str | None
    message: str


class IndexStatusResult(TypedDict):
    state: str  # ready, updating, building, failed
    text: str
    generation: str
    files: int
    chunks: int


class PolicyApi:
    def __init__(self, live: LiveIndex, uploads: UploadQueue) -> None:
        self.live = live
        self.uploads = uploads

    def _retriever(self) -> Retriever:
        try:
            return self.live.retriever
        except IndexNotReadyError:
            raise gr.Error(self.live.status().text) from None

    def ask(
        self,
        question: str,
        year: int | None = None,
        region: str | None = None,
        doc_id: str | None = None,
        mode: str = "hybrid",
    ) -> AskResult:
        """Answer a question from the documents with cited passages (as `assistant ask --json`)."""
        _check_mode(mode)
        filters = SearchFilters(year=year, region=region or None, doc_id=doc_id or None)
        result = answer(question, self._retriever(), self.live.settings, filters=filters, mode=mode)
        return {**result.to_dict(), "notice": result.notice}  # type: ignore[typeddict-item]

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        year: int | None = None,
        region: str | None = None,
        doc_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """The best passages for a query (as `assistant search --json`): text, metadata, scores."""
        _check_mode(mode)
        if not 1 <= k <= MAX_K:
            raise gr.Error(f"k must be between 1 and {MAX_K}, not {k}")
        filters = SearchFilters(year=year, region=region or None, doc_id=doc_id or None)
        hits = self._retriever().search(query, k=k, mode=mode, filters=filters)  # type: ignore[arg-type]
        return [h.to_dict() for h in hits]

    def precedent(self, phrase: str) -> PrecedentResult:
        """Where other documents use this wording (exact) or a similar one (one per document)."""
        if not phrase.strip():
            raise gr.Error("phrase is empty")
        return find_precedents(self._retriever(), phrase.strip()).to_dict()  # type: ignore[return-value]

    def upload(self, file: FileData) -> UploadStatus:
        """Add a document (gradio_client.handle_file(path)); returns at once with a job to poll
        with /upload_status. The same content under another name is reported, not added."""
        path = file.path if isinstance(file, FileData) else file["path"]
        name = (file.orig_name if isinstance(file, FileData) else file.get("orig_name")) or ""
        job = self.uploads.submit(Path(path), name or Path(path).name)
        forget_gradio_upload(Path(path))
        return job.to_dict()  # type: ignore[return-value]

    def upload_status(self, job: str) -> UploadStatus:
        """Where an upload is: queued, checking, indexing, or its outcome."""
        found = self.uploads.job(job)
        if found is None:
            raise gr.Error(f"no upload job {job!r}")
        return found.to_dict()  # type: ignore[return-value]

    def status(self) -> IndexStatusResult:
        """What the index is doing: ready, updating (with progress), building, failed."""
        return self.live.status().to_dict()  # type: ignore[return-value]

    def register(self) -> None:
        """Register the endpoints in the current ``gr.Blocks`` context."""
        for fn in (self.ask, self.search, self.precedent, self.upload, self.upload_status):
            gr.api(fn, api_name=fn.__name__)
        gr.api(self.status, api_name="status", concurrency_limit=None)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise gr.Error(f"mode must be one of {', '.join(MODES)}, not {mode!r}")


def forget_gradio_upload(path: Path) -> None:
    """Remove what is left of an upload in Gradio's temp folder (served by URL when no login is
    set): the file, if still there, and the folder Gradio made for it when empty."""
    path.unlink(missing_ok=True)
    from gradio.utils import get_upload_folder

    folder = path.parent
    if folder.resolve().parent == Path(get_upload_folder()).resolve():
        try:
            folder.rmdir()
        except OSError:
            pass
