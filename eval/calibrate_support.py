"""Calibrate ``SUPPORTED`` in ``assistant/answering/support.py`` on the shipped corpus.

A claim copied or closely paraphrased from its passage should count as supported; a claim
taken from another passage — above all from the passage most like it, the mistake a model makes
when it cites the wrong number — should not. For a fixed, seeded sample of sentences of the
index (at least 12 word characters), this measures the bigram containment of

- the sentence against its own passage (with its locality, title and heading path, as the
  check sees it), after a light rewording that keeps every second clause
  (what a model that summarizes keeps), and
- the sentence against the best-ranked *other* passage BM25 finds for it (a hard negative),

and prints both distributions and the accuracy of a few cuts.

    PYTHONPATH=. .venv/bin/python eval/calibrate_support.py --index-dir /tmp/index
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from assistant.answering.relevance import passage_text
    from assistant.answering.support import support, word_chars
    from assistant.config import load_settings
    from assistant.records import Hit
    from assistant.search.retriever import Retriever
    from assistant.text import split_sentences

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    r = Retriever.open(args.index_dir, load_settings())
    rng = random.Random(args.seed)
    rows = rng.sample(range(len(r)), min(len(r), args.n * 3))
    chunks = r._table.chunks(rows)  # noqa: SLF001 - a measurement script reads the table
    pos, neg = [], []
    for row in rows:
        c = chunks[row]
        sentences = [s for s in split_sentences(c.text) if len(word_chars(s)) >= 12]
        if not sentences:
            continue
        s = rng.choice(sentences)
        clauses = re.split(r"[，,、：:]", s)
        summary = "，".join(clauses[::2]) if len(clauses) > 2 else s
        pos.append(support(summary, passage_text(Hit(chunk=c, score=0.0))))
        others = [h for h in r.search(s, k=5, mode="bm25") if h.chunk.text != c.text]
        if others:
            neg.append(support(s, passage_text(others[0])))
        if len(pos) >= args.n:
            break
    pos_a, neg_a = np.array(pos), np.array(neg)
    print(f"{len(pos)} claims; own passage (every second clause kept) vs best other passage")
    for name, a in (("own", pos_a), ("other", neg_a)):
        q = np.percentile(a, [1, 5, 50, 95, 99])
        print(f"{name:>5}: p1 {q[0]:.2f}  p5 {q[1]:.2f}  median {q[2]:.2f}  "
              f"p95 {q[3]:.2f}  p99 {q[4]:.2f}")  # fmt: skip
    for cut in (0.4, 0.5, 0.6, 0.7, 0.8):
        print(f"cut {cut:.1f}: own supported {np.mean(pos_a >= cut):.1%}, "
              f"other rejected {np.mean(neg_a < cut):.1%}")  # fmt: skip
    r.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
