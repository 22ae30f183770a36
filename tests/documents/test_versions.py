"""Versions of one text found from document metadata: newest current, older superseded."""

from __future__ import annotations

from assistant.documents.versions import (
    collapse_versions,
    find_versions,
    superseded_ids,
    title_key,
    with_version,
)
from assistant.records import Chunk, DocumentMeta, Hit


def doc(doc_id: str, title: str, date: str | None, region: str | None = "全国") -> DocumentMeta:
    return DocumentMeta(
        doc_id=doc_id, file=f"{doc_id}.md", source_path=f"law/{doc_id}.md", title=title,
        date=date, region=region, year=int(date[:4]) if date else None,
    )  # fmt: skip


def make_hit(meta: DocumentMeta, text: str, ordinal: int = 1) -> Hit:
    chunk = Chunk(chunk_id=f"{meta.doc_id}:{ordinal}", doc=meta, path=(), label="", text=text,
                  start=0, end=len(text))  # fmt: skip
    return Hit(chunk=chunk, score=1.0)


def test_newest_dated_version_is_current_and_older_ones_say_by_what_they_were_replaced():
    v = find_versions(
        [
            doc("a", "中华人民共和国未成年人保护法", "2024-04-26"),
            doc("b", "中华人民共和国未成年人保护法", "2020-10-17"),
            doc("c", "中华人民共和国教育法", "2021-04-29"),
        ]
    )
    assert set(v) == {"a", "b"}  # a text in one version is not marked
    assert v["a"].current and v["a"].note == "（2024年版，现行版本）"
    assert not v["b"].current and v["b"].current_doc_id == "a"
    assert v["b"].note == "（2020年版，已被2024年版取代）"
    assert v["b"].editions == ("2020", "2024")
    assert superseded_ids(v) == ["b"]


def test_titles_match_across_script_width_spacing_and_the_national_prefix():
    assert title_key("中華人民共和國 職業教育法") == title_key("职业教育法")
    assert title_key("最高人民法院  最高人民检察院关于…的解释") == title_key(
        "最高人民法院、最高人民检察院关于…的解释"
    )


def test_same_title_in_another_locality_or_with_a_year_is_not_a_version():
    v = find_versions(
        [
            doc("sh", "学前教育条例", "2021-01-01", region="上海市"),
            doc("bj", "学前教育条例", "2023-01-01", region="北京市"),
            doc("p1", "2023年教育工作要点", "2023-02-01", region=None),
            doc("p2", "2023年教育工作要点", "2023-03-01", region=None),
        ]
    )
    assert v == {}


def test_articles_of_one_file_are_not_versions_of_each_other():
    a1 = doc("f", "工作方案", "2022-01-01")
    a2 = DocumentMeta(**{**a1.to_dict(), "doc_id": "f#2", "date": "2023-01-01"})
    assert find_versions([a1, a2]) == {}


def test_an_undated_copy_defers_to_the_dated_version_and_a_double_is_cited_once():
    v = find_versions(
        [
            doc("undated", "上海市未成年人保护条例", None, region="上海市"),
            doc("dated", "上海市未成年人保护条例", "2024-12-31", region="上海市"),
        ]
    )
    assert v["dated"].current
    assert v["undated"].note == "（未注明日期的版本，以2024年版为准）"
    twins = find_versions([doc("x1", "某解释", "2023-05-24"), doc("x2", "某解释", "2023-05-24")])
    assert twins["x1"].current and not twins["x2"].current
    assert twins["x2"].note == "（2023年版，与另一份文件重复收录）"
    same_year = find_versions([doc("m", "某法", "2024-04-26"), doc("n", "某法", "2024-11-08")])
    assert same_year["m"].note == "（2024年4月26日版，已被2024年11月8日版取代）"


def test_with_version_attaches_the_record():
    v = find_versions([doc("a", "某法", "2024-01-01"), doc("b", "某法", "2020-01-01")])
    b = with_version(doc("b", "某法", "2020-01-01"), v)
    assert b.superseded and b.to_dict()["version"]["current_edition"] == "2024"
    other = doc("z", "别的法", "2020-01-01")
    assert with_version(other, v) is other and not other.superseded


def test_a_passage_two_versions_share_is_kept_once_as_the_current_version():
    v = find_versions([doc("new", "某法", "2024-01-01"), doc("old", "某法", "2020-01-01")])
    new, old = (with_version(doc(i, "某法", d), v) for i, d in (("new", "2024"), ("old", "2020")))
    same = "第一条 学校不得体罚学生。"
    hits = [
        make_hit(old, same),
        make_hit(old, "第二条 旧的条文。", ordinal=2),
        make_hit(new, same),
    ]
    kept = collapse_versions(hits)
    assert [h.chunk.doc.doc_id for h in kept] == ["new", "old"]
    assert kept[1].chunk.text == "第二条 旧的条文。"
