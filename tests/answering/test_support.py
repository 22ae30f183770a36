"""Generated answers checked against their passages: substance, and support of each claim."""

from answer_records import ZHUANGLANG, make_chunk, make_hit
from fake_openai import MARKERS_ONLY

from assistant.answering.support import (
    UNVERIFIED,
    check_support,
    claims,
    join_marker_ranges,
    substantive,
    support,
)

PASSAGES = [
    "严禁在课后服务时间开展集体教学、上新课。",
    "加强校车安全管理，每学期开展不少于两次校车安全演练。",
    "学校食堂实行每日跟进、每周检查、每月评估、每学期考核。",
    "教师应当关心爱护学生，不得体罚或者变相体罚学生。",
    "义务教育学校不得向学生收取学费、杂费。",
    "幼儿园不得教授小学阶段的教育内容。",
    "学校应当建立学生体质健康监测制度。",
    "县教育局统一组织中小学教师培训。",
]
HITS = [make_hit(make_chunk(ZHUANGLANG, t, ordinal=i), i) for i, t in enumerate(PASSAGES, 1)]


def test_markers_only_or_a_fragment_is_not_an_answer():
    assert not substantive(MARKERS_ONLY)
    assert not substantive("")
    assert not substantive("见[1]。")
    assert substantive("教师不得体罚学生[4]。")


def test_a_range_written_as_two_markers_is_one_range():
    assert join_marker_ranges("内容[4]–[8]。") == "内容[4-8]。"
    assert join_marker_ranges("内容[2]至[3]") == "内容[2-3]"


def test_claims_are_cut_after_each_citation():
    assert claims("甲乙丙丁[1]，戊己庚辛[2]。壬癸子丑。[3]") == [
        "甲乙丙丁[1]",
        "，戊己庚辛[2]。",
        "壬癸子丑。[3]",
    ]


def test_support_is_the_share_of_the_claims_bigrams_found_in_the_passage():
    assert support("不得体罚或者变相体罚学生[4]", PASSAGES[3]) == 1.0
    assert support("教师不得体罚学生", PASSAGES[3]) == 6 / 7  # all but 师不
    assert support("教师不得体罚学生", PASSAGES[0]) < 0.2


def test_passage_three_copied_but_cited_as_four_to_eight_is_cited_as_three():
    checked = check_support(PASSAGES[2] + "[4]–[8]", HITS)
    assert checked.text == PASSAGES[2] + "[3]"
    assert checked.moved == [([4, 5, 6, 7, 8], 3)]
    assert checked.unverified == []


def test_a_claim_no_passage_supports_is_marked_and_a_supported_one_left_alone():
    text = "教师不得体罚学生[4]，全省已全面取消中考[2]。"
    checked = check_support(text, HITS)
    assert checked.text == f"教师不得体罚学生[4]，全省已全面取消中考[2]{UNVERIFIED}。"
    assert checked.unverified == [[2]] and checked.moved == []
