"""Versions of one text: documents with the same title and different dates.

A law amended over the years may be in the corpus several times ("中华人民共和国未成年人保护法"
dated 2020-10-17 and 2024-04-26). ``find_versions`` groups the indexed documents by a title key
(normalized: traditional → simplified, width folded, spaces and punctuation removed, a leading
"中华人民共和国" dropped) within one locality, and marks the newest dated document of each group
as current and the others as superseded. It is computed from document metadata alone when an
index is opened, so nothing about versions is stored.

Decisions:
- Only documents of different files are versions: the articles (篇一, 篇二 …) of one file share a
  title but are different texts.
- A title that names a year ("2023年教育工作要点") is a document about that year, not a version
  of a standing text; such titles are never grouped.
- The date is the document's ``date`` (the law corpus dates files "(2024-04-26)"); a document
  without a date sorts before every dated one and is noted "以…版为准" rather than "已被…取代":
  its age is unknown. A group in which no document has a date is left alone.
- Two files with the same title and date are one version collected twice: the later file name
  is marked superseded by the earlier one, so the text is cited once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace

from assistant.records import DocumentMeta, Hit, Version
from assistant.text import normalize

_NATION = "中华人民共和国"
_YEAR = re.compile(r"(?:19|20)\d{2}\s*年")


def title_key(title: str) -> str:
    """The form under which titles of one text compare equal."""
    norm = normalize(title)
    key = "".join(ch for ch in norm if unicodedata.category(ch)[0] in "LN")
    return key.removeprefix(_NATION)


def _file_of(doc: DocumentMeta) -> str:
    return doc.source_path or doc.file


def _editions(docs: Sequence[DocumentMeta]) -> list[str]:
    """The year of each date, or the full date where two different dates share a year."""
    years = {d.date[:4] for d in docs if d.date}
    clash = {y for y in years if len({d.date for d in docs if d.date and d.date[:4] == y}) > 1}
    return [(d.date if d.date[:4] in clash else d.date[:4]) if d.date else "" for d in docs]


def _name(edition: str) -> str:
    if len(edition) == 10:  # a full date "2024-04-26"
        return f"{int(edition[:4])}年{int(edition[5:7])}月{int(edition[8:])}日版"
    return f"{edition}年版" if edition else "未注明日期的版本"


def _note(edition: str, current: bool, current_edition: str) -> str:
    name = _name(edition)
    if current:
        return f"（{name}，现行版本）"
    if not edition:
        return f"（{name}，以{_name(current_edition)}为准）"
    if edition == current_edition:
        return f"（{name}，与另一份文件重复收录）"
    return f"（{name}，已被{_name(current_edition)}取代）"


def find_versions(docs: Iterable[DocumentMeta]) -> dict[str, Version]:
    """``doc_id → Version`` for every document that has another version in ``docs``."""
    groups: dict[tuple[str, str], list[DocumentMeta]] = {}
    for d in docs:
        key = title_key(d.title)
        if key and not _YEAR.search(normalize(d.title)):
            groups.setdefault((d.region or "", key), []).append(d)
    out: dict[str, Version] = {}
    for members in groups.values():
        files = [_file_of(d) for d in members]
        # Articles of one file are not versions of each other.
        members = [d for d, f in zip(members, files, strict=True) if files.count(f) == 1]
        if len(members) < 2 or not any(d.date for d in members):
            continue
        # Oldest first; for one date the earlier file name stays current.
        members.sort(key=lambda d: (d.date or "", _reverse(_file_of(d))))
        editions = _editions(members)
        current, current_edition = members[-1], editions[-1]
        for d, edition in zip(members, editions, strict=True):
            is_current = d is current
            out[d.doc_id] = Version(
                edition=edition,
                current=is_current,
                current_doc_id=current.doc_id,
                current_edition=current_edition,
                editions=tuple(editions),
                note=_note(edition, is_current, current_edition),
            )
    return out


def _reverse(text: str) -> tuple[int, ...]:
    """A sort key that orders strings in reverse."""
    return tuple(-ord(ch) for ch in text) + (0,)


def with_version(doc: DocumentMeta, versions: dict[str, Version]) -> DocumentMeta:
    """``doc`` carrying its ``Version`` (unchanged when it has no other version)."""
    v = versions.get(doc.doc_id)
    return doc if v is None or doc.version == v else replace(doc, version=v)


def superseded_ids(versions: dict[str, Version]) -> list[str]:
    return sorted(doc_id for doc_id, v in versions.items() if not v.current)


def collapse_versions(hits: Sequence[Hit]) -> list[Hit]:
    """``hits`` with a passage that several versions carry word for word shown once, as the
    current version's where that one is among the hits (in the place of the first)."""
    out: list[Hit] = []
    seen: dict[tuple[str, str], int] = {}
    for hit in hits:
        v = hit.chunk.doc.version
        if v is None:
            out.append(hit)
            continue
        key = (v.current_doc_id, normalize(hit.chunk.text).replace(" ", ""))
        i = seen.get(key)
        if i is None:
            seen[key] = len(out)
            out.append(hit)
        elif v.current:
            out[i] = hit
    return out
