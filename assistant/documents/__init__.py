"""Ingestion: files → cleaned text → articles → heading trees → citable chunks with metadata.

``ingest_file(path)`` returns the chunks of one file (or raises :class:`LoadError`);
``ingest(paths)`` walks files and folders, never stops on a bad file, and reports failures and
the files the walk skipped. Both honour :class:`FileLimits` (sizes, zip expansion, chunks per
file): a file over a bound is refused whole, never cut short.

Offsets: ``Chunk.start``/``end`` index the cleaned text of the whole file (see
:func:`clean_file`), so ``clean_file(path).text[c.start:c.end] == c.text`` for every chunk,
also for the several documents (篇一, 篇二 …) of one file.

doc_id: the file stem for the first document of a file, ``"<stem>#2"``, ``"<stem>#3"`` … for
the following ones in file order (篇二 is ``#2`` when 篇一 is the first document). Documents are
the 篇一/篇二 … articles of a file, or the articles of a collection ("…汇编(7篇)") that restart
their numbering under a new title line; a file with neither is one document. chunk_id is
``"<doc_id>:<n>"`` with n counting the document's chunks from 0 in text order.
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.documents.chunking import MAX_CHUNK_CHARS, Span, outline_spans
from assistant.documents.cleaning import CleanText, clean
from assistant.documents.limits import FileLimits
from assistant.documents.loaders import SUPPORTED_SUFFIXES, LoadedText, LoadError, load
from assistant.documents.metadata import build_meta, choose_title, is_collection_title
from assistant.documents.structure import parse_outline, split_articles, split_collection
from assistant.documents.walk import Skipped, SourceFile, discover, skip_summary, walk
from assistant.records import Chunk
from assistant.text import normalize

__all__ = [
    "MAX_CHUNK_CHARS",
    "SUPPORTED_SUFFIXES",
    "FileFailure",
    "FileLimits",
    "IngestReport",
    "LoadError",
    "Skipped",
    "SourceFile",
    "clean_file",
    "discover",
    "ingest",
    "ingest_file",
    "skip_summary",
    "walk",
]


def _load_and_clean(path: Path, limits: FileLimits | None = None) -> tuple[LoadedText, CleanText]:
    loaded = load(path, limits)
    cleaned = clean(loaded.text, markdown=path.suffix.lower() == ".md")
    if loaded.title and not cleaned.meta.title_hint:
        cleaned.meta.title_hint = loaded.title.strip() or None
    return loaded, cleaned


def clean_file(path: Path, limits: FileLimits | None = None) -> CleanText:
    """Load and clean one file (raises :class:`LoadError`); chunk offsets index ``.text``."""
    return _load_and_clean(Path(path), limits)[1]


def _ocr_page_finder(loaded: LoadedText, cleaned: CleanText) -> Callable[[int], int | None]:
    """Offset in the cleaned text → the page that line was OCR'd from (None for text that was
    not OCR'd). Cleaning keeps lines verbatim and in order (trimmed), so each kept line is
    found in the loaded text after the previous one."""
    if not loaded.ocr:
        return lambda _offset: None
    starts = [ln.start for ln in cleaned.lines]
    pages: list[int | None] = []
    span_starts = [s.start for s in loaded.ocr]
    pos = 0
    for ln in cleaned.lines:
        at = loaded.text.find(ln.text, pos)
        if at < 0:
            pages.append(None)
            continue
        pos = at + len(ln.text)
        i = bisect.bisect_right(span_starts, at) - 1
        pages.append(loaded.ocr[i].page if i >= 0 and at < loaded.ocr[i].end else None)
    return lambda offset: pages[max(bisect.bisect_right(starts, offset) - 1, 0)]


def ingest_file(
    path: Path,
    rel: str | None = None,
    limits: FileLimits | None = None,
    notes: list[str] | None = None,
) -> list[Chunk]:
    """All chunks of one file, documents in file order; raises :class:`LoadError`, also when
    the file would produce more than ``limits.max_chunks`` chunks (refused whole: a document
    cut short would answer as if it were complete).

    What OCR reported about the file's pages (unreadable pages, pages over the limits) is
    appended to ``notes`` when given.
    """
    path = Path(path)
    limits = limits or FileLimits()
    loaded, cleaned = _load_and_clean(path, limits)
    if notes is not None:
        notes.extend(loaded.notes)
    page_at = _ocr_page_finder(loaded, cleaned)
    text = cleaned.text
    preamble, articles = split_articles(cleaned.lines)
    if (
        cleaned.lines
        and not preamble
        and len(articles) == 1
        and is_collection_title(cleaned.lines[0].text)
    ):
        articles = split_collection(cleaned.lines)
    pre_outline = parse_outline(preamble) if preamble else None
    pre_titles = [ln.text for ln in pre_outline.title_lines] if pre_outline else []
    units = []
    if pre_outline is not None and outline_spans(pre_outline, text):
        units.append((None, pre_outline))
    for art in articles:
        units.append((art.title, parse_outline(art.lines, has_title=art.title is not None)))

    documents = []
    for art_title, outline in units:
        spans = outline_spans(outline, text)
        if not spans and outline.title_lines and art_title is None:
            # A document that is nothing but a short heading-like line is still content.
            lines = outline.title_lines
            spans = [Span((), "", lines[0].start, lines[-1].end)]
        if spans:
            documents.append((art_title, outline, spans))
    refusal = limits.chunks_refusal(sum(len(spans) for *_, spans in documents))
    if refusal:
        raise LoadError(path, "too_many_chunks", refusal)

    chunks: list[Chunk] = []
    stem, name = path.stem, path.name
    n_docs = 0
    for art_title, outline, spans in documents:
        n_docs += 1
        doc_id = stem if n_docs == 1 else f"{stem}#{n_docs}"
        title = choose_title(
            art_title,
            [ln.text for ln in outline.title_lines],
            [cleaned.meta.title_hint, *pre_titles],
            stem,
        )
        first = outline.title_lines[0] if outline.title_lines else None
        start = first.start if first else spans[0].start
        doc_text = text[start : spans[-1].end]
        meta = build_meta(
            doc_id=doc_id,
            file=name,
            source_path=rel if rel is not None else name,
            title=title,
            text=doc_text,
            lead_lines=[ln.text for ln in outline.root.body],
            page=cleaned.meta,
            law_shaped="tiao" in outline.families,
        )
        for n, sp in enumerate(spans):
            body = text[sp.start : sp.end]
            page = page_at(sp.start)
            chunks.append(
                Chunk(
                    chunk_id=f"{doc_id}:{n}",
                    doc=meta,
                    path=sp.path,
                    label=sp.label,
                    text=body,
                    start=sp.start,
                    end=sp.end,
                    part=sp.part,
                    search_text=normalize(body),
                    ocr=page is not None,
                    page=page,
                )
            )
    if not chunks:
        raise LoadError(path, "empty", "no document text left after removing page boilerplate")
    return chunks


@dataclass
class FileFailure:
    path: str
    kind: str
    message: str  # names the file and what is wrong


@dataclass
class IngestReport:
    chunks: list[Chunk]
    files: int  # files attempted
    failures: list[FileFailure]
    warnings: list[str] = field(default_factory=list)  # e.g. two files with the same doc_id
    skipped: list[Skipped] = field(default_factory=list)  # not attempted: see walk()

    def failure_kinds(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for f in self.failures:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        return kinds


PROGRESS_MIN_FILES = 20  # show a progress bar from this many files on (on a terminal)


def ingest(
    paths: Sequence[Path], *, progress: bool | None = None, limits: FileLimits | None = None
) -> IngestReport:
    """Ingest files and folders; a file that cannot be read is a :class:`FileFailure`."""
    found = walk([Path(p) for p in paths])
    files = found.files
    if progress is None:
        progress = len(files) >= PROGRESS_MIN_FILES and sys.stderr.isatty()
    iterator: Sequence[SourceFile] = files
    if progress:
        from tqdm import tqdm

        iterator = tqdm(files, desc="reading", unit="file", file=sys.stderr)
    chunks: list[Chunk] = []
    failures: list[FileFailure] = []
    owners: dict[str, str] = {}
    warnings: list[str] = []
    for sf in iterator:
        try:
            got = ingest_file(sf.path, sf.rel, limits, notes=warnings)
        except LoadError as err:
            failures.append(FileFailure(str(sf.path), err.kind, str(err)))
            continue
        except Exception as err:  # noqa: BLE001 - one file must never stop the batch
            failures.append(
                FileFailure(
                    str(sf.path),
                    "corrupt",
                    f"{sf.path}: could not be processed ({type(err).__name__}: {err})",
                )
            )
            continue
        for doc_id in dict.fromkeys(c.doc.doc_id for c in got):
            if doc_id in owners and owners[doc_id] != sf.rel:
                warnings.append(
                    f"doc_id {doc_id!r} of {sf.rel} is also the doc_id of {owners[doc_id]}"
                )
            owners.setdefault(doc_id, sf.rel)
        chunks.extend(got)
    return IngestReport(chunks, len(files), failures, warnings, found.skipped)
