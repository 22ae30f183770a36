"""Real scans for the OCR tests: seed text rendered with a CJK font into page images, saved as
image-only PDFs, PNG and JPEG (a uniquely named helper module)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from seedfiles import seed_path

from assistant.text import to_halfwidth

PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 120
FONT_PX = 30
LINE_PX = 48


def cjk_font() -> Path | None:
    """A font file with Chinese glyphs, as fontconfig lists it, or None."""
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(Path(ln.split(":")[0].strip()) for ln in out.splitlines() if ln.strip())
    return next((f for f in files if f.is_file()), None)


@dataclass(frozen=True)
class PageText:
    """What one rendered page says: a title (centred), then paragraphs (first line indented)."""

    paragraphs: tuple[str, ...]
    title: str | None = None

    @property
    def lines(self) -> list[str]:
        return ([self.title] if self.title else []) + list(self.paragraphs)


def seed_paragraphs(prefix: str) -> list[str]:
    return [ln.strip() for ln in seed_path(prefix).read_text(encoding="utf-8").splitlines()]


def first_sentences(paragraph: str, limit: int = 100) -> str:
    """The paragraph's first two sentences, and more up to ``limit`` characters (a shorter
    page; an item's first sentence is often only its heading)."""
    out = ""
    for n, sentence in enumerate(re.findall(r"[^。；]*[。；]|[^。；]+$", paragraph)):
        if n >= 2 and len(out) + len(sentence) > limit:
            break
        out += sentence
    return out


def item(paragraphs: list[str], label: str, limit: int = 100) -> str:
    """The seed paragraph starting with ``label`` (e.g. "5." or "二、"), shortened."""
    line = next(p for p in paragraphs if p.startswith(label))
    return first_sentences(line, limit) if not label.endswith("、") else line


def _wrap(paragraph: str, body) -> list[tuple[int, str]]:  # noqa: ANN001 - a PIL font
    """(x, text) of each printed line: the first indented two characters."""
    width = PAGE[0] - 2 * MARGIN
    out = []
    x0, rest = MARGIN + 2 * FONT_PX, paragraph
    while rest:
        n = 1
        while n < len(rest) and body.getlength(rest[: n + 1]) <= width - (x0 - MARGIN):
            n += 1
        out.append((x0, rest[:n]))
        rest, x0 = rest[n:], MARGIN
    return out


def render(page: PageText, font: Path, *, ink: int = 0, paper: int = 255):  # noqa: ANN201
    """A greyscale page image: title centred, paragraphs wrapped with a two-character indent."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", PAGE, paper)
    draw = ImageDraw.Draw(img)
    body = ImageFont.truetype(str(font), FONT_PX)
    y = MARGIN
    if page.title:
        big = ImageFont.truetype(str(font), FONT_PX + 8)
        x = (PAGE[0] - big.getlength(page.title)) / 2
        draw.text((x, y), page.title, font=big, fill=ink)
        y += LINE_PX + 30
    for para in page.paragraphs:
        for x, line in _wrap(para, body):
            draw.text((x, y), line, font=body, fill=ink)
            y += LINE_PX
        assert y < PAGE[1] - MARGIN, "page text does not fit on the page"
    return img


def paginate(paragraphs: list[str], font: Path, pages: int) -> list[PageText]:
    """Up to ``pages`` full pages of the paragraphs, in order (a paragraph that does not fit
    on a page starts the next one)."""
    from PIL import ImageFont

    body = ImageFont.truetype(str(font), FONT_PX)
    room = (PAGE[1] - 2 * MARGIN) // LINE_PX
    out: list[PageText] = []
    current: list[str] = []
    used = 0
    for para in paragraphs:
        need = len(_wrap(para, body))
        if need > room:
            continue
        if used + need > room:
            out.append(PageText(tuple(current)))
            if len(out) == pages:
                return out
            current, used = [], 0
        current.append(para)
        used += need
    if current and len(out) < pages:
        out.append(PageText(tuple(current)))
    return out


def noise_page(seed: int = 7):  # noqa: ANN201
    """A page of random grey specks: what a bad scan of nothing looks like."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(PAGE[1] // 4, PAGE[0] // 4), dtype=np.uint8)
    return Image.fromarray(pixels, "L").resize(PAGE, Image.NEAREST)


def save_pdf(images: list, path: Path) -> Path:
    """An image-only PDF (no text layer), one image a page."""
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150.0)
    return path


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def accuracy(got: str, source: str) -> float:
    """1 − character edit distance / source length, blanks ignored and punctuation width
    folded (a scan shows "，" and "," alike)."""
    got, source = ("".join(to_halfwidth(s).split()) for s in (got, source))
    return 1 - edit_distance(got, source) / len(source)
