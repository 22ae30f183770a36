"""Best-sentence evidence: a query that rewords one sentence of a long item finds that item."""

from dataclasses import replace

import pytest

from assistant.config import Settings
from assistant.records import DocumentMeta
from assistant.search.retriever import Retriever
from assistant.search.sentences import item_sentences, with_sentence_evidence

DOC = DocumentMeta(
    doc_id="plan", file="plan.txt", source_path="plans/plan.txt", title="2024年全县教育工作要点"
)
ITEMS = [
    # one long item on several topics; its phone sentence is what the query rewords
    "12.深化学校后勤管理改革。全面落实中小学校长陪餐制度，确保食品安全。推进校园足球特色学校"
    "建设，每校至少组建一支足球队。严格管理学生手机，手机由学校统一保管，禁止带入课堂。加强校舍"
    "安全隐患排查，及时消除危房。",
    "13.加强中小学生网络素养教育，引导学生合理使用电子产品，防止沉迷网络游戏。",
    "14.推进教师队伍建设，开展教师全员培训，实施乡村教师支持计划。",
    "16.加强学校体育工作，保证学生每天校内体育活动时间不少于1小时。",
    # shares the query's words (学生, 课堂) but is about classroom discipline
    "17.规范课堂教学管理，学生上课期间不得随意离开课堂，学校要加强课堂纪律教育。",
]
QUERY = "学生不能带手机进课堂"


@pytest.fixture(scope="module")
def settings(embedding_cache_dir):
    return Settings(cache_dir=embedding_cache_dir, sentence_weight=0.5)


@pytest.fixture(scope="module")
def retriever(open_items, settings):
    r = open_items([(DOC, text) for text in ITEMS], settings)
    yield r
    r.close()


@pytest.mark.slow
def test_a_reworded_sentence_finds_its_long_item_first(retriever):
    hits = retriever.search(QUERY, k=3)
    assert hits[0].chunk.chunk_id == "plan:0"
    # the item's own vector is diluted by its other topics; its phone sentence is not
    qvec = retriever.query_vector(QUERY)
    best = retriever.sentence_scores(qvec, [0])[0]
    assert best > hits[0].scores["dense"] + 0.02


@pytest.mark.slow
def test_sentence_vectors_are_embedded_once_per_item(retriever, monkeypatch):
    retriever.search(QUERY, k=3)  # the candidates' sentences are now kept
    embedded = []
    real = retriever.embedder().embed_passages
    monkeypatch.setattr(
        retriever.embedder(),
        "embed_passages",
        lambda texts, **kw: embedded.extend(texts) or real(texts, **kw),
    )
    retriever.search("校长陪学生吃饭", k=3)
    assert embedded == []


@pytest.mark.slow
def test_off_by_default_embeds_no_sentences(retriever, monkeypatch):
    off = Retriever(retriever.index_dir, retriever.backend, replace(retriever.settings,
                    sentence_weight=0.0), retriever.embedder())  # fmt: skip
    monkeypatch.setattr(
        off.embedder(), "embed_passages", lambda *a, **kw: pytest.fail("sentences embedded")
    )
    assert off.search("学校食堂的饭菜要安全", k=3)


def test_item_sentences_drop_fragments_and_normalize():
    assert item_sentences("第三条　學校。建立健全学生资助制度，确保应助尽助。") == [
        "建立健全学生资助制度,确保应助尽助。"
    ]
    assert item_sentences("第三条") == ["第三条"]  # no sentence is long enough: the whole item


def test_sentence_evidence_reranks_only_the_head():
    fused = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6)]
    out = with_sentence_evidence(fused, {1: 0.80, 2: 0.95, 3: 0.81}, weight=0.5)
    assert [r for r, _ in out] == [2, 1, 3, 4]
    assert out[-1] == (4, 0.6)
    assert with_sentence_evidence(fused, {1: 0.8}, weight=0.0) == fused
