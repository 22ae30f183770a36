"""Scans read by OCR: real page images rendered from seed text (simplified and traditional),
saved as an image-only PDF, PNG and JPEG (one turned 90°, one faint and skewed), then loaded,
chunked and indexed as a user's scans would be.

The generated files are OCR'd once per session (about 20–40 s a page on 2 shared cores); the
tests compare what came out with the text that was rendered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from scans import (
    PageText,
    accuracy,
    cjk_font,
    item,
    noise_page,
    render,
    save_pdf,
    seed_paragraphs,
)

from assistant.documents import ingest_file, loaders
from assistant.documents.loaders import LoadedText, LoadError
from assistant.documents.ocr import LineBox, OcrOptions, OcrProgress, layout_text, ocr_context
from assistant.records import Chunk

REPO = Path(__file__).resolve().parents[2]
MIN_ACCURACY = 0.97  # the bar for simplified scans of numbered items
# The recognition model's character set is mostly simplified: traditional characters outside
# it (黨 貫 統 …, about 5% of the traditional seed's characters) cannot be read at all.
MIN_ACCURACY_TRADITIONAL = 0.85


@dataclass
class Scan:
    path: Path
    pages: list[PageText]  # what was rendered, page by page (None for a page of noise)
    loaded: LoadedText | None = None
    chunks: list[Chunk] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return "\n".join(line for page in self.pages if page for line in page.lines)

    def text_version(self, tmp: Path) -> list[Chunk]:
        """The chunks of the same text given as a .txt file (what structure should come out)."""
        txt = tmp / f"{self.path.stem}.txt"
        txt.write_text(self.source, encoding="utf-8")
        return ingest_file(txt)


@pytest.fixture(scope="session")
def font() -> Path:
    found = cjk_font()
    if found is None:
        pytest.skip("no CJK font (fc-list :lang=zh lists none): apt-get install fonts-wqy-microhei")
    return found


@pytest.fixture(scope="session")
def scans(tmp_path_factory: pytest.TempPathFactory, font: Path) -> dict[str, Scan]:
    """The generated scans, each loaded (OCR'd) and chunked once."""
    folder = tmp_path_factory.mktemp("scans")
    s, t = seed_paragraphs("001"), seed_paragraphs("003")
    plan = [
        PageText((item(s, "一、"), item(s, "1."), item(s, "2.")), title="2023年全县教育工作要点"),
        PageText((item(s, "二、"), item(s, "5."), item(s, "6."), item(s, "7."))),
    ]
    notice = [PageText((t[2], item(t, "1."), item(t, "2."), item(t, "3."))), None]
    turned = [PageText((item(s, "三、"), item(s, "11."), item(s, "12.")))]
    faint = [PageText((item(s, "四、"), item(s, "13."), item(s, "14.")))]
    out = {
        "plan": Scan(save_pdf([render(p, font) for p in plan], folder / "plan.pdf"), plan),
        "notice": Scan(
            save_pdf([render(notice[0], font), noise_page()], folder / "notice.pdf"), notice
        ),
        "turned": Scan(folder / "turned.png", turned),
        "faint": Scan(folder / "faint.jpg", faint),
    }
    render(turned[0], font).rotate(-90, expand=True, fillcolor=255).save(out["turned"].path)
    page = render(faint[0], font, ink=140, paper=190).rotate(1.5, expand=True, fillcolor=190)
    page.convert("RGB").save(out["faint"].path, quality=85)
    for n, scan in enumerate(out.values(), 1):
        print(f"\n[ocr fixture {n}/{len(out)}] reading {scan.path.name}", file=sys.__stderr__)
        scan.loaded = loaders.load(scan.path)
        with pytest.MonkeyPatch.context() as mp:  # chunk the text just read, without OCR again
            mp.setattr("assistant.documents.load", lambda _p, _limits=None, got=scan.loaded: got)
            scan.chunks = ingest_file(scan.path, notes=scan.notes)
    return out


def test_image_only_pdf_gives_each_item_a_chunk_under_its_heading(scans, tmp_path):
    plan = scans["plan"]
    expected = plan.text_version(tmp_path)
    assert [c.label for c in plan.chunks] == [c.label for c in expected] == [
        "1.", "2.", "5.", "6.", "7.",
    ]  # fmt: skip
    for got, want in zip(plan.chunks, expected, strict=True):
        assert len(got.path) == len(want.path) == 1
        assert accuracy(got.path[0], want.path[0]) >= MIN_ACCURACY, (got.path, want.path)
    assert plan.chunks[0].doc.title == "2023年全县教育工作要点"
    assert all(c.ocr for c in plan.chunks)
    assert [c.page for c in plan.chunks] == [1, 1, 2, 2, 2]
    assert plan.notes == []


@pytest.mark.parametrize("name", ["plan", "turned", "faint"])
def test_simplified_scans_read_at_97_percent_characters(scans, name):
    scan = scans[name]
    got = accuracy(scan.loaded.text, scan.source)
    print(f"{scan.path.name}: character accuracy {got:.4f}")
    assert got >= MIN_ACCURACY


def test_turned_and_faint_pages_keep_their_items_in_order(scans):
    assert [c.label for c in scans["turned"].chunks] == ["11.", "12."]
    assert [c.label for c in scans["faint"].chunks] == ["13.", "14."]
    assert scans["turned"].chunks[0].path[0].startswith("三、")
    assert scans["faint"].chunks[0].path[0].startswith("四、")


def test_traditional_scan_keeps_structure_and_script(scans, tmp_path):
    notice = scans["notice"]
    expected = notice.text_version(tmp_path)
    assert [c.label for c in notice.chunks] == [c.label for c in expected] == ["1.", "2.", "3."]
    assert notice.chunks[0].doc.script == "traditional"
    got = accuracy(notice.loaded.text, notice.source)
    print(f"traditional page: character accuracy {got:.4f}")
    assert got >= MIN_ACCURACY_TRADITIONAL


def test_page_of_noise_is_reported_not_indexed(scans):
    notice = scans["notice"]
    assert {c.page for c in notice.chunks} == {1}
    assert [s.page for s in notice.loaded.ocr] == [1]
    assert len(notice.notes) == 1
    assert "notice.pdf" in notice.notes[0] and "page 2 not indexed" in notice.notes[0]


def test_scan_that_is_only_noise_fails_clearly(tmp_path):
    path = tmp_path / "smudge.png"
    noise_page(seed=3).save(path)
    with pytest.raises(LoadError) as err:
        loaders.load(path)
    assert err.value.kind == "scanned_image"
    assert "smudge.png" in str(err.value) and "no usable text" in str(err.value)


def _blank_then(page, path: Path) -> Path:
    from PIL import Image

    return save_pdf([Image.new("L", (620, 877), 255), page], path)


def test_page_limit_and_time_budget_are_reported(tmp_path, font):
    pdf = _blank_then(render(PageText(("1.第一项。",)), font), tmp_path / "long.pdf")
    with ocr_context(OcrOptions(max_pages=1, seconds_per_file=600, min_confidence=0.8)):
        with pytest.raises(LoadError) as err:
            loaders.load(pdf)
    assert err.value.kind == "scanned_pdf"
    assert "page 2" in str(err.value) and "page limit (1)" in str(err.value)
    with ocr_context(OcrOptions(max_pages=50, seconds_per_file=0, min_confidence=0.8)):
        with pytest.raises(LoadError) as err:
            loaders.load(pdf)
    assert "time budget" in str(err.value) and "pages 1–2" in str(err.value)


def test_progress_callback_hears_every_page(tmp_path):
    from PIL import Image

    blank = Image.new("L", (620, 877), 255)
    pdf = _blank_then(blank, tmp_path / "blank.pdf")
    events: list[OcrProgress] = []
    with ocr_context(progress=events.append), pytest.raises(LoadError):
        loaders.load(pdf)
    assert [(e.done, e.total, e.page) for e in events] == [(0, 2, None), (1, 2, 1), (2, 2, 2)]
    assert all(e.file == "blank.pdf" for e in events)


def test_scans_are_discovered_with_documents(tmp_path):
    for name in ("a.png", "b.JPG", "c.jpeg", "d.tif", "e.tiff", "f.gif"):
        (tmp_path / name).write_bytes(b"x")
    assert [s.rel for s in loaders.discover([tmp_path])] == [
        "a.png", "b.JPG", "c.jpeg", "d.tif", "e.tiff",
    ]  # fmt: skip


def test_broken_image_is_corrupt(tmp_path):
    path = tmp_path / "scan.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(LoadError) as err:
        loaders.load(path)
    assert err.value.kind == "corrupt" and "scan.jpg" in str(err.value)


def test_an_uploaded_photo_of_a_page_is_accepted(tmp_path, font):
    from PIL import Image, ImageDraw, ImageFont

    from assistant.documents.limits import FileLimits
    from assistant.uploads import check_upload, count_chunks

    img = Image.new("L", (900, 120), 255)
    line = "1.严格落实“双减”政策，减轻学生过重作业负担。"
    ImageDraw.Draw(img).text((30, 40), line, font=ImageFont.truetype(str(font), 30), fill=0)
    path = tmp_path / "upload.bin"
    img.save(path, format="PNG")
    check_upload(path, "拍照 通知.PNG", FileLimits())  # an accepted type and size
    assert count_chunks(path, "拍照 通知.PNG", FileLimits()) == 1


# --- reading order, on line boxes as the detector reports them --------------------------------


def box(text: str, x0: float, y0: float, x1: float | None = None) -> LineBox:
    return LineBox(text, 0.99, x0, y0, x0 + 30 * len(text) if x1 is None else x1, y0 + 30)


def test_wrapped_lines_join_and_indented_or_numbered_lines_start_paragraphs():
    boxes = [
        box("一、总体要求", 180, 100),
        box("1.第一项工作内容很长很长很长很长很长很长很长很长很长", 180, 150, 1120),
        box("继续第一项。", 120, 200),
        box("2.第二项。", 180, 250),
        box("3.第三项工作内容很长很长很长很长很长很长很长很长很长", 180, 300, 1120),
        box("4.这一行虽然顶格但以编号开头很长很长很长很长很长很长", 120, 350, 1120),
    ]
    assert layout_text(boxes).split("\n") == [
        "一、总体要求",
        "1.第一项工作内容很长很长很长很长很长很长很长很长很长继续第一项。",
        "2.第二项。",
        "3.第三项工作内容很长很长很长很长很长很长很长很长很长",
        "4.这一行虽然顶格但以编号开头很长很长很长很长很长很长",
    ]


def test_two_columns_are_read_column_by_column_under_a_full_width_title():
    boxes = [box("通知标题横跨两栏很长很长很长很长很长很长很长", 100, 50, 1100)]
    for k in range(4):
        boxes.append(box(f"左{k}", 100, 120 + 50 * k, 560))
        boxes.append(box(f"右{k}", 640, 120 + 50 * k, 1100))
    boxes.append(box("落款跨栏很长很长很长很长很长很长很长很长很长", 100, 340, 1100))
    lines = layout_text(boxes).split("\n")
    left = "".join(f"左{k}" for k in range(4))
    right = "".join(f"右{k}" for k in range(4))
    assert lines == [boxes[0].text, left, right, boxes[-1].text]


# --- the index and `assistant ask` --------------------------------------------------------------


@pytest.fixture(scope="session")
def scan_index(scans, tmp_path_factory, embedder) -> Path:
    """A real index of the OCR'd plan.pdf (built from the text read once above)."""
    from assistant.config import Settings
    from assistant.search.builder import build_index

    folder = tmp_path_factory.mktemp("scan-corpus")
    pdf = folder / "plan.pdf"
    pdf.write_bytes(scans["plan"].path.read_bytes())
    index = tmp_path_factory.mktemp("scan-index")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("assistant.documents.load", lambda _p, _limits=None: scans["plan"].loaded)
        report = build_index([folder], index, Settings(), embedder=embedder, progress=False)
    assert not report.failed and report.chunks == len(scans["plan"].chunks)
    return index


@pytest.mark.slow
def test_ask_answers_from_an_ocr_pdf_with_a_citation_marked_as_ocr(
    scan_index, embedding_cache_dir, tmp_path
):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ASSISTANT_LLM") and k != "ASSISTANT_CONFIG"
    }
    env |= {"ASSISTANT_CACHE_DIR": str(embedding_cache_dir), "PYTHONPATH": str(REPO)}
    question = "学校安全管理责任怎么落实"
    cmd = [sys.executable, "-m", "assistant", "ask", question, "--index-dir", str(scan_index)]
    done = subprocess.run(
        [*cmd, "--json"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["found"] is True
    top = data["citations"][0]
    assert top["file"] == "plan.pdf" and top["label"] == "5."
    assert top["ocr"] is True and top["page"] == 2
    readable = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path,
                              timeout=300)  # fmt: skip
    assert readable.returncode == 0, readable.stderr
    assert "plan.pdf  （OCR识别·第2页）" in readable.stdout
