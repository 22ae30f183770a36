"""Quality parity of the two index backends on the policy query set.

The same corpus goes into the embedded index and into Milvus (a Milvus Lite file in the work
directory, or a server with ``--milvus-uri``), with the same passage vectors: the Milvus build
takes each passage's vector from the embedded index (by passage hash, through the writer
interface) and encodes only passages it cannot find there. So any difference comes from the
backends: exact vs Milvus dense search, the embedded BM25 vs Milvus's BM25 function over the
same tokens. Per mode it reports nDCG@10 and recall@10 of both backends and their difference,
query latency p50/p95 of both (one process, one backend after the other), then the answer
pipeline's ``found`` decisions on both.

Usage (the embedded index is built first when missing: minutes of embedding on 2 cores):

    .venv/bin/python eval/bench_parity.py --work /tmp/parity [--milvus-uri http://host:19530]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class IndexedVectors:
    """An embedder whose passage vectors come from an existing index when it has them."""

    def __init__(self, embedder: Any, writer: Any) -> None:
        self._embedder = embedder
        self._writer = writer
        self.looked_up = 0
        self.encoded = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def embed_passages(self, texts, progress: bool = False) -> np.ndarray:  # noqa: ANN001
        from assistant.search.passage import passage_hash

        hashes = [passage_hash(t) for t in texts]
        found = self._writer.reusable_vectors(hashes)
        out = np.zeros((len(texts), self._embedder.dim), dtype=np.float32)
        missing = [i for i, h in enumerate(hashes) if h not in found]
        for i, h in enumerate(hashes):
            if h in found:
                out[i] = found[h]
        if missing:
            out[missing] = self._embedder.embed_passages([texts[i] for i in missing])
        self.looked_up += len(texts) - len(missing)
        self.encoded += len(missing)
        return out


def main() -> int:
    from assistant.config import load_settings
    from assistant.embedding import load_embedder
    from assistant.evaluation.datasets import load_policy_queries
    from assistant.evaluation.runner import evaluate_policy, make_configs
    from assistant.search.backends import open_writer

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--queries", type=Path, default=ROOT / "eval" / "policy_queries.jsonl")
    ap.add_argument("--work", type=Path, required=True, help="holds both indexes (kept)")
    ap.add_argument("--milvus-uri", help="a Milvus server (default: a Lite file in --work)")
    ap.add_argument("--out", type=Path, help="write the JSON result here")
    args = ap.parse_args()

    base = load_settings()
    embedder = load_embedder(base, progress=True)
    queries = load_policy_queries(args.queries)
    configs = make_configs(None, 2)
    embedded_dir, milvus_dir = args.work / "embedded", args.work / "milvus"
    runs = {}
    settings = replace(base, backend="embedded")
    runs["embedded"] = evaluate_policy(
        queries, args.corpus, configs, settings, embedder=embedder, index_dir=embedded_dir
    )
    milvus = replace(base, backend="milvus", milvus_uri=args.milvus_uri)
    with open_writer(embedded_dir, settings) as source:  # read-only use: never committed
        vectors = IndexedVectors(embedder, source)
        runs["milvus"] = evaluate_policy(
            queries, args.corpus, configs, milvus, embedder=vectors, index_dir=milvus_dir
        )

    lines = [
        f"policy set: {runs['embedded'].n_queries} queries, {runs['embedded'].n_chunks} chunks; "
        f"Milvus build: {vectors.looked_up} vectors from the embedded index, "
        f"{vectors.encoded} encoded; index build/update {runs['embedded'].index_seconds} s "
        f"embedded, {runs['milvus'].index_seconds} s Milvus",
        "",
        "| config | nDCG@10 embedded | nDCG@10 Milvus | diff | recall@10 embedded | "
        "recall@10 Milvus | p50/p95 ms embedded | p50/p95 ms Milvus |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e, m in zip(runs["embedded"].configs, runs["milvus"].configs, strict=True):
        de, dm = e.metrics, m.metrics
        lines.append(
            f"| {e.name} | {de['ndcg@10']:.4f} | {dm['ndcg@10']:.4f} | "
            f"{dm['ndcg@10'] - de['ndcg@10']:+.4f} | {de['recall@10']:.4f} | "
            f"{dm['recall@10']:.4f} | {e.latency['p50_ms']:.1f} / {e.latency['p95_ms']:.1f} | "
            f"{m.latency['p50_ms']:.1f} / {m.latency['p95_ms']:.1f} |"
        )
    fe, fm = runs["embedded"].answering, runs["milvus"].answering
    if fe is not None and fm is not None:
        same = sum(fe.found[q] == fm.found.get(q) for q in fe.found)
        lines += [
            "",
            f"answer pipeline `found`: the same on {same} of {len(fe.found)} questions; "
            f"false refusals {fe.false_refusals} vs {fm.false_refusals} of {fe.answerable}, "
            f"correct refusals {fe.correct_refusals} vs {fm.correct_refusals} "
            f"of {fe.unanswerable} (embedded vs Milvus)",
        ]
    print("\n".join(lines))
    if args.out:
        data = {name: asdict(run) for name, run in runs.items()}
        args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
