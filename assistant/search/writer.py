"""Shared pieces of index writing (embedding passages, the vector index kind, the manifest's
normalization record) and ``index_chunks``: ready-made chunks (e.g. a BEIR corpus for the
evaluation runner) written through the backend's ``IndexWriter`` as a fresh index.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from assistant.config import Settings, load_settings
from assistant.records import Chunk
from assistant.search.analysis import RECIPE as ANALYSIS_RECIPE
from assistant.search.dense import DenseKind, choose_kind
from assistant.search.passage import PASSAGE_RECIPE, stored_chunk
from assistant.search.store import (
    FileEntry,
    Manifest,
    StoredChunk,
    current_generation,
)

if TYPE_CHECKING:
    from assistant.embedding import Embedder

NORMALIZATION = {
    "script": "OpenCC t2s",
    "width": "full-width ASCII and U+3000 to half-width",
    "whitespace": "collapsed to one space",
    "tokenizer": ANALYSIS_RECIPE + ", lower-cased, punctuation dropped",
    "passage": PASSAGE_RECIPE,
}
EMBED_BATCH = 128  # passages per embedder call; the progress bar moves once per call


class LazyEmbedder:
    """The given embedder, or the configured one loaded on first use (not at all if unused)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._owned = False  # set when this object loads the model itself
        self._loading: Future[Embedder] | None = None

    def _load(self) -> Embedder:
        # ONNX Runtime directly when the model allows it (the same vectors): importing
        # sentence-transformers and torch would dominate a small update's time.
        from assistant.embedding import is_loaded, load_query_embedder

        # A model the process already held is shared: it is not this object's to let go.
        self._owned = not is_loaded(self.settings)
        return load_query_embedder(self.settings)

    def prefetch(self) -> None:
        """Start loading the model in a background thread, to overlap with reading files."""
        if self._embedder is None and self._loading is None:
            pool = ThreadPoolExecutor(1)
            self._loading = pool.submit(self._load)
            pool.shutdown(wait=False)

    def get(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._loading.result() if self._loading else self._load()
        return self._embedder

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    def release(self) -> None:
        """Let go of a model this object loaded itself (a given one, or one the process held
        already, belongs to others), so that its memory is free for what follows."""
        from assistant.embedding import forget_embedder

        if self._owned and self._embedder is not None:
            forget_embedder(self._embedder)
            self._embedder = self._loading = None
            gc.collect()
            release_free_memory()


def release_free_memory() -> None:
    """Hand freed heap memory back to the system (glibc keeps what ONNX Runtime's threads
    freed in their own arenas); a no-op where there is no glibc."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def embed_passages(
    lazy: LazyEmbedder, texts: Sequence[str], progress: bool = False, *, bar: tqdm | None = None
) -> np.ndarray:
    """Passage vectors for ``texts``, longest first so each batch pads to similar lengths.

    Progress goes to ``bar`` when given (its total grows by ``len(texts)``), else to a new bar.
    """
    emb = lazy.get()
    out = np.zeros((len(texts), emb.dim), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    with contextlib.ExitStack() as stack:
        if bar is None:
            bar = stack.enter_context(
                tqdm(
                    total=0,
                    desc="embedding",
                    unit="passage",
                    disable=not progress,
                    dynamic_ncols=True,
                    file=sys.stderr,
                )  # fmt: skip
            )
        bar.total = (bar.total or 0) + len(texts)
        bar.refresh()
        for i in range(0, len(texts), EMBED_BATCH):
            idx = order[i : i + EMBED_BATCH]
            vecs = np.asarray(
                emb.embed_passages([texts[j] for j in idx], progress=False), dtype=np.float32
            )
            if vecs.shape != (len(idx), emb.dim):
                raise ValueError(f"embedder returned shape {vecs.shape} for {len(idx)} texts")
            out[idx] = vecs
            bar.update(len(idx))
    return out


def dense_kind(settings: Settings, n: int, override: str | None = None) -> DenseKind:
    """The FAISS index kind for ``n`` vectors: the override, else the settings' choice."""
    return choose_kind(n, override or settings.dense_index, settings.hnsw_threshold)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def status(progress: bool, message: str) -> None:
    if progress:
        tqdm.write(message, file=sys.stderr)


def _default_file_of(chunk: Chunk) -> str:
    return chunk.doc.source_path or chunk.doc.file


def index_chunks(
    chunks: Sequence[Chunk],
    index_dir: Path,
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    progress: bool = True,
    dense: str | None = None,
    file_of: Callable[[Chunk], str] = _default_file_of,
) -> Path:
    """Index ready-made chunks (e.g. a BEIR corpus) into ``index_dir`` as a fresh generation.

    Any previous index there is replaced; vectors it holds for the same passages (same model)
    are reused instead of embedded again.
    ``file_of`` gives the file key each chunk is listed under in the manifest. Returns the
    committed generation directory; open it with ``Retriever.open(index_dir, ...)``.
    """
    from assistant.search.backends import open_writer

    settings = settings or load_settings()
    lazy = LazyEmbedder(settings, embedder)
    index_dir = Path(index_dir)
    model = embedder.model_name if embedder is not None else settings.embed_model
    with open_writer(index_dir, settings, dense=dense, progress=progress) as writer:
        # Vectors of passages the previous index already holds (same model) are reused.
        reuse = writer.previous is not None and writer.previous.model == model
        by_file: dict[str, list[StoredChunk]] = {}
        for c in chunks:
            sc = stored_chunk(c, file_of(c))
            by_file.setdefault(sc.file_rel, []).append(sc)
        for rel in writer.files():
            if rel not in by_file:
                writer.delete_file(rel)
        with tqdm(
            total=0, desc="embedding", unit="passage", disable=not progress,
            dynamic_ncols=True, file=sys.stderr,
        ) as bar:  # fmt: skip
            rels = list(by_file)
            for start in range(0, len(rels), 256):  # stream: embed, write, forget
                part = rels[start : start + 256]
                stored = [sc for rel in part for sc in by_file[rel]]
                known = writer.reusable_vectors(sc.passage_hash for sc in stored) if reuse else {}
                todo = [sc.passage for sc in stored if sc.passage_hash not in known]
                fresh = iter(embed_passages(lazy, todo, bar=bar)) if todo else iter(())
                vectors = np.stack(
                    [known[sc.passage_hash] if sc.passage_hash in known else next(fresh)
                     for sc in stored]
                )  # fmt: skip
                offset = 0
                for rel in part:
                    n = len(by_file[rel])
                    writer.put_file(rel, by_file.pop(rel), vectors[offset : offset + n])
                    offset += n
        emb = lazy.get()
        total = len(chunks)
        manifest = Manifest(
            model=emb.model_name,
            dim=emb.dim,
            files={rel: FileEntry(sha256="", chunks=n) for rel, n in _counts(chunks, file_of)},
            chunks=total,
            normalization=dict(NORMALIZATION),
            dense=dense_kind(settings, total, dense),
            pipeline="chunks",
            backend=getattr(emb, "backend", None),
            created=now_iso(),
        )
        writer.commit(manifest)
    return current_generation(index_dir)  # type: ignore[return-value]


def _counts(chunks: Sequence[Chunk], file_of: Callable[[Chunk], str]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for c in chunks:
        counts[file_of(c)] = counts.get(file_of(c), 0) + 1
    return list(counts.items())
