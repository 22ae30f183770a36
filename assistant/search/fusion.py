"""Small pure functions that turn per-retriever rankings into one list.

Convex fusion (the hybrid default) keeps score gaps: each channel's scores over the candidate
set are put on [0, 1] (BM25 divided by its best; dense cosine min-max, but over at least
``dense_span`` of cosine) and summed with weights chosen on the dev queries
(eval/tune_fusion.py); candidates that contain the query, or a quoted part of it, verbatim form
a tier above the rest. The span floor makes the weighting per query: the embedding model puts
most passages within a narrow band of cosine, and when a query's candidates all sit in that
band the dense channel is unsure, so its small differences count for less than BM25's; when
its candidates spread wide, it speaks with its full weight.

Weighted reciprocal rank fusion (Cormack et al., 2009): a candidate scores
``sum(weight_r / (k + rank_r))`` over the retrievers that ranked it (ranks start at 1), so
agreement between retrievers counts and no raw scores need to be put on one scale. Per-document
diversification keeps at most N hits of any one document, for questions like "各地如何…".
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def ranks_of(ranking: Sequence[int]) -> dict[int, int]:
    """Map each id in a best-first ranking to its 1-based rank (first occurrence wins)."""
    out: dict[int, int] = {}
    for position, item in enumerate(ranking, start=1):
        out.setdefault(int(item), position)
    return out


def weighted_rrf(
    rankings: Mapping[str, Sequence[int]],
    weights: Mapping[str, float] | None = None,
    k: int = 60,
) -> list[tuple[int, float]]:
    """Fuse best-first rankings of ids into ``[(id, score)]``, best first.

    ``weights`` defaults to 1.0 per retriever; a weight of 0 removes that retriever's votes.
    Ties are broken by the best single rank the id had, then by id, so results are stable.
    """
    if k < 0:
        raise ValueError(f"rrf k must be >= 0, got {k}")
    weights = weights or {}
    scores: dict[int, float] = {}
    best: dict[int, int] = {}
    for name, ranking in rankings.items():
        w = float(weights.get(name, 1.0))
        for item, rank in ranks_of(ranking).items():
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
            best[item] = min(best.get(item, rank), rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], best[kv[0]], kv[0]))


@dataclass(frozen=True)
class FusionWeights:
    """Weights of the convex fusion (``dense_span``: the least cosine range that min-max
    scaling of the dense scores stretches to [0, 1])."""

    dense: float = 1.0
    lexical: float = 0.5
    dense_span: float = 0.15


@dataclass
class Candidates:
    """Everything fusion needs about one query's candidate items (ids are chunk ids)."""

    rows: list[int]
    dense: dict[int, float] = field(default_factory=dict)  # raw cosine, every candidate
    lexical: dict[int, float] = field(default_factory=dict)  # raw BM25, every candidate
    verbatim: dict[int, int] = field(default_factory=dict)  # verbatim query keys contained


def unit_scale(
    values: Mapping[int, float], *, minmax: bool, min_span: float = 0.0
) -> dict[int, float]:
    """Scores put on [0, 1]: min-max (a range narrower than ``min_span`` is divided by
    ``min_span``, so the best gets less than 1), or divided by the largest (0 stays 0)."""
    if not values:
        return {}
    hi = max(values.values())
    lo = min(values.values()) if minmax else 0.0
    span = max(hi - lo, min_span if minmax else 0.0)
    if span <= 0:
        return {i: (1.0 if v > 0 or minmax else 0.0) for i, v in values.items()}
    return {i: max(0.0, (v - lo) / span) for i, v in values.items()}


def convex_fusion(c: Candidates, w: FusionWeights) -> list[tuple[int, float]]:
    """``[(id, score)]`` best first: verbatim tier, then the weighted sum (scaled to [0, 1])."""
    dense = unit_scale(c.dense, minmax=True, min_span=w.dense_span)
    lexical = unit_scale(c.lexical, minmax=False)
    total = (w.dense if dense else 0.0) + (w.lexical if lexical else 0.0) or 1.0
    out = []
    for row in c.rows:
        s = (w.dense * dense.get(row, 0.0) + w.lexical * lexical.get(row, 0.0)) / total
        out.append((row, c.verbatim.get(row, 0) + s))
    return sorted(out, key=lambda rs: (-rs[1], rs[0]))


def diversify(items: Iterable[T], key: Callable[[T], Hashable], per_key: int | None) -> list[T]:
    """Keep items in order but at most ``per_key`` of them per key (None: keep all)."""
    if per_key is None:
        return list(items)
    if per_key < 1:
        raise ValueError(f"per-document limit must be >= 1, got {per_key}")
    seen: dict[Hashable, int] = {}
    out: list[T] = []
    for item in items:
        kv = key(item)
        if seen.get(kv, 0) < per_key:
            seen[kv] = seen.get(kv, 0) + 1
            out.append(item)
    return out


def top_k(
    scores: np.ndarray, k: int, rows: np.ndarray | None = None, minimum: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` of ``scores`` (optionally only at ``rows``, optionally only above ``minimum``).

    Returns ``(row ids, scores)`` best first; ties keep the lower row id first.
    """
    if rows is not None:
        rows = np.asarray(rows, dtype=np.int64)
        values = scores[rows]
    else:
        rows = np.arange(len(scores), dtype=np.int64)
        values = scores
    if minimum is not None:
        keep = values > minimum
        rows, values = rows[keep], values[keep]
    if k <= 0 or len(values) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    if len(values) > k:
        part = np.argpartition(-values, k - 1)[:k]
        rows, values = rows[part], values[part]
    order = np.lexsort((rows, -values))
    return rows[order], values[order].astype(np.float32)
