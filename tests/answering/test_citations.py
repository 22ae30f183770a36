from assistant.answering.citations import check_citations, parse_markers


def test_parse_markers_handles_bracket_styles_and_lists():
    assert parse_markers("甲[1]，乙【2】，丙[3, 4]，丁[5，6]，戊[1-3]。") == [
        1,
        2,
        3,
        4,
        5,
        6,
        1,
        2,
        3,
    ]


def test_valid_citations_are_kept_and_renumbered_in_order_of_use(shuangjian_hits):
    checked = check_citations("庄浪县严格落实双减[2]。另一地继续做好双减[1][2]。", shuangjian_hits)
    assert checked.text == "庄浪县严格落实双减[1]。另一地继续做好双减[2][1]。"
    assert [c.n for c in checked.citations] == [1, 2]
    # [1] now points to what the model called [2], and so on
    assert checked.citations[0].hit is shuangjian_hits[1]
    assert checked.citations[1].hit is shuangjian_hits[0]
    assert checked.removed == []


def test_citation_to_no_passage_is_removed_with_a_note(shuangjian_hits):
    checked = check_citations("落实双减[1]，并且全面推行某政策[9]。", shuangjian_hits)
    assert "[9]" not in checked.text.split("\n")[0]
    assert checked.text.startswith("落实双减[1]，并且全面推行某政策。")
    assert "[9]" in checked.text and "已删除" in checked.text
    assert checked.removed == [9]
    assert [c.hit for c in checked.citations] == [shuangjian_hits[0]]


def test_mixed_group_keeps_only_the_valid_number(shuangjian_hits):
    checked = check_citations("见[3, 7]。", shuangjian_hits)
    assert checked.text.startswith("见[1]。")
    assert checked.citations[0].hit is shuangjian_hits[2]
    assert checked.removed == [7]


def test_no_valid_marker_keeps_all_passages_as_sources(shuangjian_hits):
    checked = check_citations("文件没有涉及这个问题。", shuangjian_hits)
    assert checked.text == "文件没有涉及这个问题。"
    assert [c.n for c in checked.citations] == [1, 2, 3]
