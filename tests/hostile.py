"""Hostile files for the tests (and for eval/hostile_files.py): built on the fly, small on disk.

``docx_bomb`` writes a valid .docx whose document.xml repeats one paragraph up to a given
expanded size (text compresses a few hundred to one; ``blank=True`` pads with spaces instead,
which compress about a thousand to one). ``pdf_bytes`` is a one-page PDF with a text layer.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

SENTENCE = "各地要严格落实义务教育阶段减轻学生作业负担和校外培训负担的各项要求。"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_DOC_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)
_DOC_TAIL = "</w:body></w:document>"


def docx_bomb(path: Path, expanded_bytes: int, *, blank: bool = False) -> Path:
    """A valid .docx whose document.xml expands to ``expanded_bytes`` (blanks fill the rest)."""
    para = f"<w:p><w:r><w:t>{SENTENCE}</w:t></w:r></w:p>".encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(_DOC_HEAD.encode() + para)
            block = b" " * (1 << 20) if blank else para * 2000
            left = expanded_bytes - len(_DOC_HEAD.encode() + para + _DOC_TAIL.encode())
            while left >= len(block):
                fh.write(block)
                left -= len(block)
            fh.write(b" " * max(left, 0) + _DOC_TAIL.encode())
    return path


def docx_file(path: Path, paragraphs: list[str]) -> Path:
    """A small ordinary .docx with the given paragraphs."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", _DOC_HEAD + body + _DOC_TAIL)
    return path


def pdf_bytes(text: str = "Policy text") -> bytes:
    """A one-page PDF with ``text`` (ASCII) in its text layer; cross-reference offsets exact."""
    stream = b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for n, obj in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer = b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
    return body + trailer % (len(objects) + 1, xref)


def numbered_list(first: int, last: int) -> str:
    """A titled list of items numbered ``first``. to ``last``."""
    items = (f"{n}. 第{n}项工作要求：{SENTENCE}" for n in range(first, last + 1))
    return "工作清单\n" + "\n".join(items) + "\n"
