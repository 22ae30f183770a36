"""Reading files into text: .txt .md .html/.htm .pdf .docx, and scans.

Scans are read by OCR (:mod:`assistant.documents.ocr`): .png .jpg .jpeg .tif/.tiff files page
by page, and the pages of a PDF that have no usable text layer. Where OCR text came from is kept
as :class:`OcrSpan` offsets, and pages OCR could not read are named in ``LoadedText.notes``.

Every way a file can be unreadable ends in a :class:`LoadError` whose ``kind`` says what it is
(empty, binary, scanned PDF or image that OCR could not read, corrupt, undecodable, unsupported,
too large, missing, symlink loop) and whose message names the file, so one bad file never stops
a batch. The bounds of :class:`FileLimits` are checked before parsing (:func:`check_file`) and on
the extracted text.
"""

from __future__ import annotations

import errno
import re
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.documents.library_warnings import file_warnings
from assistant.documents.limits import FileLimits
from assistant.documents.ocr import IMAGE_SUFFIXES, MAX_SIDE, OcrResult, OcrUnavailable, read_pages
from assistant.documents.walk import SUPPORTED_SUFFIXES, SourceFile, discover

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["SUPPORTED_SUFFIXES", "FileLimits", "LoadError", "SourceFile", "discover", "load"]

MIN_TEXT_LAYER_CHARS = 8  # a PDF page with fewer non-blank characters in its text layer is OCR'd

LOAD_ERROR_KINDS = (
    "empty",
    "binary",
    "scanned_pdf",
    "scanned_image",
    "corrupt",
    "encoding",
    "unsupported",
    "too_large",
    "too_many_chunks",
    "not_found",
    "symlink_loop",
)


class LoadError(Exception):
    """One file could not be read; ``kind`` is one of :data:`LOAD_ERROR_KINDS`."""

    def __init__(self, path: Path, kind: str, reason: str) -> None:
        self.path = Path(path)
        self.kind = kind
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class OcrSpan:
    """``text[start:end]`` of a :class:`LoadedText` was read by OCR from page ``page``."""

    page: int  # 1-based
    start: int
    end: int
    confidence: float


@dataclass(frozen=True)
class LoadedText:
    """The text of one file before cleaning, with what the format itself says about it."""

    text: str
    title: str | None = None  # HTML <title>/<h1>, docx/PDF document properties
    encoding: str | None = None  # for text formats: the encoding that was detected
    wrapped: bool = False  # lines were hard-wrapped (PDF) and have been re-joined
    ocr: tuple[OcrSpan, ...] = ()  # the parts of ``text`` read by OCR, in order
    notes: tuple[str, ...] = ()  # pages reported by OCR (unreadable, over the limits)


def check_file(path: Path, limits: FileLimits) -> None:
    """Raise :class:`LoadError` unless ``path`` is an existing, non-empty file of a supported
    type within the size bounds (for a .docx: also what its zip parts expand to). Reads no more
    than a zip's directory."""
    path = Path(path)
    if not path.exists():
        if path.is_symlink():
            try:
                path.stat()
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise LoadError(
                        path, "symlink_loop", "symlink loop (the link leads back to itself)"
                    ) from None
            raise LoadError(path, "not_found", "symlink to a file that does not exist")
        raise LoadError(path, "not_found", "no such file")
    if path.is_dir():
        raise LoadError(path, "unsupported", "is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(
            path,
            "unsupported",
            f"unsupported file type {suffix or '(no suffix)'!r}; supported: "
            + " ".join(SUPPORTED_SUFFIXES),
        )
    size = path.stat().st_size
    if size == 0:
        raise LoadError(path, "empty", "file is empty (0 bytes)")
    refusal = limits.size_refusal(size)
    if refusal:
        raise LoadError(path, "too_large", refusal)
    if suffix == ".docx":
        try:
            refusal = limits.zip_refusal(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise LoadError(path, "corrupt", f"not a valid .docx file ({exc})") from None
        if refusal:
            raise LoadError(path, "too_large", refusal)


def load(path: Path, limits: FileLimits | None = None) -> LoadedText:
    """Read one file into text, or raise :class:`LoadError`."""
    path = Path(path)
    limits = limits or FileLimits()
    check_file(path, limits)
    suffix = path.suffix.lower()
    with file_warnings(path):
        if suffix == ".pdf":
            loaded = _load_pdf(path, limits)
        elif suffix in IMAGE_SUFFIXES:
            loaded = _load_image(path)
        elif suffix == ".docx":
            loaded = _load_docx(path)
        else:
            text, encoding = decode_bytes(path.read_bytes(), path)
            if suffix in (".html", ".htm"):
                text, title = html_to_text(text)
                loaded = LoadedText(text, title=title, encoding=encoding)
            else:
                loaded = LoadedText(text, encoding=encoding)
    if not loaded.text.strip():
        what = (
            "has no text" if suffix in (".pdf", ".docx", ".html", ".htm") else "holds only blanks"
        )
        raise LoadError(path, "empty", f"file {what}")
    refusal = limits.size_refusal(len(loaded.text.encode("utf-8")), "its text is")
    if refusal:
        raise LoadError(path, "too_large", refusal)
    return loaded


# --- text encodings ---------------------------------------------------------------------------

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def _is_neutral(ch: str) -> bool:
    """ASCII and punctuation read the same in every candidate decoding: they do not count."""
    return (
        ord(ch) < 0x80
        or "\u3000" <= ch <= "\u303f"
        or "\uff00" <= ch <= "\uffef"
        or "\u2000" <= ch <= "\u206f"
        or ch.isspace()
    )


# A right decoding of Chinese text has nearly all its non-ASCII characters among the 3,755 common
# ones (GB2312 level 1); a wrong one (Shift-JIS or EUC-JP read as GB18030, Big5 as GBK) far
# fewer. Judged only from JUDGE_MIN_CHARS counted characters on: shorter texts are let through.
PLAUSIBLE_HAN_SHARE = 0.8
# Japanese prose is kana for a good part; Chinese has none.
JAPANESE_KANA_SHARE = 0.2
JUDGE_MIN_CHARS = 20


@dataclass(frozen=True)
class _Reading:
    encoding: str
    text: str
    common_han: float  # share of the counted characters that are common Han characters
    kana: float  # share that are hiragana or (full-width) katakana
    counted: int  # characters that are not ASCII, punctuation or blanks

    @property
    def chinese(self) -> bool:
        return self.kana < JAPANESE_KANA_SHARE and (
            self.common_han >= PLAUSIBLE_HAN_SHARE or self.counted < JUDGE_MIN_CHARS
        )

    @property
    def japanese(self) -> bool:
        return self.kana >= JAPANESE_KANA_SHARE


def _reading(encoding: str, text: str) -> _Reading:
    """How plausible ``text`` is as Chinese (common Han characters after traditional→simplified)
    and as Japanese (kana)."""
    from assistant.text import to_simplified

    chars = [ch for ch in to_simplified(text[:20000]) if not _is_neutral(ch)]
    common = kana = 0
    for ch in chars:
        if "\u3040" <= ch <= "\u30ff":
            kana += 1
        elif "\u4e00" <= ch <= "\u9fff":
            try:
                b = ch.encode("gb2312")
            except UnicodeEncodeError:
                continue
            if 0xB0 <= b[0] <= 0xD7:
                common += 1
    n = max(len(chars), 1)
    return _Reading(encoding, text, common / n, kana / n, len(chars))


def _readings(data: bytes, encodings: tuple[str, ...]) -> list[_Reading]:
    """The strict decodings of ``data`` in each encoding that has one."""
    out = []
    for enc in encodings:
        try:
            out.append(_reading(enc, data.decode(enc)))
        except UnicodeDecodeError:
            continue
    return out


def decode_bytes(data: bytes, path: Path) -> tuple[str, str]:
    """Decode a text file: BOMs, then strict UTF-8, then GB18030 or Big5 (whichever decodes
    strictly and reads as more common Chinese), then Shift-JIS or EUC-JP for Japanese text.
    Text that decodes but reads as none of these (garble) is refused. Returns (text, encoding).
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise LoadError(path, "encoding", f"starts with a {enc} BOM but {exc}") from None
    head = data[:65536]
    if b"\x00" in head:
        raise LoadError(path, "binary", "binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8")
        return _check_text(text, path), "utf-8"
    except UnicodeDecodeError:
        pass
    chinese = _readings(data, ("gb18030", "big5hkscs"))
    if chinese:
        best = max(chinese, key=lambda r: r.common_han)
        if best.chinese:
            return _check_text(best.text, path), best.encoding.replace("big5hkscs", "big5")
    japanese = [r for r in _readings(data, ("shift_jis", "euc_jp")) if r.japanese]
    if japanese:
        best = max(japanese, key=lambda r: r.kana)
        return _check_text(best.text, path), best.encoding
    if _looks_binary(data):
        raise LoadError(path, "binary", "binary file (control bytes), not text")
    if chinese:
        tried = "; ".join(
            f"read as {'Big5' if r.encoding == 'big5hkscs' else 'GB18030'}, only "
            f"{r.common_han:.0%} of its characters are common Chinese ones"
            + (f" and {r.kana:.0%} are kana" if r.kana >= 0.05 else "")
            for r in chinese
        )
        raise LoadError(
            path,
            "encoding",
            f"text decodes but reads as garble ({tried}); not indexed. Probably another "
            "encoding: save it as UTF-8",
        )
    raise LoadError(
        path,
        "encoding",
        "text encoding not recognised (not UTF-8, GB18030/GBK, Big5, Shift-JIS or EUC-JP)",
    )


def _looks_binary(data: bytes) -> bool:
    sample = data[:65536]
    controls = sum(1 for b in sample if b < 0x20 and b not in (9, 10, 12, 13, 27))
    return controls > max(2, len(sample) // 100)


def _check_text(text: str, path: Path) -> str:
    if len(_CONTROL.findall(text[:65536])) > max(2, len(text[:65536]) // 100):
        raise LoadError(path, "binary", "binary file (control characters), not text")
    return text


# --- HTML -------------------------------------------------------------------------------------

_BLOCK_TAGS = (
    "p div br li ul ol h1 h2 h3 h4 h5 h6 tr table section article header footer aside nav "
    "blockquote pre hr dd dt dl form address figure figcaption main td th center"
).split()
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "nav", "button")


def html_to_text(markup: str) -> tuple[str, str | None]:
    """Visible text of a page with block elements on their own lines; scripts, styles and
    navigation dropped. Returns (text, title) where title is the first <h1> or the <title>."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(markup, "html.parser")
    title = None
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        title = h1.get_text(" ", strip=True)
    elif soup.title and soup.title.get_text(strip=True):
        title = re.split(r"\s*[_|｜–—-]\s*", soup.title.get_text(strip=True))[0] or None
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    if soup.head:
        soup.head.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(_BLOCK_TAGS):
        if tag.name == "br":
            tag.replace_with("\n")
        else:
            tag.insert_before("\n")
            tag.insert_after("\n")
    text = soup.get_text("")
    lines = [re.sub(r"[ \t\r\f\v\xa0]+", " ", ln).strip() for ln in text.split("\n")]
    return "\n".join(lines), title


# --- PDF --------------------------------------------------------------------------------------


def _load_pdf(path: Path, limits: FileLimits) -> LoadedText:
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - any decryption failure means unreadable
                raise LoadError(path, "corrupt", f"PDF is encrypted ({exc})") from None
        pages: list[str] = []
        size = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            size += len(pages[-1].encode("utf-8"))
            refusal = limits.size_refusal(size, f"its text (up to page {len(pages)}) is")
            if refusal:  # compressed page streams can expand far beyond the file's size
                raise LoadError(path, "too_large", refusal)
        title = None
        try:
            meta = reader.metadata
            title = (meta.title or None) if meta else None
        except Exception:  # noqa: BLE001 - broken metadata must not lose the text
            title = None
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoadError(path, "corrupt", f"PDF cannot be parsed ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on damaged files
        raise LoadError(
            path, "corrupt", f"PDF cannot be parsed ({type(exc).__name__}: {exc})"
        ) from None
    if not pages:
        raise LoadError(path, "corrupt", "PDF has no pages")
    scanned = [n for n, p in enumerate(pages, 1) if len("".join(p.split())) < MIN_TEXT_LAYER_CHARS]
    if not scanned:
        return LoadedText(reflow_pdf_lines("\n".join(pages)), title=title, wrapped=True)
    try:
        ocr = read_pages(_pdf_page_images(path, scanned), len(scanned), path.name)
    except OcrUnavailable as exc:
        if any(p.strip() for p in pages):  # read what has a text layer, as before OCR existed
            return LoadedText(reflow_pdf_lines("\n".join(pages)), title=title, wrapped=True)
        raise LoadError(path, "scanned_pdf", f"PDF has no text layer and {exc}") from None
    except Exception as exc:  # noqa: BLE001 - pdfium raises its own types on damaged files
        raise LoadError(
            path, "corrupt", f"PDF pages cannot be rendered ({type(exc).__name__}: {exc})"
        ) from None
    loaded = _assemble_pages(pages, ocr, title)
    if not loaded.text.strip():
        why = "; ".join(ocr.notes) or "the pages are blank"
        raise LoadError(
            path,
            "scanned_pdf",
            f"PDF has no text layer ({len(pages)} page(s), scanned images) and OCR read no "
            f"usable text: {why}",
        )
    return loaded


def _assemble_pages(pages: Sequence[str], ocr: OcrResult, title: str | None) -> LoadedText:
    """Text-layer pages (runs re-flowed as before) and OCR'd pages, in page order."""
    read = {p.page: p for p in ocr.usable}
    parts: list[str] = []
    spans: list[OcrSpan] = []
    run: list[str] = []
    pos = 0

    def add(text: str) -> int:
        nonlocal pos
        if parts:
            parts.append("\n")
            pos += 1
        parts.append(text)
        pos += len(text)
        return pos - len(text)

    for n, text in enumerate(pages, 1):
        if n not in read:
            run.append(text)
            continue
        if any(t.strip() for t in run):
            add(reflow_pdf_lines("\n".join(run)))
        run = []
        start = add(read[n].text)
        spans.append(OcrSpan(n, start, pos, read[n].confidence))
    if any(t.strip() for t in run):
        add(reflow_pdf_lines("\n".join(run)))
    return LoadedText("".join(parts), title=title, wrapped=True, ocr=tuple(spans),
                      notes=tuple(ocr.notes))  # fmt: skip


_PDFIUM_LOCK = threading.Lock()  # PDFium is not thread-safe


def _pdf_page_images(path: Path, numbers: Sequence[int]):  # noqa: ANN202 - a generator
    """``(page number, load image)`` for the given pages, rendered at most MAX_SIDE pixels on
    the long side (and at most 300 dpi)."""
    import pypdfium2 as pdfium

    def render(n: int) -> Image:
        with _PDFIUM_LOCK:
            doc = pdfium.PdfDocument(str(path))
            try:
                page = doc[n - 1]
                scale = min(MAX_SIDE / max(page.get_size()), 300 / 72)
                return page.render(scale=scale, grayscale=True).to_pil()
            finally:
                doc.close()

    for n in numbers:
        yield n, (lambda n=n: render(n))


# --- images -----------------------------------------------------------------------------------


def _load_image(path: Path) -> LoadedText:
    """A scan or photo (a multi-page TIFF is several pages), read by OCR."""
    from PIL import Image as PILImage
    from PIL import ImageSequence, UnidentifiedImageError

    try:
        with PILImage.open(path) as img:
            frames = [frame.copy() for frame in ImageSequence.Iterator(img)]
    except PILImage.DecompressionBombError as exc:
        raise LoadError(path, "too_large", f"image is too large to read ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise LoadError(path, "corrupt", f"not a readable image ({exc})") from None
    pages: list[tuple[int, Callable[[], Image]]] = [
        (n, (lambda f=f: f)) for n, f in enumerate(frames, 1)
    ]
    try:
        ocr = read_pages(pages, len(pages), path.name)
    except OcrUnavailable as exc:
        raise LoadError(path, "scanned_image", str(exc)) from None
    loaded = _assemble_pages([""] * len(pages), ocr, None)
    if not loaded.text.strip():
        why = "; ".join(ocr.notes) or "the image is blank"
        raise LoadError(path, "scanned_image", f"OCR read no usable text: {why}")
    return loaded


_SENTENCE_END = "。！？；：:!?;」”’』）)】"
_MARKER_START = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[.．、](?!\d)"
    r"|第[一二三四五六七八九十百零〇\d]+[编章节条]|[一二三四五六七八九十]+是|篇[一二三四五六七八九十]+)"
)


def reflow_pdf_lines(text: str) -> str:
    """Re-join lines that a PDF wrapped at the page width (a line that is nearly full and does
    not end a sentence continues on the next line, unless that line starts a numbered item)."""
    lines = [ln.rstrip() for ln in text.split("\n")]
    widths = sorted(len(ln.strip()) for ln in lines if ln.strip())
    if not widths:
        return text
    full = widths[int(len(widths) * 0.9)] if len(widths) >= 5 else widths[-1]
    out: list[str] = []
    for ln in lines:
        stripped = ln.strip()
        if (
            out
            and stripped
            and out[-1]
            and len(out[-1].split("\n")[-1]) >= 0.8 * full
            and out[-1][-1] not in _SENTENCE_END
            and not _MARKER_START.match(stripped)
        ):
            out[-1] += stripped
        else:
            out.append(stripped)
    return "\n".join(out)


# --- DOCX -------------------------------------------------------------------------------------


def _load_docx(path: Path) -> LoadedText:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            document = docx.Document(str(path))
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise LoadError(path, "corrupt", f"not a valid .docx file ({exc})") from None
        lines: list[str] = []
        body = document.element.body
        for child in body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                lines.append("".join(t.text or "" for t in child.iter() if t.tag.endswith("}t")))
            elif tag == "tbl":
                for row in child.iter():
                    if not row.tag.endswith("}tr"):
                        continue
                    cells = []
                    for cell in row.iterchildren():
                        if cell.tag.endswith("}tc"):
                            cells.append(
                                "".join(t.text or "" for t in cell.iter() if t.tag.endswith("}t"))
                            )
                    lines.append(" ".join(c for c in cells if c))
        title = document.core_properties.title or None
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - python-docx/lxml raise many types on damaged files
        raise LoadError(
            path, "corrupt", f"cannot read .docx ({type(exc).__name__}: {exc})"
        ) from None
    return LoadedText("\n".join(lines), title=title)
