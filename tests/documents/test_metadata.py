"""Metadata rules: places and levels, withheld localities, national documents, year, title."""

from __future__ import annotations

import pytest

from assistant.documents.cleaning import PageMeta
from assistant.documents.metadata import build_meta, choose_title, find_place, short_name


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("庄浪县教育局", ("庄浪县", "县")),
        ("浙江省义务教育条例", ("浙江省", "省")),
        ("宁波市学校安全条例", ("宁波市", "市")),
        ("北京市学前教育条例", ("北京市", "省")),  # municipality: provincial level
        ("重庆市教育督导条例", ("重庆市", "省")),
        ("深圳经济特区学前教育条例", ("深圳市", "市")),
        ("焦作市中小学校幼儿园规划建设条例", ("焦作市", "市")),
        ("驻马店市人民代表大会常务委员会", ("驻马店市", "市")),
        ("廣州市教育局", ("廣州市", "市")),  # traditional characters keep their spelling
        ("2023年全县教育工作要点", None),
        ("市教育体育局XX年工作总结", None),
        ("区委教育2013年工作要点", None),
        ("学校体育工作条例", None),
        ("关于加强城市中小学管理的意见", None),
    ],
)
def test_find_place_reads_a_leading_place_name(text: str, place) -> None:
    assert find_place(text) == place


def meta(title: str, text: str = "", *, page: PageMeta | None = None, lead=(), law=False):
    return build_meta(
        doc_id="d",
        file="f.txt",
        source_path="f.txt",
        title=title,
        text=text,
        lead_lines=list(lead),
        page=page or PageMeta(),
        law_shaped=law,
    )


def test_issuer_names_the_locality() -> None:
    m = meta(
        "2023年全县教育工作要点", "全县教育工作……", page=PageMeta("2023-04-19", "庄浪县教育局")
    )
    assert (m.region, m.level, m.region_withheld, m.issuer, m.date, m.year) == (
        "庄浪县",
        "县",
        False,
        "庄浪县教育局",
        "2023-04-19",
        2023,
    )


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("xx区教育系统要以党的二十大精神为指引", "区"),
        ("编制XX市国家中小学教育质量综合评价改革指南", "市"),
        ("加快推进____市專門學校建設", "市"),
        ("建成____縣職業教育中心", "县"),
        ("某县教育局印发通知", "县"),
    ],
)
def test_placeholders_mean_withheld_not_invented(text: str, level: str) -> None:
    m = meta("2024年教育局工作计划", text + "，江门市、安庆市等地也有类似做法。")
    assert m.region is None  # never guessed from other place names in the body
    assert m.region_withheld is True
    assert m.level == level


def test_self_references_give_the_level_when_no_place_is_named() -> None:
    m = meta("區委教育2013年工作要點", "在全區教育系統掀起熱潮。推動我區民辦教育全面提升。")
    assert (m.region, m.region_withheld, m.level, m.script) == (None, False, "区", "traditional")


@pytest.mark.parametrize(
    ("title", "lead", "law", "issuer"),
    [
        (
            "中华人民共和国教育法",
            ["1995年3月18日 第八届全国人民代表大会第三次会议通过"],
            True,
            "全国人民代表大会",
        ),
        (
            "学校卫生工作条例",
            ["1990年6月4日 国家教育委员会令第10号、卫生部令第1号发布"],
            True,
            "国家教育委员会、卫生部",
        ),
        ("普通高等学校设置暂行条例", [], True, None),
        ("高等教育管理职责暂行规定", [], False, None),
    ],
)
def test_national_documents_are_region_全国_without_level(title, lead, law, issuer) -> None:
    m = meta(title, "第一条 为了……，制定本条例。", lead=lead, law=law)
    assert (m.region, m.level, m.region_withheld, m.issuer) == ("全国", None, False, issuer)


def test_local_law_issuer_date_and_year_from_its_promulgation_lines() -> None:
    lead = [
        "2001年6月22日 北京市第十一届人民代表大会常务委员会第二十七次会议通过",
        "2016年11月25日北京市第十四届人民代表大会常务委员会第三十一次会议修正",
    ]
    m = meta("北京市学前教育条例", "第一条 ……", lead=lead, law=True)
    assert (m.region, m.level) == ("北京市", "省")
    assert m.issuer == "北京市人民代表大会常务委员会"
    assert m.date == "2016-11-25"  # the latest version
    assert m.year == 2016


def test_file_name_date_and_year_fallbacks() -> None:
    m = build_meta(
        doc_id="d",
        file="教育法(2021-04-29).md",
        source_path="x/教育法(2021-04-29).md",
        title="中华人民共和国教育法",
        text="",
        lead_lines=[],
        page=PageMeta(),
        law_shaped=True,
    )
    assert (m.date, m.year) == ("2021-04-29", 2021)
    assert meta("市教育体育局XX年工作总结", "一、2023年工作总结\n一是……").year == 2023
    assert meta("2013年工作要点", "2023年……").year == 2013  # the title wins


def test_title_choice() -> None:
    assert choose_title("篇题", ["页面标题"], [None], "stem") == "篇题"
    assert (
        choose_title(None, ["2023年工作计划、工作思路汇编(7篇)", "2023年教育工作要点"], [], "s")
        == "2023年教育工作要点"
    )
    assert (
        choose_title(None, [], [None, "区委教育2013年工作要点"], "stem") == "区委教育2013年工作要点"
    )
    assert choose_title(None, [], [None], "stem") == "stem"


def test_a_regions_short_name_drops_its_administrative_suffix():
    assert short_name("洛阳市") == "洛阳"
    assert short_name("广西壮族自治区") == "广西壮族"
    assert short_name("恩施土家族苗族自治州") == "恩施土家族苗族"
    assert short_name("沙市") == "沙市"  # one character left: kept whole
    assert short_name("全国") == "全国"
