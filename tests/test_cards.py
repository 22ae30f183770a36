"""Citation cards and precedent results: highlighted, escaped, openable, with their source."""

from __future__ import annotations

from assistant.answering.terms import query_terms
from assistant.cards import citation_cards, highlight, precedent_results
from assistant.records import Chunk, Citation, DocumentMeta, Hit

DOC = DocumentMeta(
    doc_id="004_x#2",
    file="004_x.txt",
    source_path="work_plans/004_x.txt",
    title="2024年教育局工作計劃",
    year=2024,
    region_withheld=True,
    script="traditional",
)
TEXT = "4、全面激發教育事業發展內生動力。不斷鞏固“雙減”政策落實成效，落實五項管理。"


def hit(text: str = TEXT) -> Hit:
    chunk = Chunk(
        chunk_id="004_x#2:3",
        doc=DOC,
        path=("一、主要工作",),
        label="4、",
        text=text,
        start=0,
        end=len(text),
    )
    return Hit(chunk=chunk, score=0.03, ranks={"dense": 1, "bm25": 2})


def test_highlight_marks_simplified_terms_in_traditional_text():
    out = highlight("不斷鞏固“雙減”政策", query_terms("落实双减"))
    assert out == "不斷鞏固“<mark>雙減</mark>”政策"


def test_highlight_escapes_document_markup():
    out = highlight("<script>alert(1)</script>双减", query_terms("双减"))
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert out.endswith("<mark>双减</mark>")


def test_citation_card_shows_source_and_full_passage_on_opening():
    html = citation_cards([Citation(n=2, hit=hit())], query_terms("各地如何落实双减"))
    assert 'id="cite-2"' in html and "[2]" in html
    assert "《2024年教育局工作計劃》" in html
    assert "（地区未具名） · 2024" in html and "第2篇" in html
    assert "一、主要工作 › 4、" in html
    summary, _, body = html.partition("</summary>")
    assert "<mark>雙減</mark>" in summary  # the answer-bearing sentence, highlighted
    assert "全面激發教育事業發展內生動力" not in summary  # …not the whole item
    assert "全面激發教育事業發展內生動力" in body  # the full passage when opened
    assert "来源文件：work_plans/004_x.txt" in body


def test_no_citations_says_so():
    assert "没有引用的段落" in citation_cards([], [])


def test_precedent_results_have_sources_and_copy_buttons():
    html = precedent_results([hit()], [], query_terms("鞏固雙減成效"))
    assert 'id="precedent-exact"' in html and "没有文件包含这段原文" in html
    assert 'id="precedent-semantic"' in html and 'data-doc="004_x#2"' in html
    assert 'class="copy-btn"' in html and 'data-copy="不斷鞏固“雙減”政策落實成效，' in html
    assert "work_plans/004_x.txt" in html


def test_card_of_an_ocr_passage_says_so_with_its_page():
    import dataclasses

    scanned = Hit(chunk=dataclasses.replace(hit().chunk, ocr=True, page=3), score=0.03)
    terms = query_terms("落实双减")
    card = citation_cards([Citation(n=1, hit=scanned)], terms)
    assert "OCR识别·第3页" in card
    assert "OCR" not in citation_cards([Citation(n=1, hit=hit())], terms)
    assert "OCR识别·第3页" in precedent_results([scanned], [], terms)
