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


def _take_meta(f: str, original: str, meta: PageMeta) -> None:
    body = _BULLET.sub("", f)
    offset = len(f) - len(body)
    for m in re.finditer(rf"{_META_KEY}\s*[:：]\s*([^|｜]*)", body):
        key = m.group(0).split(":")[0].split("：")[0].strip()
        value_span = (offset + m.start(1), offset + m.end(1))
        value = original[value_span[0] : value_span[1]].strip()
        if not value:
            continue
        if key in ("时间", "发布时间", "发文时间", "发布日期", "日期", "成文日期", "更新时间"):
            d = _DATE.search(value)
            if d and meta.date is None:
                meta.date = f"{int(d.group(1)):04d}-{int(d.group(2)):02d}-{int(d.group(3)):02d}"
        elif key in ("来源", "文章来源", "信息来源") and meta.issuer is None:
            if not _URL.match(value) and fold(value) not in (
                "网络",
                "互联网",
                "网友",
                "本站",
                "原创",
            ):
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
    folded = [fold(s) for s in lines]
    drop = [False] * len(lines)
    removed: list[str] = []

    # Pass 1: patterns that mark boilerplate wherever they stand.
    i = 0
    n = len(lines)
    while i < n:
        s, f = lines[i], folded[i]
        if not s or len(s) > MAX_BOILERPLATE_CHARS or levels[i]:
            i += 1
            continue
        fb = _BULLET.sub("", f)
        m = _URL_LINE.match(fb)
        if m:
            drop[i] = True
            url = _URL.search(s)
            if url and meta.url is None:
                meta.url = url.group(0)
            i += 1
            continue
        if _NOTICE_HEAD.match(fb):
            drop[i] = True
            j = i + 1
            while j < n:
                if not lines[j]:
                    j += 1
                    continue
                fj = folded[j]
                if len(lines[j]) <= MAX_BOILERPLATE_CHARS and (
                    _NOTICE_WORDS.search(fj) or _COPYRIGHT.search(fj) or _CONTACT.match(fj)
                ):
                    drop[j] = True
                    j += 1
                else:
                    break
            i = j
            continue
        if _RELATED_HEAD.match(fb):
            # A related-articles list: short link titles up to the next real line.
            drop[i] = True
            j = i + 1
            while j < n:
                sj = lines[j]
                if sj and (
                    len(sj) > 40
                    or "。" in sj
                    or is_marker_line(sj)
                    or _NOTICE_HEAD.match(_BULLET.sub("", folded[j]))
                ):
                    break
                drop[j] = bool(sj)
                j += 1
            i = j
            continue
        if (
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

    # Pass 2: in the page header/footer (before the first / after the last body line), also
    # meta widgets, navigation bars and runs of stray keyword lines.
    kept = [k for k in range(n) if lines[k] and not drop[k]]
    body = [k for k in kept if _is_body_like(lines[k]) or levels[k]]
    first_body = body[0] if body else n
    last_body = body[-1] if body else -1
    edge = [k for k in kept if k < first_body or k > last_body]
    for k in edge:
        f = folded[k]
        if _is_meta_widget(f):
            drop[k] = True
            _take_meta(f, lines[k], meta)
        elif not levels[k] and _is_nav(f):
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

    # Pass 3: duplicated titles: repeats of the first heading-like line, and a heading-like line
    # repeating the line just before it.
    kept = [k for k in range(n) if lines[k] and not drop[k]]
    if kept and _heading_like(lines[kept[0]]) and not is_marker_line(lines[kept[0]]):
        title_key = _compact(folded[kept[0]])
        for k in kept[1:]:
            if _compact(folded[k]) == title_key:
                drop[k] = True
    prev_key = None
    for k in kept:
        if drop[k]:
            continue
        key = _compact(folded[k])
        if prev_key is not None and key == prev_key and _heading_like(lines[k]):
            drop[k] = True
        prev_key = key
        pian = re.match(r"^篇[一二三四五六七八九十]+\s*[:：]\s*(.+)$", folded[k])
        if pian:
            prev_key = _compact(pian.group(1))

    for k in range(n):
        if drop[k] and lines[k]:
            removed.append(lines[k])

    # Assemble: kept lines, at most one blank line between paragraphs.
    parts: list[str] = []
    out_lines: list[Line] = []
    pos = 0
    pending_blank = False
    for k in range(n):
        if drop[k]:
            continue
        if not lines[k]:
            pending_blank = bool(out_lines)
            continue
        if out_lines:
            sep = "\n\n" if pending_blank else "\n"
            parts.append(sep)
            pos += len(sep)
        pending_blank = False
        parts.append(lines[k])
        out_lines.append(Line(lines[k], pos, pos + len(lines[k]), levels[k]))
        pos += len(lines[k])
    return CleanText("".join(parts), out_lines, meta, removed)
