"""The runner end to end with the real embedding model: a tiny BEIR set and a tiny policy set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.evaluation.datasets import PolicyQuery, RelevantPassage, load_beir
from assistant.evaluation.runner import evaluate_beir, evaluate_policy, make_configs

pytestmark = pytest.mark.slow

LONG = (
    "本段介绍城市交通的发展历史。" * 30  # ~420 characters of filler before the answer
    + "地铁一号线于二〇一〇年正式开通运营，全长三十公里。"
    + "此后的线路规划另行公布。" * 10
)
CORPUS = [
    ("p1", "双减政策", "严格落实双减政策，减轻学生过重作业负担和校外培训负担。"),
    ("p2", "校车安全", "使用校车的学校应当建立健全校车安全管理制度，定期检查校车。"),
    ("p3", "教师节", "每年九月十日为教师节，全社会都应当尊重教师。"),
    ("p4", "熊猫", "大熊猫主要生活在四川的竹林里，以竹子为食。"),
    ("p5", "咖啡", "咖啡豆经过烘焙和研磨之后才能冲泡成咖啡。"),
    ("p6", "長城", "萬里長城是古代中國為抵禦北方遊牧民族而修築的軍事工程。"),
    ("p7", "火山", "火山喷发时，岩浆从地壳深处涌出地表。"),
    ("p8", "交通", LONG),
    ("p9", "围棋", "围棋起源于中国，棋盘上有十九条横线和十九条竖线。"),
    ("p10", "潮汐", "潮汐主要是由月球和太阳的引力作用形成的。"),
    ("p11", "光合作用", "植物通过光合作用把二氧化碳和水转化为有机物并释放氧气。"),
    ("p12", "足球", "一支足球队在场上通常有十一名球员，其中包括一名守门员。"),
]
QUERIES = {
    "q1": "怎样减轻学生的作业负担和校外培训负担",
    "q2": "校车安全管理制度",
    "q3": "教师节是哪一天",
    "q4": "长城是为了防御谁而修建的",  # simplified query, traditional passage
    "q5": "地铁一号线哪一年开通",  # the answer sits in the second part of a long passage
    "q6": "植物如何释放氧气",
}
QRELS = {"q1": "p1", "q2": "p2", "q3": "p3", "q4": "p6", "q5": "p8", "q6": "p11"}


def write_beir(folder: Path) -> Path:
    folder.mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for did, title, text in CORPUS:
            fh.write(json.dumps({"_id": did, "title": title, "text": text}, ensure_ascii=False))
            fh.write("\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for qid, text in QUERIES.items():
            fh.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    rows = "".join(f"{q}\t{d}\t1\n" for q, d in QRELS.items())
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + rows, encoding="utf-8")
    return folder


def test_beir_run_reports_every_config_and_maps_split_passages_back(tmp_path, embedder):
    ds = load_beir(write_beir(tmp_path / "tiny"))
    settings = Settings(cache_dir=tmp_path / "cache")
    configs = make_configs(None, 1)
    result = evaluate_beir(ds, configs, settings, embedder=embedder, progress=False)

    assert [c.name for c in result.configs] == ["bm25", "dense", "hybrid", "hybrid+perdoc1"]
    assert result.n_passages == 12 and result.n_chunks == 13  # the long passage is two chunks
    for c in result.configs:
        assert set(c.metrics) == {"recall@5", "recall@10", "mrr@10", "ndcg@10", "hit@1"}
        assert set(c.per_query) == set(QUERIES)
        assert c.latency["p95_ms"] >= c.latency["p50_ms"] > 0
    hybrid = next(c for c in result.configs if c.name == "hybrid")
    # every query has its one relevant passage among 12: recall@10 must be perfect
    assert hybrid.metrics["recall@10"] == 1.0
    # the long passage's second part is found and counted once as "p8"
    assert hybrid.per_query["q5"]["hit@1"] == 1.0
    dense = next(c for c in result.configs if c.name == "dense")
    assert dense.per_query["q4"]["hit@1"] == 1.0  # simplified query finds traditional text
    assert hybrid.metrics["mrr@10"] >= 0.8


def test_policy_run_matches_quotes_and_checks_found(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "某县教育工作要点\n一、减负\n1.严格落实“双减”政策,科学规范开展课后服务。\n"
        "2.加强学生视力保护,每天开展两次眼保健操。\n二、安全\n3.高度重视防溺水安全教育。\n",
        encoding="utf-8",
    )
    (corpus / "b.txt").write_text(
        "某市教育局工作計劃\n一、繼續做好“雙減”工作,豐富課後服務內容。\n"
        "二、推進校園足球特色學校建設。\n",
        encoding="utf-8",
    )
    queries = [
        PolicyQuery(
            "t1",
            "各地如何落实双减",
            "topic",
            (
                RelevantPassage("a.txt", "严格落实“双减”政策", 2),
                RelevantPassage("b.txt", "继续做好“双减”工作", 2),  # simplified quote, trad source
            ),
        ),
        PolicyQuery("t2", "防溺水", "keyword", (RelevantPassage("a.txt", "防溺水", 2),)),
        PolicyQuery("t3", "校园足球", "keyword", (RelevantPassage("b.txt", "不存在的句子", 1),)),
        PolicyQuery("n1", "新能源汽车购置补贴标准是多少", "unanswerable"),
    ]
    settings = Settings(cache_dir=tmp_path / "cache")
    result = evaluate_policy(
        queries,
        corpus,
        make_configs(["hybrid"], None),
        settings,
        embedder=embedder,
        index_dir=tmp_path / "index",
        progress=False,
    )
    hybrid = result.configs[0]
    assert hybrid.n_queries == 3  # the unanswerable question has no ranking to score
    assert hybrid.per_query["t1"]["recall@5"] == 1.0  # both documents' 双减 items retrieved
    assert hybrid.per_query["t2"]["hit@1"] == 1.0
    assert hybrid.per_query["t3"]["recall@10"] == 0.0  # a broken label can never be found …
    assert result.broken_labels == [
        "t3: b.txt: '不存在的句子': quote not found in any chunk of the file"
    ]  # … and is reported, not silently ignored
    assert set(hybrid.by_type) == {"topic", "keyword"} and hybrid.by_type["keyword"]["n"] == 2
    ans = result.answering
    assert (ans.unanswerable, ans.answerable) == (1, 3)
    assert set(ans.found) == {"t1", "t2", "t3", "n1"}
    assert ans.found["t1"] is True


def test_a_kept_beir_index_is_reused_on_the_next_run(tmp_path, embedder):
    ds = load_beir(write_beir(tmp_path / "tiny"))
    settings = Settings(cache_dir=tmp_path / "cache")
    configs = make_configs(["bm25"], None)
    keep = tmp_path / "kept"
    first = evaluate_beir(ds, configs, settings, embedder=embedder, keep_index=keep,
                          progress=False)  # fmt: skip
    second = evaluate_beir(ds, configs, settings, embedder=embedder, keep_index=keep,
                           progress=False)  # fmt: skip
    assert (first.index_reused, second.index_reused) == (False, True)
    assert second.configs[0].metrics == first.configs[0].metrics
    (kept,) = keep.iterdir()  # one folder per dataset, named after it
    assert kept.name.endswith("_tiny")
