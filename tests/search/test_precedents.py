"""Precedent wording: a writer's reworded sentence finds the long item that says it, exact
occurrences come first, and similar wordings name each document once."""

import pytest

from assistant.config import Settings
from assistant.records import DocumentMeta
from assistant.search.precedents import find_precedents

PLAN = DocumentMeta(
    doc_id="plan", file="plan.txt", source_path="plan.txt", title="2024年全县教育工作要点"
)
RULES = DocumentMeta(
    doc_id="rules", file="rules.txt", source_path="rules.txt", title="中小学生手机管理规定"
)
ITEMS = [
    (PLAN, "12.深化学校后勤管理改革。全面落实中小学校长陪餐制度，确保食品安全。推进校园足球特色"
     "学校建设，每校至少组建一支足球队。严格管理学生手机，手机由学校统一保管，禁止带入课堂。加强"
     "校舍安全隐患排查，及时消除危房。"),
    (PLAN, "13.加强中小学生网络素养教育，引导学生合理使用电子产品，防止沉迷网络游戏。"),
    (PLAN, "17.规范课堂教学管理，学生上课期间不得随意离开课堂，学校要加强课堂纪律教育。"),
    (RULES, "第三条 学生手机原则上不得带入课堂，确有需要的经家长同意后带入校园。"),
    (RULES, "第四条 学校应当设立公共电话，方便学生与家长联系。"),
]  # fmt: skip
REWORDED = "学生不能带手机进课堂，由学校集中保管"


@pytest.fixture(scope="module")
def retriever(open_items, embedding_cache_dir):
    r = open_items(ITEMS, Settings(cache_dir=embedding_cache_dir))  # chat: sentences off
    yield r
    r.close()


@pytest.mark.slow
def test_a_reworded_sentence_finds_the_long_item_that_says_it(retriever):
    found = find_precedents(retriever, REWORDED)
    assert found.exact == []
    assert found.similar[0].chunk.chunk_id == "plan:0"


@pytest.mark.slow
def test_similar_wordings_name_each_document_once_and_skip_exact_occurrences(retriever):
    found = find_precedents(retriever, "确有需要的经家长同意")
    assert [h.chunk.chunk_id for h in found.exact] == ["rules:3"]
    docs = [h.chunk.doc.doc_id for h in found.similar]
    assert len(docs) == len(set(docs))
    assert "rules:3" not in {h.chunk.chunk_id for h in found.similar}
