"""Chunking: long items split at sentence ends into balanced parts that keep path and label."""

from __future__ import annotations

from assistant.documents.chunking import MAX_CHUNK_CHARS, outline_spans, split_span
from assistant.documents.cleaning import clean
from assistant.documents.structure import parse_outline

SENTENCE = "推进义务教育优质均衡发展，缩小城乡教育差距，办好人民满意的教育。"  # 32 chars


def test_short_text_is_one_part() -> None:
    text = "前言。" + SENTENCE * 3
    assert split_span(text, 3, len(text)) == [(3, len(text))]


def test_long_text_is_cut_at_sentence_ends_into_even_parts() -> None:
    text = SENTENCE * 40  # 1280 chars
    parts = split_span(text, 0, len(text), limit=500)
    assert len(parts) == 3
    assert parts[0][0] == 0 and parts[-1][1] == len(text)
    assert all(b == c for (_, b), (c, _) in zip(parts, parts[1:], strict=False))  # contiguous
    for a, b in parts:
        assert b - a <= 500
        assert text[a:b].endswith("。")
    sizes = [b - a for a, b in parts]
    assert max(sizes) - min(sizes) <= len(SENTENCE)  # balanced, no tiny tail


def test_semicolons_and_question_marks_are_sentence_ends_too() -> None:
    text = "；".join(["加强学生作业管理确保布置科学合理规范"] * 40) + "？"
    for a, b in split_span(text, 0, len(text), limit=200):
        assert b - a <= 200
        assert text[b - 1] in "；？"


def test_a_sentence_longer_than_the_limit_is_cut_at_a_comma_then_hard() -> None:
    text = "，".join(["统筹推进城乡教育一体化发展"] * 60) + "。"
    parts = split_span(text, 0, len(text), limit=100)
    assert all(b - a <= 100 for a, b in parts)
    assert all(text[b - 1] == "，" for _, b in parts[:-1])
    no_breaks = "教" * 250
    assert split_span(no_breaks, 0, 250, limit=100) == [(0, 100), (100, 200), (200, 250)]


def test_part_edges_drop_blank_lines_between_paragraphs() -> None:
    text = (SENTENCE * 10 + "\n\n") * 3
    for a, b in split_span(text, 0, len(text), limit=400):
        assert not text[a].isspace() and not text[b - 1].isspace()


def test_long_item_parts_keep_the_label_and_path_and_cover_the_item() -> None:
    item = "1.深化基础教育教学改革。" + SENTENCE * 30
    cleaned = clean(
        "\n".join(["一、推动教育机制体制改革", item, "2.稳步推进新高考综合改革。" + SENTENCE])
    )
    spans = outline_spans(parse_outline(cleaned.lines), cleaned.text)
    parts = [s for s in spans if s.label == "1."]
    assert [s.part for s in parts] == [1, 2]
    assert all(s.path == ("一、推动教育机制体制改革",) for s in parts)
    assert "".join(cleaned.text[s.start : s.end] for s in parts) == item
    assert all(s.end - s.start <= MAX_CHUNK_CHARS for s in spans)
    assert spans[-1].label == "2." and spans[-1].part == 0


def test_lead_paragraphs_are_one_chunk_without_label_or_path() -> None:
    cleaned = clean(
        "\n".join(
            [
                "2023年是关键之年。",
                "全县教育工作的总体思路是：提高质量。",
                "一、加强党建",
                "1.理论学习。开展专题学习。",
            ]
        )
    )
    spans = outline_spans(parse_outline(cleaned.lines), cleaned.text)
    assert (spans[0].path, spans[0].label) == ((), "")
    assert (
        cleaned.text[spans[0].start : spans[0].end]
        == "2023年是关键之年。\n全县教育工作的总体思路是：提高质量。"
    )
