"""Evidence inside an item: verbatim keys and the best-matching sentence."""

from dataclasses import replace

from assistant.search.evidence import (
    chunk_key_text,
    query_bigrams,
    sentence_match,
    verbatim_count,
    verbatim_keys,
)


def test_verbatim_keys_are_quoted_parts_and_the_whole_query():
    assert verbatim_keys("落實“雙減” 政策") == ("双减", "落实“双减”政策")
    assert verbatim_keys("学") == ()


def test_verbatim_count_ignores_script_width_and_line_breaks(chunks):
    chunk = replace(chunks[3], text="持續鞏固提升\n“雙減”成效", search_text="")
    text = chunk_key_text(chunk)
    assert verbatim_count(verbatim_keys("巩固提升“双减”"), text) == 2
    assert verbatim_count(verbatim_keys("双减成效"), text) == 0


def test_one_matching_sentence_outweighs_shared_words_spread_over_an_item():
    q = query_bigrams("老师要保证学生每天体育活动一小时")
    one_sentence = "加强学校体育。保证学生每天校内体育活动时间不少于1小时。推进美育。"
    spread = "学生体育工作，教师每天要保证。活动时间要求学生。一小时内完成。"
    assert sentence_match(q, one_sentence) > sentence_match(q, spread)
    assert sentence_match(q, "") == 0.0
    assert sentence_match(frozenset(), one_sentence) == 0.0
