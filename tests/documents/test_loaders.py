"""Loading: file discovery, each file type, each text encoding, and each kind of bad file."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import pytest
from seedfiles import FIXTURES, seed_path

from assistant.documents.loaders import FileLimits, LoadError, discover, load


def body_lines(prefix: str, start: int, stop: int) -> str:
    return "\n".join(seed_path(prefix).read_text(encoding="utf-8").splitlines()[start:stop])


# --- discovery --------------------------------------------------------------------------------


def test_discover_walks_folders_recursively_sorted_supported_only(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    for rel in (
        "b/deep/z.md",
        "b/a.PDF",
        "a.txt",
        "c.docx",
        "notes.xlsx",
        ".git/x.txt",
        "b/.hidden.txt",
        "~$lock.docx",
        "page.htm",
    ):
        (tmp_path / rel).write_text("x", encoding="utf-8")
    found = discover([tmp_path])
    assert [s.rel for s in found] == ["a.txt", "b/a.PDF", "b/deep/z.md", "c.docx", "page.htm"]
    assert all(s.path == tmp_path / s.rel for s in found)


def test_discover_keeps_a_file_given_directly_even_if_unsupported_or_missing(
    tmp_path: Path,
) -> None:
    f = tmp_path / "sub" / "plan.txt"
    f.parent.mkdir()
    f.write_text("x", encoding="utf-8")
    other = tmp_path / "table.xlsx"
    other.write_text("x", encoding="utf-8")
    found = discover([f, other, tmp_path / "gone.txt", tmp_path])
    assert [s.rel for s in found] == ["plan.txt", "table.xlsx", "gone.txt"]  # no duplicate


# --- text encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "encoding", "expected"),
    [
        ("001", "utf-8", "utf-8"),
        ("001", "utf-8-sig", "utf-8-sig"),
        ("001", "gbk", "gb18030"),
        ("001", "gb18030", "gb18030"),
        ("003", "big5", "big5"),
        ("003", "gb18030", "gb18030"),  # traditional characters written in GB18030
    ],
)
def test_text_encodings_are_detected(
    tmp_path: Path, prefix: str, encoding: str, expected: str
) -> None:
    text = body_lines(prefix, 10, 30) if prefix == "001" else body_lines(prefix, 1, 20)
    f = tmp_path / "doc.txt"
    f.write_bytes(text.encode(encoding))
    loaded = load(f)
    assert loaded.text == text
    assert loaded.encoding == expected


@pytest.mark.parametrize("encoding", ["gbk", "big5"])
def test_short_gbk_and_big5_texts_are_not_confused(tmp_path: Path, encoding: str) -> None:
    # Short texts are where statistical detectors guess wrong; one line of a seed each.
    line = (body_lines("003", 3, 4) if encoding == "big5" else body_lines("001", 14, 15))[:16]
    f = tmp_path / "short.txt"
    f.write_bytes(line.encode(encoding))
    assert load(f).text == line


JAPANESE = "学校における働き方改革について、教員の長時間勤務を見直す必要があります。\n" * 3


@pytest.mark.parametrize("encoding", ["shift_jis", "euc_jp"])
def test_japanese_text_is_decoded_as_japanese_not_as_gb18030(tmp_path: Path, encoding: str) -> None:
    f = tmp_path / "jp.txt"
    f.write_bytes(JAPANESE.encode(encoding))
    loaded = load(f)
    assert loaded.text == JAPANESE and loaded.encoding == encoding


def test_text_that_decodes_only_as_garble_is_refused_with_the_reason(tmp_path: Path) -> None:
    # Kanji only, in Shift-JIS: no kana to recognise it by, and as GB18030 or Big5 it is garble.
    f = tmp_path / "kanji.txt"
    f.write_bytes(("教員長時間勤務見直必要。学校働方改革推進。\n" * 5).encode("shift_jis"))
    with pytest.raises(LoadError) as err:
        load(f)
    assert err.value.kind == "encoding"
    assert "garble" in err.value.reason and "are common Chinese ones" in err.value.reason
    assert "kanji.txt" in str(err.value)


def test_a_markdown_file_in_gbk_is_read(tmp_path: Path) -> None:
    f = tmp_path / "law.md"
    text = "# 某市教育条例\n\n第一条 为了发展教育事业，制定本条例。\n"
    f.write_bytes(text.encode("gbk"))
    assert load(f).text == text


# --- HTML -------------------------------------------------------------------------------------


def test_html_keeps_block_lines_and_drops_scripts_styles_and_navigation() -> None:
    loaded = load(FIXTURES / "repost.html")
    lines = [ln for ln in loaded.text.splitlines() if ln]
    assert loaded.title == "清水县2024年教育工作要点"
    assert "2.落实“双减”政策。规范课后服务，减轻学生作业负担。" in lines  # inline tags joined
    assert "二、推进均衡发展" in lines and "3.改善办学条件。新建幼儿园2所。" in lines  # <br>
    for gone in ("浏览次数统计", "广告", "font-size", "新闻中心"):
        assert gone not in loaded.text


# --- PDF --------------------------------------------------------------------------------------


def _pdf(path: Path, lines: list[str], *, blank_page_only: bool = False) -> Path:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    if blank_page_only:
        c.rect(100, 100, 300, 400, fill=1)  # a "scan": drawing, no text layer
    else:
        c.setFont("STSong-Light", 11)
        y = 800
        for line in lines:
            c.drawString(40, y, line)
            y -= 18
    c.showPage()
    c.save()
    return path


def test_pdf_text_is_extracted_and_wrapped_lines_are_rejoined(tmp_path: Path) -> None:
    lines = [
        "2023年全县教育工作要点",
        "一、坚持“一个统领”,加强党对教育事业的全面领导",
        "1.深入学习宣传贯彻党的二十大精神。将深入学习贯彻党的二十大精神作为全县教育",
        "系统思想政治理论学习宣传的统揽和主线。",
        "2.全面加强党的建设。贯彻落实《关于加强党的建设促进全县教育事业高质量发展的",
        "意见》,坚定不移加强党对教育工作的全面领导。",
    ]
    loaded = load(_pdf(tmp_path / "plan.pdf", lines))
    got = loaded.text.splitlines()
    assert got[:2] == lines[:2]
    assert lines[2] + lines[3] in got  # the page-width wrap is undone
    assert lines[4] + lines[5] in got
    assert loaded.wrapped


def test_pdf_without_text_layer_is_reported_as_scanned(tmp_path: Path) -> None:
    f = _pdf(tmp_path / "scan.pdf", [], blank_page_only=True)
    with pytest.raises(LoadError) as err:
        load(f)
    assert err.value.kind == "scanned_pdf"
    assert "scan.pdf" in str(err.value) and "text layer" in str(err.value)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_broken_pdf_is_reported_as_corrupt(tmp_path: Path, damage: str) -> None:
    good = _pdf(tmp_path / "good.pdf", ["第一条 测试文字。"]).read_bytes()
    data = good[: len(good) // 3] if damage == "truncated" else b"%PDF-1.4\n" + b"\x8f" * 500
    f = tmp_path / "broken.pdf"
    f.write_bytes(data)
    with pytest.raises(LoadError) as err:
        load(f)
    assert err.value.kind == "corrupt"
    assert "broken.pdf" in str(err.value)


def test_library_warnings_name_the_file_and_come_once_each(tmp_path: Path, caplog) -> None:
    from hostile import pdf_bytes

    f = tmp_path / "bad-xref.pdf"  # a wrong startxref pointer: pypdf recovers, with warnings
    f.write_bytes(pdf_bytes("Policy text").replace(b"startxref\n", b"startxref\n9"))
    with caplog.at_level(logging.WARNING):
        assert load(f).text.strip() == "Policy text"
    # (pytest also hooks the library's own logger; the terminal test is in tests/commands)
    messages = [r.getMessage() for r in caplog.records if r.name == "assistant.documents"]
    assert "warning: bad-xref.pdf: pypdf: incorrect startxref pointer(2)" in messages
    assert len(messages) == len(set(messages))


# --- DOCX -------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_are_read_in_order(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "某区2024年教育工作计划"
    d.add_paragraph("一、加强党的建设")
    d.add_paragraph("1.深化理论学习。组织全区教师开展专题学习。")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "项目"
    table.rows[0].cells[1].text = "新建幼儿园2所"
    d.add_paragraph("2.落实“双减”政策。")
    f = tmp_path / "plan.docx"
    d.save(str(f))
    loaded = load(f)
    assert loaded.text.splitlines() == [
        "一、加强党的建设",
        "1.深化理论学习。组织全区教师开展专题学习。",
        "项目 新建幼儿园2所",
        "2.落实“双减”政策。",
    ]
    assert loaded.title == "某区2024年教育工作计划"


def test_docx_that_is_not_a_zip_or_lacks_the_document_is_corrupt(tmp_path: Path) -> None:
    f = tmp_path / "fake.docx"
    f.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(LoadError) as err:
        load(f)
    assert err.value.kind == "corrupt"
    g = tmp_path / "hollow.docx"
    with zipfile.ZipFile(g, "w") as z:
        z.writestr("hello.txt", "no word document here")
    with pytest.raises(LoadError) as err:
        load(g)
    assert err.value.kind == "corrupt"


# --- bad files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "kind", "words"),
    [
        ("empty.txt", b"", "empty", "empty"),
        ("blank.md", "  \n\u3000\n\n".encode(), "empty", "blanks"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary", "NUL"),
        ("ctrl.txt", bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16]) * 50, "binary", "binary"),
        ("sheet.xlsx", b"whatever", "unsupported", ".xlsx"),
        ("noext", b"whatever", "unsupported", "no suffix"),
    ],
)
def test_bad_files_get_their_own_kind_and_a_message_naming_the_file(
    tmp_path: Path, name: str, content: bytes, kind: str, words: str
) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(LoadError) as err:
        load(f)
    assert err.value.kind == kind
    assert err.value.path == f
    assert name in str(err.value) and words in str(err.value)


def test_undecodable_text_is_an_encoding_error(tmp_path: Path) -> None:
    # Valid in none of UTF-8, GB18030 or Big5 (0x80 and 0xFF are never lead bytes).
    f = tmp_path / "latin.txt"
    f.write_bytes(b"caf\xe9 na\xefve r\xe9sum\xe9 \x80\xff" * 20)
    with pytest.raises(LoadError) as err:
        load(f)
    assert err.value.kind == "encoding"
    assert "latin.txt" in str(err.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as err:
        load(tmp_path / "gone.txt")
    assert err.value.kind == "not_found"
    with pytest.raises(LoadError) as err:
        load(tmp_path)
    assert err.value.kind == "unsupported"


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    f = tmp_path / "huge.txt"
    f.write_text("教育" * 1000, encoding="utf-8")
    with pytest.raises(LoadError) as err:
        load(f, FileLimits(max_file_bytes=1000))
    assert err.value.kind == "too_large"
    assert "huge.txt" in str(err.value) and "limit" in str(err.value)
