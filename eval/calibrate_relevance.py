"""Calibrate the "found" decision of the answer pipeline on labelled questions.

Reads ``eval/relevance_calibration.jsonl`` (``{"id", "question", "answerable"}``), retrieves each
question exactly as the pipeline does (``assistant.answering.pipeline.retrieve``), and prints:

- per question: coverage, agreement, combined score, top-1 dense cosine, the decision;
- the separation of the two classes for each signal (ranges, and the best accuracy a single
  threshold reaches on it — raw top-1 cosine included, for comparison);
- a grid search over the agreement weight and the threshold (accuracy, ties broken by the widest
  margin), with a leave-one-out estimate of the chosen rule's accuracy.

Usage (the index must be built with the default model over the shipped corpus):

    .venv/bin/assistant index corpus/ --index-dir index/
    .venv/bin/python eval/calibrate_relevance.py --index-dir index/ [--markdown OUT.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT / "eval" / "relevance_calibration.jsonl"
WEIGHTS = [round(0.05 * i, 2) for i in range(0, 11)]  # agreement weight 0 … 0.5


@dataclass
class Row:
    id: str
    question: str
    answerable: bool
    coverage: float
    agreement: float
    cosine: float


def load_rows(path: Path, index_dir: Path) -> list[Row]:
    from assistant.answering.pipeline import retrieve
    from assistant.config import load_settings
    from assistant.search.retriever import Retriever

    settings = load_settings()
    retriever = Retriever.open(index_dir, settings)
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        got = retrieve(item["question"], retriever)
        top = got.hits[0] if got.hits else None
        cosine = max((h.scores.get("dense") or 0.0 for h in got.hits), default=0.0)
        rows.append(
            Row(
                item["id"],
                item["question"],
                bool(item["answerable"]),
                got.relevance.coverage,
                got.relevance.agreement,
                float(cosine if top else 0.0),
            )
        )
    return rows


def best_threshold(values: list[float], labels: list[bool]) -> tuple[float, float, float]:
    """(threshold, accuracy, margin): the cut with the best accuracy, widest gap on ties."""
    points = sorted(set(values))
    cuts = [points[0] - 1e-6] + [(a + b) / 2 for a, b in zip(points, points[1:], strict=False)]
    cuts.append(points[-1] + 1e-6)
    best = (0.0, -1.0, -1.0)
    for cut in cuts:
        acc = sum((v >= cut) == y for v, y in zip(values, labels, strict=True)) / len(values)
        margin = min((abs(v - cut) for v in values), default=0.0)
        if (acc, margin) > (best[1], best[2]):
            best = (cut, acc, margin)
    return best


def fit(rows: list[Row]) -> tuple[float, float, float, float]:
    """(weight, threshold, accuracy, margin) maximising accuracy over the grid."""
    labels = [r.answerable for r in rows]
    best = (0.0, 0.0, -1.0, -1.0)
    for w in WEIGHTS:
        cut, acc, margin = best_threshold([r.coverage + w * r.agreement for r in rows], labels)
        # Prefer higher accuracy, then a wider margin, then the smaller weight (simpler rule).
        if (acc, margin, -w) > (best[2], best[3], -best[0]):
            best = (w, cut, acc, margin)
    return best


def leave_one_out(rows: list[Row]) -> float:
    right = 0
    for i, held in enumerate(rows):
        w, cut, _, _ = fit(rows[:i] + rows[i + 1 :])
        right += ((held.coverage + w * held.agreement) >= cut) == held.answerable
    return right / len(rows)


def semantic_note(rows: list[Row]) -> str:
    """How adding the raw dense cosine would do (not used: its scale depends on the model)."""
    labels = [r.answerable for r in rows]
    best = max(
        (
            (w, *best_threshold([r.coverage + w * (r.cosine - 0.88) * 10 for r in rows], labels))
            for w in (0.25, 0.5, 1.0, 2.0)
        ),
        key=lambda t: (t[2], t[3]),
    )
    w, cut, acc, margin = best
    return (
        f"For comparison, coverage + {w:g}·10·(cosine − 0.88) reaches {acc:.1%} "
        f"(margin {margin:.3f}); not used, because the cosine scale belongs to one model."
    )


def describe(name: str, values: list[float], labels: list[bool]) -> str:
    pos = [v for v, y in zip(values, labels, strict=True) if y]
    neg = [v for v, y in zip(values, labels, strict=True) if not y]
    cut, acc, _ = best_threshold(values, labels)
    return (
        f"| {name} | {min(pos):.3f}–{max(pos):.3f} (median {sorted(pos)[len(pos) // 2]:.3f})"
        f" | {min(neg):.3f}–{max(neg):.3f} (median {sorted(neg)[len(neg) // 2]:.3f})"
        f" | {cut:.3f} | {acc:.1%} |"
    )


def report(rows: list[Row]) -> str:
    from assistant.answering.relevance import AGREEMENT_WEIGHT, THRESHOLD

    labels = [r.answerable for r in rows]
    w, cut, acc, margin = fit(rows)
    loo = leave_one_out(rows)
    n_pos, n_neg = sum(labels), len(labels) - sum(labels)
    out = [
        f"# Relevance calibration ({n_pos} answerable, {n_neg} unanswerable questions)",
        "",
        "| signal | answerable: range | unanswerable: range | best single cut | accuracy |",
        "|---|---|---|---|---|",
        describe("top-1 dense cosine (raw)", [r.cosine for r in rows], labels),
        describe("coverage", [r.coverage for r in rows], labels),
        describe("agreement", [r.agreement for r in rows], labels),
        describe(
            f"coverage + {w:g}·agreement", [r.coverage + w * r.agreement for r in rows], labels
        ),
        "",
        f"Grid optimum: agreement weight {w:g}, threshold {cut:.3f} → accuracy {acc:.1%} "
        f"(margin {margin:.3f}); leave-one-out accuracy {loo:.1%}.",
        semantic_note(rows),
        f"In use (assistant/answering/relevance.py): weight {AGREEMENT_WEIGHT:g}, threshold "
        f"{THRESHOLD:g}.",
    ]
    used = [(r.coverage + AGREEMENT_WEIGHT * r.agreement >= THRESHOLD) for r in rows]
    tp = sum(u and y for u, y in zip(used, labels, strict=True))
    tn = sum((not u) and (not y) for u, y in zip(used, labels, strict=True))
    out += [
        f"With the values in use: {tp}/{n_pos} answerable found, {tn}/{n_neg} unanswerable "
        f"refused, accuracy {(tp + tn) / len(rows):.1%}.",
        "",
        "| id | question | answerable | coverage | agreement | score | cosine | found |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r, u in zip(rows, used, strict=True):
        score = r.coverage + AGREEMENT_WEIGHT * r.agreement
        flag = "" if u == r.answerable else " ✗"
        out.append(
            f"| {r.id} | {r.question} | {r.answerable} | {r.coverage:.3f} | "
            f"{r.agreement:.2f} | {score:.3f} | {r.cosine:.3f} | {u}{flag} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=ROOT / "index")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="labelled questions")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    rows = load_rows(args.set, args.index_dir)
    text = report(rows)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
        print(f"\nwritten: {args.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
