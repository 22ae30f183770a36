"""The index a long-running app serves: updated incrementally from the corpus, swapped on update.

Searches use ``retriever`` (always a committed generation); ``update`` runs the incremental build
under a lock and swaps in a retriever on the new generation only after the build committed, so a
failed or refused update leaves the served index as it was.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import Settings

if TYPE_CHECKING:
    from assistant.embedding import Embedder
    from assistant.search.builder import BuildReport
    from assistant.search.retriever import Retriever


class LiveIndex:
    def __init__(
        self, corpus_dir: Path, index_dir: Path, settings: Settings, embedder: Embedder | None
    ) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir)
        self.settings = settings
        self.embedder = embedder
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()

    @property
    def retriever(self) -> Retriever:
        # is_stale: a newer version committed by another process too (e.g. on a shared Milvus)
        if self._retriever is None or self._retriever.is_stale():
            from assistant.search.retriever import Retriever

            self._retriever = Retriever.open(self.index_dir, self.settings, embedder=self.embedder)
        return self._retriever

    def update(self, *, progress: bool = True) -> BuildReport:
        """Index new, changed and deleted files of the corpus; serve the result."""
        from assistant.search.builder import build_index
        from assistant.search.retriever import Retriever

        with self._lock:
            report = build_index(
                [self.corpus_dir],
                self.index_dir,
                self.settings,
                embedder=self.embedder,
                progress=progress,
            )
            # The old retriever is not closed: a search running in another thread may use it.
            self._retriever = Retriever.open(self.index_dir, self.settings, embedder=self.embedder)
        return report
