"""What long work in this process is doing right now, read from its progress bars.

The index build, the embedder and the loaders report progress with tqdm bars (on the terminal).
The app shows the same progress without those modules knowing about it: ``current()`` reads the
bars that are open at this moment. Only background work (index updates, uploads) opens bars in
the serving process, so the open bars are that work's.
"""

from __future__ import annotations

from dataclasses import dataclass

from tqdm import tqdm

_WORDS = {"reading": "读取", "embedding": "计算向量", "writing": "写入", "ocr": "文字识别"}
_UNITS = {"file": "个文件", "passage": "个段落", "chunk": "个段落", "page": "页"}


@dataclass(frozen=True)
class Bar:
    desc: str
    n: int
    total: int | None
    unit: str

    def text(self) -> str:
        """ "读取 12/113 个文件" (the tqdm description and unit in words where known)."""
        words = _WORDS.get(self.desc.strip().lower(), self.desc.strip())
        unit = _UNITS.get(self.unit, f" {self.unit}" if self.unit != "it" else "")
        count = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        return f"{words} {count}{unit}".strip()


def open_bars() -> list[Bar]:
    """The tqdm bars open in this process, oldest first (disabled bars are not tracked)."""
    with tqdm.get_lock():
        # tqdm keeps every open, enabled bar in this class-level set (its own bookkeeping).
        bars = list(getattr(tqdm, "_instances", ()))
    found = [
        Bar(str(b.desc or ""), int(b.n), int(b.total) if b.total else None, str(b.unit or ""))
        for b in sorted(bars, key=lambda b: getattr(b, "start_t", 0.0))
        if not getattr(b, "disable", False)
    ]
    return found


def current() -> str:
    """The innermost open bar as one short line, or "" when nothing reports progress."""
    bars = open_bars()
    return bars[-1].text() if bars else ""
