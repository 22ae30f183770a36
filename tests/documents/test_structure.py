"""Structure: numbering families, nesting inferred per document, articles, unnumbered headings."""

from __future__ import annotations

import pytest

from assistant.documents.chunking import outline_spans
from assistant.documents.cleaning import clean
from assistant.documents.structure import (
    cn_to_int,
    parse_marker,
    parse_outline,
    path_text,
    split_articles,
)


@pytest.mark.parametrize(
    ("line", "family", "label", "ordinal"),
    [
        ("一、坚持“一个统领”", "cn_dun", "一、", 1),
        ("十一、坚持抓好教育领域综合改革。", "cn_dun", "十一、", 11),
        ("二十三、其他", "cn_dun", "二十三、", 23),
        ("一、 国家教育委员会在国务院的领导下", "cn_dun", "一、", 1),
        ("(一)深学精神赋能教育发展。", "paren_cn", "(一)", 1),
        ("（十二）直接管理少数高等学校。", "paren_cn", "（十二）", 12),
        ("22.严格落实“双减”政策。", "arabic_dot", "22.", 22),
        ("1000.第1000项工作要求", "arabic_dot", "1000.", 1000),
        ("12345、清单最后一项", "arabic_dun", "12345、", 12345),
        ("（1001）排查隐患", "paren_arabic", "（1001）", 1001),
        ("3．上述加固标准的确定", "arabic_dot", "3．", 3),
        ("1、全面提升教育系统黨建水平。", "arabic_dun", "1、", 1),
        ("(1)加强作业管理；", "paren_arabic", "(1)", 1),
        ("（2）加强睡眠管理；", "paren_arabic", "（2）", 2),
        ("1）规范办学", "arabic_paren", "1）", 1),
        ("③强化监督", "circled", "③", 3),
        ("一是提高标杆,深入推进教育改革。", "shi", "一是", 1),
        ("六是积极构建中小学办学行为治理体系。", "shi", "六是", 6),
        ("第一章 总则", "zhang", "第一章", 1),
        ("第十二章　附　　则", "zhang", "第十二章", 12),
        ("第一章总则", "zhang", "第一章", 1),
        ("第三节 普通程序", "jie", "第三节", 3),
        ("第二编 分则", "bian", "第二编", 2),
        ("第一百零五条 本法自公布之日起施行。", "tiao", "第一百零五条", 105),
        ("第二十九条　学校行使下列权利：", "tiao", "第二十九条", 29),
        ("篇一:2024年教育局工作計劃", "pian", "篇一", 1),
        ("第三篇 2024年工作要点", "pian", "第三篇", 3),
    ],
)
def test_each_numbering_family_is_recognised(
    line: str, family: str, label: str, ordinal: int
) -> None:
    m = parse_marker(line)
    assert m is not None
    assert (m.family, m.label, m.ordinal) == (family, label, ordinal)


@pytest.mark.parametrize(
    "line",
    [
        "1.5亿元用于改善办学条件。",  # a decimal, not item 1
        "2023.04.19 发布",  # a date
        "2023年是全面贯彻落实党的二十大精神的开局之年。",
        "第一条规定的情形除外。",  # "第一条" inside a sentence, no separator
        "第一节课后开展阅读活动，时间不少于二十分钟。",
        "一是否需要调整，由学校决定。",
        "是一项重要工作",
        "十四五规划",
    ],
)
def test_numbers_inside_sentences_are_not_items(line: str) -> None:
    assert parse_marker(line) is None


def test_chinese_numerals() -> None:
    assert [cn_to_int(s) for s in ("一", "十", "十一", "二十", "九十九", "一百零五", "两")] == [
        1,
        10,
        11,
        20,
        99,
        105,
        2,
    ]


def outline_of(text: str, **kw):
    cleaned = clean(text, **kw)
    return cleaned, parse_outline(cleaned.lines, has_title=kw.pop("has_title", False))


def spans_of(text: str, markdown: bool = False) -> list[tuple[tuple[str, ...], str, str]]:
    cleaned = clean(text, markdown=markdown)
    outline = parse_outline(cleaned.lines)
    return [
        (s.path, s.label, cleaned.text[s.start : s.end])
        for s in outline_spans(outline, cleaned.text)
    ]


def test_nesting_follows_first_appearance_not_a_fixed_ladder() -> None:
    # Arabic items outermost, Chinese sub-items inside: the reverse of the usual order.
    text = "\n".join(
        [
            "1.加强党的建设",
            "一、理论学习。组织专题学习。",
            "二、组织建设。规范支部设置。",
            "2.推进均衡发展",
            "一、改善条件。新建幼儿园。",
        ]
    )
    assert [(p, lab) for p, lab, _ in spans_of(text)] == [
        (("1.加强党的建设",), "一、"),
        (("1.加强党的建设",), "二、"),
        (("2.推进均衡发展",), "一、"),
    ]


FILLER = "继续加强教育评价理念宣传，积极推进配套举措，完善评价体系。" * 5


def test_one_shi_items_nest_in_sections_and_irregular_numbering_does_not_break() -> None:
    text = "\n".join(
        [
            "一、2023年工作总结",
            "一是提高标杆,深入推进教育改革。启动改革。",
            "二是立德树人,努力提升教育质量。加快发展。",
            "二、2023年工作思路",
            "2023年,将以立德树人为根本。重点做好以下几项工作:",
            "一是大力推进综合评价改革实验。" + FILLER,
            "四是着力加强教育内涵建设。" + FILLER,  # 三是 missing
            "六是加快建设现代职业教育体系。" + FILLER,
            "六是积极构建中小学办学行为治理体系。" + FILLER,  # 六是 twice
        ]
    )
    got = spans_of(text)
    assert [(p, lab) for p, lab, _ in got] == [
        (("一、2023年工作总结",), "一是"),
        (("一、2023年工作总结",), "二是"),
        ((), "二、"),  # the section's own introduction
        (("二、2023年工作思路",), "一是"),
        (("二、2023年工作思路",), "四是"),
        (("二、2023年工作思路",), "六是"),
        (("二、2023年工作思路",), "六是"),
    ]
    assert got[2][2] == "二、2023年工作思路\n2023年,将以立德树人为根本。重点做好以下几项工作:"


def test_three_levels_with_both_bracket_widths() -> None:
    text = "\n".join(
        [
            "一、深学笃行党的二十大精神",
            "(一)深学精神赋能教育发展。深入贯彻落实方案。",
            "（二）贯彻制度强化组织领导",
            "1.加强基层党组织建设。召开现场会。",
            "2.推动党建与业务融合。",
            "二、稳步扩充优质资源",
            "(一)加速推动教育项目落地。科学优化布局。",
        ]
    )
    assert [(p, lab) for p, lab, _ in spans_of(text)] == [
        (("一、深学笃行党的二十大精神",), "(一)"),
        (("一、深学笃行党的二十大精神", "（二）贯彻制度强化组织领导"), "1."),
        (("一、深学笃行党的二十大精神", "（二）贯彻制度强化组织领导"), "2."),
        (("二、稳步扩充优质资源",), "(一)"),
    ]


def test_unnumbered_headings_between_items_become_paths() -> None:
    text = "\n".join(
        [
            "2013年教育工作的總體要求是:深入學習貫徹落實黨的十八大精神,推動教育又好又快發展。",
            "貫徹落實黨的十八大精神,加強教育系統黨的建設",
            "1.學習貫徹黨的十八大精神。在全區教育系統掀起學習熱潮。",
            "2.切實轉變教育系統工作作風。開展教育實踐活動。",
            "以科學發展觀為指導,推進各級各類教育協調發展",
            "3.大力發展學前教育。加大公辦幼兒園建設力度。",
            "2024年教育工作重點",
            "貫徹落實省、市教育行動方案,不斷提升教育服務城鄉融合、區域協調發展的能力。",
        ]
    )
    assert [(p, lab) for p, lab, _ in spans_of(text)] == [
        ((), ""),
        (("貫徹落實黨的十八大精神,加強教育系統黨的建設",), "1."),
        (("貫徹落實黨的十八大精神,加強教育系統黨的建設",), "2."),
        (("以科學發展觀為指導,推進各級各類教育協調發展",), "3."),
        (("2024年教育工作重點",), ""),
    ]


def test_a_paragraph_broken_in_two_is_not_taken_for_a_heading() -> None:
    text = "\n".join(
        [
            "第十三条 经批准的专项规划，任何单位和个人不得擅自变更。",
            "因国家和省重大建设工程或者经评估确需变更的，应当按照",
            "法定程序报批、备案，并向社会公布。",
            "第十四条 本条例自公布之日起施行。",
        ]
    )
    got = spans_of(text)
    assert [(p, lab) for p, lab, _ in got] == [((), "第十三条"), ((), "第十四条")]
    assert got[0][2].endswith("应当按照\n法定程序报批、备案，并向社会公布。")


def test_law_chapters_sections_and_articles() -> None:
    text = "\n".join(
        [
            "# 某省教育条例",
            "",
            "2019年9月27日 某省第十三届人民代表大会常务委员会第十四次会议通过",
            "",
            "## 第一章 总则",
            "",
            "第一条 为了发展教育事业，制定本条例。",
            "",
            "第二条 学校行使下列权利：",
            "",
            "（一）按照章程自主管理；",
            "",
            "（二）组织实施教育教学活动。",
            "",
            "## 第二章 管理",
            "",
            "### 第一节 一般规定",
            "",  # 节 first appears after 条 were seen: still above 条
            "第三条 县级以上人民政府负责管理。",
            "",
            "### 第二节 监督",
            "",
            "第四条 教育督导机构依法实施督导。",
            "",
            "## 附则",
            "",
            "第五条 本条例自2020年1月1日起施行。",
        ]
    )
    cleaned = clean(text, markdown=True)
    outline = parse_outline(cleaned.lines)
    assert [ln.text for ln in outline.title_lines] == ["某省教育条例"]
    got = [(s.path, s.label) for s in outline_spans(outline, cleaned.text)]
    assert got == [
        ((), ""),  # the promulgation lines
        (("第一章 总则",), "第一条"),
        (("第一章 总则",), "第二条"),  # with its （一）（二） list: one chunk
        (("第二章 管理", "第一节 一般规定"), "第三条"),
        (("第二章 管理", "第二节 监督"), "第四条"),
        (("附则",), "第五条"),
    ]
    second = outline_spans(outline, cleaned.text)[2]
    assert cleaned.text[second.start : second.end].endswith("（二）组织实施教育教学活动。")


def test_a_long_list_item_is_split_into_its_entries_with_the_item_in_the_path() -> None:
    entries = [
        f"（{n}）{'按照国家有关规定组织实施相关工作并接受监督' * 3}；" for n in "一二三四五六七八"
    ]
    text = "\n".join(["第二十九条 学校及其他教育机构行使下列权利：", *entries])
    got = spans_of(text)
    assert got[0] == ((), "第二十九条", "第二十九条 学校及其他教育机构行使下列权利：")
    assert [lab for _, lab, _ in got[1:]] == [
        "（一）",
        "（二）",
        "（三）",
        "（四）",
        "（五）",
        "（六）",
        "（七）",
        "（八）",
    ]
    assert all(p == ("第二十九条 学校及其他教育机构行使下列权利",) for p, _, _ in got[1:])


def test_table_of_contents_lines_are_not_chunks() -> None:
    text = "\n".join(
        [
            "## 第一章 总则",
            "## 第二章 管理",
            "## 第一章 总则",
            "第一条 为了发展教育事业，制定本条例。",
            "## 第二章 管理",
            "第二条 县级以上人民政府负责管理。",
        ]
    )
    assert [(p, lab) for p, lab, _ in spans_of(text, markdown=True)] == [
        (("第一章 总则",), "第一条"),
        (("第二章 管理",), "第二条"),
    ]


def test_path_text_cuts_a_long_item_at_its_first_sentence() -> None:
    m = parse_marker("(一)深学精神赋能教育发展。深入贯彻落实“五学四讲三研”方案。")
    assert (
        path_text("(一)深学精神赋能教育发展。深入贯彻落实“五学四讲三研”方案。", m)
        == "(一)深学精神赋能教育发展"
    )
    heading = "六、推动全面育人有效落实,促进学生全面发展"
    assert path_text(heading, parse_marker(heading)) == heading


def test_articles_split_at_pian_markers_with_their_titles() -> None:
    cleaned = clean(
        "\n".join(
            [
                "2024年教育局工作計劃(精選4篇)作文",
                "篇一:2024年教育局工作計劃",
                "一、加強教育系統黨建工作。做好學習宣傳貫徹工作。",
                "篇二:2024年教育局工作計劃",
                "1、全面提升教育系統黨建水平。把學習作爲首要政治任務。",
            ]
        )
    )
    preamble, articles = split_articles(cleaned.lines)
    assert [ln.text for ln in preamble] == ["2024年教育局工作計劃(精選4篇)作文"]
    assert [(a.label, a.title) for a in articles] == [
        ("篇一", "2024年教育局工作計劃"),
        ("篇二", "2024年教育局工作計劃"),
    ]
    assert [ln.text for ln in articles[1].lines] == [
        "1、全面提升教育系統黨建水平。把學習作爲首要政治任務。"
    ]


def test_leading_title_and_subtitle_lines_are_titles_not_headings() -> None:
    cleaned = clean(
        "\n".join(
            [
                "2023年工作计划、工作思路汇编(7篇)",
                "2023年教育工作要点",
                "2023年是全面贯彻落实党的二十大精神的开局之年。",
                "一、深学笃行党的二十大精神",
                "(一)深学精神赋能教育发展。深入贯彻落实方案。",
            ]
        )
    )
    outline = parse_outline(cleaned.lines)
    assert [ln.text for ln in outline.title_lines] == [
        "2023年工作计划、工作思路汇编(7篇)",
        "2023年教育工作要点",
    ]
    assert [(s.path, s.label) for s in outline_spans(outline, cleaned.text)] == [
        ((), ""),
        (("一、深学笃行党的二十大精神",), "(一)"),
    ]
