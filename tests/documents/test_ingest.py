"""ingest()/ingest_file(): a mixed folder of good and bad files, never stopped by one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from seedfiles import FIXTURES, REGULATIONS, seed_path

from assistant.documents import LoadError, clean_file, ingest, ingest_file


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "plans").mkdir(parents=True)
    shutil.copy(seed_path("001"), root / "plans" / "001.txt")
    big5 = "\n".join(seed_path("003").read_text(encoding="utf-8").splitlines()[1:10])
    (root / "plans" / "003_big5.txt").write_bytes(big5.encode("big5"))
    shutil.copy(FIXTURES / "repost.html", root / "page.html")
    (root / "empty.md").write_bytes(b"")
    (root / "photo.txt").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" * 30)
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<")
    (root / "only_widgets.txt").write_text(
        "扫一扫在手机打开当前页\n第1页 共1页\n", encoding="utf-8"
    )
    return root


def test_ingest_reads_the_good_files_and_reports_each_bad_one(mixed_folder: Path) -> None:
    report = ingest([mixed_folder])
    assert report.files == 7
    by_name = {Path(f.path).name: f for f in report.failures}
    assert {n: f.kind for n, f in by_name.items()} == {
        "empty.md": "empty",
        "photo.txt": "binary",
        "broken.pdf": "corrupt",
        "only_widgets.txt": "empty",
    }
    for name, failure in by_name.items():
        assert name in failure.message
    assert report.failure_kinds() == {"empty": 2, "binary": 1, "corrupt": 1}
    files = {c.doc.source_path for c in report.chunks}
    assert files == {"plans/001.txt", "plans/003_big5.txt", "page.html"}
    big5 = [c for c in report.chunks if c.doc.file == "003_big5.txt"]
    assert big5[1].text.startswith("1.學習貫徹黨的十八大精神。")
    assert big5[0].doc.script == "traditional"


def test_a_missing_or_unsupported_path_given_directly_is_a_failure(tmp_path: Path) -> None:
    xlsx = tmp_path / "table.xlsx"
    xlsx.write_bytes(b"PK")
    report = ingest([tmp_path / "nope.txt", xlsx, seed_path("003")])
    assert [(Path(f.path).name, f.kind) for f in report.failures] == [
        ("nope.txt", "not_found"),
        ("table.xlsx", "unsupported"),
    ]
    assert report.files == 3 and report.chunks


def test_html_repost_becomes_structured_chunks_with_page_metadata() -> None:
    chunks = ingest_file(FIXTURES / "repost.html", "news/repost.html")
    d = chunks[0].doc
    assert (d.title, d.region, d.level, d.issuer, d.date, d.year, d.source_path) == (
        "清水县2024年教育工作要点",
        "清水县",
        "县",
        "清水县教育局",
        "2024-03-05",
        2024,
        "news/repost.html",
    )
    assert [(c.path, c.label) for c in chunks] == [
        ((), ""),
        (("一、加强党的建设",), "1."),
        (("一、加强党的建设",), "2."),
        (("二、推进均衡发展",), "3."),
    ]
    assert chunks[2].text == "2.落实“双减”政策。规范课后服务，减轻学生作业负担。"
    text = clean_file(FIXTURES / "repost.html").text
    for junk in ("首页", "分享到", "打印本页", "版权所有", "浏览次数"):
        assert junk not in text


def test_pdf_and_docx_files_become_chunks(tmp_path: Path) -> None:
    import docx
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    lines = [
        "某区2024年教育工作计划",
        "一、加强党的建设",
        "1.深化理论学习。组织全区教师开展专题学习。",
        "2.落实“双减”政策。规范课后服务。",
    ]
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(tmp_path / "plan.pdf"))
    c.setFont("STSong-Light", 12)
    for n, line in enumerate(lines):
        c.drawString(50, 780 - 20 * n, line)
    c.showPage()
    c.save()
    d = docx.Document()
    for line in lines:
        d.add_paragraph(line)
    d.save(str(tmp_path / "plan.docx"))
    for name in ("plan.pdf", "plan.docx"):
        chunks = ingest_file(tmp_path / name)
        assert [(c.path, c.label, c.text) for c in chunks] == [
            (("一、加强党的建设",), "1.", lines[2]),
            (("一、加强党的建设",), "2.", lines[3]),
        ]
        assert chunks[0].doc.title == "某区2024年教育工作计划"
        assert (chunks[0].doc.region, chunks[0].doc.region_withheld, chunks[0].doc.level) == (
            None,
            True,
            "区",
        )


def test_regulation_markdown_is_chunked_by_article_with_chapter_paths() -> None:
    path = REGULATIONS / "national" / "行政法" / "教育法(2021-04-29).md"
    chunks = ingest_file(path, "national/行政法/教育法(2021-04-29).md")
    d = chunks[0].doc
    assert (d.title, d.region, d.level, d.year, d.date) == (
        "中华人民共和国教育法",
        "全国",
        None,
        2021,
        "2021-04-29",
    )
    arts = [c for c in chunks if c.label.endswith("条") and c.part <= 1]
    assert len(arts) == 86  # 第一条 … 第八十六条
    assert arts[0].path == ("第一章 总则",)
    art29 = next(c for c in arts if c.label == "第二十九条")
    assert art29.path == ("第三章 学校及其他教育机构",)
    assert (
        "（一）按照章程自主管理" in art29.text and "（九）法律、法规规定的其他权利。" in art29.text
    )


def test_ingest_file_raises_load_error_for_a_bad_file(tmp_path: Path) -> None:
    f = tmp_path / "zero.txt"
    f.write_bytes(b"")
    with pytest.raises(LoadError):
        ingest_file(f)


def test_doc_ids_are_stems_and_numbered_articles(tmp_path: Path) -> None:
    f = tmp_path / "plans.txt"
    f.write_text(
        "\n".join(
            [
                "汇编",
                "篇一:甲县工作计划",
                "1、加强党建。做好学习。",
                "篇二:乙县工作计划",
                "1、推进改革。深化改革。",
            ]
        ),
        encoding="utf-8",
    )
    chunks = ingest_file(f)
    assert [c.chunk_id for c in chunks] == ["plans:0", "plans#2:0"]
    assert [c.doc.title for c in chunks] == ["甲县工作计划", "乙县工作计划"]


def test_a_collection_without_pian_markers_splits_where_a_titled_article_restarts(
    tmp_path: Path,
) -> None:
    f = tmp_path / "huibian.txt"
    f.write_text(
        "\n".join(
            [
                "2023年工作计划、工作思路汇编(7篇)",
                "2023年教育工作要点",
                "2023年是开局之年,xx区教育系统要以党的二十大精神为指引。",
                "一、深学笃行党的二十大精神",
                "(一)深学精神赋能教育发展。深入贯彻落实方案。",
                "二、稳步扩充优质资源",
                "(一)加速推动教育项目落地。科学优化布局。",
                "2023年学校工作计划",
                "本学期学校工作以提高质量为中心,全面落实立德树人根本任务。",
                "一、加强师德师风建设",
                "(一)开展师德专题教育。组织教师学习。",
            ]
        ),
        encoding="utf-8",
    )
    chunks = ingest_file(f)
    docs = list(dict.fromkeys((c.doc.doc_id, c.doc.title) for c in chunks))
    assert docs == [("huibian", "2023年教育工作要点"), ("huibian#2", "2023年学校工作计划")]
    second = [c for c in chunks if c.doc.doc_id == "huibian#2"]
    assert [(c.path, c.label) for c in second] == [((), ""), (("一、加强师德师风建设",), "(一)")]


def test_a_one_line_note_is_a_document_not_an_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "note.txt"
    f.write_text("关于暂停校外培训的通知\n", encoding="utf-8")
    (chunk,) = ingest_file(f)
    assert (chunk.text, chunk.doc.title, chunk.label) == (
        "关于暂停校外培训的通知",
        "关于暂停校外培训的通知",
        "",
    )
