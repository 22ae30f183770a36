"""The storage interface between search and an index backend (embedded files, or Milvus).

The retriever reads a committed snapshot through ``SearchBackend``: dense and lexical top-k
with filters pushed down, the other channel's scores for given ids, exact phrase lookup,
chunks by id, the document of a chunk (for diversification), the document list. Fusion,
diversification and everything above stay backend-free. The builder writes through
``IndexWriter``: which files are indexed with which hashes, vectors reusable by passage hash,
put/delete one file's chunks, and one atomic commit that readers see whole or not at all.

Chunk ids are integers chosen by the backend; they are stable within a snapshot (and, for the
backends here, across snapshots for unchanged chunks). ``SearchFilters`` is plain data: each
backend translates it itself (SQL for the embedded store, a scalar expression for Milvus).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType

import numpy as np

from assistant.records import Chunk, DocumentMeta
from assistant.search.analysis import Analyzer
from assistant.search.store import FileEntry, Manifest, StoredChunk

Scored = list[tuple[int, float]]  # (chunk id, score), best first


@dataclass(frozen=True)
class SearchFilters:
    """What a search is restricted to; empty fields do not restrict."""

    year: int | tuple[int, int] | None = None  # exact year or inclusive range
    region: str | None = None  # exact locality, e.g. "庄浪县"
    doc_id: str | None = None
    file: str | None = None  # file name, its path as loaded, or its key relative to the corpus
    # Older versions of a text (documents/versions.py): None or True keeps them, False leaves
    # them out. Search keeps them by default; the answer pipeline reads None as False. The
    # retriever resolves False into ``exclude_doc_ids``, which is what backends translate.
    superseded: bool | None = None
    exclude_doc_ids: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return (
            self.year is None
            and not self.region
            and not self.doc_id
            and not self.file
            and self.superseded is not False
            and not self.exclude_doc_ids
        )

    def year_range(self) -> tuple[int, int] | None:
        """The inclusive year range, or None when no year is asked for."""
        if isinstance(self.year, tuple):
            lo, hi = self.year
            return (min(lo, hi), max(lo, hi))
        if self.year is not None:
            return (int(self.year), int(self.year))
        return None


@dataclass(frozen=True)
class LexicalQuery:
    """A keyword query: the normalized text (for engines that analyse it themselves) and the
    tokens the index was built with (``SearchBackend.analyzer``)."""

    text: str
    tokens: tuple[str, ...]


class SearchBackend(ABC):
    """One committed snapshot of an index, opened for reading (thread-safe)."""

    @property
    @abstractmethod
    def manifest(self) -> Manifest:
        """Model, dimension, normalization and indexed files of this snapshot."""

    @property
    @abstractmethod
    def version(self) -> str:
        """A label of this snapshot (changes with every commit)."""

    @property
    def analyzer(self) -> Analyzer:
        """How this snapshot's keyword index tokenizes (queries must use the same). By default
        the analysis of ``StoredChunk.tokens`` (jieba words and Han bigrams, no corpus
        dictionary), for a backend that indexes those tokens and stores no analysis of its own."""
        return Analyzer()

    @abstractmethod
    def count(self) -> int:
        """Live chunks in this snapshot."""

    @abstractmethod
    def dense_search(
        self, query: np.ndarray, k: int, filters: SearchFilters | None = None
    ) -> Scored:
        """The ``k`` chunks most similar (inner product) to the L2-normalized ``query``."""

    @abstractmethod
    def lexical_search(
        self, query: LexicalQuery, k: int, filters: SearchFilters | None = None
    ) -> Scored:
        """The ``k`` best chunks by BM25 with a positive score."""

    @abstractmethod
    def dense_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """Inner products of ``query`` with the given chunks' vectors."""

    @abstractmethod
    def lexical_scores(self, query: LexicalQuery, ids: Sequence[int]) -> dict[int, float]:
        """BM25 scores of the given chunks (0 where no token matches)."""

    @abstractmethod
    def phrase_search(
        self, key: str, k: int, filters: SearchFilters | None = None
    ) -> list[tuple[int, int]]:
        """Chunks whose phrase text (``passage.phrase_key``) contains ``key``:
        ``[(id, occurrences)]``, most occurrences first, then by id."""

    def verbatim_counts(self, keys: Sequence[str], ids: Sequence[int]) -> dict[int, int]:
        """How many of the phrase keys (``passage.phrase_key``) each given chunk contains; a
        backend that can test this where the text lives should (this reads every chunk)."""
        from assistant.search.evidence import chunk_key_text

        texts = {i: chunk_key_text(c) for i, c in self.chunks(ids).items()}
        return {i: sum(k in t for k in keys) for i, t in texts.items()}

    @abstractmethod
    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """The chunks with the given ids (missing ids are left out)."""

    @abstractmethod
    def doc_keys(self, ids: Sequence[int]) -> dict[int, Hashable]:
        """A key per chunk that is equal for chunks of one document (for ``per_doc``)."""

    @abstractmethod
    def documents(self) -> list[tuple[DocumentMeta, int]]:
        """Every document with its number of chunks."""

    @abstractmethod
    def is_stale(self) -> bool:
        """True when a newer snapshot has been committed since this one was opened."""

    @abstractmethod
    def reopen(self) -> SearchBackend:
        """The newest committed snapshot."""

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release files and connections."""


class IndexWriter(ABC):
    """One write transaction on an index: holds the build lock from ``__enter__`` to
    ``__exit__``; nothing is visible to readers before ``commit``."""

    @property
    @abstractmethod
    def previous(self) -> Manifest | None:
        """The committed manifest this transaction starts from (None: empty or rebuilding)."""

    def files(self) -> dict[str, FileEntry]:
        """Indexed files (key relative to the corpus) with their hashes and chunk counts."""
        return dict(self.previous.files) if self.previous is not None else {}

    @abstractmethod
    def reusable_vectors(self, passage_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Vectors already in the index for the given passage hashes (those found)."""

    @abstractmethod
    def put_file(self, rel: str, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        """Replace file ``rel``'s chunks (if any) with ``chunks``; row i ↔ ``vectors[i]``."""

    @abstractmethod
    def delete_file(self, rel: str) -> None:
        """Remove file ``rel``'s chunks."""

    @abstractmethod
    def commit(self, manifest: Manifest) -> str:
        """Make every put and delete visible at once under ``manifest`` (its ``files`` list
        every indexed file); returns the new snapshot's ``version``. Atomic: a crash before
        it returns leaves the previous snapshot answering."""

    def abort(self) -> None:  # noqa: B027 - nothing written by default
        """Discard what was written (also done by ``__exit__`` without a commit)."""

    def close(self) -> None:  # noqa: B027
        """Release the lock and files."""

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None:
                self.abort()
        finally:
            self.close()
