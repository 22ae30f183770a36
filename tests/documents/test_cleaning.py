"""Cleaning: each kind of repost boilerplate goes, page facts become metadata, body stays."""

from __future__ import annotations

import pytest

from assistant.documents.cleaning import clean, fold

BODY = [
    "一、加强党的建设",
    "1.深化理论学习。组织全县教师开展专题学习，推动学习贯彻走深走实。",
    "2.落实“双减”政策。规范课后服务，减轻学生作业负担。",
]


def kept(text: str, **kw) -> list[str]:
    return [ln.text for ln in clean(text, **kw).lines]


def page(*around: str, after: tuple[str, ...] = ()) -> str:
    return "\n".join([*around, *BODY, *after])


@pytest.mark.parametrize(
    "junk",
    [
        "扫一扫在手机打开当前页",
        "掃一掃在手機打開當前頁",
        "第7页 共7页",
        "第 3 頁，共 12 頁",
        "- 3 -",
        "保存到桌面",
        "【打印本页】【关闭窗口】",
        "[ 打印 ] [ 关闭 ]",
        "分享到：微信 微博 QQ空间",
        "手机版首页 > 作文载体作文 > 话题作文 > 2024年教育局工作计划",
        "当前位置：首页 > 通知公告",
        "• 标签: 教育局 工作计划 精选",
        "關鍵詞：教育 工作要點",
        "CopyRight 某某网 2012-2024 All Rights Reserved .版权所有",
        "Copyright © 2024 某县教育局",
        "上一篇：2022年教育工作总结",
        "网站客服:3074922707",
        "https://www.example.com/a/1.html",
    ],
)
def test_a_boilerplate_line_is_removed_wherever_it_stands(junk: str) -> None:
    for text in (page(junk), page(after=(junk,)), "\n".join([*BODY[:2], junk, BODY[2]])):
        result = clean(text)
        assert [ln.text for ln in result.lines] == BODY
        assert junk.strip() in result.removed


def test_notice_blocks_go_with_their_numbered_lines_but_items_after_them_stay() -> None:
    text = page(
        "温馨提示:",
        "1. 部分文件查看预览时可能会显示错乱,文件下载后无此问题,请放心下载。",
        "2. 本文档由用户上传,版权归属用户,如有争议请联系客服。",
        "",
        after=(
            "",
            "版權聲明:",
            "",
            "1、本網站發佈的作文爲網友原創或整理,版權歸原作者所有,轉載請註明出處!",
            "2、本網站作文僅代表作者本人的觀點,與本網站立場無關,作者文責自負。",
            "免責聲明:本站所發表的作文版權歸作者所有,若您發現侵權請聯繫本站刪除!",
        ),
    )
    assert kept(text) == BODY


def test_related_articles_list_is_removed_up_to_the_next_real_line() -> None:
    text = page(
        after=(
            "相关文章:",
            "2023年教育局工作总结",
            "2022年学校工作计划",
            "免责声明：本站不承担责任",
        )
    )
    assert kept(text) == BODY


def test_page_widgets_become_metadata() -> None:
    text = page(
        "2023年全县教育工作要点",
        "  • 时间:2023-04-19 11:13",
        "  • 浏览次数:",
        "  • 来源:庄浪县教育局",
        "  • 字体: [ ] [ ] [ ]",
        "  • 分享:",
        " 作者: | 閱讀: 6.33W 次",
        after=("本文地址:https://www.example.com/zuowen/1422536.html",),
    )
    result = clean(text)
    assert [ln.text for ln in result.lines] == ["2023年全县教育工作要点", *BODY]
    assert result.meta.date == "2023-04-19"
    assert result.meta.issuer == "庄浪县教育局"
    assert result.meta.url == "https://www.example.com/zuowen/1422536.html"


def test_a_date_line_inside_the_body_is_body_not_metadata() -> None:
    # "时间：" in the middle of a document is content (e.g. a meeting notice), not a widget.
    text = page(after=("时间：2024年3月5日上午9时", "3.做好会议保障。按时报送材料。"))
    result = clean(text)
    assert "时间：2024年3月5日上午9时" in [ln.text for ln in result.lines]
    assert result.meta.date is None


def test_stray_keyword_lines_and_site_navigation_before_the_title_go() -> None:
    text = page(
        "咪咕作文迷小学作文 初中作文 高中作文",
        "2023",
        "教育局",
        "工作总结",
        "工作思路",
        "市教育体育局工作总结及工作思路",
    )
    assert kept(text) == ["市教育体育局工作总结及工作思路", *BODY]


def test_duplicated_titles_are_removed_but_repeated_section_names_in_a_law_stay() -> None:
    text = "\n".join(
        [
            "2023年工作计划汇编(7篇)",
            "2023年工作计划汇编(7篇)",
            "2023年教育工作要点",
            "2023年教育工作要点",
            *BODY,
            "篇二:2024年教育工作计划",
            "2024年教育工作计划",
            "2023年工作计划汇编(7篇)",
            *BODY,
        ]
    )
    assert kept(text) == [
        "2023年工作计划汇编(7篇)",
        "2023年教育工作要点",
        *BODY,
        "篇二:2024年教育工作计划",
        *BODY,
    ]
    law = (
        "# 某省条例\n\n## 第一章 总则\n\n### 第一节 一般规定\n\n第一条 为了……，制定本条例。\n\n"
        "## 第二章 管理\n\n### 第一节 一般规定\n\n第二条 本条例适用于……。\n"
    )
    assert kept(law, markdown=True).count("第一节 一般规定") == 2


def test_promo_sentence_goes_and_names_the_title() -> None:
    text = (
        "本站小編為你精心準備了區委教育2013年工作要點參考范文,愿這些范文能點燃您思維的火花。歡迎深入閱讀并收藏。\n"
        + "\n".join(BODY)
    )
    result = clean(text)
    assert [ln.text for ln in result.lines] == BODY
    assert result.meta.title_hint == "區委教育2013年工作要點"


def test_body_lines_mentioning_websites_or_downloads_are_kept() -> None:
    body = [
        "第十条 网络产品和服务提供者应当在显著位置设置便捷的投诉、举报入口。",
        "第十一条 学校应当指导学生正确下载、使用学习类应用程序，不得转载违法信息。",
    ]
    assert kept("\n".join(body)) == body


def test_markdown_comments_headings_and_front_matter() -> None:
    text = (
        "---\ntitle: 某市学前教育条例\n---\n# 某市学前教育条例\n\n"
        "2011年1月1日 通过\n\n<!-- INFO END -->\n\n"
        "## 第一章　总　　则\n\n第一条 为了促进学前教育，制定本条例。\n"
    )
    result = clean(text, markdown=True)
    assert [(ln.text, ln.heading_level) for ln in result.lines] == [
        ("某市学前教育条例", 1),
        ("2011年1月1日 通过", 0),
        ("第一章　总　　则", 2),
        ("第一条 为了促进学前教育，制定本条例。", 0),
    ]
    assert result.meta.title_hint == "某市学前教育条例"


def test_offsets_index_the_cleaned_text_and_paragraph_breaks_are_kept() -> None:
    text = "\r\n".join(
        ["扫一扫", "  一、标题  ", "", "", "正文第一段。", "正文第二段。", "第1页 共1页"]
    )
    result = clean(text)
    assert result.text == "一、标题\n\n正文第一段。\n正文第二段。"
    for ln in result.lines:
        assert result.text[ln.start : ln.end] == ln.text


def test_fold_keeps_length_and_maps_traditional_and_full_width() -> None:
    s = "掃一掃ＡＢＣ１２３　關鍵詞"
    assert fold(s) == "扫一扫abc123 关键词"
    assert len(fold(s)) == len(s)
