"""Run query sets against retrieval configurations and collect metrics and latency.

A BEIR corpus is indexed as given (long passages split at sentence ends, see
:func:`~assistant.evaluation.datasets.beir_chunks`) into a temporary index, or a kept one under
``keep_index``; a hit counts as its corpus id, first occurrence in rank order. The policy query
set runs against an index of ``corpus/`` (built or brought up to date incrementally); a hit
counts as the labelled passages it contains (:mod:`assistant.evaluation.matching`). For the
policy set the answer pipeline's relevance decision (``found``) is checked too: it must be
false on the unanswerable questions and true on the others.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from assistant.config import Settings
from assistant.evaluation.datasets import BeirDataset, PolicyQuery, beir_chunks
from assistant.evaluation.index_choice import choose_policy_index, long_step
from assistant.evaluation.matching import find_broken_labels, qrels_for, units_for
from assistant.evaluation.metrics import DEPTH, METRICS, dedupe, evaluate, latency_summary
from assistant.evaluation.results import (
    AnsweringResult,
    ConfigResult,
    DatasetResult,
    RunResult,
)
from assistant.records import Chunk

if TYPE_CHECKING:
    from assistant.embedding import Embedder
    from assistant.search.retriever import Retriever

MODES = ("bm25", "dense", "hybrid")
DEFAULT_PER_DOC = 2
CANDIDATES = 30  # chunks fetched per query: split passages can fill several ranks per unit


@dataclass(frozen=True)
class RetrievalConfig:
    mode: str  # "bm25" | "dense" | "hybrid"
    per_doc: int | None = None  # at most this many hits per document

    @property
    def name(self) -> str:
        return f"{self.mode}+perdoc{self.per_doc}" if self.per_doc else self.mode


def make_configs(modes: Sequence[str] | None, per_doc: int | None) -> list[RetrievalConfig]:
    """The configurations to run: each mode, plus hybrid diversified per document.

    ``per_doc`` of 0 or None leaves the diversified configuration out.
    """
    chosen = list(dict.fromkeys(modes or MODES))
    unknown = [m for m in chosen if m not in MODES]
    if unknown:
        raise ValueError(f"unknown mode(s) {unknown}; choose from {', '.join(MODES)}")
    configs = [RetrievalConfig(m) for m in chosen]
    if per_doc:
        configs.append(RetrievalConfig("hybrid", per_doc))
    return configs


UnitsOf = Callable[[str, Chunk], list[str]]  # (query id, retrieved chunk) -> relevance units
Announce = Callable[[str], None]  # told, in one sentence, what a long step will do


def _silent(_message: str) -> None:
    pass


def run_config(
    retriever: Retriever,
    queries: dict[str, str],
    config: RetrievalConfig,
    units_of: UnitsOf,
    *,
    desc: str = "",
    progress: bool = True,
) -> tuple[dict[str, list[str]], list[float]]:
    """Ranked unit lists (top 10 after dedup) and per-query latency in seconds."""
    if queries:  # warm-up: the first query pays for lazy loading, not for searching
        retriever.search(next(iter(queries.values())), k=CANDIDATES, mode=config.mode,
                         per_doc=config.per_doc)  # fmt: skip
    ranked: dict[str, list[str]] = {}
    latencies: list[float] = []
    bar = tqdm(queries.items(), desc=desc or config.name, unit="query", disable=not progress,
               dynamic_ncols=True, leave=False)  # fmt: skip
    for qid, text in bar:
        started = time.perf_counter()
        hits = retriever.search(text, k=CANDIDATES, mode=config.mode, per_doc=config.per_doc)
        latencies.append(time.perf_counter() - started)
        ranked[qid] = dedupe((u for h in hits for u in units_of(qid, h.chunk)), DEPTH)
    return ranked, latencies


def _config_result(
    config: RetrievalConfig,
    qrels: dict[str, dict[str, int]],
    ranked: dict[str, list[str]],
    latencies: list[float],
    types: dict[str, str] | None = None,
) -> ConfigResult:
    mean, per_query = evaluate(qrels, ranked)
    by_type: dict[str, dict[str, float]] = {}
    if types:
        for t in sorted(set(types.values())):
            ids = [q for q, qt in types.items() if qt == t and q in per_query]
            by_type[t] = {m: sum(per_query[q][m] for q in ids) / len(ids) for m in METRICS}
            by_type[t]["n"] = float(len(ids))
    return ConfigResult(
        name=config.name,
        mode=config.mode,
        per_doc=config.per_doc,
        n_queries=len(qrels),
        metrics={m: round(v, 4) for m, v in mean.items()},
        latency=latency_summary(latencies),
        by_type=by_type,
        per_query={q: {m: round(v, 4) for m, v in vals.items()} for q, vals in per_query.items()},
    )


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "dataset"


@contextmanager
def _index_dir(path: Path | None) -> Iterator[Path]:
    """``path`` itself (created if needed), or a temporary directory removed afterwards."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as tmp:
        yield Path(tmp)


def _reusable(index_dir: Path, n_chunks: int, model: str) -> bool:
    """A kept BEIR index is reused when it holds as many chunks, of the same model, made the
    same way (passage recipe and normalization recorded in its manifest)."""
    from assistant.search.store import current_generation, read_manifest
    from assistant.search.writer import NORMALIZATION

    gen = current_generation(index_dir)
    if gen is None:
        return False
    try:
        manifest = read_manifest(gen)
    except Exception:  # noqa: BLE001 - anything unreadable is simply rebuilt
        return False
    return (
        manifest.chunks == n_chunks
        and manifest.model == model
        and manifest.pipeline == "chunks"
        and manifest.normalization == NORMALIZATION
    )


def evaluate_beir(
    dataset: BeirDataset,
    configs: Sequence[RetrievalConfig],
    settings: Settings,
    *,
    embedder: Embedder,
    keep_index: Path | None = None,
    sample: str = "",
    progress: bool = True,
    announce: Announce = _silent,
) -> DatasetResult:
    """Index the BEIR corpus and run every configuration over its queries."""
    from assistant.search.retriever import Retriever
    from assistant.search.writer import index_chunks

    chunks = beir_chunks(dataset)
    result = DatasetResult(
        name=dataset.name, kind="beir", n_queries=len(dataset.queries),
        n_passages=len(dataset.corpus), n_chunks=len(chunks), index_seconds=0.0, sample=sample,
    )  # fmt: skip
    keep = keep_index / _safe_name(dataset.name) if keep_index is not None else None
    with _index_dir(keep) as index_dir:
        started = time.perf_counter()
        result.index_reused = _reusable(index_dir, len(chunks), embedder.model_name)
        if not result.index_reused:
            kind = f"the kept index {index_dir}" if keep is not None else "a temporary index"
            announce(f"{dataset.name}: embedding {len(chunks):,} passages into {kind}"
                     f"{long_step(len(chunks))}…")  # fmt: skip
            index_chunks(chunks, index_dir, settings, embedder=embedder, progress=progress)
        result.index_seconds = round(time.perf_counter() - started, 1)
        retriever = Retriever.open(index_dir, settings, embedder=embedder)
        try:
            for config in configs:
                ranked, latencies = run_config(
                    retriever, dataset.queries, config, lambda _q, c: [c.doc.doc_id],
                    desc=f"{dataset.name} {config.name}", progress=progress,
                )  # fmt: skip
                result.configs.append(_config_result(config, dataset.qrels, ranked, latencies))
        finally:
            retriever.close()
    return result


def _corpus_chunks(corpus_dir: Path) -> list[Chunk]:
    from assistant.documents import ingest

    return ingest([corpus_dir], progress=False).chunks


def check_policy_labels(queries: Sequence[PolicyQuery], corpus_dir: Path) -> list[str]:
    """Labels whose quote matches no chunk of the corpus as ingestion chunks it today."""
    return [str(b) for b in find_broken_labels(queries, _corpus_chunks(corpus_dir))]


def answering_accuracy(
    queries: Sequence[PolicyQuery], retriever: Retriever, *, mode: str = "hybrid",
    progress: bool = True,
) -> AnsweringResult:  # fmt: skip
    """The answer pipeline's ``found`` decision on every query of the policy set.

    Uses the pipeline's own retrieval and relevance step (``answering.pipeline.retrieve``),
    which is what decides ``found`` with or without an LLM, so no LLM is called.
    """
    from assistant.answering.pipeline import retrieve

    found: dict[str, bool] = {}
    for q in tqdm(queries, desc="answer pipeline", unit="query", disable=not progress,
                  leave=False):  # fmt: skip
        found[q.id] = bool(retrieve(q.query, retriever, mode=mode).relevance.found)
    unanswerable = [q for q in queries if not q.answerable]
    answerable = [q for q in queries if q.answerable]
    return AnsweringResult(
        mode=mode,
        unanswerable=len(unanswerable),
        correct_refusals=sum(not found[q.id] for q in unanswerable),
        answerable=len(answerable),
        false_refusals=sum(not found[q.id] for q in answerable),
        found=found,
    )


def evaluate_policy(
    queries: Sequence[PolicyQuery],
    corpus_dir: Path,
    configs: Sequence[RetrievalConfig],
    settings: Settings,
    *,
    embedder: Embedder,
    index_dir: Path | None = None,
    reuse_index: Path | None = None,
    name: str = "policy",
    answering: bool = True,
    progress: bool = True,
    announce: Announce = _silent,
) -> DatasetResult:
    """Run the quote-labelled query set over an index of ``corpus_dir``.

    ``reuse_index`` (the product index) is used as it is when it is up to date with the corpus
    (see :mod:`assistant.evaluation.index_choice`). Otherwise ``index_dir`` is brought up to
    date incrementally (cheap when nothing changed); without one, a temporary index is built.
    ``announce`` is told what will happen before it happens. Broken labels are listed in the
    result.
    """
    from assistant.search.builder import build_index
    from assistant.search.retriever import Retriever

    corpus_chunks = _corpus_chunks(corpus_dir)
    broken = [str(b) for b in find_broken_labels(queries, corpus_chunks)]
    answerable = [q for q in queries if q.answerable]
    qrels = {q.id: qrels_for(q) for q in answerable}
    by_id = {q.id: q for q in answerable}
    types = {q.id: q.type for q in answerable}
    choice = choose_policy_index(corpus_dir, index_dir, reuse_index, embedder, len(corpus_chunks))
    announce(choice.message)
    with _index_dir(choice.index_dir) as idx:
        started = time.perf_counter()
        reused = not choice.build
        if choice.build:
            report = build_index([corpus_dir], idx, settings, embedder=embedder,
                                 progress=progress)  # fmt: skip
            broken += [f"corpus file failed to load: {f.message}" for f in report.failed]
            reused = report.embedded == 0 and not report.added and not report.updated
        elapsed = round(time.perf_counter() - started, 1)
        retriever = Retriever.open(idx, settings, embedder=embedder)
        result = DatasetResult(
            name=name, kind="policy", n_queries=len(queries),
            n_passages=len(retriever.manifest.files), n_chunks=retriever.manifest.chunks,
            index_seconds=elapsed, broken_labels=broken, index_reused=reused,
        )  # fmt: skip
        try:
            texts = {q.id: q.query for q in answerable}
            for config in configs:
                ranked, latencies = run_config(
                    retriever, texts, config, lambda qid, c: units_for(by_id[qid], c),
                    desc=f"{name} {config.name}", progress=progress,
                )  # fmt: skip
                result.configs.append(_config_result(config, qrels, ranked, latencies, types))
            if answering:
                result.answering = answering_accuracy(queries, retriever, progress=progress)
        finally:
            retriever.close()
    return result


def run_evaluation(
    *,
    beir: Sequence[BeirDataset] = (),
    policy: Sequence[PolicyQuery] | None = None,
    corpus_dir: Path = Path("corpus"),
    configs: Sequence[RetrievalConfig],
    settings: Settings,
    embedder: Embedder | None = None,
    policy_index_dir: Path | None = None,
    reuse_index: Path | None = None,
    keep_index: Path | None = None,
    samples: dict[str, str] | None = None,
    answering: bool = True,
    name: str = "",
    command: str = "",
    progress: bool = True,
    announce: Announce = _silent,
) -> RunResult:
    """Evaluate every query set under every configuration; the model is loaded once.

    ``reuse_index``: an index of the policy corpus to use as it is when up to date (the
    product index); ``announce`` is told what each long step will do before it starts."""
    if embedder is None:
        from assistant.embedding import load_embedder

        embedder = load_embedder(settings)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    run = RunResult(
        name=name or "run-" + created.replace(":", "").replace("+0000", "Z"),
        created=created,
        command=command,
        settings={
            "embed_model": embedder.model_name,
            "embed_backend": getattr(embedder, "backend", settings.embed_backend),
            "fusion": settings.fusion,
            "sentence_weight": settings.sentence_weight,
            "rrf_k": settings.rrf_k,
            "dense_weight": settings.dense_weight,
            "bm25_weight": settings.bm25_weight,
            "candidates": CANDIDATES,
        },
    )
    if policy is not None:
        run.datasets.append(
            evaluate_policy(
                policy,
                corpus_dir,
                configs,
                settings,
                embedder=embedder,
                index_dir=policy_index_dir,
                reuse_index=reuse_index,
                answering=answering,
                progress=progress,
                announce=announce,
            )  # fmt: skip
        )
    for ds in beir:
        run.datasets.append(
            evaluate_beir(
                ds,
                configs,
                settings,
                embedder=embedder,
                keep_index=keep_index,
                sample=(samples or {}).get(ds.name, ""),
                progress=progress,
                announce=announce,
            )  # fmt: skip
        )
    return run
