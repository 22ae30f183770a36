"""Choose the convex-fusion weights on dev queries, and report a split with every ranking.

Each query's candidates (both channels' top lists, their raw scores and the in-item evidence,
``Retriever.candidates``) are gathered once; every weighting is then ranked offline
(``fusion.convex_fusion``) and scored with the project's metrics. The same candidates give the
single-channel rankings (``bm25`` and ``dense``: the candidates sorted by that channel's
score) and ``rrf`` (weighted RRF k=60 of those two rankings), so one pass compares them all.

Query splits: the policy set's own ``split`` field; for a BEIR set, the queries whose id hashes
even are dev and odd are test (``--n`` of each, in hash order), so dev and test are disjoint.

    python eval/tune_fusion.py --policy-index DIR --beir-index DIR --beir ../shared/... \\
        --split dev --grid          # choose weights on dev
    python eval/tune_fusion.py ... --split test   # report test once, with the chosen weights
    python eval/tune_fusion.py ... --sentences 0.5  # also the best-sentence re-ranking
    python eval/tune_fusion.py ... --sentences 0.5 --per-doc 1  # as the precedent search ranks
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from assistant.config import load_settings
from assistant.evaluation.datasets import in_split, load_beir, load_policy_queries
from assistant.evaluation.matching import qrels_for, same_file, units_for
from assistant.evaluation.metrics import METRICS, dedupe, evaluate
from assistant.evaluation.runner import _safe_name
from assistant.records import Chunk, Hit
from assistant.search.documents import rank_documents
from assistant.search.fusion import (
    Candidates,
    FusionWeights,
    convex_fusion,
    diversify,
    weighted_rrf,
)
from assistant.search.retriever import Retriever
from assistant.search.sentences import SENTENCE_TOP, with_sentence_evidence

DEPTH = 150  # as in `assistant eval` (30 hits fetched → 5 × 30 candidates per channel)


@dataclass
class Gathered:
    name: str
    qrels: dict[str, dict[str, int]]
    types: dict[str, str]
    cands: dict[str, Candidates]
    units: dict[str, dict[int, list[str]]]  # query → row → relevance units
    chunks: dict[str, dict[int, Chunk]]  # query → row → chunk
    files: dict[str, set[str]]  # query → files of its grade-2 labels (policy set only)
    sentences: dict[str, dict[int, float]] = field(default_factory=dict)  # --sentences only


def beir_half(qids: list[str], split: str, n: int) -> list[str]:
    def h(q: str) -> int:
        return int(hashlib.sha1(q.encode()).hexdigest(), 16)

    want = 0 if split == "dev" else 1
    return sorted((q for q in qids if h(q) % 2 == want), key=h)[:n]


def gather(
    name: str,
    retriever: Retriever,
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
    units_of: Callable[[str, Chunk], list[str]],
    types: dict[str, str] | None = None,
    files: dict[str, set[str]] | None = None,
    sentences: bool = False,
) -> Gathered:
    cands: dict[str, Candidates] = {}
    units: dict[str, dict[int, list[str]]] = {}
    kept: dict[str, dict[int, Chunk]] = {}
    best: dict[str, dict[int, float]] = {}
    for qid, text in tqdm(queries.items(), desc=name, leave=False, file=sys.stderr):
        c, chunks = retriever.candidates(text, depth=DEPTH)
        cands[qid] = c
        units[qid] = {row: units_of(qid, chunks[row]) for row in c.rows}
        kept[qid] = chunks
        if sentences:  # the head of the product's fusion, as Retriever.search re-ranks it
            top = [r for r, _ in convex_fusion(c, retriever.fusion_weights)[:SENTENCE_TOP]]
            best[qid] = retriever.sentence_scores(retriever.query_vector(text), top)
    return Gathered(name, qrels, types or {}, cands, units, kept, files or {}, best)


def document_hit1(g: Gathered, how: str, w: FusionWeights, sw: float = 0.0) -> dict[str, float]:
    """Share of queries whose first item / first ranked document is in a labelled file."""
    item = docs = 0
    for q, c in g.cands.items():
        fused = rank(c, how, w, g.sentences.get(q), sw)
        if not fused:
            continue
        hits = [
            Hit(chunk=g.chunks[q][r], score=s)
            for r, s in scored(c, how, w, g.sentences.get(q), sw)[:50]
        ]
        item += any(same_file(f, g.chunks[q][fused[0]]) for f in g.files[q])
        top = rank_documents(hits)
        docs += bool(top) and any(same_file(f, top[0].hits[0].chunk) for f in g.files[q])
    return {"item_hit@1": item / len(g.cands), "document_hit@1": docs / len(g.cands)}


def scored(
    c: Candidates, how: str, w: FusionWeights, best: dict[int, float] | None = None, sw: float = 0.0
) -> list[tuple[int, float]]:
    """(row, score) best first, scores positive, for document aggregation (``sentences``: the
    convex fusion re-ranked by the best-sentence cosines ``best`` with weight ``sw``)."""
    if how == "convex":
        return convex_fusion(c, w)
    if how == "sentences":
        return with_sentence_evidence(convex_fusion(c, w), best or {}, sw)
    if how == "rrf":
        return weighted_rrf({"dense": rank(c, "dense", w), "bm25": rank(c, "bm25", w)})
    key = c.dense if how == "dense" else c.lexical
    return [(r, key.get(r, 0.0)) for r in rank(c, how, w)]


def rank(
    c: Candidates, how: str, w: FusionWeights, best: dict[int, float] | None = None, sw: float = 0.0
) -> list[int]:
    if how in ("convex", "sentences"):
        return [r for r, _ in scored(c, how, w, best, sw)]
    by_dense = sorted(c.rows, key=lambda r: (-c.dense.get(r, 0.0), r))
    by_lex = [
        r for r in sorted(c.rows, key=lambda r: (-c.lexical.get(r, 0.0), r)) if c.lexical[r] > 0
    ]
    if how == "dense":
        return by_dense
    if how == "bm25":
        return by_lex
    if how == "rrf":
        return [r for r, _ in weighted_rrf({"dense": by_dense[:DEPTH], "bm25": by_lex[:DEPTH]})]
    raise ValueError(how)


def score(
    g: Gathered,
    how: str,
    w: FusionWeights,
    metrics=METRICS,
    sw: float = 0.0,
    per_doc: int | None = None,
) -> tuple[dict, dict]:
    def ranking(q: str, c: Candidates) -> list[int]:
        rows = rank(c, how, w, g.sentences.get(q), sw)
        return diversify(rows, key=lambda r: g.chunks[q][r].doc.doc_id, per_key=per_doc)[:30]

    ranked = {
        q: dedupe(u for r in ranking(q, c) for u in g.units[q][r]) for q, c in g.cands.items()
    }
    mean, per_query = evaluate(g.qrels, ranked, metrics)
    for q, units in ranked.items():  # recall@10 out of at most 10 (topics have up to 23 labels)
        rel = {u for u, grade in g.qrels[q].items() if grade > 0}
        per_query[q]["capped_recall@10"] = len(rel.intersection(units[:10])) / min(10, len(rel))
    mean["capped_recall@10"] = sum(v["capped_recall@10"] for v in per_query.values()) / len(
        per_query
    )
    metrics = (*metrics, "capped_recall@10")
    by_type: dict[str, dict[str, float]] = {}
    for t in sorted(set(g.types.values())):
        ids = [q for q, qt in g.types.items() if qt == t]
        by_type[t] = {m: sum(per_query[q][m] for q in ids) / len(ids) for m in metrics}
        by_type[t]["n"] = len(ids)
    return mean, by_type


def candidate_recall(g: Gathered) -> dict[str, float]:
    """Per query type, the share of labelled units found anywhere among the candidates (both
    channels' top ``DEPTH``): the ceiling of any re-ranking of them."""
    per_query = {}
    for q, c in g.cands.items():
        rel = {u for u, grade in g.qrels[q].items() if grade > 0}
        found = {u for r in c.rows for u in g.units[q][r]}
        per_query[q] = len(rel & found) / len(rel)
    out = {"all": sum(per_query.values()) / len(per_query)}
    for t in sorted(set(g.types.values())):
        ids = [q for q, qt in g.types.items() if qt == t]
        out[t] = sum(per_query[q] for q in ids) / len(ids)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policy", type=Path, default=Path("eval/policy_queries.jsonl"))
    ap.add_argument("--policy-index", type=Path, required=True)
    ap.add_argument("--beir", type=Path, action="append", default=[])
    ap.add_argument("--beir-index", type=Path, help="--keep-index directory of `assistant eval`")
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--n", type=int, default=300, help="BEIR queries per split")
    ap.add_argument("--grid", action="store_true", help="search the weights (dev only)")
    ap.add_argument("--cache", type=Path, help="keep the gathered candidates in this file")
    ap.add_argument(
        "--sentences",
        type=float,
        default=0.0,
        metavar="W",
        help="also gather best-sentence cosines and report `sentences` (weight W; slow)",
    )
    ap.add_argument(
        "--per-doc",
        type=int,
        metavar="N",
        help="score every ranking with at most N items per document (as the precedent search)",
    )
    args = ap.parse_args()
    if args.grid and args.split != "dev":
        ap.error("weights are chosen on dev only")
    settings = load_settings()
    if args.cache and args.cache.is_file():
        with open(args.cache, "rb") as fh:
            sets = pickle.load(fh)
        return report(sets, FusionWeights(), args)
    sets: list[Gathered] = []
    retriever = Retriever.open(args.policy_index, settings)
    embedder = retriever.embedder()
    qs = [q for q in in_split(load_policy_queries(args.policy), args.split) if q.answerable]
    by_id = {q.id: q for q in qs}
    sets.append(
        gather(
            "policy",
            retriever,
            {q.id: q.query for q in qs},
            {q.id: qrels_for(q) for q in qs},
            lambda qid, c: units_for(by_id[qid], c),
            {q.id: q.type for q in qs},
            {q.id: {p.file for p in q.relevant if p.grade >= 2} for q in qs},
            sentences=args.sentences > 0,
        )  # fmt: skip
    )
    retriever.close()
    for folder in args.beir:
        ds = load_beir(folder)
        ids = beir_half([q for q in ds.queries if q in ds.qrels], args.split, args.n)
        r = Retriever.open(args.beir_index / _safe_name(ds.name), settings, embedder=embedder)
        sets.append(
            gather(
                ds.name,
                r,
                {q: ds.queries[q] for q in ids},
                {q: ds.qrels[q] for q in ids},
                lambda _q, c: [c.doc.doc_id],
                sentences=args.sentences > 0,
            )  # fmt: skip
        )
        r.close()

    if args.cache:
        with open(args.cache, "wb") as fh:
            pickle.dump(sets, fh)
    return report(sets, retriever.fusion_weights, args)


def report(sets: list[Gathered], chosen: FusionWeights, args: argparse.Namespace) -> int:
    if args.grid:
        # Hybrid must not lose to its own parts: weightings that keep it at or above the better
        # single channel on every set come first, then the best mean nDCG@10 over the sets.
        parts = [
            max(
                score(g, how, chosen, ("ndcg@10", "hit@1"))[0]["ndcg@10"]
                for how in ("bm25", "dense")
            )
            for g in sets
        ]
        grid = [
            FusionWeights(dense=1.0, lexical=lx, dense_span=span)
            for lx in (0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.25, 1.5)
            for span in (0.0, 0.05, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3)
        ]
        results = []
        for w in grid:
            vals = [score(g, "convex", w, ("ndcg@10", "hit@1"))[0]["ndcg@10"] for g in sets]
            margin = min(v - p for v, p in zip(vals, parts, strict=True))
            results.append((margin >= 0, sum(vals) / len(vals), margin, vals, w))
        results.sort(key=lambda t: (not t[0], -t[1]))
        for _, mean, margin, vals, w in results[:10]:
            print(f"{mean:.4f} margin {margin:+.4f} {[round(v, 4) for v in vals]} {asdict(w)}")
        chosen = results[0][4]
        if args.sentences > 0:
            for sw in (0.1, 0.25, 0.5, 0.75, 1.0):
                vals = [
                    score(g, "sentences", chosen, ("ndcg@10", "hit@1"), sw)[0]["ndcg@10"]
                    for g in sets
                ]
                print(f"sentences {sw}: {sum(vals) / len(vals):.4f} {[round(v, 4) for v in vals]}")
    out = {"split": args.split, "weights": asdict(chosen), "sentences": args.sentences}
    out = {**out, "per_doc": args.per_doc, "sets": {}}
    hows = ("bm25", "dense", "rrf", "convex") + (("sentences",) if args.sentences > 0 else ())
    for g in sets:
        out["sets"][g.name] = {"candidate_recall": candidate_recall(g)}
        for how in hows:
            mean, by_type = score(g, how, chosen, sw=args.sentences, per_doc=args.per_doc)
            out["sets"][g.name][how] = {"n": len(g.qrels), **mean, "by_type": by_type}
            if g.files:
                out["sets"][g.name][how].update(document_hit1(g, how, chosen, args.sentences))
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
