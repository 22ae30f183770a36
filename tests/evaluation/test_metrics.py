"""Metric values on a tiny example worked out by hand (ranx must agree with the arithmetic)."""

from __future__ import annotations

import math

import pytest

from assistant.evaluation.metrics import dedupe, evaluate, latency_summary

QRELS = {
    "qa": {"a1": 2, "a2": 1},
    "qb": {"b1": 1},
    "qc": {"c1": 1},
}
RANKED = {
    "qa": ["x", "a2", "y", "a1"],  # grade-1 item at rank 2, grade-2 item at rank 4
    "qb": ["b1"],  # perfect
    "qc": ["z1", "z2", "z3", "z4", "z5", "c1"],  # only hit at rank 6
}


def test_per_query_values_match_hand_computation():
    _, per_query = evaluate(QRELS, RANKED)
    qa = per_query["qa"]
    # qa: both relevant items within the top 5 -> recall@5 = recall@10 = 2/2
    assert qa["recall@5"] == 1.0 and qa["recall@10"] == 1.0
    # first relevant at rank 2 -> MRR 1/2; rank 1 is not relevant -> hit@1 = 0
    assert qa["mrr@10"] == pytest.approx(0.5) and qa["hit@1"] == 0.0
    # nDCG with linear gains: DCG = 1/log2(3) + 2/log2(5) = 0.63093 + 0.86135 = 1.49228
    # ideal order a1(2), a2(1): IDCG = 2/log2(2) + 1/log2(3) = 2.63093 -> 0.56721
    dcg = 1 / math.log2(3) + 2 / math.log2(5)
    idcg = 2 + 1 / math.log2(3)
    assert qa["ndcg@10"] == pytest.approx(dcg / idcg) == pytest.approx(0.56721, abs=1e-5)
    qc = per_query["qc"]
    # qc: rank 6 is outside @5 but inside @10; MRR 1/6; nDCG = (1/log2(7)) / 1 = 0.35621
    assert (qc["recall@5"], qc["recall@10"]) == (0.0, 1.0)
    assert qc["mrr@10"] == pytest.approx(1 / 6)
    assert qc["ndcg@10"] == pytest.approx(1 / math.log2(7)) == pytest.approx(0.35621, abs=1e-5)
    assert per_query["qb"] == {
        "recall@5": 1.0,
        "recall@10": 1.0,
        "mrr@10": 1.0,
        "ndcg@10": 1.0,
        "hit@1": 1.0,
    }


def test_means_match_hand_computation():
    mean, _ = evaluate(QRELS, RANKED)
    assert mean["recall@5"] == pytest.approx((1 + 1 + 0) / 3)  # 0.6667
    assert mean["recall@10"] == pytest.approx(1.0)
    assert mean["mrr@10"] == pytest.approx((1 / 2 + 1 + 1 / 6) / 3)  # 0.5556
    assert mean["ndcg@10"] == pytest.approx((0.567209 + 1 + 0.356207) / 3, abs=1e-5)  # 0.6411
    assert mean["hit@1"] == pytest.approx(1 / 3)


def test_cutoffs_ignore_hits_below_rank_10_and_empty_rankings_score_zero():
    qrels = {"q": {"r": 1}, "e": {"r": 1}}
    mean, per_query = evaluate(qrels, {"q": [f"n{i}" for i in range(10)] + ["r"], "e": []})
    assert per_query["q"]["recall@10"] == 0.0 and per_query["q"]["mrr@10"] == 0.0
    assert per_query["e"] == {
        "recall@5": 0.0,
        "recall@10": 0.0,
        "mrr@10": 0.0,
        "ndcg@10": 0.0,
        "hit@1": 0.0,
    }
    assert mean["hit@1"] == 0.0


def test_every_query_needs_a_ranking():
    with pytest.raises(ValueError, match="no ranked list"):
        evaluate(QRELS, {"qa": []})


def test_dedupe_keeps_first_occurrence_in_rank_order():
    assert dedupe(["d1", "d2", "d1", "d3", "d2", "d4"], k=3) == ["d1", "d2", "d3"]


def test_latency_summary_percentiles_in_ms():
    s = latency_summary([0.001 * i for i in range(1, 101)])  # 1 ms … 100 ms
    assert s["p50_ms"] == pytest.approx(50.5)
    assert s["p95_ms"] == pytest.approx(95.05)
    assert s["mean_ms"] == pytest.approx(50.5)
