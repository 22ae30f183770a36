import numpy as np

from assistant.search.lexical import LexicalIndex
from assistant.text import tokenize

TEXTS = [
    "严格落实双减政策，减轻学生作业负担",
    "持續鞏固提升雙減成效",
    "加强学校体育工作",
    "推进教师队伍建设",
]


def test_saved_bm25_ranks_keyword_matches_across_scripts(tmp_path):
    LexicalIndex.build([tokenize(t) for t in TEXTS]).save(tmp_path)
    index = LexicalIndex.load(tmp_path)
    assert len(index) == 4
    rows, scores = index.search(tokenize("雙減政策"), 10)
    assert set(rows.tolist()) == {0, 1}  # the traditional query matches simplified text too
    assert rows[0] == 0  # "双减" and "政策" both match the first
    assert (scores > 0).all()


def test_unknown_or_empty_query_matches_nothing(tmp_path):
    index = LexicalIndex.build([tokenize(t) for t in TEXTS])
    assert index.search(tokenize("量子计算"), 10)[0].size == 0
    assert index.search([], 10)[0].size == 0
    assert index.scores(["体育"]).shape == (4,)


def test_filtered_search_keeps_only_allowed_rows():
    index = LexicalIndex.build([tokenize(t) for t in TEXTS])
    rows, _ = index.search(tokenize("双减"), 10, rows=np.array([1, 2]))
    assert rows.tolist() == [1]


def test_empty_index_round_trips(tmp_path):
    LexicalIndex.build([]).save(tmp_path)
    index = LexicalIndex.load(tmp_path)
    assert len(index) == 0 and index.search(["双减"], 5)[0].size == 0
