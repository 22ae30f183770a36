"""results.json: a saved run loads back with the same figures; bad paths get clear errors."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation.results import (
    AnsweringResult,
    ConfigResult,
    DatasetResult,
    RunResult,
    load_results,
    save_results,
)


def make_run() -> RunResult:
    cfg = ConfigResult(name="hybrid", mode="hybrid", per_doc=None, n_queries=2,
                       metrics={"recall@5": 0.5, "recall@10": 1.0, "mrr@10": 0.75,
                                "ndcg@10": 0.8, "hit@1": 0.5},
                       latency={"p50_ms": 3.0, "p95_ms": 9.0, "mean_ms": 4.0},
                       by_type={"topic": {"ndcg@10": 0.8, "n": 2.0}},
                       per_query={"a": {"hit@1": 1.0}, "b": {"hit@1": 0.0}})  # fmt: skip
    ds = DatasetResult(name="policy", kind="policy", n_queries=3, n_passages=2, n_chunks=7,
                       index_seconds=1.5, configs=[cfg], index_reused=True,
                       answering=AnsweringResult(mode="hybrid", unanswerable=1,
                                                 correct_refusals=1, answerable=2,
                                                 false_refusals=1, found={"a": True}))  # fmt: skip
    return RunResult(name="r1", created="2024-01-01T00:00:00+00:00", command="assistant eval",
                     settings={"embed_model": "m"}, datasets=[ds])  # fmt: skip


def test_a_saved_run_loads_back_unchanged(tmp_path):
    run = make_run()
    path = save_results(run, tmp_path / "r1")
    loaded = load_results(path)  # the file itself …
    assert load_results(tmp_path / "r1").to_dict() == loaded.to_dict()  # … or its folder
    assert loaded.to_dict() == run.to_dict()
    ans = loaded.datasets[0].answering
    assert (ans.refusal_accuracy, ans.false_refusal_rate) == (1.0, 0.5)


def test_to_dict_without_per_query_values_is_the_machine_summary():
    data = make_run().to_dict(per_query=False)
    (ds,) = data["datasets"]
    assert "per_query" not in ds["configs"][0] and "found" not in ds["answering"]
    assert ds["answering"]["refusal_accuracy"] == 1.0
    assert ds["configs"][0]["metrics"]["ndcg@10"] == 0.8


def test_load_results_explains_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results.json"):
        load_results(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({"name": "x"}), encoding="utf-8")
    with pytest.raises(ValueError, match="not an evaluation results file"):
        load_results(tmp_path)
