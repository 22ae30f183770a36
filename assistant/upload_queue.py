"""Uploads accepted at once and processed in a background worker, one at a time, with progress.

``UploadQueue.submit`` takes the uploaded file out of Gradio's temp folder at once (Gradio serves
that folder to anyone who knows a file's URL when no login is set) into a private staging
directory and returns a job. One worker thread then, while holding the index's build lock:
compares the content with the index (same bytes under any name: reported, nothing stored),
loads the file as the index would (slow loaders such as OCR of a scan run here, never in a
request), stores it under ``<corpus>/uploads/`` and updates the index. ``UploadJob.text`` says
where a job is, with the progress of the running step. A refused file leaves nothing behind.
"""

from __future__ import annotations

import logging
import queue
import shutil
import tempfile
import threading
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from assistant import work_progress
from assistant.documents.limits import FileLimits
from assistant.live_index import IndexNotReadyError, LiveIndex
from assistant.uploads import UploadError, safe_name, store_upload

log = logging.getLogger(__name__)

JobState = Literal["queued", "checking", "indexing", "indexed", "duplicate", "refused", "failed"]
FINISHED = ("indexed", "duplicate", "refused", "failed")
KEEP_JOBS = 500  # finished jobs remembered for their status


@dataclass
class UploadJob:
    id: str
    name: str  # the safe file name it will have
    state: JobState = "queued"
    message: str = ""  # why it was refused or failed; what the index update did
    chunks: int = 0
    file: str | None = None  # corpus-relative path of the stored (or identical existing) file

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def text(self) -> str:
        """One line for the app."""
        if self.state == "queued":
            return f"【排队中】{self.name}"
        if self.state in ("checking", "indexing"):
            step = "读取文件" if self.state == "checking" else "更新索引"
            doing = work_progress.current()
            return f"【处理中】{self.name}：{step}" + (f"（{doing}）" if doing else "")
        if self.state == "indexed":
            return f"【已索引】{self.name}：{self.chunks} 个段落"
        if self.state == "duplicate":
            return f"【已索引过】{self.name}：与已有文件 {self.file} 内容相同，未重复添加"
        label = "未接收" if self.state == "refused" else "未索引"
        return f"【{label}】{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.id,
            "name": self.name,
            "state": self.state,
            "finished": self.finished,
            "text": self.text(),
            "chunks": self.chunks,
            "file": self.file,
            "message": self.message,
        }


class UploadQueue:
    def __init__(self, live: LiveIndex) -> None:
        self.live = live
        self._staging: Path | None = None  # made on the first upload (a server may get none)
        self._jobs: dict[str, UploadJob] = {}
        self._queue: queue.Queue[tuple[UploadJob, Path]] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def submit(self, path: Path, original_name: str) -> UploadJob:
        """Take ``path`` (the file is moved away) and queue it."""
        job = UploadJob(id=uuid.uuid4().hex[:12], name=safe_name(original_name))
        staged = self.staging_dir() / job.id / job.name
        staged.parent.mkdir()
        shutil.move(path, staged)
        with self._lock:
            self._jobs[job.id] = job
            for old in [j for j in self._jobs.values() if j.finished][:-KEEP_JOBS]:
                del self._jobs[old.id]
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="uploads", daemon=True)
                self._worker.start()
        self._queue.put((job, staged))
        return job

    def staging_dir(self) -> Path:
        """The private folder uploads wait in (mode 0700), made on first use, removed at exit."""
        with self._lock:
            if self._staging is None:
                self._staging = Path(tempfile.mkdtemp(prefix="assistant-uploads-"))
                weakref.finalize(self, shutil.rmtree, self._staging, True)
            return self._staging

    def job(self, job_id: str) -> UploadJob | None:
        return self._jobs.get(job_id)

    def wait(self) -> None:
        """Block until every submitted job has finished (for tests and scripts)."""
        self._queue.join()

    def _work(self) -> None:
        while True:
            job, staged = self._queue.get()
            try:
                self._process(job, staged)
            except Exception as exc:  # noqa: BLE001 - one bad upload must not stop the worker
                job.state, job.message = "failed", f"{job.name}：{type(exc).__name__}: {exc}"
                log.exception("upload %s failed", job.name)
            finally:
                shutil.rmtree(staged.parent, ignore_errors=True)
                self._queue.task_done()

    def _process(self, job: UploadJob, staged: Path) -> None:
        live = self.live
        with live.lock:  # no build runs meanwhile, so the duplicate check sees the whole index
            job.state = "checking"
            live.activity = f"读取上传的文件 {job.name}"
            try:
                try:
                    files = live.retriever.manifest.files
                except IndexNotReadyError:
                    files = {}
                indexed = {entry.sha256: rel for rel, entry in files.items()}
                try:
                    up = store_upload(
                        staged,
                        job.name,
                        live.corpus_dir,
                        max_mb=live.settings.upload_max_mb,
                        limits=FileLimits.from_settings(live.settings),
                        indexed=indexed,
                    )
                except UploadError as exc:
                    job.state, job.message = "refused", str(exc)
                    return
            finally:
                live.activity = ""
            job.file = up.path.relative_to(live.corpus_dir).as_posix()
            if up.duplicate_of is not None:
                job.state = "duplicate"
                return
            job.state = "indexing"
            try:
                report = live.update(progress=True)
            except Exception as exc:  # the previous index stays in service
                up.path.unlink(missing_ok=True)
                job.state = "failed"
                job.message = f"{job.name}：索引保持不变（{type(exc).__name__}: {exc}）"
                return
            failed = [f for f in report.failed if Path(f.path).resolve() == up.path.resolve()]
            if failed:
                up.path.unlink(missing_ok=True)
                job.state, job.message = "failed", failed[0].message
                return
            job.state, job.chunks, job.message = "indexed", up.chunks, report.summary()
