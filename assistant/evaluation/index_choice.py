"""Which index the policy evaluation runs on, and one sentence saying so before any long step.

The product index (the settings' ``index_dir``) is used as it is, read-only, when it holds
exactly the corpus files (same relative paths and sha256), embedded by the same model and
backend from passages made by the same ingestion code and normalization: evaluating it costs no
embedding. Otherwise the evaluation's own index is built, or brought up to date incrementally;
the product index is never written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.embedding import Embedder

LONG_EMBEDDING = 1000  # passages: from here on, embedding them takes minutes on a CPU


@dataclass(frozen=True)
class Freshness:
    """How an existing index compares with the corpus and the current model and code."""

    files: int  # corpus files
    changed: int  # corpus files new to the index or changed since
    removed: int  # indexed files no longer in the corpus
    same_model: bool
    same_pipeline: bool  # same ingestion code and normalization

    @property
    def up_to_date(self) -> bool:
        return self.same_model and self.same_pipeline and not (self.changed or self.removed)


def corpus_hashes(corpus_dir: Path) -> dict[str, str]:
    """sha256 of every file the builder would index under ``corpus_dir``, by relative path."""
    from assistant.documents.loaders import discover
    from assistant.hashing import file_sha256

    return {sf.rel: file_sha256(sf.path) for sf in discover([corpus_dir])}


def freshness(index_dir: Path, hashes: dict[str, str], embedder: Embedder) -> Freshness | None:
    """Compare the index in ``index_dir`` with the corpus; None when there is no readable index."""
    from assistant.search.builder import pipeline_fingerprint
    from assistant.search.store import current_generation, read_manifest, same_model
    from assistant.search.writer import NORMALIZATION

    try:
        gen = current_generation(index_dir)
        manifest = read_manifest(gen) if gen is not None else None
    except Exception:  # noqa: BLE001 - an unreadable index is simply not reused
        return None
    if manifest is None:
        return None
    backend = getattr(embedder, "backend", None)
    indexed = {rel: entry.sha256 for rel, entry in manifest.files.items()}
    return Freshness(
        files=len(hashes),
        changed=sum(indexed.get(rel) != digest for rel, digest in hashes.items()),
        removed=len(set(indexed) - set(hashes)),
        same_model=same_model(manifest.model, embedder.model_name)
        and (manifest.backend is None or backend is None or manifest.backend == backend),
        same_pipeline=manifest.pipeline == pipeline_fingerprint()
        and manifest.normalization == NORMALIZATION,
    )


@dataclass(frozen=True)
class IndexChoice:
    index_dir: Path | None  # None: a temporary directory, removed afterwards
    build: bool  # False: use the index as it is
    message: str  # what will happen, for the user, said before it happens


def _size(n: int, unit: str) -> str:
    return f"{n:,} {unit}" + ("" if n == 1 else "s")


def choose_policy_index(
    corpus_dir: Path,
    eval_index: Path | None,
    product_index: Path | None,
    embedder: Embedder,
    passages: int,
) -> IndexChoice:
    """Where to evaluate the policy set on ``corpus_dir`` (``passages``: its chunk count).

    ``product_index`` is reused when up to date; ``eval_index`` is the evaluation's own index
    (None: a temporary one)."""
    hashes = corpus_hashes(corpus_dir)
    files = _size(len(hashes), "file")
    if product_index is not None and product_index != eval_index:
        fresh = freshness(product_index, hashes, embedder)
        if fresh is not None and fresh.up_to_date:
            return IndexChoice(
                product_index,
                build=False,
                message=f"using the index in {product_index}: it holds the same {files} of "
                f"{corpus_dir}, embedded with {embedder.model_name} by the same ingestion code "
                "(nothing to embed)",
            )
    where = f"the evaluation index {eval_index}" if eval_index else "a temporary index"
    fresh = freshness(eval_index, hashes, embedder) if eval_index is not None else None
    if fresh is not None and fresh.same_model:
        if fresh.up_to_date:
            message = f"using {where}: up to date with the {files} of {corpus_dir}"
        elif not fresh.same_pipeline:
            message = (
                f"updating {where}: the ingestion code changed, so the {files} of {corpus_dir} "
                "are read again (vectors of unchanged passages are reused)…"
            )
        else:
            message = (
                f"updating {where}: {_size(fresh.changed, 'file')} of {corpus_dir} new or "
                f"changed, {fresh.removed} removed (only new passages are embedded)…"
            )
        return IndexChoice(eval_index, build=True, message=message)
    return IndexChoice(
        eval_index,
        build=True,
        message=f"building {where} of the {files} of {corpus_dir} ({_size(passages, 'passage')} "
        f"to embed with {embedder.model_name}{long_step(passages)})…",
    )


def long_step(passages: int) -> str:
    """A warning to append when embedding ``passages`` takes minutes."""
    return "; several minutes on a CPU" if passages >= LONG_EMBEDDING else ""
