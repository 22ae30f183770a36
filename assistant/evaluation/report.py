"""Reports of evaluation runs: a markdown table, a PNG chart, and before/after comparisons."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import METRICS
from assistant.evaluation.results import DatasetResult, RunResult, save_results

REPORT_FILE = "report.md"
CHART_FILE = "chart.png"
HEADERS = {
    "recall@5": "Recall@5",
    "recall@10": "Recall@10",
    "mrr@10": "MRR@10",
    "ndcg@10": "nDCG@10",
    "hit@1": "hit@1",
}


def _f(x: float) -> str:
    return f"{x:.3f}"


def dataset_heading(ds: DatasetResult) -> str:
    sample = f" ({ds.sample})" if ds.sample else ""
    scored = ds.configs[0].n_queries if ds.configs else ds.n_queries
    if scored != ds.n_queries:
        sample += f" ({scored} with labelled passages, {ds.n_queries - scored} unanswerable)"
    unit = "files" if ds.kind == "policy" else "passages"
    built = "existing index reused" if ds.index_reused else f"indexed in {ds.index_seconds:.0f} s"
    return (
        f"{ds.name}: {ds.n_queries} queries{sample}, {ds.n_passages} {unit} → "
        f"{ds.n_chunks} chunks, {built}"
    )


def metrics_table(ds: DatasetResult) -> list[str]:
    head = ["config", *(HEADERS[m] for m in METRICS), "p50 ms", "p95 ms"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    best = {m: max(c.metrics[m] for c in ds.configs) for m in METRICS} if ds.configs else {}
    for c in ds.configs:
        cells = [
            f"**{_f(c.metrics[m])}**"
            if c.metrics[m] == best[m] and len(ds.configs) > 1
            else _f(c.metrics[m])
            for m in METRICS
        ]
        lines.append(
            "| "
            + " | ".join(
                [c.name, *cells, f"{c.latency['p50_ms']:.1f}", f"{c.latency['p95_ms']:.1f}"]
            )
            + " |"
        )
    return lines


def by_type_table(ds: DatasetResult, metric: str = "ndcg@10") -> list[str]:
    types = sorted({t for c in ds.configs for t in c.by_type})
    if not types:
        return []
    counts = ds.configs[0].by_type
    head = ["config", *(f"{t} ({int(counts[t].get('n', 0))})" for t in types)]
    lines = [
        f"{HEADERS.get(metric, metric)} by query type:",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for c in ds.configs:
        lines.append(
            "| "
            + " | ".join([c.name, *(_f(c.by_type.get(t, {}).get(metric, 0.0)) for t in types)])
            + " |"
        )
    return lines


def _fusion(s: dict) -> str:
    if s.get("fusion", "rrf") == "rrf":  # runs saved before convex fusion have no "fusion"
        return f"RRF k={s.get('rrf_k')}, weights dense {s.get('dense_weight')} / " + (
            f"bm25 {s.get('bm25_weight')}"
        )
    sentences = s.get("sentence_weight") or 0
    return "convex" + (f", best-sentence evidence weight {sentences}" if sentences else "")


def render_markdown(run: RunResult) -> str:
    s = run.settings
    lines = [
        f"# Evaluation run `{run.name}`",
        "",
        f"- created: {run.created}",
        f"- embedding model: {s.get('embed_model')} ({s.get('embed_backend')})",
        f"- hybrid fusion: {_fusion(s)}",
    ]
    if run.command:
        lines.append(f"- command: `{run.command}`")
    lines.append("")
    for ds in run.datasets:
        lines += [f"## {dataset_heading(ds)}", "", *metrics_table(ds), ""]
        if ds.kind == "policy":
            lines += [*by_type_table(ds), ""]
        if ds.answering is not None:
            a = ds.answering
            lines += [
                f"Answer pipeline (`found`, {a.mode} retrieval): refused "
                f"{a.correct_refusals}/{a.unanswerable} unanswerable questions "
                f"(accuracy {a.refusal_accuracy:.2f}); falsely refused "
                f"{a.false_refusals}/{a.answerable} answerable ones "
                f"(rate {a.false_refusal_rate:.2f}).",
                "",
            ]
        if ds.broken_labels:
            lines += [f"**{len(ds.broken_labels)} broken label(s)** (quote matches no chunk):", ""]
            lines += [f"- {b}" for b in ds.broken_labels] + [""]
    return "\n".join(lines) + "\n"


def render_chart(run: RunResult, path: Path) -> Path:
    """Grouped bars: one panel per query set, metrics on the x axis, one bar per config."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    n = max(len(run.datasets), 1)
    cols = min(n, 2)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.2 * rows), squeeze=False)
    x = np.arange(len(METRICS))
    for ax, ds in zip(axes.flat, run.datasets, strict=False):
        width = 0.8 / max(len(ds.configs), 1)
        for i, c in enumerate(ds.configs):
            ax.bar(
                x + (i - (len(ds.configs) - 1) / 2) * width,
                [c.metrics[m] for m in METRICS],
                width,
                label=c.name,
            )
        ax.set_xticks(x, [HEADERS[m] for m in METRICS])
        ax.set_ylim(0, 1.05)
        scored = ds.configs[0].n_queries if ds.configs else ds.n_queries
        ax.set_title(f"{ds.name} ({scored} scored queries)", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(
            fontsize=7,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            ncol=min(len(ds.configs), 4),
            frameon=False,
        )
    for ax in list(axes.flat)[len(run.datasets) :]:
        ax.axis("off")
    fig.suptitle(f"Retrieval quality — run {run.name}", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_run(run: RunResult, folder: Path) -> dict[str, Path]:
    """Write results.json, report.md and chart.png into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {"results": save_results(run, folder)}
    report = folder / REPORT_FILE
    report.write_text(render_markdown(run), encoding="utf-8")
    out["report"] = report
    out["chart"] = render_chart(run, folder / CHART_FILE)
    return out


# --------------------------------------------------------------------------------------------
# Comparison


@dataclass(frozen=True)
class Delta:
    dataset: str
    config: str
    metric: str  # a METRICS name, or "p50_ms" / "p95_ms"
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "config": self.config,
            "metric": self.metric,
            "before": self.before,
            "after": self.after,
            "delta": round(self.delta, 6),
        }


def compare_runs(before: RunResult, after: RunResult) -> tuple[list[Delta], list[str]]:
    """Per-metric deltas for every (query set, config) both runs have; and what only one has."""
    deltas: list[Delta] = []
    unmatched: list[str] = []
    after_ds = {d.name: d for d in after.datasets}
    before_ds = {d.name: d for d in before.datasets}
    for ds in before.datasets:
        other = after_ds.get(ds.name)
        if other is None:
            unmatched.append(f"{ds.name}: only in {before.name}")
            continue
        other_cfg = {c.name: c for c in other.configs}
        for c in ds.configs:
            oc = other_cfg.get(c.name)
            if oc is None:
                unmatched.append(f"{ds.name} / {c.name}: only in {before.name}")
                continue
            for m in METRICS:
                deltas.append(Delta(ds.name, c.name, m, c.metrics[m], oc.metrics[m]))
            for m in ("p50_ms", "p95_ms"):
                deltas.append(Delta(ds.name, c.name, m, c.latency[m], oc.latency[m]))
        names = {c.name for c in ds.configs}
        unmatched += [
            f"{ds.name} / {c.name}: only in {after.name}"
            for c in other.configs
            if c.name not in names
        ]
    unmatched += [
        f"{d.name}: only in {after.name}" for d in after.datasets if d.name not in before_ds
    ]
    return deltas, unmatched


def render_comparison(before: RunResult, after: RunResult) -> str:
    deltas, unmatched = compare_runs(before, after)
    lines = [
        f"# Comparison: `{before.name}` → `{after.name}`",
        "",
        "Each cell: before → after (delta). Latency in ms.",
        "",
    ]
    by_ds: dict[str, dict[str, dict[str, Delta]]] = {}
    for d in deltas:
        by_ds.setdefault(d.dataset, {}).setdefault(d.config, {})[d.metric] = d
    cols = [*METRICS, "p50_ms", "p95_ms"]
    for ds_name, configs in by_ds.items():
        head = ["config", *(HEADERS.get(m, m.replace("_ms", " ms")) for m in cols)]
        lines += [f"## {ds_name}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for cfg, cells in configs.items():
            row = [cfg]
            for m in cols:
                d = cells[m]
                fmt = "{:.1f}" if m.endswith("_ms") else "{:.3f}"
                row.append(
                    f"{fmt.format(d.before)} → {fmt.format(d.after)} "
                    f"({'+' if d.delta >= 0 else '−'}{fmt.format(abs(d.delta))})"
                )
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    if unmatched:
        lines += ["Not compared:", "", *(f"- {u}" for u in unmatched), ""]
    return "\n".join(lines)
