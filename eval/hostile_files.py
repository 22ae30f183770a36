"""Build the hostile-file set that eval/README.md (section Hostile files) measures.

    python eval/hostile_files.py OUT_DIR

writes into OUT_DIR: two .docx zip bombs (document.xml expanding to ~524 MB and ~20 MB), a
6 MB single-line text file, a Shift-JIS file, a list numbered 1 to 1500, a PDF cut before its
end, a folder ``walk/`` holding a symlink to /etc/passwd, a symlink loop, hidden files and
unsupported types next to one good file, and ``loop.txt`` (a symlink to itself) to give
directly. Each is then run through ``assistant chunks`` by the measuring commands in the README.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

SENTENCE = "各地要严格落实义务教育阶段减轻学生作业负担和校外培训负担的各项要求。"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
DOC_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)
DOC_TAIL = "</w:body></w:document>"


def docx_bomb(path: Path, expanded_bytes: int) -> None:
    """A valid .docx whose document.xml repeats one numbered paragraph up to the given size."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(DOC_HEAD.encode())
            para = f"<w:p><w:r><w:t>{SENTENCE}</w:t></w:r></w:p>".encode()
            block = para * 1000
            written = 0
            while written < expanded_bytes:
                fh.write(block)
                written += len(block)
            fh.write(DOC_TAIL.encode())


def build(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    docx_bomb(out / "bomb-524mb.docx", 524 * 1024 * 1024)
    docx_bomb(out / "bomb-20mb.docx", 20 * 1024 * 1024)
    line = SENTENCE * (6 * 1024 * 1024 // len(SENTENCE.encode()))
    (out / "one-line-6mb.txt").write_text(line, encoding="utf-8")
    japanese = "学校における働き方改革について、教員の長時間勤務を見直す必要があります。\n" * 40
    (out / "shift-jis.txt").write_bytes(japanese.encode("shift_jis"))
    items = "\n".join(f"{n}. 第{n}项工作要求：{SENTENCE}" for n in range(1, 1501))
    (out / "numbered-1500.txt").write_text("工作清单\n" + items + "\n", encoding="utf-8")
    pdf = _small_pdf()
    (out / "broken.pdf").write_bytes(pdf[: int(len(pdf) * 0.8)])
    walk = out / "walk"
    walk.mkdir(exist_ok=True)
    (walk / "good.txt").write_text("一、总体要求\n" + SENTENCE * 3 + "\n", encoding="utf-8")
    for name in ("old.doc", "table.xlsx", ".hidden.txt", "~$lock.docx"):
        (walk / name).write_bytes(b"x")
    for link, target in (("passwd.txt", "/etc/passwd"), ("loop.txt", "loop.txt")):
        if not (walk / link).is_symlink():
            (walk / link).symlink_to(target)
    if not (out / "loop.txt").is_symlink():
        (out / "loop.txt").symlink_to("loop.txt")


def _small_pdf() -> bytes:
    """A one-page PDF with a text layer (built by hand; the cross-reference offsets are exact)."""
    stream = b"BT /F1 12 Tf 72 720 Td (Policy text) Tj ET"
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
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return body


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build(Path(sys.argv[1]))
