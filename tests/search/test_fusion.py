import numpy as np
import pytest

from assistant.search.fusion import (
    Candidates,
    FusionWeights,
    convex_fusion,
    diversify,
    ranks_of,
    top_k,
    unit_scale,
    weighted_rrf,
)


def test_ranks_are_one_based_and_first_occurrence_wins():
    assert ranks_of([7, 3, 7, 9]) == {7: 1, 3: 2, 9: 4}


def test_rrf_rewards_agreement_between_retrievers():
    fused = weighted_rrf({"dense": [1, 2, 3], "bm25": [3, 4, 1]}, k=60)
    ids = [i for i, _ in fused]
    # 1 and 3 are found by both retrievers and beat 2 and 4, which only one found.
    assert set(ids[:2]) == {1, 3}
    assert ids[0] == 1  # equal scores with 3: the tie goes to the lower id, deterministically
    score = dict(fused)
    assert score[1] == pytest.approx(1 / 61 + 1 / 63)
    assert score[2] == pytest.approx(1 / 62)


def test_rrf_weights_shift_the_order():
    rankings = {"dense": [1, 2], "bm25": [2, 1]}
    assert weighted_rrf(rankings, {"dense": 2.0, "bm25": 1.0})[0][0] == 1
    assert weighted_rrf(rankings, {"dense": 1.0, "bm25": 2.0})[0][0] == 2
    # weight 0 removes a retriever's votes entirely
    fused = weighted_rrf({"dense": [5], "bm25": [6]}, {"dense": 0.0})
    assert dict(fused)[5] == 0.0 and fused[0][0] == 6


def test_rrf_rejects_negative_k():
    with pytest.raises(ValueError):
        weighted_rrf({"dense": [1]}, k=-1)


def test_diversify_caps_items_per_key_in_order():
    items = [("a", 1), ("a", 2), ("b", 3), ("a", 4), ("c", 5), ("b", 6), ("b", 7)]
    out = diversify(items, key=lambda x: x[0], per_key=2)
    assert out == [("a", 1), ("a", 2), ("b", 3), ("c", 5), ("b", 6)]
    assert diversify(items, key=lambda x: x[0], per_key=None) == items
    with pytest.raises(ValueError):
        diversify(items, key=lambda x: x[0], per_key=0)


def test_top_k_restricts_to_rows_and_minimum():
    scores = np.array([0.1, 0.9, 0.0, 0.5, 0.7], dtype=np.float32)
    rows, values = top_k(scores, 3)
    assert rows.tolist() == [1, 4, 3]
    assert values.tolist() == pytest.approx([0.9, 0.7, 0.5])
    rows, _ = top_k(scores, 3, rows=np.array([0, 2, 3]))
    assert rows.tolist() == [3, 0, 2]
    rows, _ = top_k(scores, 10, minimum=0.0)
    assert rows.tolist() == [1, 4, 3, 0]  # the zero score is not a match
    assert top_k(scores, 0)[0].size == 0


def test_convex_fusion_keeps_score_gaps_that_rrf_loses():
    # Dense barely prefers 1 over 2; BM25 strongly prefers 2: RRF ties them, convex fusion
    # picks 2 (3 is a weak dense-only candidate, as the bottom of a real candidate list is).
    c = Candidates(rows=[1, 2, 3], dense={1: 0.82, 2: 0.81, 3: 0.5},
                   lexical={1: 1.0, 2: 9.0, 3: 0.0})  # fmt: skip
    rrf = weighted_rrf({"dense": [1, 2, 3], "bm25": [2, 1]})
    assert rrf[0][1] == rrf[1][1]
    fused = convex_fusion(c, FusionWeights(dense=1.0, lexical=1.0))
    assert [r for r, _ in fused] == [2, 1, 3]
    assert all(0.0 <= s <= 1.0 for _, s in fused)


def test_verbatim_candidates_form_a_tier_above_the_rest():
    c = Candidates(
        rows=[1, 2, 3],
        dense={1: 0.9, 2: 0.5, 3: 0.6},
        lexical={1: 8.0, 2: 1.0, 3: 2.0},
        verbatim={2: 1, 3: 2},
    )
    assert [r for r, _ in convex_fusion(c, FusionWeights())] == [3, 2, 1]


def test_an_unsure_dense_channel_counts_for_less_than_a_confident_one():
    # BM25 prefers 2 over 1 the same way in both queries. When the dense cosines of the
    # candidates sit in a narrow band (the model cannot tell them apart), BM25's order wins;
    # when dense separates its candidates widely, its preference for 1 wins.
    lexical = {1: 5.0, 2: 8.0, 3: 0.0}
    unsure = Candidates(rows=[1, 2, 3], dense={1: 0.84, 2: 0.82, 3: 0.80}, lexical=lexical)
    sure = Candidates(rows=[1, 2, 3], dense={1: 0.90, 2: 0.62, 3: 0.60}, lexical=lexical)
    w = FusionWeights()
    assert convex_fusion(unsure, w)[0][0] == 2
    assert convex_fusion(sure, w)[0][0] == 1
    # without the span floor plain min-max stretches the narrow band and dense wins there too
    assert convex_fusion(unsure, FusionWeights(dense_span=0.0))[0][0] == 1


def test_unit_scale():
    assert unit_scale({1: 2.0, 2: 4.0}, minmax=True) == {1: 0.0, 2: 1.0}
    assert unit_scale({1: 2.0, 2: 4.0}, minmax=False) == {1: 0.5, 2: 1.0}
    assert unit_scale({1: 0.0}, minmax=False) == {1: 0.0}
    assert unit_scale({}, minmax=True) == {}
    assert unit_scale({1: 0.80, 2: 0.85}, minmax=True, min_span=0.1) == pytest.approx(
        {1: 0.0, 2: 0.5}
    )
