"""Document metadata: title, year, locality and its level, issuer, date, URL, script.

Decisions (see also the README of ``assistant chunks``):
- title: the 篇X title of an article; else the document's leading title line (a collection
  title such as "…汇编(7篇)" gives way to the article title after it); else a title the page
  names elsewhere (HTML <h1>/<title>, document properties, a promo sentence); else the file stem.
- year: the first year in the title, else the date's year, else the first "20xx年" in the text.
- date: the page's 时间 line, else a "(YYYY-MM-DD)" date in the file name (the law corpus names
  versions so), else the latest dateline ("2021年4月29日 …") among the lead lines.
- region: a place named at the start of the issuer (来源) or of the title, never from the body.
  National documents (title "中华人民共和国…", a national issuer such as 国务院 or 全国人民代表大会,
  or a law-shaped text with 第X条 items and no place in its title) get region "全国", level None.
- region_withheld: the text writes the place as a placeholder ("xx区", "XX市", "____市", "某县");
  region stays None and is never guessed from other names in the body.
- level: from the place's suffix: 省/自治区 → 省, 市 → 市, 县/旗 → 县, 区 → 区; the four
  municipalities 北京/上海/天津/重庆 are provincial-level, so 省. When the place is withheld, the
  placeholder's suffix; else how the text refers to itself (全县/我区/区委 …) when it does so
  at least twice.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from assistant.documents.cleaning import PageMeta, fold
from assistant.records import DocumentMeta, Level
from assistant.text import is_traditional

_WIDTH_ONLY = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")
NATIONAL_REGION = "全国"

_NATIONAL_ISSUERS = re.compile(
    r"全国人民代表大会|国务院|最高人民法院|最高人民检察院|国家教育委员会|教育部|中共中央|"
    r"中华人民共和国主席"
)
_PLACE = re.compile(
    r"^(?:中华人民共和国)?([\u4e00-\u9fff]{2,8}?)(特别行政区|自治区|自治州|自治县|省|市|县|区|州|盟|旗)"
)
_SEZ = re.compile(r"^([\u4e00-\u9fff]{2,4})经济特区")
# Characters that do not occur in place names but do in words that end in 市/区/县 ("城市").
_NOT_PLACE = (
    "的",
    "了",
    "和",
    "与",
    "及",
    "在",
    "对",
    "关于",
    "教育",
    "学校",
    "工作",
    "人民",
    "政府",
    "年",
    "全",
    "本",
    "我",
    "该",
    "各",
    "此",
)
_PLACEHOLDER = re.compile(r"(?:[xX×＊*]{1,4}|[_＿]{2,}|某|[○〇]{2,})(省|市|县|区|州)")
_SELF_REF = re.compile(r"(?:全|我|本)(省|市|县|区)|(省|市|县|区)委")
_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})")
_YEAR_IN_TEXT = re.compile(r"((?:19|20)\d{2})\s*年")
_FILE_DATE = re.compile(r"[（(]((?:19|20)\d{2})-(\d{2})-(\d{2})[)）]")
_DATELINE = re.compile(r"^((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日")
_COLLECTION = re.compile(r"汇编|合集|大全|精选|范文|\d+\s*篇|[（(][一二三四五六七八九十\d]+篇[)）]")
_LEGAL_TITLE = re.compile(r"(?:法|条例|规定|办法|细则|解释|决定|规则|纲要)(?:[（(].*[)）])?$")
_NPC = re.compile(
    r"((?:[\u4e00-\u9fff]{2,8}?(?:省|市|自治区))?)第[一二三四五六七八九十]+届"
    r"(全国人民代表大会|人民代表大会)(常务委员会)?"
)
_ORGANS = re.compile(
    r"最高人民法院|最高人民检察院|国务院|国家教育委员会|教育部|国家体育运动委员会|卫生部"
)

_LEVEL_OF_SUFFIX: dict[str, Level] = {
    "省": "省",
    "自治区": "省",
    "特别行政区": "省",
    "市": "市",
    "自治州": "市",
    "州": "市",
    "盟": "市",
    "县": "县",
    "自治县": "县",
    "旗": "县",
    "区": "区",
}


_SUFFIXES_LONGEST_FIRST = sorted(_LEVEL_OF_SUFFIX, key=len, reverse=True)


def short_name(region: str) -> str:
    """``region`` without its administrative suffix (洛阳市 → 洛阳; 广西壮族自治区 → 广西壮族), when
    at least two characters are left (沙市 stays 沙市)."""
    for suffix in _SUFFIXES_LONGEST_FIRST:
        if region.endswith(suffix) and len(region) - len(suffix) >= 2:
            return region[: -len(suffix)]
    return region


def is_collection_title(title: str) -> bool:
    return bool(_COLLECTION.search(fold(title)))


def choose_title(
    article_title: str | None,
    title_lines: Sequence[str],
    other_titles: Sequence[str | None],
    fallback: str,
) -> str:
    if article_title:
        return article_title
    plain = [t for t in title_lines if not is_collection_title(t)]
    for t in [*plain, *[t for t in other_titles if t], *title_lines]:
        if t and t.strip():
            return t.strip()
    return fallback


def find_place(text: str | None) -> tuple[str, Level] | None:
    """A place named at the start of ``text`` ("庄浪县教育局" → ("庄浪县", "县"))."""
    if not text:
        return None
    f = fold(text)
    m = _SEZ.match(f)
    if m:
        name = text[: m.end(1)] + "市"
        return name, "市"
    m = _PLACE.match(f)
    if not m or any(w in m.group(1) for w in _NOT_PLACE):
        return None
    name = text[m.start(1) : m.end(2)]
    if fold(name) in MUNICIPALITIES:
        return name, "省"
    return name, _LEVEL_OF_SUFFIX[m.group(2)]


def _is_national(title: str, issuer: str | None) -> bool:
    ft = fold(title)
    return ft.startswith("中华人民共和国") or bool(issuer and _NATIONAL_ISSUERS.match(fold(issuer)))


def _traditional(text: str) -> bool:
    # Only ask OpenCC (slow) when some character of the sample has a simplified form at all.
    sample = text[:4000]
    if fold(sample) == sample.lower().translate(_WIDTH_ONLY):
        return False
    return is_traditional(text)


def _year(title: str, date: str | None, text: str) -> int | None:
    m = _YEAR_IN_TITLE.search(title)
    if m:
        return int(m.group(1))
    if date:
        return int(date[:4])
    m = _YEAR_IN_TEXT.search(text[:5000])
    return int(m.group(1)) if m else None


def _date(page: PageMeta, file_name: str, lead_lines: Sequence[str]) -> str | None:
    if page.date:
        return page.date
    m = _FILE_DATE.search(file_name)
    if m:
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    dates = []
    for line in lead_lines:
        d = _DATELINE.match(line)
        if d:
            dates.append(f"{int(d.group(1)):04d}-{int(d.group(2)):02d}-{int(d.group(3)):02d}")
    return max(dates) if dates else None


def _issuer(page: PageMeta, lead_lines: Sequence[str]) -> str | None:
    if page.issuer:
        return page.issuer
    for line in lead_lines:
        if not _DATELINE.match(line):
            continue
        m = _NPC.search(line)
        if m:
            return f"{m.group(1)}{m.group(2)}{m.group(3) or ''}"
        organs = list(dict.fromkeys(_ORGANS.findall(line)))
        if organs:
            return "、".join(organs)
    return None


def build_meta(
    *,
    doc_id: str,
    file: str,
    source_path: str,
    title: str,
    text: str,
    lead_lines: Sequence[str],
    page: PageMeta,
    law_shaped: bool,
) -> DocumentMeta:
    """The metadata of one document whose cleaned text is ``text``."""
    issuer = _issuer(page, lead_lines)
    date = _date(page, file, lead_lines)
    region: str | None = None
    level: Level | None = None
    withheld = False
    place = find_place(issuer) or find_place(title)
    ft = fold(text)
    if place:
        region, level = place
    else:
        hidden = _PLACEHOLDER.search(fold(title)) or _PLACEHOLDER.search(ft)
        refs = Counter(a or b for a, b in _SELF_REF.findall(ft))
        self_level, count = refs.most_common(1)[0] if refs else (None, 0)
        if _is_national(title, issuer) or (
            not hidden and count < 2 and (law_shaped or _LEGAL_TITLE.search(fold(title)))
        ):
            region = NATIONAL_REGION
        elif hidden:
            withheld = True
            level = _LEVEL_OF_SUFFIX[hidden.group(1)]
        elif self_level and count >= 2:
            level = _LEVEL_OF_SUFFIX[self_level]
    return DocumentMeta(
        doc_id=doc_id,
        file=file,
        source_path=source_path,
        title=title,
        year=_year(title, date, text),
        region=region,
        region_withheld=withheld,
        level=level,
        issuer=issuer,
        date=date,
        url=page.url,
        script="traditional" if _traditional(text) else "simplified",
    )
