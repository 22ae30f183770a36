import numpy as np
import pytest

from assistant.search.fusion import top_k
from assistant.search.lexical import LexicalStats, Postings, bm25_scores
from assistant.text import tokenize

TEXTS = [
    "严格落实双减政策，减轻学生作业负担",
    "持續鞏固提升雙減成效",
    "加强学校体育工作",
    "推进教师队伍建设",
    "双减背景下的课后服务与学校体育",
]


def scores(segments, query):
    return bm25_scores(segments, tokenize(query), LexicalStats.of(segments))


def test_saved_postings_rank_keyword_matches_across_scripts(tmp_path):
    Postings.build([tokenize(t) for t in TEXTS[:4]]).save(tmp_path)
    postings = Postings.load(tmp_path)
    assert len(postings) == 4
    (s,) = scores([(postings, None)], "雙減政策")
    rows, values = top_k(s, 10, minimum=0.0)
    assert set(rows.tolist()) == {0, 1}  # the traditional query matches simplified text too
    assert rows[0] == 0  # "双减" and "政策" both match the first
    assert (values > 0).all()


def test_unknown_or_empty_query_scores_nothing():
    segments = [(Postings.build([tokenize(t) for t in TEXTS]), None)]
    assert not scores(segments, "量子计算")[0].any()
    assert not bm25_scores(segments, [], LexicalStats.of(segments))[0].any()


def test_segments_with_deletions_score_like_one_index_of_the_live_rows():
    tokens = [tokenize(t) for t in TEXTS]
    # two segments; row 1 of the second is deleted
    first, second = Postings.build(tokens[:2]), Postings.build(tokens[2:])
    live = np.array([True, False, True])
    split = [(first, None), (second, live)]
    whole = [(Postings.build([tokens[i] for i in (0, 1, 2, 4)]), None)]
    for query in ("学校体育", "双减 作业", "教师"):
        a = np.concatenate(scores(split, query))[[0, 1, 2, 4]]
        b = scores(whole, query)[0]
        assert np.allclose(a, b, atol=1e-6), query
        assert scores(split, query)[1][1] == 0  # the deleted row never scores


def test_merge_keeps_the_live_rows_in_order():
    tokens = [tokenize(t) for t in TEXTS]
    first, second = Postings.build(tokens[:3]), Postings.build(tokens[3:])
    merged = Postings.merge([(first, np.array([True, False, True])), (second, np.ones(2, bool))])
    rebuilt = Postings.build([tokens[i] for i in (0, 2, 3, 4)])
    assert len(merged) == 4
    for query in ("学校体育", "双减", "教师队伍"):
        assert np.allclose(scores([(merged, None)], query)[0], scores([(rebuilt, None)], query)[0])


def test_empty_postings_round_trip(tmp_path):
    Postings.build([]).save(tmp_path)
    postings = Postings.load(tmp_path)
    assert len(postings) == 0 and scores([(postings, None)], "双减")[0].size == 0


@pytest.mark.parametrize("term", ["", "x" * 40])
def test_terms_that_are_not_indexed_are_looked_up_safely(term):
    rows, counts = Postings.build([["双减"]]).lookup(term)
    assert rows.size == counts.size == 0
