"""Cleaning: strip what a reposted web page adds around a policy text, keep every body line.

The rules are patterns a repost has, not rules for particular files: site navigation and
breadcrumbs, share/font/counter widgets, "扫一扫" QR prompts, page counters, download notices,
"本文地址" lines, tag and related-article lists, copyright and disclaimer blocks, promotional
sentences and duplicated titles. Where a page states its date (时间), issuer (来源) or URL, those
are kept as :class:`PageMeta` rather than as text. Patterns are matched on a folded copy of each
line (traditional→simplified per character, full-width→half-width, lower case) so they apply to
both scripts; the kept lines are never altered beyond trimming surrounding blanks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.documents.structure import is_marker_line

# A line longer than this is never boilerplate, whatever it contains.
MAX_BOILERPLATE_CHARS = 160


@dataclass(frozen=True)
class Line:
    """A kept line; ``start``/``end`` are its offsets in the cleaned text."""

    text: str
    start: int
    end: int
    heading_level: int = 0  # markdown heading depth (1 for "#"), 0 for ordinary lines


@dataclass
class PageMeta:
    date: str | None = None  # ISO "2023-04-19"
    issuer: str | None = None  # 来源
    url: str | None = None
    title_hint: str | None = None  # a title named by a removed line (e.g. a promo sentence)


@dataclass
class CleanText:
    text: str
    lines: list[Line]
    meta: PageMeta
    removed: list[str] = field(default_factory=list)  # boilerplate lines, in order


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, int]:
    """Per-character traditional→simplified and full-width→half-width, for pattern matching."""
    from assistant.text import to_simplified

    table: dict[int, int] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
    table[0x3000] = 0x20
    han = "".join(chr(cp) for cp in range(0x4E00, 0xA000))
    simp = to_simplified(han)
    if len(simp) == len(han):
        for a, b in zip(han, simp, strict=True):
            if a != b:
                table[ord(a)] = ord(b)
    # Variants OpenCC keeps as they are but pages use interchangeably.
    for a, b in {"爲": "为", "籤": "签", "啓": "启", "羣": "群", "綫": "线", "裏": "里"}.items():
        table[ord(a)] = ord(b)
    return table


def fold(line: str) -> str:
    """Same length as ``line``: simplified, half-width, lower case (for matching only)."""
    return line.translate(_fold_table()).lower()


_DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_URL = re.compile(r"https?://[^\s<>\"'，。]+")
_BULLET = re.compile(r"^[•·●▪■◆◇○►▶\-*+\s]+")
_PUNCT = re.compile(r"[，。；：！？、,;:!?“”\"（）()《》]")

_META_KEY = (
    r"(?:发布时间|发文时间|更新时间|发布日期|成文日期|时间|日期|文章来源|信息来源|来源|作者|"
    r"阅读次数|阅读量|阅读|浏览次数|浏览量|浏览|点击数|点击量|点击|访问量|字体|字号|分享到|分享|"
    r"打印|责任编辑|编辑|发布者|发布人|评论)"
)
_META_SEGMENT = re.compile(rf"^{_META_KEY}\s*(?:[:：]|$)")
_URL_LINE = re.compile(
    r"^(?:本文地址|本文链接|原文地址|原文链接|文章链接|文章地址|网址|链接|来源网址|转载请注明出处)"
    r"\s*[:：]?\s*(https?://\S+)?\s*$"
)
_NOTICE_HEAD = re.compile(
    r"^(?:温馨提示|下载提示|特别提示|友情提示|版权声明|免责声明|郑重声明|版权说明|声明\s*[:：])"
)
_NOTICE_WORDS = re.compile(
    r"本站|本网|网站|网友|下载|上传|版权|客服|投诉|转载|侵权|删除|文责|付费|预览|作者所有|"
    r"联系我们|原创|不承担|出处"
)
_RELATED_HEAD = re.compile(
    r"^(?:相关文章|相关阅读|推荐阅读|延伸阅读|猜你喜欢|热门文章|热门推荐|相关推荐|更多相关|"
    r"最新文章|精彩推荐|相关范文)\s*[:：]?"
)
_TAGS = re.compile(r"^(?:标签|热门标签|tags?|关键词|关键字)\s*[:：]")
_CONTACT = re.compile(r"^(?:网站)?(?:客服|联系)(?:电话|qq|热线|邮箱)?\s*[:：]\s*[\w@.\-\s]*$")
_SINGLE = [
    re.compile(p)
    for p in (
        r"^扫一扫",
        r"^扫描二维码",
        r"^(?:保存到桌面|加入收藏|设为首页|收藏本站|收藏本页|返回顶部|返回首页|返回列表|打印本页|"
        r"关闭窗口|打印|关闭|手机版|手机阅读|电脑版)$",
        r"^(?:上一篇|下一篇|上一页|下一页)\s*[:：]",
        r"^(?:【[^】]{0,14}】\s*)+$",
        r"^(?:\[[^\]]{0,14}\]\s*)+$",
        r"^分享到\s*[:：]?",
        r"^第\s*\d+\s*页\s*[,，/、]?\s*共\s*\d+\s*页$",
        r"^共\s*\d+\s*页\s*[,，/、]?\s*第\s*\d+\s*页$",
        r"^page\s*\d+(?:\s*(?:of|/)\s*\d+)?$",
        r"^[-—–\s]*\d{1,4}\s*(?:/\s*\d{1,4})?[-—–\s]*$",
        r"^https?://\S+$",
    )
]
_BREADCRUMB_HEAD = re.compile(r"^(?:当前位置|您的位置|您现在的位置|现在位置|位置)\s*[:：]")
_COPYRIGHT = re.compile(r"copyright|all rights reserved|版权所有|©|\(c\)\s*\d{4}")
_PROMO_WHO = re.compile(r"本站|小编|本网|编者|网友")
_PROMO_WHAT = re.compile(
    r"精心准备|整理了|范文|欢迎阅读|欢迎深入阅读|收藏|仅供参考|参考阅读|希望对"
)
_PROMO_TITLE = re.compile(
    r"(?:准备了|整理了|带来了|分享了|收集了)(?:一篇|几篇|\d+篇)?[《「“]?(.{2,60}?)[》」”]?"
    r"(?:参考)?(?:范文|范例|模板|文章|材料|资料)"
)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_STRIP = " \t\r\f\v\u3000\xa0\u200b\u200c\u200d\ufeff"


def _is_body_like(line: str) -> bool:
    return is_marker_line(line) or (len(line) >= 30 and bool(re.search(r"[。，,；]", line)))


def _is_meta_widget(f: str) -> bool:
    segments = [s for s in re.split(r"\s*[|｜]\s*|\s{2,}|\t", _BULLET.sub("", f)) if s.strip()]
    return bool(segments) and all(_META_SEGMENT.match(s.strip()) for s in segments)


_META_PAIR = re.compile(rf"(?P<key>{_META_KEY})\s*[:：]\s*(?P<value>[^|｜]*)")
_DATE_KEYS = ("时间", "发布时间", "发文时间", "发布日期", "日期", "成文日期", "更新时间")
_SOURCE_KEYS = ("来源", "文章来源", "信息来源")
_NOT_ISSUERS = ("网络", "互联网", "网友", "本站", "原创")


def _take_meta(f: str, original: str, meta: PageMeta) -> None:
    """Record 时间 and 来源 of a widget line (``f`` is its folded form) in ``meta``."""
    for m in _META_PAIR.finditer(f, len(f) - len(_BULLET.sub("", f))):
        value = original[m.start("value") : m.end("value")].strip()
        if not value:
            continue
        if m.group("key") in _DATE_KEYS and meta.date is None:
            d = _DATE.search(value)
            if d:
                meta.date = f"{int(d.group(1)):04d}-{int(d.group(2)):02d}-{int(d.group(3)):02d}"
        elif m.group("key") in _SOURCE_KEYS and meta.issuer is None:
            if not _URL.match(value) and fold(value) not in _NOT_ISSUERS:
                meta.issuer = value


def _is_nav(f: str) -> bool:
    if len(f) > 60 or _PUNCT.search(f):
        return False
    tokens = f.split()
    return len(tokens) >= 3 and all(len(t) <= 12 for t in tokens)


def _heading_like(line: str) -> bool:
    return 0 < len(line) <= 80 and "。" not in line


def _compact(f: str) -> str:
    return re.sub(r"\s+", "", f)


def clean(raw: str, *, markdown: bool = False) -> CleanText:
    """Remove page boilerplate from ``raw`` and return the kept lines with their offsets."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    meta = PageMeta()
    if markdown:
        # Keep the line count: a comment spanning lines becomes blank lines.
        text = _MD_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        front = _FRONT_MATTER.match(text)
        if front:
            t = re.search(r"^title\s*:\s*[\"']?(.+?)[\"']?\s*$", front.group(1), re.M)
            if t:
                meta.title_hint = t.group(1)
            text = "\n" * front.group(0).count("\n") + text[front.end() :]
    lines: list[str] = []
    levels: list[int] = []
    for ln in text.split("\n"):
        s = ln.strip(_STRIP)
        level = 0
        if markdown:
            m = _MD_HEADING.match(s)
            if m:
                level, s = len(m.group(1)), m.group(2).strip(_STRIP)
        lines.append(s)
        levels.append(level)
    page = _Page(lines, [fold(s) for s in lines], levels, [False] * len(lines), meta)
    _drop_anywhere(page)
    _drop_at_edges(page)
    _drop_repeated_titles(page)
    return _assemble(page)


@dataclass
class _Page:
    lines: list[str]  # stripped lines ("" for blank), markdown heading marks removed
    folded: list[str]
    levels: list[int]
    drop: list[bool]
    meta: PageMeta


def _drop_block(page: _Page, i: int, belongs) -> int:
    """Drop lines after ``i`` while ``belongs(k)`` (blank lines pass); return the next index."""
    j = i + 1
    while j < len(page.lines) and (not page.lines[j] or belongs(j)):
        page.drop[j] = bool(page.lines[j]) or page.drop[j]
        j += 1
    return j


def _drop_anywhere(page: _Page) -> None:
    """Pass 1: patterns that mark boilerplate wherever they stand."""
    lines, folded, drop, meta = page.lines, page.folded, page.drop, page.meta
    i = 0
    while i < len(lines):
        s, f = lines[i], folded[i]
        if not s or len(s) > MAX_BOILERPLATE_CHARS or page.levels[i]:
            i += 1
            continue
        fb = _BULLET.sub("", f)
        if _URL_LINE.match(fb):
            drop[i] = True
            url = _URL.search(s)
            if url and meta.url is None:
                meta.url = url.group(0)
        elif _NOTICE_HEAD.match(fb):
            # A notice block: its numbered lines speak of the site, downloads, copyright.
            drop[i] = True
            i = _drop_block(
                page,
                i,
                lambda k: (
                    len(lines[k]) <= MAX_BOILERPLATE_CHARS
                    and bool(
                        _NOTICE_WORDS.search(folded[k])
                        or _COPYRIGHT.search(folded[k])
                        or _CONTACT.match(folded[k])
                    )
                ),
            )
            continue
        elif _RELATED_HEAD.match(fb):
            # A related-articles list: short link titles up to the next real line.
            drop[i] = True
            i = _drop_block(
                page,
                i,
                lambda k: (
                    len(lines[k]) <= 40
                    and "。" not in lines[k]
                    and not is_marker_line(lines[k])
                    and not _NOTICE_HEAD.match(_BULLET.sub("", folded[k]))
                ),
            )
            continue
        elif (
            _TAGS.match(fb)
            or _CONTACT.match(fb)
            or any(p.match(cb) or p.match(fb) for cb in (_compact(fb),) for p in _SINGLE)
            or _BREADCRUMB_HEAD.match(fb)
            or (len(re.findall(r"[>»›]", fb)) >= 2 and len(fb) <= 120 and "。" not in fb)
            or (_COPYRIGHT.search(fb) and len(fb) <= 120)
        ):
            drop[i] = True
        elif _PROMO_WHO.search(f) and _PROMO_WHAT.search(f):
            drop[i] = True
            t = _PROMO_TITLE.search(f)
            if t and meta.title_hint is None:
                meta.title_hint = s[t.start(1) : t.end(1)].strip()
        i += 1


def _drop_at_edges(page: _Page) -> None:
    """Pass 2: in the page header and footer (before the first / after the last body line),
    also meta widgets, navigation bars and runs of three or more stray keyword lines."""
    lines, drop = page.lines, page.drop
    n = len(lines)
    kept = [k for k in range(n) if lines[k] and not drop[k]]
    body = [k for k in kept if _is_body_like(lines[k]) or page.levels[k]]
    first_body = body[0] if body else n
    last_body = body[-1] if body else -1
    edge = [k for k in kept if k < first_body or k > last_body]
    for k in edge:
        if _is_meta_widget(page.folded[k]):
            drop[k] = True
            _take_meta(page.folded[k], lines[k], page.meta)
        elif not page.levels[k] and _is_nav(page.folded[k]):
            drop[k] = True
    run: list[int] = []
    for k in [k for k in edge if not drop[k]] + [n]:
        short = k < n and len(lines[k]) <= 6 and not _PUNCT.search(lines[k])
        contiguous = bool(run) and all(not lines[x] or drop[x] for x in range(run[-1] + 1, k))
        if short and (not run or contiguous):
            run.append(k)
            continue
        if len(run) >= 3:
            for x in run:
                drop[x] = True
        run = [k] if short else []


def _drop_repeated_titles(page: _Page) -> None:
    """Pass 3: repeats of the first (title) line, and a heading-like line repeating the line
    just before it (or the title of the 篇 line before it)."""
    lines, drop = page.lines, page.drop
    kept = [k for k in range(len(lines)) if lines[k] and not drop[k]]
    if kept and _heading_like(lines[kept[0]]) and not is_marker_line(lines[kept[0]]):
        title_key = _compact(page.folded[kept[0]])
        for k in kept[1:]:
            if _compact(page.folded[k]) == title_key:
                drop[k] = True
    prev_key = None
    for k in kept:
        if drop[k]:
            continue
        key = _compact(page.folded[k])
        if prev_key is not None and key == prev_key and _heading_like(lines[k]):
            drop[k] = True
        prev_key = key
        pian = re.match(r"^篇[一二三四五六七八九十]+\s*[:：]\s*(.+)$", page.folded[k])
        if pian:
            prev_key = _compact(pian.group(1))


def _assemble(page: _Page) -> CleanText:
    """The kept lines joined, at most one blank line between paragraphs, with offsets."""
    parts: list[str] = []
    out: list[Line] = []
    pos = 0
    pending_blank = False
    for text, level, dropped in zip(page.lines, page.levels, page.drop, strict=True):
        if dropped:
            continue
        if not text:
            pending_blank = bool(out)
            continue
        if out:
            sep = "\n\n" if pending_blank else "\n"
            parts.append(sep)
            pos += len(sep)
        pending_blank = False
        parts.append(text)
        out.append(Line(text, pos, pos + len(text), level))
        pos += len(text)
    removed = [t for t, d in zip(page.lines, page.drop, strict=True) if d and t]
    return CleanText("".join(parts), out, page.meta, removed)
