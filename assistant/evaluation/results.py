"""The records of an evaluation run and their JSON form (``results.json`` in a run folder)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_FILE = "results.json"


@dataclass
class ConfigResult:
    """One retrieval configuration on one query set."""

    name: str  # e.g. "hybrid+perdoc2"
    mode: str  # "bm25" | "dense" | "hybrid"
    per_doc: int | None
    n_queries: int
    metrics: dict[str, float]
    latency: dict[str, float]  # p50_ms, p95_ms, mean_ms
    by_type: dict[str, dict[str, float]] = field(default_factory=dict)  # policy set only
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class AnsweringResult:
    """Whether the answer pipeline's ``found`` flag is right on the policy set."""

    mode: str
    unanswerable: int
    correct_refusals: int  # found == False on an unanswerable question
    answerable: int
    false_refusals: int  # found == False on a question the corpus answers
    found: dict[str, bool] = field(default_factory=dict)  # per query id

    @property
    def refusal_accuracy(self) -> float:
        return self.correct_refusals / self.unanswerable if self.unanswerable else 0.0

    @property
    def false_refusal_rate(self) -> float:
        return self.false_refusals / self.answerable if self.answerable else 0.0


@dataclass
class DatasetResult:
    name: str
    kind: str  # "beir" | "policy"
    n_queries: int
    n_passages: int  # corpus documents (BEIR) or files (policy)
    n_chunks: int
    index_seconds: float
    configs: list[ConfigResult] = field(default_factory=list)
    index_reused: bool = False  # an existing index was used as it was (nothing embedded)
    sample: str = ""  # how queries were sampled when --limit was given
    broken_labels: list[str] = field(default_factory=list)
    answering: AnsweringResult | None = None


@dataclass
class RunResult:
    name: str
    created: str
    command: str
    settings: dict[str, Any]
    datasets: list[DatasetResult] = field(default_factory=list)

    def to_dict(self, *, per_query: bool = True) -> dict[str, Any]:
        data = asdict(self)
        for ds, ds_obj in zip(data["datasets"], self.datasets, strict=True):
            if not per_query:
                for cfg in ds["configs"]:
                    cfg.pop("per_query", None)
                if ds["answering"]:
                    ds["answering"].pop("found", None)
            if ds_obj.answering is not None:
                ds["answering"]["refusal_accuracy"] = round(ds_obj.answering.refusal_accuracy, 4)
                ds["answering"]["false_refusal_rate"] = round(
                    ds_obj.answering.false_refusal_rate, 4
                )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        datasets = []
        for ds in data.get("datasets", []):
            ans = ds.get("answering")
            answering = None
            if ans:
                answering = AnsweringResult(
                    mode=ans["mode"],
                    unanswerable=ans["unanswerable"],
                    correct_refusals=ans["correct_refusals"],
                    answerable=ans["answerable"],
                    false_refusals=ans["false_refusals"],
                    found=ans.get("found", {}),
                )
            datasets.append(
                DatasetResult(
                    name=ds["name"],
                    kind=ds["kind"],
                    n_queries=ds["n_queries"],
                    n_passages=ds["n_passages"],
                    n_chunks=ds["n_chunks"],
                    index_seconds=ds["index_seconds"],
                    index_reused=ds.get("index_reused", False),
                    configs=[ConfigResult(**c) for c in ds["configs"]],
                    sample=ds.get("sample", ""),
                    broken_labels=ds.get("broken_labels", []),
                    answering=answering,
                )
            )
        return cls(
            data["name"],
            data["created"],
            data.get("command", ""),
            data.get("settings", {}),
            datasets,
        )


def save_results(result: RunResult, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESULTS_FILE
    # compact: per-query values of thousands of BEIR queries would triple the size indented
    text = json.dumps(result.to_dict(), ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    return path


def load_results(path: str | Path) -> RunResult:
    """Load a run from its folder or its ``results.json``."""
    p = Path(path)
    if p.is_dir():
        p = p / RESULTS_FILE
    if not p.is_file():
        raise FileNotFoundError(
            f"{path}: no {RESULTS_FILE} (is it a run folder under eval/results/?)"
        )
    try:
        return RunResult.from_dict(json.loads(p.read_text(encoding="utf-8")))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{p}: not an evaluation results file ({exc})") from None
