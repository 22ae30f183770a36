"""Run reports: markdown table, PNG chart, results.json round trip, and run comparisons."""

from __future__ import annotations

import pytest

from assistant.evaluation.report import compare_runs, render_comparison, render_markdown, write_run
from assistant.evaluation.results import (
    AnsweringResult,
    ConfigResult,
    DatasetResult,
    RunResult,
    load_results,
)


def config(name: str, mode: str, base: float, p50: float = 10.0) -> ConfigResult:
    metrics = {
        "recall@5": base,
        "recall@10": base + 0.1,
        "mrr@10": base - 0.1,
        "ndcg@10": base - 0.05,
        "hit@1": base - 0.2,
    }
    return ConfigResult(
        name=name,
        mode=mode,
        per_doc=None,
        n_queries=3,
        metrics=metrics,
        latency={"p50_ms": p50, "p95_ms": p50 * 2, "mean_ms": p50},
        per_query={"q1": dict(metrics)},
    )


def make_run(name: str, bm25: float, hybrid: float, extra: bool = False) -> RunResult:
    ds = DatasetResult(
        name="tiny/beir",
        kind="beir",
        n_queries=3,
        n_passages=5,
        n_chunks=6,
        index_seconds=1.0,
        configs=[config("bm25", "bm25", bm25), config("hybrid", "hybrid", hybrid, 20.0)],
    )
    policy = DatasetResult(
        name="policy",
        kind="policy",
        n_queries=4,
        n_passages=2,
        n_chunks=9,
        index_seconds=2.0,
        configs=[config("hybrid", "hybrid", 0.5)],
        broken_labels=["q9: 001.txt: 'x': quote not found"],
        answering=AnsweringResult(
            mode="hybrid",
            unanswerable=2,
            correct_refusals=1,
            answerable=2,
            false_refusals=0,
            found={"a": True},
        ),
    )
    if extra:
        ds.configs.append(config("dense", "dense", 0.3))
    return RunResult(
        name=name,
        created="2024-01-01T00:00:00+00:00",
        command="assistant eval",
        settings={"embed_model": "m", "embed_backend": "onnx-int8"},
        datasets=[ds, policy],
    )


def test_compare_runs_gives_per_metric_deltas():
    before, after = make_run("before", 0.6, 0.7), make_run("after", 0.6, 0.8, extra=True)
    deltas, unmatched = compare_runs(before, after)
    by_key = {(d.dataset, d.config, d.metric): d for d in deltas}
    d = by_key[("tiny/beir", "hybrid", "recall@5")]
    assert (d.before, d.after) == (0.7, 0.8) and d.delta == pytest.approx(0.1)
    assert by_key[("tiny/beir", "bm25", "ndcg@10")].delta == pytest.approx(0.0)
    assert by_key[("tiny/beir", "hybrid", "p50_ms")].delta == pytest.approx(0.0)
    assert unmatched == ["tiny/beir / dense: only in after"]
    text = render_comparison(before, after)
    assert "0.700 → 0.800 (+0.100)" in text and "only in after" in text


def test_compare_reports_a_drop_with_a_minus_sign():
    text = render_comparison(make_run("a", 0.6, 0.8), make_run("b", 0.6, 0.75))
    assert "0.800 → 0.750 (−0.050)" in text


def test_markdown_names_metrics_refusals_and_broken_labels():
    md = render_markdown(make_run("r", 0.6, 0.7))
    assert "| config | Recall@5 | Recall@10 | MRR@10 | nDCG@10 | hit@1 | p50 ms | p95 ms |" in md
    assert "| hybrid | **0.700** | **0.800** |" in md  # the best value per column is bold
    assert "refused 1/2 unanswerable questions (accuracy 0.50)" in md
    assert "1 broken label(s)" in md and "quote not found" in md


def test_write_run_saves_report_chart_and_loadable_results(tmp_path):
    run = make_run("r", 0.6, 0.7)
    written = write_run(run, tmp_path / "r")
    assert written["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert written["chart"].stat().st_size > 10_000  # a real figure, not an empty canvas
    assert written["report"].read_text(encoding="utf-8").startswith("# Evaluation run `r`")
    loaded = load_results(tmp_path / "r")
    assert loaded.datasets[0].configs[1].metrics == run.datasets[0].configs[1].metrics
    assert loaded.datasets[1].answering.refusal_accuracy == 0.5
    assert compare_runs(loaded, run)[1] == []


def test_markdown_names_the_fusion_the_run_used():
    run = make_run("r", 0.6, 0.7)
    run.settings.update(fusion="convex", sentence_weight=0.5)
    assert "- hybrid fusion: convex, best-sentence evidence weight 0.5" in render_markdown(run)
    run.settings.update(fusion="rrf", rrf_k=60, dense_weight=1.0, bm25_weight=1.0)
    assert "- hybrid fusion: RRF k=60, weights dense 1.0 / bm25 1.0" in render_markdown(run)
