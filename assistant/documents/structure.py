"""Structure: numbering markers, articles (篇一 …) and the heading tree of one document.

Numbering families (一、 （一） 1. 1、 （1） 1） ① 一是 第一编/章/节 第一条) can nest in any
order; the nesting is inferred per document from the order in which families first
appear: the family seen first is the outermost level. Short unnumbered heading lines standing
between items (and markdown headings) sit just above the numbering family that follows them.
Irregular numbering (gaps, repeats) is taken as it comes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.documents.cleaning import Line

# A plain (unnumbered) heading line is at most this long and has no sentence punctuation.
HEADING_MAX_CHARS = 40
# A numbered line whose text after the label is at most this long, without sentence
# punctuation, is a pure heading; in a path a longer item is cut at its first sentence.
PATH_MAX_CHARS = 60

_CN = "一二三四五六七八九十百零〇两"
_CN_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def cn_to_int(numeral: str) -> int | None:
    """一 → 1, 十一 → 11, 二十 → 20, 一百零五 → 105; digits pass through; None if unreadable."""
    if numeral.isdigit():
        return int(numeral)
    total, current = 0, 0
    for ch in numeral:
        if ch in _CN_DIGIT:
            current = _CN_DIGIT[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


@dataclass(frozen=True)
class Marker:
    family: str  # "cn_dun", "paren_cn", "arabic_dot", "arabic_dun", "paren_arabic", …
    label: str  # the marker exactly as written, e.g. "一、", "（一）", "22.", "第五条", "一是"
    ordinal: int | None
    rest: str  # the line's text after the label


_N = rf"[{_CN}\d]+"
_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pian", re.compile(rf"^(篇([{_CN}]+)|第([{_CN}\d]+)篇)(?:\s*[:：]\s*|\s+|$)")),
    ("bian", re.compile(rf"^(第({_N})编)(?:[\s:：]+|$)")),
    ("zhang", re.compile(rf"^(第({_N})章)(?:[\s:：]+|$)")),
    ("jie", re.compile(rf"^(第({_N})节)(?:[\s:：]+|$)")),
    ("tiao", re.compile(rf"^(第({_N})条(?:之[{_CN}]+)?)(?:[\s:：、]+|$)")),
    ("cn_dun", re.compile(rf"^(([{_CN}]{{1,4}})\s*[、．.])\s*")),
    ("paren_cn", re.compile(rf"^([（(]\s*([{_CN}]{{1,4}})\s*[)）])\s*")),
    ("arabic_dot", re.compile(r"^((\d+)\s*[.．])(?!\d)\s*")),
    ("arabic_dun", re.compile(r"^((\d+)\s*、)\s*")),
    ("paren_arabic", re.compile(r"^([（(]\s*(\d+)\s*[)）])\s*")),
    ("arabic_paren", re.compile(r"^((\d+)[)）])\s*")),
    ("circled", re.compile(r"^(([①-⑳]))\s*")),
    ("shi", re.compile(r"^(([一二三四五六七八九十]{1,3})是)(?=[^\s，,。、是否])")),
)
# 第一章总则 (no space) is a chapter heading only when the line is short.
_TIGHT = re.compile(rf"^(第({_N})(编|章|节))(?=[^\s:：])")


def parse_marker(line: str) -> Marker | None:
    """The numbering marker a (stripped) line starts with, if any."""
    for family, pattern in _FAMILIES:
        m = pattern.match(line)
        if m:
            label = m.group(1).strip()
            groups = [g for g in m.groups()[1:] if g]
            numeral = groups[0] if groups else ""
            if family == "circled":
                ordinal: int | None = ord(numeral) - ord("①") + 1
            else:
                ordinal = cn_to_int(numeral.strip())
            return Marker(family, label, ordinal, line[m.end() :].strip())
    m = _TIGHT.match(line)
    if m and len(line) <= 30 and "。" not in line:
        family = {"编": "bian", "章": "zhang", "节": "jie"}[m.group(3)]
        return Marker(family, m.group(1), cn_to_int(m.group(2)), line[m.end() :].strip())
    return None


def is_marker_line(line: str) -> bool:
    return parse_marker(line) is not None


_SENTENCE_PUNCT = re.compile(r"[。！？；：:!?;]")
_DATE_START = re.compile(r"^(?:19|20)\d{2}\s*[年./-]\s*\d{1,2}")


def is_pure_heading(marker: Marker) -> bool:
    """A numbered line that only names a section (no sentence, no list introduction)."""
    return len(marker.rest) <= PATH_MAX_CHARS and not _SENTENCE_PUNCT.search(marker.rest)


def _heading_shaped(text: str, limit: int) -> bool:
    return (
        0 < len(text) <= limit
        and not _SENTENCE_PUNCT.search(text)
        and "。" not in text
        and text[-1] not in "，,、"
        and not _DATE_START.match(text)
        and not text.replace(" ", "").isdigit()
    )


def path_text(line: str, marker: Marker | None) -> str:
    """The string an item contributes to its children's heading path."""
    if marker is None or is_pure_heading(marker):
        return line
    m = re.search(r"[。！？；：:!?;]", line)
    head = line[: m.start()] if m else line
    if len(head) > PATH_MAX_CHARS + len(marker.label):
        c = re.search(r"[，,]", head)
        head = head[: c.start()] if c else head
    if len(head) > PATH_MAX_CHARS + len(marker.label):
        head = head[: PATH_MAX_CHARS + len(marker.label)] + "…"
    return head


# --- articles ---------------------------------------------------------------------------------


@dataclass
class Article:
    """One document inside a file: the text after a 篇X marker, or the whole file."""

    lines: list[Line]
    title: str | None = None  # from "篇一:TITLE"
    label: str | None = None  # "篇一"
    header: Line | None = None  # the 篇 line itself


def split_articles(lines: Sequence[Line]) -> tuple[list[Line], list[Article]]:
    """Split at 篇一/篇二/第一篇 lines. Returns (preamble lines, articles); a file without such
    markers is one article and an empty preamble."""
    starts = []
    for i, ln in enumerate(lines):
        m = parse_marker(ln.text)
        if m and m.family == "pian" and len(m.rest) <= PATH_MAX_CHARS:
            starts.append((i, m))
    if not starts:
        return [], [Article(list(lines))]
    preamble = list(lines[: starts[0][0]])
    articles = []
    for n, (i, m) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        articles.append(Article(list(lines[i + 1 : end]), m.rest or None, m.label, lines[i]))
    return preamble, articles


def split_collection(lines: Sequence[Line]) -> list[Article]:
    """Split a collection without 篇 markers ("…汇编(7篇)") where a new article starts: a title
    line, then (after lead paragraphs) the top numbering family restarting at 1 after it had
    reached 2 or more. Without such a title line the restart is not taken as a new article."""
    markers = [parse_marker(ln.text) for ln in lines]
    top = next((m.family for m in markers if m is not None), None)
    if top is None:
        return [Article(list(lines))]
    starts = [0]
    highest = 0
    for i, m in enumerate(markers):
        if m is None or m.family != top:
            continue
        if m.ordinal == 1 and highest >= 2:
            j = i - 1
            while j > starts[-1] and markers[j] is None and not _heading_shaped(lines[j].text, 80):
                j -= 1
            if j > starts[-1] and markers[j] is None:
                starts.append(j)
            highest = 0
        highest = max(highest, m.ordinal or 0)
    bounds = [*starts, len(lines)]
    return [Article(list(lines[a:b])) for a, b in zip(bounds, bounds[1:], strict=False)]


# --- the heading tree -------------------------------------------------------------------------


@dataclass
class Node:
    kind: str  # "root" | "item" (numbered) | "heading" (unnumbered heading line)
    rank: float
    line: Line | None = None
    marker: Marker | None = None
    family: str | None = None  # an item's family; for a heading, the family just below it
    body: list[Line] = field(default_factory=list)  # lines after the heading/marker line
    children: list[Node] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.marker.label if self.marker else ""

    @property
    def path_text(self) -> str:
        assert self.line is not None
        return path_text(self.line.text, self.marker)

    @property
    def has_body(self) -> bool:
        """Whether the node says something beyond naming a section."""
        if self.body:
            return True
        return self.marker is not None and not is_pure_heading(self.marker)

    def last_line(self) -> Line | None:
        node: Node = self
        last = node.body[-1] if node.body else node.line
        while node.children:
            node = node.children[-1]
            last = node.body[-1] if node.body else node.line
        return last


@dataclass
class Outline:
    title_lines: list[Line]  # leading title/subtitle lines (not chunked)
    root: Node
    families: list[str]  # numbering families, outermost first


def _leading_titles(lines: Sequence[Line], markers: list[Marker | None], has_title: bool) -> int:
    """How many leading lines are titles: heading-shaped lines before any body or item. The
    first is a title when the article has none yet; a later one followed directly by an item
    is a section heading, not a subtitle."""
    count = 0
    for i, ln in enumerate(lines):
        if markers[i] is not None or not _heading_shaped(ln.text, 80):
            break
        if ln.heading_level == 1 or (not has_title and count == 0):
            count += 1
            continue
        if i + 1 < len(lines) and markers[i + 1] is not None:
            break
        count += 1
    return count


def _line_kinds(lines: Sequence[Line], markers: list[Marker | None], n_titles: int) -> list[str]:
    """The kind of each line after the titles: "item", "heading" or "body". Headings are
    markdown headings and short heading-shaped lines followed by an item, or standing between
    items and a paragraph."""
    kinds: list[str] = []
    seen_item = False
    for i in range(n_titles, len(lines)):
        ln, m = lines[i], markers[i]
        if m is not None:
            kinds.append("item")
            seen_item = True
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        nxt_marker = markers[i + 1] if i + 1 < len(lines) else None
        if ln.heading_level:
            kinds.append("heading")
        elif (
            _heading_shaped(ln.text, HEADING_MAX_CHARS)
            and nxt is not None
            and (
                nxt_marker is not None
                or (
                    # Without an item after it, only a short comma-free line is a heading (a
                    # longer one is more likely a paragraph broken in two).
                    seen_item
                    and len(ln.text) <= HEADING_MAX_CHARS // 2
                    and not re.search("[，,、]", ln.text)
                    and len(nxt.text) > HEADING_MAX_CHARS // 2
                    and not _heading_shaped(nxt.text, HEADING_MAX_CHARS)
                )
            )
        ):
            kinds.append("heading")
        else:
            kinds.append("body")
    return kinds


def parse_outline(lines: Sequence[Line], *, has_title: bool = False) -> Outline:
    """Build the heading tree of one article's lines."""
    markers = [parse_marker(ln.text) for ln in lines]
    markers = [None if m and m.family == "pian" else m for m in markers]
    n_titles = _leading_titles(lines, markers, has_title)
    kinds = _line_kinds(lines, markers, n_titles)

    def anchor_family(pos: int) -> str | None:
        """The family of the first item after an unnumbered heading (it sits just above it)."""
        cur = lines[n_titles + pos]
        for j in range(pos + 1, len(kinds)):
            m = markers[n_titles + j]
            if kinds[j] == "item" and m is not None:
                return m.family
            nl = lines[n_titles + j]
            # A deeper markdown heading in between nests; any other heading decides alone.
            if kinds[j] == "heading" and not (
                cur.heading_level and nl.heading_level > cur.heading_level
            ):
                break
        return None

    # Numbering families, outermost first, in order of first appearance (see
    # _new_family_position for the one exception).
    order: list[str] = []
    level_family: dict[int, str] = {}  # markdown depth → family written at it ("## 第一章")

    def rank(node: Node) -> float:
        if node.kind == "root":
            return float("-inf")
        if node.kind == "item":
            assert node.family is not None
            return float(order.index(node.family))
        level = node.line.heading_level if node.line else 0
        if level in level_family:
            return float(order.index(level_family[level]))
        r = order.index(node.family) - 0.5 if node.family in order else -1.0
        return r - (0.01 * (7 - level) if level else 0.0)

    root = Node("root", float("-inf"))
    stack = [root]
    for pos, kind in enumerate(kinds):
        i = n_titles + pos
        ln, m = lines[i], markers[i]
        if kind == "body":
            stack[-1].body.append(ln)
            continue
        if kind == "item" and m is not None:
            if m.family not in order:
                order.insert(_new_family_position(m, stack, order), m.family)
            if ln.heading_level:
                level_family.setdefault(ln.heading_level, m.family)
            node = Node("item", 0.0, ln, m, family=m.family)
        else:
            node = Node("heading", 0.0, ln, None, family=anchor_family(pos))
            if node.family is not None and node.family not in order:
                order.append(node.family)
        r = rank(node)
        while len(stack) > 1 and rank(stack[-1]) >= r:
            stack.pop()
        stack[-1].children.append(node)
        stack.append(node)
    _set_ranks(root, rank)
    return Outline(list(lines[:n_titles]), root, order)


def _new_family_position(marker: Marker, stack: list[Node], order: list[str]) -> int:
    """Where a family seen for the first time goes in the outermost-first order.

    By default it is the deepest level. But a family whose first line is a bare heading
    ("第一节 一般规定") is a section level: it goes just below the innermost open bare heading
    ("第五章 …"), hence above item families such as 第X条 seen before it, unless the open item
    introduces a list ("…下列权利：") whose entries merely look like headings.
    """
    top = stack[-1]
    if not is_pure_heading(marker) or (top.kind == "item" and _introduces_list(top)):
        return len(order)
    for node in reversed(stack[1:]):
        if node.kind == "heading":
            return len(order)
        if node.kind == "item" and not node.has_body and node.family in order:
            return order.index(node.family) + 1
    return 0


def _introduces_list(node: Node) -> bool:
    last = node.body[-1] if node.body else node.line
    return last is not None and last.text.rstrip()[-1:] in ("：", ":")


def _set_ranks(node: Node, rank: Callable[[Node], float]) -> None:
    node.rank = rank(node)
    for child in node.children:
        _set_ranks(child, rank)
