"""Ranking metrics (computed by ranx) over ranked lists of relevance units, and latency figures.

A *unit* is what relevance is judged on: a corpus id for BEIR, a labelled passage for the
policy set. Runs are ranked unit lists (first occurrence kept); grades ≥ 1 count as relevant,
nDCG uses the grades as linear gains (ranx ``ndcg``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

METRICS: tuple[str, ...] = ("recall@5", "recall@10", "mrr@10", "ndcg@10", "hit@1")
_RANX_NAME = {"hit@1": "hit_rate@1"}
DEPTH = 10  # the deepest cut any metric looks at


def dedupe(units: Iterable[str], k: int = DEPTH) -> list[str]:
    """First occurrence of each unit in rank order, cut at ``k``."""
    out: list[str] = []
    seen: set[str] = set()
    for u in units:
        if u not in seen:
            seen.add(u)
            out.append(u)
            if len(out) == k:
                break
    return out


def evaluate(
    qrels: Mapping[str, Mapping[str, int]],
    ranked: Mapping[str, Sequence[str]],
    metrics: Sequence[str] = METRICS,
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Mean and per-query metric values for ranked unit lists against graded qrels.

    Every query in ``qrels`` must have a (possibly empty) ranked list; an empty list scores 0.
    """
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    missing = set(qrels) - set(ranked)
    if missing:
        raise ValueError(
            f"no ranked list for {len(missing)} query id(s), e.g. {sorted(missing)[:3]}"
        )
    if not qrels:
        raise ValueError("no queries to evaluate")
    run: dict[str, dict[str, float]] = {}
    for qid in qrels:
        units = list(ranked[qid])
        # ranx cannot hold an empty ranking; a sentinel that is never relevant scores 0.
        run[qid] = {u: float(len(units) - i) for i, u in enumerate(units)} or {"\x00none": 0.0}
    names = [_RANX_NAME.get(m, m) for m in metrics]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety chatter
        scores = ranx_evaluate(
            Qrels.from_dict({q: {d: int(g) for d, g in rel.items()} for q, rel in qrels.items()}),
            Run.from_dict(run),
            names,
            return_mean=False,
            save_results_in_run=False,
        )
    if len(names) == 1:  # ranx returns a bare array for a single metric
        scores = {names[0]: scores}
    qids = list(Qrels.from_dict({q: dict(r) for q, r in qrels.items()}).keys())
    per_query: dict[str, dict[str, float]] = {q: {} for q in qids}
    mean: dict[str, float] = {}
    for metric, name in zip(metrics, names, strict=True):
        values = np.asarray(scores[name], dtype=float)
        mean[metric] = float(values.mean())
        for q, v in zip(qids, values, strict=True):
            per_query[q][metric] = float(v)
    return mean, per_query


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / mean query latency in milliseconds."""
    if not seconds:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0}
    ms = np.asarray(seconds, dtype=float) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "mean_ms": round(float(ms.mean()), 2),
    }
