"""Calibrate the "found" decision of the answer pipeline on labelled questions.

Reads ``eval/relevance_calibration.jsonl`` (``{"id", "question", "answerable"}``), retrieves each
question exactly as the pipeline does (``assistant.answering.pipeline.retrieve``) and records,
per question, which of its informative terms each top passage carries, the retrievers'
agreement and the top-1 dense cosine. Then it fits, by grid search, the three constants of
``assistant/answering/relevance.py``:

- ``WEIGHT_CAP``: coverage is the covered term weight over ``min(total weight, cap)``;
- ``AGREEMENT_WEIGHT``: how much dense/BM25 agreement adds to the score;
- ``THRESHOLD``: ``found = coverage + weight * agreement >= threshold``;

choosing the best accuracy, then the simpler rule (no agreement term), then the widest margin.
It prints the separation of each signal, the fitted values, the accuracy on the set, a
leave-one-out estimate,
and — as a held-out check — the accuracy on a second labelled set written independently (by
default ``eval/policy_queries.jsonl``, where ``"type": "unanswerable"`` marks the negatives).

Usage (an index of the shipped corpus built with the default model):

    .venv/bin/assistant index corpus/ --index-dir index/
    .venv/bin/python eval/calibrate_relevance.py --index-dir index/ \\
        [--markdown eval/relevance_calibration.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT / "eval" / "relevance_calibration.jsonl"
HELD_OUT = ROOT / "eval" / "policy_queries.jsonl"
CAPS: list[float | None] = [20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 60.0, None]
WEIGHTS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5]


@dataclass
class Row:
    id: str
    question: str
    answerable: bool
    total: float  # weight of all informative terms
    covered: list[float]  # per top hit: weight of the terms it carries
    agreement: float
    cosine: float

    def coverage(self, cap: float | None) -> float:
        denom = self.total if cap is None else min(self.total, cap)
        return min(1.0, max(self.covered, default=0.0) / denom) if denom > 0 else 0.0


@dataclass(frozen=True)
class Rule:
    cap: float | None
    weight: float
    threshold: float

    def score(self, row: Row) -> float:
        return row.coverage(self.cap) + self.weight * row.agreement

    def found(self, row: Row) -> bool:
        return self.score(row) >= self.threshold


def read_set(path: Path) -> list[tuple[str, str, bool]]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            question = d.get("question") or d["query"]
            answerable = d["answerable"] if "answerable" in d else d.get("type") != "unanswerable"
            items.append((d["id"], question, bool(answerable)))
    return items


def load_rows(items: list[tuple[str, str, bool]], retriever) -> list[Row]:
    from assistant.answering.pipeline import retrieve
    from assistant.answering.relevance import TOP_N, passage_text

    rows = []
    for id_, question, answerable in items:
        got = retrieve(question, retriever)
        terms = got.relevance.terms
        covered = []
        for hit in got.hits[:TOP_N]:
            text = passage_text(hit)
            covered.append(sum(t.weight for t in terms if t.text in text))
        cosine = max((h.scores.get("dense") or 0.0 for h in got.hits), default=0.0)
        rows.append(
            Row(
                id_,
                question,
                answerable,
                sum(t.weight for t in terms),
                covered,
                got.relevance.agreement,
                float(cosine),
            )
        )
    return rows


def accuracy(rows: list[Row], rule: Rule) -> float:
    return sum(rule.found(r) == r.answerable for r in rows) / len(rows)


def best_cut(values: list[float], labels: list[bool]) -> tuple[float, float, float]:
    """(threshold, accuracy, margin): the cut with the best accuracy, widest gap on ties."""
    points = sorted(set(values))
    cuts = [points[0] - 1e-6, *((a + b) / 2 for a, b in zip(points, points[1:], strict=False))]
    best = (0.0, -1.0, -1.0)
    for cut in cuts:
        acc = sum((v >= cut) == y for v, y in zip(values, labels, strict=True)) / len(values)
        margin = min(abs(v - cut) for v in values)
        if (acc, margin) > (best[1], best[2]):
            best = (cut, acc, margin)
    return best


def fit(rows: list[Row]) -> tuple[Rule, float, float]:
    """The rule with the best accuracy, then the smallest weight, widest margin, smallest cap."""
    labels = [r.answerable for r in rows]
    best: tuple[tuple, Rule, float, float] | None = None
    for cap in CAPS:
        for w in WEIGHTS:
            cut, acc, margin = best_cut([r.coverage(cap) + w * r.agreement for r in rows], labels)
            key = (acc, -w, margin, -(cap or 1e9))  # agreement only if it adds accuracy
            if best is None or key > best[0]:
                best = (key, Rule(cap, w, round(cut, 3)), acc, margin)
    assert best is not None
    return best[1], best[2], best[3]


def leave_one_out(rows: list[Row]) -> float:
    right = 0
    for i, held in enumerate(rows):
        rule, _, _ = fit(rows[:i] + rows[i + 1 :])
        right += rule.found(held) == held.answerable
    return right / len(rows)


def describe(name: str, values: list[float], labels: list[bool]) -> str:
    pos = sorted(v for v, y in zip(values, labels, strict=True) if y)
    neg = sorted(v for v, y in zip(values, labels, strict=True) if not y)
    cut, acc, _ = best_cut(values, labels)
    return (
        f"| {name} | {pos[0]:.3f}–{pos[-1]:.3f} (median {pos[len(pos) // 2]:.3f}) | "
        f"{neg[0]:.3f}–{neg[-1]:.3f} (median {neg[len(neg) // 2]:.3f}) | {cut:.3f} | "
        f"{acc:.1%} |"
    )


def confusion(rows: list[Row], rule: Rule) -> str:
    pos = [r for r in rows if r.answerable]
    neg = [r for r in rows if not r.answerable]
    tp = sum(rule.found(r) for r in pos)
    tn = sum(not rule.found(r) for r in neg)
    return (
        f"{tp}/{len(pos)} answerable found, {tn}/{len(neg)} unanswerable refused, "
        f"accuracy {(tp + tn) / len(rows):.1%}"
    )


def table(rows: list[Row], rule: Rule) -> list[str]:
    out = [
        "| id | question | answerable | coverage | agreement | cosine | found |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        found = rule.found(r)
        flag = "" if found == r.answerable else " ✗"
        out.append(
            f"| {r.id} | {r.question} | {r.answerable} | {r.coverage(rule.cap):.3f} | "
            f"{r.agreement:.2f} | {r.cosine:.3f} | {found}{flag} |"
        )
    return out


def report(rows: list[Row], held: list[Row]) -> str:
    from assistant.answering.relevance import AGREEMENT_WEIGHT, THRESHOLD, WEIGHT_CAP

    labels = [r.answerable for r in rows]
    rule, acc, margin = fit(rows)
    in_use = Rule(WEIGHT_CAP, AGREEMENT_WEIGHT, THRESHOLD)
    n_pos = sum(labels)
    cap = f"{rule.cap:g}" if rule.cap else "none"
    out = [
        f"# Relevance calibration ({n_pos} answerable, {len(rows) - n_pos} unanswerable questions)",
        "",
        "Produced by `eval/calibrate_relevance.py` over an index of the shipped corpus.",
        "",
        "| signal (calibration set) | answerable | unanswerable | best single cut | accuracy |",
        "|---|---|---|---|---|",
        describe("top-1 dense cosine (raw)", [r.cosine for r in rows], labels),
        describe("agreement (dense ∧ BM25 in top 10)", [r.agreement for r in rows], labels),
        describe("coverage, no cap", [r.coverage(None) for r in rows], labels),
        describe(f"coverage, cap {cap}", [r.coverage(rule.cap) for r in rows], labels),
        "",
        f"Grid optimum: cap {cap}, agreement weight {rule.weight:g}, threshold "
        f"{rule.threshold:.3f} → accuracy {acc:.1%} (margin {margin:.3f}); "
        f"leave-one-out accuracy {leave_one_out(rows):.1%}.",
        "",
        f"In use (assistant/answering/relevance.py): cap {in_use.cap:g}, agreement weight "
        f"{in_use.weight:g}, threshold {in_use.threshold:g}.",
        f"- calibration set: {confusion(rows, in_use)}",
    ]
    if held:
        uncapped = Rule(None, 0.0, best_cut([r.coverage(None) for r in rows], labels)[0])
        out += [
            f"- held-out set ({len(held)} queries of eval/policy_queries.jsonl, written "
            f"independently): {confusion(held, in_use)}",
            f"- held-out, the same fit without the cap: {confusion(held, uncapped)}",
            "- held-out, raw top-1 cosine at its calibration cut: " + confusion_cosine(rows, held),
        ]
    out += ["", "## Calibration set", "", *table(rows, in_use)]
    if held:
        out += ["", "## Held-out set", "", *table(held, in_use)]
    return "\n".join(out)


def confusion_cosine(rows: list[Row], held: list[Row]) -> str:
    cut, _, _ = best_cut([r.cosine for r in rows], [r.answerable for r in rows])
    right = sum((r.cosine >= cut) == r.answerable for r in held)
    return f"accuracy {right / len(held):.1%} (cut {cut:.3f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=ROOT / "index")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="calibration questions")
    parser.add_argument(
        "--held-out",
        type=Path,
        default=HELD_OUT,
        help="an independent labelled set to check the fit on ('' to skip)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)

    from assistant.config import load_settings
    from assistant.search.retriever import Retriever

    retriever = Retriever.open(args.index_dir, load_settings())
    rows = load_rows(read_set(args.set), retriever)
    held = []
    if str(args.held_out) and args.held_out.is_file():
        held = load_rows(read_set(args.held_out), retriever)
    text = report(rows, held)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
        print(f"\nwritten: {args.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
