"""Offline OCR of page images: text in reading order, one paragraph a line, with confidence.

The engine is RapidOCR (PP-OCRv4 Chinese text detection and recognition on ONNX Runtime; the
models ship inside the ``rapidocr-onnxruntime`` wheel, nothing is downloaded). A page is read
in three steps:

1. Orientation: text lines are detected and each line's shape (tall or wide) and the angle
   classifier's verdict (upright or upside down) vote on how the page was scanned; a page
   scanned turned by 90°/180°/270° is turned upright and detected again.
2. Each line is cut out and recognised, with a confidence per line. A small scan skew is
   measured on the line boxes and undone, so the lines of one row group together.
3. Reading order, a recursive cut: a region with a wide vertical gutter is read column by
   column, otherwise it is cut at its horizontal gaps (consecutive bands that together have a
   gutter, such as a two-column part under a full-width title, form a region of their own).
   The rows of a column are joined into paragraphs where a line fills the column and the next
   starts without indentation and not with a numbered item, so 一、 （一） 1. stay at the start
   of their lines for the structure parser.

A page's confidence is the mean line confidence weighted by characters; a page below
``min_confidence`` is reported and its text is not used. ``max_pages`` and
``seconds_per_file`` bound the work per file; the pages left out are reported. Progress goes
to a tqdm bar (on a terminal) and to the callback set with :func:`ocr_context` (for the app).
"""

from __future__ import annotations

import contextlib
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

    from assistant.config import Settings

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
LINE_MIN_SCORE = 0.5  # a recognised line below this is left out of the text (engine default)
BLANK_STD = 3.0  # a page image whose grey levels vary less than this is blank
MAX_SIDE = 2000  # pages are read at most this many pixels on the long side (engine limit)


class OcrUnavailable(RuntimeError):
    """The OCR engine package is not installed."""


@dataclass(frozen=True)
class OcrOptions:
    """Bounds and the quality bar of OCR per file (defaults: the ``ocr_*`` settings)."""

    max_pages: int
    seconds_per_file: float
    min_confidence: float

    @classmethod
    def from_settings(cls, settings: Settings) -> OcrOptions:
        return cls(
            max_pages=settings.ocr_max_pages,
            seconds_per_file=settings.ocr_seconds_per_file,
            min_confidence=settings.ocr_min_confidence,
        )


@dataclass(frozen=True)
class OcrProgress:
    """Sent to the progress callback after each page (and once with ``done == 0``)."""

    file: str  # file name
    done: int  # pages read so far
    total: int  # pages that will be read (after the page limit)
    page: int | None  # number of the page just read (1-based)
    seconds: float  # since the file's OCR started


ProgressCallback = Callable[[OcrProgress], None]

_OPTIONS: ContextVar[OcrOptions | None] = ContextVar("ocr_options", default=None)
_PROGRESS: ContextVar[ProgressCallback | None] = ContextVar("ocr_progress", default=None)


@contextlib.contextmanager
def ocr_context(
    options: OcrOptions | None = None, progress: ProgressCallback | None = None
) -> Iterator[None]:
    """Use these options and this progress callback for OCR done inside the block (this thread
    or task only), e.g. around ``ingest_file`` in an upload worker."""
    tokens = []
    if options is not None:
        tokens.append((_OPTIONS, _OPTIONS.set(options)))
    if progress is not None:
        tokens.append((_PROGRESS, _PROGRESS.set(progress)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)  # type: ignore[attr-defined]


def current_options() -> OcrOptions:
    """The options set by :func:`ocr_context`, else the ones in the settings."""
    options = _OPTIONS.get()
    if options is None:
        from assistant.config import Settings, load_settings

        try:
            options = OcrOptions.from_settings(load_settings())
        except (OSError, ValueError):  # a broken config file is reported by the command
            options = OcrOptions.from_settings(Settings())
    return options


@dataclass(frozen=True)
class OcrPage:
    """What was read from one page."""

    page: int  # 1-based page number in the file
    text: str  # paragraphs in reading order, one per line
    confidence: float  # character-weighted mean line confidence; 0.0 when nothing was read
    rotation: int = 0  # degrees clockwise the scan was turned by
    blank: bool = False

    @property
    def chars(self) -> int:
        return sum(not ch.isspace() for ch in self.text)


@dataclass
class OcrResult:
    pages: list[OcrPage] = field(default_factory=list)  # pages read, usable or not
    usable: list[OcrPage] = field(default_factory=list)  # pages whose text is kept
    notes: list[str] = field(default_factory=list)  # pages reported: low confidence, skipped


# --------------------------------------------------------------------------- engine

_ENGINE: Any = None
_ENGINE_LOCK = threading.Lock()


def _engine() -> Any:
    global _ENGINE
    if _ENGINE is None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise OcrUnavailable(
                "the OCR engine is not installed (pip install rapidocr-onnxruntime)"
            ) from exc
        _ENGINE = RapidOCR(max_side_len=MAX_SIDE)
    return _ENGINE


@dataclass(frozen=True)
class LineBox:
    """A recognised text line; coordinates in the upright, deskewed page."""

    text: str
    score: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def h(self) -> float:
        return self.y1 - self.y0

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def _prepare(image: Image.Image) -> Any:
    """Grey levels stretched to the full range (low-contrast scans), as an array."""
    import numpy as np
    from PIL import ImageOps

    grey = ImageOps.exif_transpose(image).convert("L")
    return np.asarray(ImageOps.autocontrast(grey, cutoff=1))


def _recognise(pixels: Any) -> tuple[list[Any], list[tuple[str, float]], int]:
    """Line boxes (4 points each, in the upright page) with their (text, score), and the
    degrees clockwise the scan was turned by. The angle classifier's verdicts on the lines
    decide the page's orientation by a vote; a turned scan is turned upright and detected
    again, and lines are read as cut from the upright page (one line's verdict can be wrong,
    notably on faint scans, and a line read upside down comes out empty)."""
    import cv2
    import numpy as np

    engine = _engine()
    with _ENGINE_LOCK:
        img, _rh, _rw = engine.preprocess(cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR))
        boxes, crops, labels = _detect(engine, img)
        rotation = _orientation(boxes, labels) if boxes else 0
        if rotation:
            img = np.ascontiguousarray(np.rot90(img, k=rotation // 90))
            boxes, crops, labels = _detect(engine, img)
        if not boxes:
            return [], [], rotation
        rec_res, _ = engine.text_rec(crops)
    return list(boxes), [(str(t), float(s)) for t, s, *_ in rec_res], rotation


def _detect(engine: Any, img: Any) -> tuple[list[Any], list[Any], list[str]]:
    """Text-line boxes, their crops, and the angle classifier's label for each."""
    boxes, _ = engine.auto_text_det(img)
    if not boxes:
        return [], [], []
    crops = engine.get_crop_img_list(img, boxes)
    _flipped, cls_res, _ = engine.text_cls(crops)
    labels = [
        "180" if "180" in str(lab) and score > engine.text_cls.cls_thresh else "0"
        for lab, score in cls_res
    ]
    return list(boxes), crops, labels


def _orientation(points: Sequence[Any], labels: Sequence[str]) -> int:
    """Degrees clockwise the page was turned by (0, 90, 180, 270), by a vote of the lines
    weighted by length: a tall line box was cut out turned 90° counter-clockwise."""
    import numpy as np

    votes = {0: 0.0, 90: 0.0, 180: 0.0, 270: 0.0}
    for pts, label in zip(points, labels, strict=True):
        p = np.asarray(pts, dtype=float)
        w = max(np.linalg.norm(p[0] - p[1]), np.linalg.norm(p[2] - p[3]))
        h = max(np.linalg.norm(p[0] - p[3]), np.linalg.norm(p[1] - p[2]))
        if h >= 1.5 * w:
            votes[90 if label == "0" else 270] += h
        elif w >= 1.5 * h:
            votes[0 if label == "0" else 180] += w
    return max(votes, key=lambda k: (votes[k], k == 0))


def _boxes(points: Sequence[Any], recs: Sequence[tuple[str, float]]) -> list[LineBox]:
    """Axis-aligned line boxes, with the scan's skew (measured on long boxes) undone."""
    import numpy as np

    quads = [np.asarray(p, dtype=float) for p in points]
    angles = []
    for p in quads:
        dx, dy = p[1] - p[0]
        if abs(dx) > 3 * abs(dy):
            angles.append(np.arctan2(dy, dx))
    skew = float(np.median(angles)) if angles else 0.0
    c, s = np.cos(-skew), np.sin(-skew)
    out = []
    for p, (text, score) in zip(quads, recs, strict=True):
        xs = p[:, 0] * c - p[:, 1] * s
        ys = p[:, 0] * s + p[:, 1] * c
        out.append(LineBox(text, score, xs.min(), ys.min(), xs.max(), ys.max()))
    return out


# --------------------------------------------------------------------------- reading order


def _rows(boxes: Sequence[LineBox]) -> list[list[LineBox]]:
    """Boxes grouped into rows (vertical overlap), top to bottom, each row left to right."""
    rows: list[list[LineBox]] = []
    for b in sorted(boxes, key=lambda b: b.cy):
        if rows:
            last = rows[-1]
            top = statistics.median(x.y0 for x in last)
            bottom = statistics.median(x.y1 for x in last)
            overlap = min(bottom, b.y1) - max(top, b.y0)
            if overlap > 0.5 * min(bottom - top, b.h):
                last.append(b)
                continue
        rows.append([b])
    return [sorted(r, key=lambda b: b.x0) for r in rows]


def _gutter(boxes: Sequence[LineBox], char: float) -> float | None:
    """Where ``boxes`` split into two columns: the widest vertical gap of at least two
    characters that no box crosses, with a quarter of the width and two rows on each side."""
    spans = sorted((b.x0, b.x1) for b in boxes)
    lo, hi = spans[0][0], max(e for _a, e in spans)
    best: tuple[float, float] | None = None
    reach = spans[0][1]
    for a, e in spans[1:]:
        if a - reach >= 2 * char and min(reach - lo, hi - a) >= (hi - lo) / 4:
            left = [b for b in boxes if b.x1 <= reach]
            right = [b for b in boxes if b.x0 >= a]
            if len(_rows(left)) >= 2 and len(_rows(right)) >= 2:
                if best is None or a - reach > best[0]:
                    best = (a - reach, (a + reach) / 2)
        reach = max(reach, e)
    return best[1] if best else None


def _bands(boxes: Sequence[LineBox], char: float) -> list[list[LineBox]]:
    """Boxes split at the horizontal gaps between them, top to bottom."""
    bands: list[list[LineBox]] = []
    bottom = 0.0
    for b in sorted(boxes, key=lambda b: b.y0):
        if bands and b.y0 < bottom - char / 4:
            bands[-1].append(b)
            bottom = max(bottom, b.y1)
        else:
            bands.append([b])
            bottom = b.y1
    return bands


def _flows(boxes: Sequence[LineBox], char: float) -> list[list[list[LineBox]]]:
    """Rows grouped into flows of text, each read top to bottom, in reading order.

    A recursive cut: a region that splits into columns is read column by column; otherwise it
    is cut at its horizontal gaps, and consecutive bands that together split into columns (a
    two-column part below a full-width title) are read as one such region.
    """
    cut = _gutter(boxes, char)
    if cut is not None:
        return _flows([b for b in boxes if b.x1 <= cut], char) + _flows(
            [b for b in boxes if b.x0 >= cut], char
        )
    bands = _bands(boxes, char)
    if len(bands) == 1:
        return [_rows(boxes)]
    flows: list[list[list[LineBox]]] = [[]]
    i = 0
    while i < len(bands):
        last = None
        for j in range(i + 2, len(bands) + 1):
            if _gutter([b for band in bands[i:j] for b in band], char) is not None:
                last = j
        if last is None:
            flows[-1].extend(_rows(bands[i]))
            i += 1
            continue
        flows += _flows([b for band in bands[i:last] for b in band], char)
        flows.append([])
        i = last
    return [f for f in flows if f]


_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _join(a: str, b: str) -> str:
    if not a or not b or _CJK.match(a[-1]) or _CJK.match(b[0]):
        return a + b
    return f"{a} {b}"


def _row_text(row: Sequence[LineBox], char: float) -> str:
    out = ""
    prev: LineBox | None = None
    for b in row:
        if prev is not None and b.x0 - prev.x1 >= char:
            out += " " + b.text  # a wide gap (e.g. issuer … date) keeps a space
        else:
            out = _join(out, b.text)
        prev = b
    return out


def _paragraphs(block: list[list[LineBox]], char: float) -> list[str]:
    """Rows of one column joined into paragraphs (wrapped lines re-joined)."""
    from assistant.documents.structure import is_marker_line

    left = min(b.x0 for r in block for b in r)
    right = max(b.x1 for r in block for b in r)
    pitch = statistics.median(
        [block[k + 1][0].cy - block[k][0].cy for k in range(len(block) - 1)] or [2 * char]
    )
    paras: list[str] = []
    prev: list[LineBox] | None = None
    for row in block:
        text = _row_text(row, char)
        if not text.strip():
            continue
        if (
            prev is not None
            and paras
            and max(b.x1 for b in prev) >= right - 1.5 * char  # the line above is full
            and row[0].x0 <= left + 0.8 * char  # this one is not indented
            and row[0].cy - prev[0].cy <= 1.5 * pitch  # no blank line between
            and not is_marker_line(text.strip())
        ):
            paras[-1] = _join(paras[-1], text.strip())
        else:
            paras.append(text.strip())
        prev = row
    return paras


def layout_text(boxes: Sequence[LineBox]) -> str:
    """The page's text in reading order, one paragraph a line."""
    if not boxes:
        return ""
    char = statistics.median(b.h for b in boxes)
    paras: list[str] = []
    for flow in _flows(boxes, char):
        paras.extend(_paragraphs(flow, char))
    return "\n".join(paras)


# --------------------------------------------------------------------------- pages


def read_page(image: Image.Image, page: int = 1) -> OcrPage:
    """OCR one page image."""
    import numpy as np

    pixels = _prepare(image)
    if float(np.std(pixels)) < BLANK_STD:
        return OcrPage(page, "", 0.0, blank=True)
    points, recs, rotation = _recognise(pixels)
    if not points:
        return OcrPage(page, "", 0.0, rotation=rotation)
    boxes = _boxes(points, recs)
    weight = sum(max(len(b.text), 1) for b in boxes)
    confidence = sum(b.score * max(len(b.text), 1) for b in boxes) / weight
    kept = [b for b in boxes if b.score >= LINE_MIN_SCORE and b.text.strip()]
    return OcrPage(page, layout_text(kept), confidence, rotation=rotation)


def read_pages(
    pages: Iterable[tuple[int, Callable[[], Image.Image]]],
    total: int,
    name: str,
    options: OcrOptions | None = None,
) -> OcrResult:
    """OCR pages ``(number, load image)`` of one file within the page limit and time budget.

    ``total`` is the number of pages offered; pages past ``max_pages`` and pages left when the
    time budget is spent are not read and are named in ``notes``.
    """
    from tqdm import tqdm

    options = options or current_options()
    callback = _PROGRESS.get()
    todo = min(total, options.max_pages)
    result = OcrResult()
    start = time.perf_counter()
    if callback:
        callback(OcrProgress(name, 0, todo, None, 0.0))
    bar = tqdm(total=todo, desc=f"OCR {name}", unit="page", leave=False, file=sys.stderr,
               disable=None, dynamic_ncols=True)  # fmt: skip
    skipped: list[int] = []
    try:
        for number, load in pages:
            elapsed = time.perf_counter() - start
            if len(result.pages) >= todo or elapsed >= options.seconds_per_file:
                skipped.append(number)
                continue
            page = read_page(load(), number)
            result.pages.append(page)
            bar.update(1)
            if callback:
                callback(OcrProgress(name, len(result.pages), todo, number,
                                     time.perf_counter() - start))  # fmt: skip
            if page.blank:
                continue
            if page.chars and page.confidence >= options.min_confidence:
                result.usable.append(page)
            elif page.chars:
                result.notes.append(
                    f"{name}: page {number} not indexed: OCR confidence {page.confidence:.2f} "
                    f"is below {options.min_confidence:.2f} (unreadable scan?)"
                )
            else:
                result.notes.append(f"{name}: page {number} not indexed: OCR found no text")
    finally:
        bar.close()
    if skipped:
        why = (
            f"the OCR page limit ({options.max_pages})"
            if len(result.pages) >= todo
            else f"the OCR time budget ({options.seconds_per_file:g} s per file)"
        )
        result.notes.append(
            f"{name}: {len(skipped)} page(s) not read ({_page_list(skipped)}): over {why}"
        )
    return result


def _page_list(numbers: Sequence[int]) -> str:
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    if numbers[-1] - numbers[0] == len(numbers) - 1:
        return f"pages {numbers[0]}–{numbers[-1]}"
    shown = ", ".join(map(str, numbers[:10]))
    return f"pages {shown}" + (" …" if len(numbers) > 10 else "")
