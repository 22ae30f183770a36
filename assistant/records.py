"""The records that cross module boundaries: documents, chunks, hits, citations, answers.

Everything here is a plain dataclass with a JSON-friendly ``to_dict``; the modules that
produce and consume them (ingestion, index, answering, UI) agree on these shapes only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Script = Literal["simplified", "traditional"]
Level = Literal["省", "市", "县", "区"]


@dataclass(frozen=True)
class DocumentMeta:
    """What is known about one document (one article of a file: 篇一 … are documents)."""

    doc_id: str  # stable: "<file stem>" or "<file stem>#2" for the second article of a file
    file: str  # file name, e.g. "001_a2a3b87c571a2f00.txt"
    source_path: str  # path relative to the corpus root given to the loader (posix)
    title: str
    year: int | None = None
    region: str | None = None  # locality, e.g. "庄浪县"; None when unknown or withheld
    region_withheld: bool = False  # the text says "xx区" / "____市": locality deliberately hidden
    level: Level | None = None  # administrative level of the issuer where known
    issuer: str | None = None  # 来源, e.g. "庄浪县教育局"
    date: str | None = None  # 时间 as ISO date "2023-04-19" when the page states it
    url: str | None = None
    script: Script = "simplified"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    """One numbered item (or a sentence-bounded part of a long one) with its provenance."""

    chunk_id: str  # f"{doc_id}:{ordinal}", unique within an index
    doc: DocumentMeta
    path: tuple[str, ...]  # heading path, outermost first, e.g. ("六、推动全面育人有效落实…",)
    label: str  # the item's own label, e.g. "22." or "（三）" or "第五条"; "" for lead text
    text: str  # original wording, exactly as in the cleaned document (for display and citing)
    start: int  # character offsets of ``text`` in the cleaned document text
    end: int
    part: int = 0  # 0 for a whole item; 1, 2, … for the parts of a long item split at 。！？；
    search_text: str = ""  # normalized form (t2s, half-width) used by the retrievers
    ocr: bool = False  # the text was read by OCR from a scan (it may hold misread characters)
    page: int | None = None  # for OCR'd text: the page (1-based) the chunk starts on

    def to_dict(self) -> dict[str, Any]:
        """The flat JSON shape used by ``assistant chunks --json`` and search hits."""
        d = self.doc
        return {
            "chunk_id": self.chunk_id,
            "file": d.file,
            "source_path": d.source_path,
            "doc_id": d.doc_id,
            "title": d.title,
            "region": d.region,
            "region_withheld": d.region_withheld,
            "level": d.level,
            "year": d.year,
            "issuer": d.issuer,
            "date": d.date,
            "url": d.url,
            "script": d.script,
            "path": list(self.path),
            "label": self.label,
            "part": self.part,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "ocr": self.ocr,
            "page": self.page,
        }


def ocr_mark(ocr: bool, page: int | None) -> str:
    """How a passage read by OCR is marked where it is shown ("" for text that was not)."""
    if not ocr:
        return ""
    return f"OCR识别·第{page}页" if page else "OCR识别"


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the rank it had in each retriever."""

    chunk: Chunk
    score: float
    ranks: dict[str, int | None] = field(default_factory=dict)  # {"dense": 1, "bm25": None}
    scores: dict[str, float | None] = field(default_factory=dict)  # raw per-retriever scores

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.chunk.to_dict(),
            "score": self.score,
            "ranks": dict(self.ranks),
            "scores": dict(self.scores),
        }


@dataclass(frozen=True)
class Citation:
    """A passage an answer rests on; ``n`` is the number the answer text cites as [n]."""

    n: int
    hit: Hit

    def to_dict(self) -> dict[str, Any]:
        c = self.hit.chunk
        d = c.doc
        return {
            "n": self.n,
            "file": d.file,
            "doc_id": d.doc_id,
            "title": d.title,
            "region": d.region,
            "region_withheld": d.region_withheld,
            "year": d.year,
            "path": list(c.path),
            "label": c.label,
            "text": c.text,
            "ocr": c.ocr,
            "page": c.page,
        }


@dataclass(frozen=True)
class Answer:
    text: str
    found: bool
    citations: list[Citation] = field(default_factory=list)
    notice: str | None = None  # e.g. "LLM unreachable: showing the extractive answer"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "answer": self.text,
            "found": self.found,
            "citations": [c.to_dict() for c in self.citations],
        }
        if self.notice:
            out["notice"] = self.notice
        return out
