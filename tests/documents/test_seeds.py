"""The issue's done-when figures, checked on the five shipped seed documents themselves."""

from __future__ import annotations

import re

import pytest
from seedfiles import SEED_PREFIXES, seed_path

from assistant.text import normalize

# Lines of each seed that are page furniture, found by reading the files. None may survive.
BOILERPLATE = {
    "000": [],
    "001": [
        "• 时间:2023-04-19 11:13",
        "• 浏览次数:",
        "• 来源:庄浪县教育局",
        "• 字体: [ ] [ ] [ ]",
        "• 分享:",
        "扫一扫在手机打开当前页",
    ],
    "002": [
        "温馨提示:",
        "1. 部分包含数学公式或PPT动画的文件,查看预览时可能会显示错乱或异常,"
        "文件下载后无此问题,请放心下载。",
        "2. 本文档由用户上传,版权归属用户,汇文网负责整理代发布。"
        "如果您对本文档版权有争议请及时联系客服。",
        "3. 下载前请仔细阅读文档内容,确认文档内容符合您的需求后进行下载,"
        "若出现内容与标题不符可向本站投诉处理。",
        "4. 下载文档时可能由于网络波动等原因无法下载或下载错误,"
        "付费完成后未能成功下载的用户请联系客服处理。",
        "网站客服:3074922707",
        "2023",
        "教育局",
        "工作总结",
        "工作思路",
        "第7页 共7页",
    ],
    "003": [
        "本站小編為你精心準備了區委教育2013年工作要點參考范文,愿這些范文能點燃您思維的火花,激發您的寫作靈感。"
        "歡迎深入閱讀并收藏。"
    ],
    "004": [
        "咪咕作文迷小學作文 初中作文 高中作文",
        "保存到桌面",
        "手機版首頁\xa0>\xa0作文載體作文\xa0>\xa0話題作文 > 2024年教育局工作計劃(精選4篇)作文",
        "作者: | 閱讀: 6.33W 次",
        "本文地址:https://www.mgzwm.com/zuoweizaiti/huati/1422536.html",
        "• 標籤: 教育局 2024年教育局工作計劃 計劃 精選",
        "• 相關文章:",
        "版權聲明:",
        "1、本網站發佈的作文《2024年教育局工作計劃(精選4篇)作文》爲網友原創或整理,版權歸原作者所有,轉載請註明出處!",
        "2、本網站作文/文章《2024年教育局工作計劃(精選4篇)作文》僅代表作者本人的觀點,與本網站立場無關,作者文責自負。",
        "3、本網站一直無私爲全國中小學生提供大量優秀作文範文,免費幫同學們審覈作文,評改作文。"
        "對於不當轉載或引用本網內容而引起的民事紛爭、行政處理或其他損失,本網不承擔責任。",
        "CopyRight 咪咕作文迷 2012-2024 All Rights Reserved .版權所有",
        "免責聲明:本站所發表的作文版權歸作者所有,若轉載或者抄襲他人作品,帶來的一切後果與本站無關。"
        "若您發現本站存在您非授權的原創作品,請第一時間聯繫本站刪除!",
    ],
}
# Fragments of the furniture that must not appear anywhere in the cleaned text.
BOILERPLATE_FRAGMENTS = [
    "扫一扫",
    "浏览次数",
    "字体:",
    "温馨提示",
    "网站客服",
    "第7页",
    "本站小編",
    "閱讀: 6.33W",
    "本文地址",
    "標籤",
    "相關文章",
    "版權聲明",
    "CopyRight",
    "免責聲明",
    "咪咕作文迷小學作文",
    "保存到桌面",
    "手機版首頁",
]
# Title lines: kept once in the cleaned text as titles, not as chunk text.
TITLES = {
    "000": ["2023年工作计划、工作思路汇编(7篇)", "2023年教育工作要点"],
    "001": ["2023年全县教育工作要点"],
    "002": ["市教育体育局XX年工作总结及XX年工作思路"],
    "003": [],
    "004": ["2024年教育局工作計劃(精選4篇)作文", "2024年教育工作計劃"],
}


def raw_lines(prefix: str) -> list[str]:
    return [ln.strip() for ln in seed_path(prefix).read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("prefix", SEED_PREFIXES)
def test_chunk_text_is_the_exact_cleaned_text_and_normalized_for_search(
    prefix: str, seed_chunks, seed_clean
) -> None:
    chunks, cleaned = seed_chunks[prefix], seed_clean[prefix]
    assert chunks
    for c in chunks:
        assert cleaned.text[c.start : c.end] == c.text
        assert c.search_text == normalize(c.text)
        assert c.doc.file == seed_path(prefix).name
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.end <= b.start  # in text order, never overlapping


@pytest.mark.parametrize("prefix", SEED_PREFIXES)
def test_no_boilerplate_line_survives(prefix: str, seed_clean) -> None:
    cleaned = seed_clean[prefix]
    kept = {ln.text for ln in cleaned.lines}
    for junk in BOILERPLATE[prefix]:
        assert junk.strip() not in kept
    for fragment in BOILERPLATE_FRAGMENTS:
        assert fragment not in cleaned.text
    for title in TITLES[prefix]:
        assert [ln.text for ln in cleaned.lines].count(title) == 1  # duplicates removed


@pytest.mark.parametrize("prefix", SEED_PREFIXES)
def test_every_sentence_of_every_body_survives(prefix: str, seed_chunks) -> None:
    chunks = seed_chunks[prefix]
    texts = "\n".join(c.text for c in chunks)
    headings = {h for c in chunks for h in c.path}
    skip = {s.strip() for s in BOILERPLATE[prefix]} | set(TITLES[prefix])
    checked = 0
    for line in raw_lines(prefix):
        if not line or line in skip or re.match(r"^篇[一二三四]:", line):
            continue
        if line in headings:
            continue
        for sentence in re.split(r"(?<=[。！？；!?;])", line):
            if sentence.strip():
                assert sentence.strip() in texts, sentence
                checked += 1
    assert checked > 10


def items(chunks):
    return [c for c in chunks if c.label and c.part <= 1]


def test_001_gives_45_items_under_8_sections_with_their_paths(seed_chunks) -> None:
    chunks = seed_chunks["001"]
    got = items(chunks)
    assert [c.label for c in got] == [f"{n}." for n in range(1, 46)]
    sections = [ln for ln in raw_lines("001") if re.match(r"^[一二三四五六七八]、", ln)]
    assert len(sections) == 8
    # Item numbers under each section, read off the source.
    ranges = [(1, 4), (5, 10), (11, 12), (13, 15), (16, 20), (21, 29), (30, 39), (40, 45)]
    for section, (lo, hi) in zip(sections, ranges, strict=True):
        assert [c.label for c in got if c.path == (section,)] == [
            f"{n}." for n in range(lo, hi + 1)
        ]
    item22 = got[21]
    assert item22.path == ("六、推动全面育人有效落实,促进学生全面发展",)
    assert item22.text.startswith("22.严格落实“双减”政策。")
    lead = chunks[0]
    assert (lead.label, lead.path) == ("", ())
    assert lead.text.startswith("2023年是全面深入学习贯彻落实党的二十大精神的首要之年")


def test_001_metadata(seed_chunks) -> None:
    d = seed_chunks["001"][0].doc
    assert (d.title, d.year, d.region, d.region_withheld, d.level, d.issuer, d.date, d.script) == (
        "2023年全县教育工作要点",
        2023,
        "庄浪县",
        False,
        "县",
        "庄浪县教育局",
        "2023-04-19",
        "simplified",
    )


def test_004_gives_four_documents_with_their_own_items(seed_chunks) -> None:
    chunks = seed_chunks["004"]
    stem = seed_path("004").stem
    doc_ids = list(dict.fromkeys(c.doc.doc_id for c in chunks))
    assert doc_ids == [stem, f"{stem}#2", f"{stem}#3", f"{stem}#4"]
    by_doc = {d: [c for c in chunks if c.doc.doc_id == d] for d in doc_ids}
    cn = "一二三四五六七八九十"
    assert [c.label for c in items(by_doc[stem])] == [f"{x}、" for x in cn] + [
        "十一、",
        "十二、",
        "十三、",
    ]
    assert [c.label for c in items(by_doc[f"{stem}#2"])] == [f"{n}、" for n in range(1, 8)]
    assert [c.label for c in items(by_doc[f"{stem}#3"])] == [f"{n}、" for n in range(1, 6)]
    fourth = by_doc[f"{stem}#4"]
    assert [c.label for c in items(fourth)] == [f"({x})" for x in cn[:9]]
    assert fourth[0].label == "" and fourth[0].text.startswith("____教育繼續堅持")
    assert fourth[-1].path == ("2024年教育工作重點",)
    assert by_doc[f"{stem}#2"][0].text.startswith("1、全面提升教育系統黨建水平。")
    for d in doc_ids:
        meta = by_doc[d][0].doc
        assert meta.title == "2024年教育局工作計劃"
        assert (meta.year, meta.region, meta.region_withheld, meta.script) == (
            2024,
            None,
            True,
            "traditional",
        )
        assert meta.url == "https://www.mgzwm.com/zuoweizaiti/huati/1422536.html"
    assert [by_doc[d][0].doc.level for d in doc_ids] == ["市", "县", "县", "市"]


def test_003_unnumbered_headings_become_the_paths_of_their_items(seed_chunks) -> None:
    chunks = seed_chunks["003"]
    headings = [
        "貫徹落實黨的十八大精神,加強教育系統黨的建設",
        "以科學發展觀為指導,推進各級各類教育協調發展",
        "擴大優化教育資源,著力提高教育公共服務能力",
        "深入推進素質教育,促進學生健康全面發展",
        "加強教師隊伍建設,建設高素質教師隊伍",
    ]
    ranges = [(1, 4), (5, 9), (10, 12), (13, 16), (17, 19)]
    got = items(chunks)
    assert len(got) == 19
    for heading, (lo, hi) in zip(headings, ranges, strict=True):
        assert [c.label for c in got if c.path == (heading,)] == [
            f"{n}." for n in range(lo, hi + 1)
        ]
    d = chunks[0].doc
    assert (d.title, d.year, d.region, d.level, d.script) == (
        "區委教育2013年工作要點",
        2013,
        None,
        "区",
        "traditional",
    )
    assert chunks[0].label == "" and chunks[0].text.startswith("2013年教育工作的總體要求是")


def test_002_sections_with_one_shi_items_and_long_items_in_parts(seed_chunks) -> None:
    chunks = seed_chunks["002"]
    first = "一、2023年工作总结"
    second = "二、2023年工作思路"
    assert [c.label for c in items(chunks) if c.path == (first,)] == [
        "一是",
        "二是",
        "三是",
        "四是",
    ]
    assert [c.label for c in items(chunks) if c.path == (second,)] == [
        "一是",
        "二是",
        "四是",
        "五是",
        "六是",
        "六是",
    ]
    assert all(len(c.text) <= 500 for c in chunks)
    parts = [c.part for c in chunks if c.label == "二是" and c.path == (first,)]
    assert parts == [1, 2, 3]
    d = chunks[0].doc
    assert (d.title, d.year, d.region, d.region_withheld, d.level) == (
        "市教育体育局XX年工作总结及XX年工作思路",
        2023,
        None,
        True,
        "市",
    )


def test_000_collection_takes_the_article_title_and_its_sections(seed_chunks) -> None:
    chunks = seed_chunks["000"]
    got = items(chunks)
    assert [c.label for c in got] == [
        "(一)",
        "(二)",
        "(三)",
        "(四)",
        "(一)",
        "(二)",
        "(三)",
        "(一)",
        "(二)",
        "(三)",
        "(一)",
        "(二)",
        "(三)",
    ]
    assert got[0].path == ("一、深学笃行党的二十大精神,为教育高质量发展培根铸魂",)
    assert got[-1].path == ("四、完善教育服务体系,为教育高质量发展聚力攻坚",)
    d = chunks[0].doc
    assert (d.title, d.year, d.region, d.region_withheld, d.level) == (
        "2023年教育工作要点",
        2023,
        None,
        True,
        "区",
    )
