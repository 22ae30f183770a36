"""Verbatim evidence inside an item."""

from dataclasses import replace

from assistant.search.evidence import chunk_key_text, verbatim_keys


def test_verbatim_keys_are_quoted_parts_and_the_whole_query():
    assert verbatim_keys("落實“雙減” 政策") == ("双减", "落实“双减”政策")
    assert verbatim_keys("学") == ()


def test_verbatim_count_ignores_script_width_and_line_breaks(chunks):
    chunk = replace(chunks[3], text="持續鞏固提升\n“雙減”成效", search_text="")
    text = chunk_key_text(chunk)
    assert all(k in text for k in verbatim_keys("巩固提升“双减”"))
    assert not any(k in text for k in verbatim_keys("双减成效"))
