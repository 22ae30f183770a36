"""The index a long-running app serves: always the newest committed generation, kept up to date.

``retriever`` is the generation committed last, by this process or any other (``assistant
index`` from the command line): each access checks the ``CURRENT`` pointer and opens a newer
generation when there is one, so a request uses one generation throughout and the next request
the new one. A generation that cannot be opened is reported and the previous one stays in
service. ``update`` runs the incremental build (one at a time, waiting for another process's
build to finish); ``start_update`` runs it in a background thread so the app serves the existing
index meanwhile; ``status`` says what the index is doing, with the build's progress.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from assistant import work_progress
from assistant.config import Settings

if TYPE_CHECKING:
    from assistant.embedding import Embedder
    from assistant.search.builder import BuildReport
    from assistant.search.retriever import Retriever

log = logging.getLogger(__name__)

State = Literal["ready", "updating", "building", "failed"]
LOCK_POLL_SECONDS = 1.0
REOPEN_BACKOFF_SECONDS = 30.0  # after a committed version failed to open


class IndexNotReadyError(Exception):
    """No index has been committed yet (the first build is still running or failed)."""


@dataclass(frozen=True)
class IndexStatus:
    state: State
    text: str  # one line for the app, e.g. "索引更新中：读取 12/113 个文件"
    generation: str  # the generation being served ("" before the first build commits)
    files: int
    chunks: int

    def to_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "text": self.text,
            "generation": self.generation,
            "files": self.files,
            "chunks": self.chunks,
        }


class LiveIndex:
    def __init__(
        self, corpus_dir: Path, index_dir: Path, settings: Settings, embedder: Embedder | None
    ) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir)
        self.settings = settings
        self.embedder = embedder
        self.lock = threading.RLock()  # one build at a time (uploads hold it across their check)
        self._retriever: Retriever | None = None
        self._swap = threading.Lock()
        self._retry_after = 0.0  # monotonic time before which a failed reopen is not retried
        self.activity = ""  # what the running build or upload is doing, shown before tqdm bars
        self._error = ""  # the last update's or open's failure
        self._updating = False

    # ------------------------------------------------------------------ serving

    @property
    def retriever(self) -> Retriever:
        """The newest committed generation (raises IndexNotReadyError before the first one)."""
        r = self._retriever
        if r is not None and not self._newer_committed(r):
            return r
        with self._swap:
            r = self._retriever
            if r is None or self._newer_committed(r):
                self._retriever = self._open(r)
            return self._retriever  # type: ignore[return-value]

    def _newer_committed(self, r: Retriever) -> bool:
        """A newer version was committed, by this process or any other (also on a shared
        Milvus); after a version failed to open, asked again only after a back-off."""
        if time.monotonic() < self._retry_after:
            return False
        try:
            return r.is_stale()
        except Exception:  # noqa: BLE001 - a damaged pointer: keep serving what is open
            return False

    def _open(self, current: Retriever | None) -> Retriever:
        from assistant.search.retriever import Retriever
        from assistant.search.store import IndexNotFoundError

        try:
            # The previous retriever is not closed: a request in another thread may still use
            # it; it is released when the last one finishes.
            return Retriever.open(self.index_dir, self.settings, embedder=self.embedder)
        except IndexNotFoundError as exc:
            if current is None:
                raise IndexNotReadyError(str(exc)) from exc
            return current
        except Exception as exc:
            if current is None:
                raise
            self._retry_after = time.monotonic() + REOPEN_BACKOFF_SECONDS
            self._error = f"新提交的索引无法打开，继续使用 {current.generation.name}：{exc}"
            log.error("the newly committed index in %s cannot be opened: %s", self.index_dir, exc)
            return current

    def ready(self) -> bool:
        try:
            self.retriever  # noqa: B018
        except IndexNotReadyError:
            return False
        return True

    # ------------------------------------------------------------------ updating

    def update(self, *, progress: bool = True) -> BuildReport:
        """Index new, changed and deleted files of the corpus; serve the result.

        Waits while another process builds this index directory; raises what the build raises
        (the served index then stays as it was).
        """
        from assistant.search.builder import build_index
        from assistant.search.store import IndexLockedError

        with self.lock:
            while True:
                try:
                    report = build_index(
                        [self.corpus_dir],
                        self.index_dir,
                        self.settings,
                        embedder=self.embedder,
                        progress=progress,
                    )
                    break
                except IndexLockedError:
                    self.activity = "等待另一个进程完成索引更新"
                    time.sleep(LOCK_POLL_SECONDS)
                finally:
                    self.activity = ""
            self._error = ""
            self.retriever  # noqa: B018 - serve the new generation from the next request on
        return report

    def start_update(
        self,
        *,
        progress: bool = True,
        warm: bool = True,
        say: Callable[[str], None] = lambda line: log.info("%s", line),
    ) -> threading.Thread:
        """Update in a background thread; ``status`` shows its progress. ``warm`` then loads the
        query embedder and the answer reader so that the first question does not wait for them;
        ``say`` gets the outcome in a few lines (the terminal's)."""

        def run() -> None:
            try:
                report = self.update(progress=progress)
                say(f"index: {report.summary()}")
                for failure in report.failed:
                    say(f"  failed: {failure.message}")
                if warm:
                    self.warm_up(answers=True)
            except Exception as exc:  # noqa: BLE001 - reported in the app; the old index serves
                self._error = f"索引更新失败：{type(exc).__name__}: {exc}"
                say(f"error: the index update failed: {type(exc).__name__}: {exc}")
            finally:
                self.activity = ""
                self._updating = False

        self._updating = True  # before the thread starts, so status() never shows "ready" early
        thread = threading.Thread(target=run, name="index-update", daemon=True)
        thread.start()
        return thread

    def warm_up(self, *, answers: bool = False) -> None:
        """Load the query embedder now, so that the first question does not wait for it; with
        ``answers``, the answer reader too (built on first use, which takes a while)."""
        steps = [("语义模型", lambda: self.retriever.embedder())]
        if answers:  # not before the launch: the answering modules are not needed to serve
            from assistant.answering.pipeline import answer_reader

            steps.append(("答案阅读模型", lambda: answer_reader(self.retriever)))
        try:
            for name, load in steps:
                self.activity = f"加载{name}"
                try:
                    load()
                except Exception as exc:  # noqa: BLE001 - shown in the status; questions say it too
                    self._error = f"{name}无法加载：{type(exc).__name__}: {exc}"
                    return
        finally:
            self.activity = ""

    # ------------------------------------------------------------------ status

    def status(self) -> IndexStatus:
        try:
            r = self.retriever
        except IndexNotReadyError:
            r = None
        except Exception as exc:  # noqa: BLE001 - e.g. the index was built with another model
            return IndexStatus("failed", f"索引无法打开：{exc}", "", 0, 0)
        gen = r.generation.name if r is not None else ""
        files = len(r.manifest.files) if r is not None else 0
        chunks = len(r) if r is not None else 0
        busy = self._updating or self.lock_is_held()
        if busy:
            doing = self.activity or work_progress.current() or "准备中"
            if r is None:
                return IndexStatus("building", f"索引正在建立（首次运行）：{doing}", gen, 0, 0)
            return IndexStatus("updating", f"索引更新中：{doing}", gen, files, chunks)
        if r is None:
            text = self._error or "还没有索引：请在语料目录中放入文件后重新启动。"
            return IndexStatus("failed", text, gen, 0, 0)
        text = f"索引就绪：{files} 个文件，{chunks} 个段落"
        if self._error:
            return IndexStatus("failed", f"{text}。{self._error}", gen, files, chunks)
        return IndexStatus("ready", text, gen, files, chunks)

    def lock_is_held(self) -> bool:
        if self.lock.acquire(blocking=False):
            self.lock.release()
            return False
        return True
