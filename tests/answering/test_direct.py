"""The direct first sentence of an extractive answer."""

import pytest
from answer_records import ZHUANGLANG, make_chunk, make_hit

from assistant.answering.direct import direct_sentence, opening_line
from assistant.answering.question_form import is_yes_no
from assistant.answering.terms import query_terms
from assistant.records import DocumentMeta, Version

LAW = DocumentMeta(
    doc_id="teachers", file="教师法.md", source_path="law/教师法.md", title="中华人民共和国教师法",
    region="全国",
    version=Version(edition="2009", current=True, current_doc_id="teachers", current_edition="2009",
                    editions=("1993", "2009"), note="（2009年版，现行版本）"),
)  # fmt: skip


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [("老师可以打学生吗", True), ("学校能不能收补课费？", True), ("教师资格如何认定", False)],
)
def test_yes_no_questions_are_recognised(question, yes_no):
    assert is_yes_no(question) is yes_no


def test_a_yes_no_question_opens_with_the_provision_that_forbids():
    hits = [
        make_hit(make_chunk(ZHUANGLANG, "加强学生管理。教师和学生共同维护课堂秩序。"), 1),
        make_hit(
            make_chunk(
                LAW, "第三十七条 教师不得体罚学生，经教育不改的，予以解聘。", label="第三十七条"
            ),
            2,
        ),
    ]
    question = "老师可以体罚学生吗"
    direct = direct_sentence(question, query_terms(question), hits)
    assert direct.sentence == "教师不得体罚学生，经教育不改的，予以解聘。"
    assert direct.hit is hits[1]
    assert opening_line(direct, 2) == (
        "直接依据：《中华人民共和国教师法》（2009年版，现行版本）第三十七条："
        "教师不得体罚学生，经教育不改的，予以解聘。[2]"
    )


def test_a_figure_question_opens_with_the_sentence_that_states_the_figure():
    text = "学校应当重视学生每天的体育锻炼时间。保证学生每天体育锻炼时间不少于一小时。"
    hit = make_hit(make_chunk(ZHUANGLANG, text), 1)
    question = "学生每天体育锻炼时间是多少"
    assert direct_sentence(question, query_terms(question), [hit]).sentence == (
        "保证学生每天体育锻炼时间不少于一小时。"
    )


def test_other_questions_open_with_the_sentence_carrying_their_terms():
    hit = make_hit(make_chunk(ZHUANGLANG, "一、总体要求。持续加强校外培训治理，规范培训机构。"), 1)
    question = "校外培训怎么治理"
    assert direct_sentence(question, query_terms(question), [hit]).sentence == (
        "持续加强校外培训治理，规范培训机构。"
    )


def test_the_reader_s_window_opens_the_answer_when_its_passage_is_evidence():
    hits = [
        make_hit(make_chunk(ZHUANGLANG, "加强学生管理。教师和学生共同维护课堂秩序。"), 1),
        make_hit(
            make_chunk(
                LAW,
                "第三十七条 教师应当关心学生。教师不得体罚学生，经教育不改的，予以解聘。",
                label="第三十七条",
            ),
            2,
        ),
    ]
    question = "老师能不能打学生手心"
    window = (
        hits[1].chunk.chunk_id,
        "第三十七条 教师应当关心学生。教师不得体罚学生，经教育不改的，予以解聘。",
    )
    direct = direct_sentence(question, query_terms(question), hits, window)
    assert direct.hit is hits[1]
    assert direct.sentence == "教师应当关心学生。教师不得体罚学生，经教育不改的，予以解聘。"


def test_a_reader_window_from_a_passage_not_in_the_evidence_is_not_used():
    hit = make_hit(make_chunk(ZHUANGLANG, "一、总体要求。持续加强校外培训治理，规范培训机构。"), 1)
    question = "校外培训怎么治理"
    direct = direct_sentence(question, query_terms(question), [hit], ("other:7", "别的句子。"))
    assert direct.sentence == "持续加强校外培训治理，规范培训机构。"
