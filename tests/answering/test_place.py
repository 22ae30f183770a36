"""A question that names a place gets that place's rules before another place's."""

from __future__ import annotations

from answer_records import make_chunk, make_hit

from assistant.answering.place import asked_places, prefer_place
from assistant.records import DocumentMeta


def doc(name: str, region: str | None, level=None) -> DocumentMeta:
    return DocumentMeta(
        doc_id=name, file=f"{name}.md", source_path=f"{name}.md", title=name, year=2020,
        region=region, level=level,
    )  # fmt: skip


ANYANG = doc("安阳市中小学校幼儿园规划建设条例", "安阳市", "市")
LUOYANG = doc("洛阳市中小学校幼儿园规划建设条例", "洛阳市", "市")
HENAN = doc("河南省实施《教师法》办法", "河南省", "省")
SHANDONG = doc("山东省学生体质健康促进条例", "山东省", "省")
NATIONAL = doc("教育法", "全国")
UNKNOWN = doc("2023年教育工作要点", None)


def ranked(*docs: DocumentMeta):
    return [make_hit(make_chunk(d, f"第{i}条 …", ordinal=i), i) for i, d in enumerate(docs, 1)]


def titles(hits) -> list[str]:
    return [h.chunk.doc.title for h in hits]


def test_a_region_is_named_with_or_without_its_suffix_in_either_script():
    hits = ranked(ANYANG, LUOYANG, HENAN, NATIONAL)
    assert asked_places("在洛阳，学校能在校园里盖教师宿舍吗", hits) == {"洛阳市": "市"}
    assert asked_places("洛陽市的學校能蓋教師宿舍嗎", hits) == {"洛阳市": "市"}
    assert asked_places("河南的老师工资有保障吗", hits) == {"河南省": "省"}
    assert asked_places("学校能在校园里盖教师宿舍吗", hits) == {}


def test_another_city_moves_below_the_named_city_national_and_provincial_texts():
    hits = ranked(ANYANG, UNKNOWN, SHANDONG, LUOYANG, NATIONAL, HENAN)
    got = prefer_place("在洛阳，新建小区要配幼儿园吗", hits)
    assert titles(got) == titles(ranked(UNKNOWN, SHANDONG, LUOYANG, NATIONAL, HENAN, ANYANG))


def test_a_named_province_moves_other_provinces_down_and_keeps_its_cities():
    hits = ranked(SHANDONG, ANYANG, HENAN, NATIONAL)
    got = prefer_place("河南对老师的工资有什么规定", hits)
    assert titles(got) == titles(ranked(ANYANG, HENAN, NATIONAL, SHANDONG))


def test_without_a_named_place_or_a_hit_from_it_the_order_is_kept():
    hits = ranked(ANYANG, SHANDONG, NATIONAL)
    assert prefer_place("新建小区要配幼儿园吗", hits) == hits
    assert prefer_place("杭州新建小区要配幼儿园吗", hits) == hits
