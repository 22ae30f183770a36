"""``assistant eval``: retrieval quality on BEIR sets and the policy query set; run comparisons."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

DEFAULT_POLICY = Path("eval/policy_queries.jsonl")
DEFAULT_ANSWERS = Path("eval/answer_questions.jsonl")
RESULTS_DIR = Path("eval/results")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="measure retrieval quality (Recall, MRR, nDCG, hit@1, latency) and compare runs",
        description=(
            "Run query sets against retrieval configurations (bm25, dense, hybrid, and hybrid\n"
            "with at most N hits per document) and report Recall@5/10, MRR@10, nDCG@10, hit@1\n"
            "and query latency p50/p95. Inputs: BEIR folders (--beir), indexed into a temporary\n"
            "index, and the quote-labelled policy query set over corpus/ (--policy; the default\n"
            "when no --beir is given), for which the answer pipeline's found flag on\n"
            "unanswerable questions is reported too. Each run writes report.md, chart.png and\n"
            "results.json under eval/results/NAME/; --compare shows per-metric deltas of two runs."
        ),
        epilog=(
            "examples:\n"
            "  assistant eval                                   # policy set, all modes\n"
            "  assistant eval --beir ../shared/benchmarks/cmrc2018/beir_dev --limit 1000 --json\n"
            "  assistant eval --compare eval/results/before eval/results/after\n"
            "  assistant eval --check-labels                    # every quote still matches?"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--beir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a BEIR folder (corpus.jsonl[.gz], queries.jsonl, qrels.tsv); repeatable",
    )
    p.add_argument(
        "--split",
        default="test",
        help="qrels split for BEIR folders with a qrels/ directory (default: test)",
    )
    p.add_argument(
        "--policy",
        nargs="?",
        type=Path,
        const=DEFAULT_POLICY,
        metavar="FILE",
        help=f"the quote-labelled policy query set (default file: {DEFAULT_POLICY})",
    )
    p.add_argument(
        "--policy-split",
        choices=("dev", "test"),
        help="only the policy queries of this split (default: both; tune on dev, report test once)",
    )
    p.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="the corpus the policy set is labelled on (default: settings, corpus/)",
    )
    p.add_argument(
        "--mode",
        action="append",
        choices=("bm25", "dense", "hybrid"),
        help="retrieval mode; repeatable (default: all three)",
    )
    p.add_argument(
        "--per-doc",
        type=int,
        default=2,
        metavar="N",
        help="also run hybrid with at most N hits per document (0 = skip; default 2)",
    )
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="use a fixed, seeded sample of N queries per BEIR set",
    )
    p.add_argument("--seed", type=int, default=13, help="seed of the --limit sample (default 13)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the metrics as JSON (saves files only when --out/--name is given)",
    )
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="write the run here (default: eval/results/NAME)"
    )
    p.add_argument("--name", help="run name (default: run-<UTC timestamp>)")
    p.add_argument("--no-save", action="store_true", help="do not write report files")
    p.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("BEFORE", "AFTER"),
        help="compare two saved runs (folders or results.json) instead of running",
    )
    p.add_argument(
        "--check-labels",
        action="store_true",
        help="only check that every quote of the policy set matches a chunk",
    )
    p.add_argument(
        "--index-dir",
        type=Path,
        metavar="DIR",
        help="index of the corpus for the policy set, updated incrementally (default: the "
        "product index when it is up to date, used read-only, else a cache directory)",
    )
    p.add_argument(
        "--keep-index",
        type=Path,
        metavar="DIR",
        help="keep BEIR indexes under DIR and reuse them on the next run",
    )
    p.add_argument(
        "--no-answering",
        action="store_true",
        help="skip the found-accuracy check of the answer pipeline",
    )
    p.add_argument(
        "--answers",
        nargs="?",
        type=Path,
        const=DEFAULT_ANSWERS,
        metavar="FILE",
        help="instead: answer outcomes (answered / related / not covered) per split and kind "
        f"of the answerability question set over corpus/ (default file: {DEFAULT_ANSWERS})",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _error(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _compare(args: argparse.Namespace) -> int:
    from assistant.evaluation.report import compare_runs, render_comparison
    from assistant.evaluation.results import load_results

    try:
        before, after = (load_results(p) for p in args.compare)
    except (OSError, ValueError) as exc:
        return _error(str(exc))
    if args.json:
        deltas, unmatched = compare_runs(before, after)
        out = {
            "before": before.name,
            "after": after.name,
            "deltas": [d.to_dict() for d in deltas],
            "not_compared": unmatched,
        }
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        print(render_comparison(before, after))
    return 0


def _check_labels(policy: Path, corpus: Path) -> int:
    from assistant.evaluation.datasets import DatasetError, load_policy_queries
    from assistant.evaluation.runner import check_policy_labels

    try:
        queries = load_policy_queries(policy)
    except DatasetError as exc:
        return _error(str(exc))
    broken = check_policy_labels(queries, corpus)
    labels = sum(len(q.relevant) for q in queries)
    for b in broken:
        print(f"broken label: {b}")
    print(
        f"{policy}: {len(queries)} queries, {labels} labels, {len(broken)} broken "
        f"(checked against the chunks of {corpus})"
    )
    return 1 if broken else 0


def _answers(args: argparse.Namespace, settings, corpus: Path) -> int:
    from assistant.evaluation.datasets import DatasetError, load_answer_questions
    from assistant.evaluation.outcomes import answer_outcomes, render_outcomes
    from assistant.search.store import IndexMismatchError, IndexNotFoundError

    try:
        questions = load_answer_questions(args.answers)
    except DatasetError as exc:
        return _error(str(exc))
    if not corpus.is_dir():
        return _error(f"{corpus}: corpus folder not found (the question set is labelled on it)")
    index_dir = args.index_dir or settings.cache_dir / "eval-index" / "policy"
    try:
        rows, summaries = answer_outcomes(
            questions, corpus, settings, index_dir, progress=not args.quiet
        )
    except (IndexMismatchError, IndexNotFoundError) as exc:
        return _error(str(exc), 1)
    if args.json:
        out = {
            "summaries": [s.to_dict() for s in summaries],
            "questions": [r.to_dict() for r in rows],
        }
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        print(render_outcomes(summaries, f"Answer outcomes: {args.answers}"))
    return 0


def run(args: argparse.Namespace) -> int:
    from assistant.config import load_settings

    try:
        settings = load_settings(getattr(args, "config", None))
    except (OSError, ValueError) as exc:
        return _error(str(exc))
    if args.compare:
        return _compare(args)
    corpus = args.corpus or settings.corpus_dir
    policy_path = args.policy or (DEFAULT_POLICY if not args.beir else None)
    if args.check_labels:
        return _check_labels(args.policy or DEFAULT_POLICY, corpus)
    if args.answers:
        return _answers(args, settings, corpus)
    if args.limit is not None and args.limit < 1:
        return _error("--limit must be at least 1")
    if args.per_doc < 0:
        return _error("--per-doc must be 0 (skip) or more")

    from assistant.evaluation.datasets import (
        DatasetError,
        load_beir,
        load_policy_queries,
        select_queries,
    )
    from assistant.evaluation.report import render_markdown, write_run
    from assistant.evaluation.runner import make_configs, run_evaluation
    from assistant.search.store import IndexMismatchError, IndexNotFoundError

    try:
        configs = make_configs(args.mode, args.per_doc)
        datasets, samples = [], {}
        for folder in args.beir:
            full = load_beir(folder, split=args.split)
            ds = full.limited(args.limit, seed=args.seed)
            if len(ds.queries) < len(full.queries):
                samples[ds.name] = (
                    f"seeded sample of {len(ds.queries)} of {len(full.queries)}, seed {args.seed}"
                )
            datasets.append(ds)
        policy = load_policy_queries(policy_path) if policy_path else None
        if policy is not None and args.policy_split:
            policy = select_queries(policy, split=args.policy_split)
            if not policy:
                raise DatasetError(f"{policy_path}: no query in split {args.policy_split!r}")
    except (DatasetError, ValueError) as exc:
        return _error(str(exc))
    if policy is not None and not corpus.is_dir():
        return _error(f"{corpus}: corpus folder not found (the policy set is labelled on it)")

    progress = not args.quiet
    policy_index = args.index_dir or settings.cache_dir / "eval-index" / "policy"
    # Without --index-dir, the product index is used as it is when it is up to date.
    reuse_index = None if args.index_dir else settings.index_dir
    invoked = Path(sys.argv[0]).name in ("assistant", "__main__.py")
    command = "assistant " + shlex.join(sys.argv[1:]) if invoked else ""
    try:
        result = run_evaluation(
            beir=datasets, policy=policy, corpus_dir=corpus, configs=configs,
            settings=settings, policy_index_dir=policy_index, reuse_index=reuse_index,
            keep_index=args.keep_index, samples=samples, answering=not args.no_answering,
            name=args.name or (args.out.name if args.out else ""),
            command=command, progress=progress, announce=_say,
        )  # fmt: skip
    except (IndexMismatchError, IndexNotFoundError) as exc:
        return _error(str(exc), 1)

    save = not args.no_save and (not args.json or args.out or args.name)
    if save:
        folder = args.out or RESULTS_DIR / result.name
        written = write_run(result, folder)
        for kind, path in written.items():
            print(f"{kind}: {path}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(per_query=False), ensure_ascii=False, indent=1))
    else:
        print(render_markdown(result))
    broken = sum(len(d.broken_labels) for d in result.datasets)
    if broken:
        print(
            f"warning: {broken} broken label(s): quotes that match no chunk (listed in the "
            "report); fix eval/policy_queries.jsonl",
            file=sys.stderr,
        )
        return 1
    return 0
