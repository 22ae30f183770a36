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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from hostile import SENTENCE, docx_bomb, numbered_list, pdf_bytes  # noqa: E402


def build(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    docx_bomb(out / "bomb-524mb.docx", 524 * 1024 * 1024)
    docx_bomb(out / "bomb-20mb.docx", 20 * 1024 * 1024)
    line = SENTENCE * (6 * 1024 * 1024 // len(SENTENCE.encode()))
    (out / "one-line-6mb.txt").write_text(line, encoding="utf-8")
    japanese = "学校における働き方改革について、教員の長時間勤務を見直す必要があります。\n" * 40
    (out / "shift-jis.txt").write_bytes(japanese.encode("shift_jis"))
    (out / "numbered-1500.txt").write_text(numbered_list(1, 1500), encoding="utf-8")
    pdf = pdf_bytes()
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


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build(Path(sys.argv[1]))
