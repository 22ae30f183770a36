"""Fit the answerability model of the answer pipeline on the questions set aside for fitting,
and report.

Reads the question sets (``eval/answer_questions.jsonl``: ``split`` dev|test;
``eval/answer_questions_fresh{,2,3,4,5}.jsonl``: ``fresh`` … ``fresh5``; ``kind``
answerable|near_miss|off_topic), retrieves each question as the pipeline does and computes the
features of ``assistant/answering/relevance.py`` for a few values of the soft-match floor. With
``--fold-deltas``, the reader score of a question fitted on comes from a reader that was not
trained on it (the shipped reader was adapted on the same questions, ``train_reader.py
--policy``). Then, on the **fitting splits only** (``--fit-splits``, default dev, fresh and
fresh2, as the shipped model; each fresh set was the held-out set of an earlier model, run
once, then may be fitted on; ``fresh3`` and ``fresh4`` have been used that way):

1. for each soft-match floor and L2 penalty, a logistic regression (standardized features;
   ``FIT_FEATURES``, or ``--features``) is scored by 5-fold cross-validated log-loss; the best
   pair is kept and the model refitted on all of them. The report gives, beside it, the
   cross-validated outcomes (answer threshold chosen on the training folds) and the CV log-loss
   of the model over every feature, for comparison;
2. the answer threshold maximizes the smaller of (answerable answered, unanswerable refused),
   at the middle of the best interval;
3. the related threshold, below it, best separates what should still show provisions
   (answerable and near-miss questions) from off-topic ones among the questions below the
   answer cut, by their topic probability (``AnswerabilityModel.topic_probability``: the answer
   form signals set neutral) where it is the higher.

``--write`` saves the model to ``assistant/answering/answerability.json`` with how it was
fitted. The report gives figures per fitting split of the fitted model and of the former rule
(literal coverage >= 0.75, on the hits the former pipeline saw, superseded versions included);
the held-out splits (``--test-splits``, default test and fresh5, the set not yet run) only with
``--report-test``, which is meant to be run once, at the end.

``--index-dir`` is brought up to date with ``--corpus`` first (it is written): give it a copy
of the product index, not the index itself.

    cp -a index /tmp/fit-index
    PYTHONPATH=. .venv/bin/python eval/fit_answerability.py --index-dir /tmp/fit-index \\
        [--write] [--report-test] [--markdown /tmp/fit.md]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = (
    ROOT / "eval" / "answer_questions.jsonl",
    ROOT / "eval" / "answer_questions_fresh.jsonl",
    ROOT / "eval" / "answer_questions_fresh2.jsonl",
    ROOT / "eval" / "answer_questions_fresh3.jsonl",
    ROOT / "eval" / "answer_questions_fresh4.jsonl",
    ROOT / "eval" / "answer_questions_fresh5.jsonl",
)
FIT_SPLITS = ("dev", "fresh", "fresh2")
TEST_SPLITS = ("test", "fresh5")
FLOORS = (0.88, 0.90, 0.92, 0.94, 0.96)
L2S = (0.1, 0.3, 1.0, 3.0, 10.0)
# The features the model uses, chosen by cross-validation on the fitting splits (see
# eval/answerability.md); the report compares them with all features on every run.
FIT_FEATURES = ("dense", "soft", "figure", "reader")
OLD_THRESHOLD = 0.75  # the former rule: literal coverage (cap 35) of the best top-10 hit


@dataclass
class Row:
    id: str
    question: str
    split: str
    kind: str
    features: dict[float, dict[str, float]] = field(default_factory=dict)  # per floor
    old_lexical: float = 0.0

    @property
    def answerable(self) -> bool:
        return self.kind == "answerable"


def collect(questions, retriever, matcher, reader=None, progress: bool = True) -> list[Row]:
    """Each question's features. ``reader`` is an ``AnswerReader``, or a function of the
    question giving the one to use."""
    from tqdm import tqdm

    from assistant.answering.pipeline import PER_DOC, SEARCH_K, answer_hits
    from assistant.answering.relevance import features
    from assistant.answering.terms import query_terms

    rows = []
    for q in tqdm(questions, desc="features", unit="question", disable=not progress):
        terms = query_terms(q.question)
        hits = answer_hits(q.question, retriever)
        old_hits = retriever.search(q.question, k=SEARCH_K, mode="hybrid", per_doc=PER_DOC)
        row = Row(q.id, q.question, q.split, q.kind)
        row.old_lexical = features(q.question, terms, old_hits, None, soft_floor=1.0)[0]["lexical"]
        read = None  # the reader's score does not depend on the floor: computed once
        reads = reader(q) if callable(reader) else reader
        for floor in FLOORS:
            values = features(
                q.question, terms, hits, matcher, soft_floor=floor, reader=None if read else reads
            )[0]
            read = read or {k: values[k] for k in ("reader",) if k in values}
            row.features[floor] = values | read
        rows.append(row)
    return rows


def fold_readers(shipped, deltas: list[Path], fit_splits: tuple[str, ...], cache_dir: Path):
    """A function of a question giving its reader: for a question fitted on, the reader of
    ``deltas[fold]`` that was trained without its fold; for any other, ``shipped``."""
    from train_reader import fold_of

    from assistant.answering.reader import AnswerReader
    from assistant.offline_model import offline_model_dir
    from assistant.reader_model import ensure_reader_model

    folds = [
        AnswerReader(ensure_reader_model(cache_dir, d), offline_model_dir(cache_dir))
        for d in deltas
    ]
    return lambda q: folds[fold_of(q.id, len(folds))] if q.split in fit_splits else shipped


# ------------------------------------------------------------------------------ logistic fit


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Newton's method on the L2-penalized log-likelihood (the bias is not penalized)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.diag([l2] * d + [0.0])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -60, 60)))
        grad = xb.T @ (p - y) + penalty @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w[:d], float(w[d])


def matrix(rows: list[Row], floor: float, names: tuple[str, ...]) -> np.ndarray:
    return np.array([[r.features[floor][f] for f in names] for r in rows], dtype=float)


def cv_predictions(
    rows: list[Row], floor: float, names: tuple[str, ...], l2: float
) -> tuple[np.ndarray, np.ndarray]:
    """5-fold cross-validated probabilities, and whether each question is answered under the
    answer threshold chosen on its training folds; folds fixed by position within each kind."""
    folds = np.zeros(len(rows), dtype=int)
    for kind in sorted({r.kind for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.kind == kind]
        for j, i in enumerate(idx):
            folds[i] = j % 5
    x = matrix(rows, floor, names)
    y = np.array([r.answerable for r in rows], dtype=float)
    p = np.zeros(len(rows))
    answered = np.zeros(len(rows), dtype=bool)
    for k in range(5):
        tr, te = folds != k, folds == k
        mean, scale = x[tr].mean(0), x[tr].std(0) + 1e-9
        w, b = fit_logistic((x[tr] - mean) / scale, y[tr], l2)
        p_tr = 1.0 / (1.0 + np.exp(-(((x[tr] - mean) / scale) @ w + b)))
        cut, _ = best_cut(list(p_tr), list(y[tr].astype(bool)))
        p[te] = 1.0 / (1.0 + np.exp(-(((x[te] - mean) / scale) @ w + b)))
        answered[te] = p[te] >= cut
    return p, answered


def cv_logloss(rows: list[Row], floor: float, names: tuple[str, ...], l2: float) -> float:
    """5-fold cross-validated log-loss."""
    y = np.array([r.answerable for r in rows], dtype=float)
    p = np.clip(cv_predictions(rows, floor, names, l2)[0], 1e-6, 1 - 1e-6)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def cv_figures(rows: list[Row], floor: float, names: tuple[str, ...], l2: float) -> str:
    """Cross-validated answered / refused counts on dev."""
    answered = cv_predictions(rows, floor, names, l2)[1]
    pos = [a for a, r in zip(answered, rows, strict=True) if r.answerable]
    neg = [a for a, r in zip(answered, rows, strict=True) if not r.answerable]
    return (
        f"answerable answered {sum(pos)}/{len(pos)} ({sum(pos) / len(pos):.1%}), "
        f"refused {len(neg) - sum(neg)}/{len(neg)} ({1 - sum(neg) / len(neg):.1%})"
    )


def best_cut(scores: list[float], positive: list[bool]) -> tuple[float, float]:
    """The cut maximizing the smaller of the two per-class accuracies (positives at or above
    it); among equals, the middle of the widest run. Returns (cut, that accuracy)."""
    values = sorted(set(scores))
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)]
    cuts.append(values[-1] + 1e-6)
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]

    def score(c: float) -> float:
        a = sum(s >= c for s in pos) / len(pos) if pos else 1.0
        r = sum(s < c for s in neg) / len(neg) if neg else 1.0
        return min(a, r)

    results = [score(c) for c in cuts]
    top = max(results)
    best = [c for c, r in zip(cuts, results, strict=True) if r == top]
    # the middle of the run of best cuts (they are contiguous in practice)
    return best[len(best) // 2], top


# ------------------------------------------------------------------------------ report


def outcomes_of(rows, model) -> dict[str, str]:
    return {r.id: model.decide(r.features[model.soft_floor])[0] for r in rows}


def old_outcomes(rows, before: dict[str, bool] | None = None) -> dict[str, str]:
    """The former pipeline's outcomes: from its own run (``--before-*``), else recomputed."""
    if before is not None:
        return {r.id: "answered" if before[r.id] else "not_covered" for r in rows}
    return {r.id: "answered" if r.old_lexical >= OLD_THRESHOLD else "not_covered" for r in rows}


def table(rows, outcomes: dict[str, str], split: str) -> list:
    from assistant.evaluation.outcomes import OutcomeRow, summarize

    return summarize(
        OutcomeRow(r.id, split, r.kind, r.question, outcomes[r.id], 0.0, {}) for r in rows
    )


def figures(summaries) -> str:
    by = {s.kind: s for s in summaries}
    parts = []
    for kind, label in (("answerable", "answerable answered"), ("unanswerable", "refused")):
        if kind in by:
            s = by[kind]
            done = s.counts["answered"] if kind == "answerable" else s.n - s.counts["answered"]
            parts.append(f"{label} {done}/{s.n} ({s.accuracy:.1%})")
    return ", ".join(parts)


def separation(rows: list[Row], floor: float, names: tuple[str, ...]) -> list[str]:
    lines = ["| feature | answerable | near_miss | off_topic |", "|---|---|---|---|"]
    for f in names:
        cells = []
        for kind in ("answerable", "near_miss", "off_topic"):
            v = [r.features[floor][f] for r in rows if r.kind == kind]
            cells.append(f"{min(v):.3f}–{max(v):.3f} (median {np.median(v):.3f})" if v else "—")
        lines.append(f"| {f} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    from assistant.answering.reader import load_reader
    from assistant.answering.relevance import FEATURES, MODEL_FILE, AnswerabilityModel, save_model
    from assistant.answering.term_match import matcher_for
    from assistant.config import load_settings
    from assistant.evaluation.datasets import load_answer_questions
    from assistant.evaluation.outcomes import render_outcomes
    from assistant.search.builder import build_index
    from assistant.search.retriever import Retriever

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--questions", type=Path, nargs="+", default=list(QUESTIONS))
    ap.add_argument(
        "--fit-splits",
        default=",".join(FIT_SPLITS),
        help=f"splits fitted on (default {','.join(FIT_SPLITS)})",
    )
    ap.add_argument(
        "--test-splits",
        default=",".join(TEST_SPLITS),
        help=f"splits --report-test reports (default {','.join(TEST_SPLITS)})",
    )
    ap.add_argument("--write", action="store_true", help="save the fitted model")
    ap.add_argument("--report-test", action="store_true", help="also report the test split")
    ap.add_argument("--markdown", type=Path, help="write the report here")
    ap.add_argument("--before-dev", type=Path, help="eval/former_rule_outcomes.py output for dev")
    ap.add_argument("--before-test", type=Path, help="eval/former_rule_outcomes.py output for test")
    ap.add_argument(
        "--fold-deltas",
        type=Path,
        nargs="+",
        help="reader deltas each trained without one fold of the questions fitted on "
        "(train_reader.py --policy --fold i): a fitted question's reader score comes from the "
        "one that did not see it; other questions use the configured reader",
    )
    ap.add_argument(
        "--features",
        default=",".join(FIT_FEATURES),
        help=f"comma-separated features to fit (default {','.join(FIT_FEATURES)})",
    )
    args = ap.parse_args(argv)

    before = {
        split: json.loads(path.read_text()) if path else None
        for split, path in (("dev", args.before_dev), ("test", args.before_test))
    }
    settings = load_settings()
    fit_splits = tuple(args.fit_splits.split(","))
    fit_name = "+".join(fit_splits)
    test_splits = tuple(args.test_splits.split(",")) if args.report_test else ()
    questions = [q for path in args.questions for q in load_answer_questions(path)]
    build_index([args.corpus], args.index_dir, settings, progress=True)
    retriever = Retriever.open(args.index_dir, settings)
    matcher = matcher_for(retriever.embedder())
    reader = load_reader(settings.cache_dir) if settings.answer_reader else None
    if args.fold_deltas and reader is not None:
        reader = fold_readers(reader, args.fold_deltas, fit_splits, settings.cache_dir)
    rows = collect(
        [q for q in questions if q.split in fit_splits + test_splits], retriever, matcher, reader
    )
    dev = [r for r in rows if r.split in fit_splits]  # what the model is fitted on
    held = {s: [r for r in rows if r.split == s] for s in test_splits}
    if not dev:
        ap.error(f"no question of the splits {', '.join(fit_splits)} in {args.questions}")

    names = tuple(args.features.split(","))
    unknown = set(names) - set(FEATURES)
    if unknown:
        ap.error(f"unknown features {sorted(unknown)}; known: {', '.join(FEATURES)}")
    losses = {(f, l2): cv_logloss(dev, f, names, l2) for f in FLOORS for l2 in L2S}
    floor, l2 = min(losses, key=losses.__getitem__)
    x = matrix(dev, floor, names)
    y = np.array([r.answerable for r in dev], dtype=float)
    mean, scale = x.mean(0), x.std(0) + 1e-9
    w, b = fit_logistic((x - mean) / scale, y, l2)
    probe = AnswerabilityModel(names, tuple(mean), tuple(scale), tuple(w), b, 0.5, 0.5, floor)
    p = [probe.probability(r.features[floor]) for r in dev]
    answer_cut, _ = best_cut(p, [r.answerable for r in dev])
    below = [
        (max(pi, probe.topic_probability(r.features[floor])), r)
        for pi, r in zip(p, dev, strict=True)
        if pi < answer_cut
    ]
    related_cut = 0.0
    if below and any(r.kind == "off_topic" for _, r in below):
        related_cut, _ = best_cut(
            [pi for pi, _ in below], [r.kind != "off_topic" for _, r in below]
        )
    files = [
        f"{path.resolve().relative_to(ROOT)} "
        f"(sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}…)"
        for path in args.questions
    ]
    fitted = {
        "method": "logistic regression (Newton, L2 on standardized features), thresholds on "
        "the questions fitted on",
        "script": "eval/fit_answerability.py",
        "questions": files,
        "split": fit_name,
        "dev_counts": {
            k: sum(r.kind == k for r in dev) for k in ("answerable", "near_miss", "off_topic")
        },
        "l2": l2,
        "cv_dev": cv_figures(dev, floor, names, l2),
        "cv_logloss": {f"floor {f} l2 {p}": round(v, 4) for (f, p), v in losses.items()},
        "date": datetime.now(UTC).date().isoformat(),
    }
    model = AnswerabilityModel(
        names, tuple(float(v) for v in mean), tuple(float(v) for v in scale),
        tuple(float(v) for v in w), float(b), float(answer_cut),
        float(min(related_cut, answer_cut)), float(floor), fitted,
    )  # fmt: skip
    if args.write:
        save_model(model, MODEL_FILE)
        print(f"wrote {MODEL_FILE}", file=sys.stderr)

    report = [
        "## Fitted model",
        "",
        f"soft floor {floor}, L2 {l2} (best 5-fold CV log-loss on {fit_name}, "
        f"{losses[floor, l2]:.3f}, "
        f"of floors {', '.join(map(str, FLOORS))} × L2 {', '.join(map(str, L2S))}); "
        f"answer threshold {answer_cut:.3f}, related threshold {model.related_threshold:.3f}",
        "",
        f"5-fold cross-validated on {fit_name} (answer threshold chosen on the training "
        f"folds): "
        f"{fitted['cv_dev']}. For comparison, all features ({', '.join(FEATURES)}) at the same "
        f"floor and L2: CV log-loss {cv_logloss(dev, floor, tuple(FEATURES), l2):.3f}, "
        f"{cv_figures(dev, floor, tuple(FEATURES), l2)}.",
        "",
        "| feature | mean | scale | weight |",
        "|---|---|---|---|",
        *(
            f"| {n} | {m:.4f} | {s:.4f} | {wi:+.3f} |"
            for n, m, s, wi in zip(names, mean, scale, w, strict=True)
        ),
        f"| bias | | | {b:+.3f} |",
        "",
        f"## Feature ranges on {fit_name}",
        "",
        *separation(dev, floor, tuple(FEATURES)),
        "",
        "## Outcomes",
        "",
    ]
    by_split = {s: [r for r in dev if r.split == s] for s in fit_splits} | held
    for name, rs in by_split.items():
        role = "fitted on" if name in fit_splits else "**held out, reported once**"
        report += [
            f"- {name} ({role}), fitted model: {figures(table(rs, outcomes_of(rs, model), name))}",
            f"- {name}, former rule: "
            f"{figures(table(rs, old_outcomes(rs, before.get(name)), name))}",
        ]
    for name, rs in by_split.items():
        report += [
            "",
            render_outcomes(table(rs, outcomes_of(rs, model), name), f"{name}, fitted model"),
            "",
            render_outcomes(
                table(rs, old_outcomes(rs, before.get(name)), name), f"{name}, former rule"
            ),
        ]
    wrong = [r for r in dev if (outcomes_of([r], model)[r.id] == "answered") != r.answerable]
    report += ["", "## Questions fitted on that the fitted model gets wrong", ""]
    report += [f"- {r.id} ({r.kind}) {r.question} → {outcomes_of([r], model)[r.id]}" for r in wrong]
    text = "\n".join(report) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    retriever.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
