"""Chunking: one span per numbered item of an outline, long spans split at sentence ends.

Rules (``Span`` offsets index the cleaned file text, so ``text[start:end]`` is the chunk):
- lead paragraphs before the first item: label "", path ();
- an item without sub-items: its line and the paragraphs after it;
- an item with sub-items: when it says something itself (a sentence, or a list introduction
  such as "第二十九条 学校行使下列权利：") and the whole item with its sub-items fits in
  :data:`MAX_CHUNK_CHARS`, one span for all of it (a 条 with its （一）（二） list stays whole);
  otherwise its own text is a span and each sub-item is a span whose path includes the item;
- a pure section heading ("一、加强党的建设") is not a span; it is a path element of its items;
- text under an unnumbered heading (before any item): label "", path ending in the heading;
- a span longer than :data:`MAX_CHUNK_CHARS` is split at 。！？； (then commas) into balanced
  parts numbered 1, 2, … that keep the path and label.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass

from assistant.documents.structure import Node, Outline

# The embedding model reads 512 tokens; ~500 Chinese characters stay inside that window.
MAX_CHUNK_CHARS = 500

_SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』）)\]]*|\n+")
_SOFT_BREAK = "，,、"


@dataclass(frozen=True)
class Span:
    path: tuple[str, ...]
    label: str
    start: int
    end: int
    part: int = 0


def split_span(
    text: str, start: int, end: int, limit: int = MAX_CHUNK_CHARS
) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into parts of at most ``limit`` characters, at sentence ends where
    possible, sized evenly; surrounding blanks are trimmed from each part."""
    seg = text[start:end]
    length = len(seg)
    pieces: list[tuple[int, int]] = []
    if length <= limit:
        pieces.append((0, length))
    else:
        bounds = sorted({m.end() for m in _SENTENCE_END.finditer(seg)} | {length})
        s = 0
        while length - s > limit:
            lo = bisect.bisect_right(bounds, s)
            hi = bisect.bisect_right(bounds, s + limit)
            candidates = bounds[lo:hi]
            if candidates:
                target = s + (length - s) / math.ceil((length - s) / limit)
                b = min(candidates, key=lambda x: abs(x - target))
            else:
                window = seg[s : s + limit]
                c = max(window.rfind(ch) for ch in _SOFT_BREAK)
                b = s + c + 1 if c > limit // 3 else s + limit
            pieces.append((s, b))
            s = b
        pieces.append((s, length))
    out = []
    for a, b in pieces:
        chunk = seg[a:b]
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk) - len(chunk.rstrip())
        if b - a - lead - trail > 0:
            out.append((start + a + lead, start + b - trail))
    return out


def _spans_for(
    text: str, path: tuple[str, ...], label: str, start: int, end: int, limit: int
) -> list[Span]:
    parts = split_span(text, start, end, limit)
    if len(parts) == 1:
        return [Span(path, label, *parts[0])]
    return [Span(path, label, a, b, i) for i, (a, b) in enumerate(parts, 1)]


def outline_spans(outline: Outline, text: str, limit: int = MAX_CHUNK_CHARS) -> list[Span]:
    """The chunk spans of one article, in text order."""
    spans: list[Span] = []
    root = outline.root
    if root.body:
        spans += _spans_for(text, (), "", root.body[0].start, root.body[-1].end, limit)
    skip = _table_of_contents(root)
    for child in root.children:
        _emit(child, (), text, limit, spans, skip)
    return spans


def _table_of_contents(root: Node) -> set[int]:
    """Ids of bare numbered headings that are repeated later (a table of contents)."""
    items: list[Node] = []
    todo = list(reversed(root.children))
    while todo:
        node = todo.pop()
        if node.kind == "item":
            items.append(node)
        todo.extend(reversed(node.children))
    seen_later: set[str] = set()
    skip: set[int] = set()
    for node in reversed(items):
        assert node.line is not None
        key = "".join(node.line.text.split())
        if not node.has_body and not node.children and key in seen_later:
            skip.add(id(node))
        seen_later.add(key)
    return skip


def _emit(
    node: Node, path: tuple[str, ...], text: str, limit: int, out: list[Span], skip: set[int]
) -> None:
    assert node.line is not None
    if id(node) in skip:
        return
    if node.kind == "heading":
        inner = (*path, node.line.text)
        if node.body:
            out += _spans_for(text, inner, "", node.body[0].start, node.body[-1].end, limit)
        elif not node.children:
            # A heading with nothing under it is kept as text rather than lost.
            out += _spans_for(text, path, "", node.line.start, node.line.end, limit)
        for child in node.children:
            _emit(child, inner, text, limit, out, skip)
        return
    own_end = node.body[-1].end if node.body else node.line.end
    if not node.children:
        out += _spans_for(text, path, node.label, node.line.start, own_end, limit)
        return
    last = node.last_line()
    assert last is not None
    if node.has_body and last.end - node.line.start <= limit:
        out += _spans_for(text, path, node.label, node.line.start, last.end, limit)
        return
    if node.has_body:
        out += _spans_for(text, path, node.label, node.line.start, own_end, limit)
    inner = (*path, node.path_text)
    for child in node.children:
        _emit(child, inner, text, limit, out, skip)
