"""Keyword index options for incremental writes, measured on one corpus: the per-segment BM25
postings the embedded index uses (``assistant.search.lexical``) against SQLite FTS5 over the
same pre-tokenised text (jieba words joined by spaces).

For each: build time, size on disk, query latency p50/p95 over the policy query set (top 50,
as the retriever asks), and how much the two top-10 lists agree.

    .venv/bin/python eval/bench_lexical.py [--corpus corpus] [--segments 4]

``--segments`` splits the postings into that many segments (what an index that grew by updates
looks like) with whole-index statistics.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def main() -> int:
    import numpy as np
    from tqdm import tqdm

    from assistant.documents import ingest_file
    from assistant.documents.loaders import discover
    from assistant.search.fusion import top_k
    from assistant.search.lexical import LexicalStats, Postings, bm25_scores
    from assistant.search.passage import stored_chunk
    from assistant.text import tokenize

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--queries", type=Path, default=ROOT / "eval" / "policy_queries.jsonl")
    ap.add_argument("--segments", type=int, default=4)
    args = ap.parse_args()

    tokens: list[tuple[str, ...]] = []
    for sf in tqdm(discover([args.corpus]), desc="reading", unit="file"):
        try:
            tokens += [stored_chunk(c, sf.rel).tokens for c in ingest_file(sf.path, sf.rel)]
        except Exception:  # noqa: BLE001 - unreadable files are simply left out here
            continue
    queries = [
        tokenize(json.loads(line)["query"])
        for line in args.queries.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    work = Path(tempfile.mkdtemp(prefix="bench-lexical-"))

    # postings, split into segments
    t = time.perf_counter()
    bounds = np.linspace(0, len(tokens), args.segments + 1).astype(int)
    segments = []
    for i in range(args.segments):
        seg_dir = work / f"seg{i}"
        seg_dir.mkdir()
        Postings.build(tokens[bounds[i] : bounds[i + 1]]).save(seg_dir)
        segments.append((Postings.load(seg_dir), None))
    build_postings = time.perf_counter() - t
    size_postings = sum(f.stat().st_size for f in work.rglob("*.npy"))
    stats = LexicalStats.of(segments)

    def postings_top(q):
        found = []
        for i, scores in enumerate(bm25_scores(segments, q, stats)):
            rows, values = top_k(scores, 50, minimum=0.0)
            found += zip((rows + bounds[i]).tolist(), values.tolist(), strict=True)
        found.sort(key=lambda x: -x[1])
        return [r for r, _ in found[:50]]

    # FTS5 over the same tokens
    db = work / "fts.sqlite"
    t = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("CREATE VIRTUAL TABLE f USING fts5(body, tokenize='unicode61 remove_diacritics 0')")
    con.executemany(
        "INSERT INTO f(rowid, body) VALUES (?, ?)", ((i, " ".join(t)) for i, t in enumerate(tokens))
    )
    con.commit()
    build_fts = time.perf_counter() - t
    size_fts = db.stat().st_size

    def fts_top(q):
        terms = [w.replace('"', '""') for w in q if w.strip()]
        if not terms:
            return []
        match = " OR ".join(f'"{w}"' for w in terms)
        sql = "SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f) LIMIT 50"
        return [r[0] for r in con.execute(sql, [match])]

    out = {"chunks": len(tokens), "segments": args.segments, "queries": len(queries)}
    tops = {}
    for name, fn in (("postings", postings_top), ("fts5", fts_top)):
        fn(queries[0])
        ms, tops[name] = [], []
        for _ in range(3):
            for q in queries:
                t = time.perf_counter()
                tops[name].append(fn(q))
                ms.append((time.perf_counter() - t) * 1000)
        out[name] = {"p50_ms": round(p(ms, 0.5), 2), "p95_ms": round(p(ms, 0.95), 2)}
    out["postings"] |= {"build_s": round(build_postings, 2), "disk_mb": size_postings / 2**20}
    out["fts5"] |= {"build_s": round(build_fts, 2), "disk_mb": size_fts / 2**20}
    overlap = [
        len(set(a[:10]) & set(b[:10])) / max(1, min(10, len(a), len(b)))
        for a, b in zip(tops["postings"], tops["fts5"], strict=True)
    ]
    out["top10_overlap"] = round(statistics.mean(overlap), 3)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
