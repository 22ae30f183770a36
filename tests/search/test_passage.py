from assistant.search.passage import passage_hash, passage_text, passage_tokens, phrase_key


def test_passage_gives_heading_path_and_normalized_text(chunks):
    fs = chunks[3]
    text = passage_text(fs)
    # path and traditional body arrive in simplified, half-width form; the title is left out
    assert text == "一、主要工作 · 2、持续巩固提升“双减”成效,深入开展“五大行动”。"
    assert "双减" in passage_tokens(text)


def test_passage_hash_changes_with_text(chunks):
    assert passage_hash(passage_text(chunks[0])) != passage_hash(passage_text(chunks[1]))
    assert passage_hash("a") == passage_hash("a")


def test_phrase_key_ignores_script_width_and_line_breaks():
    assert phrase_key("持續鞏固提升\n“雙減”\u3000成效") == phrase_key("持续巩固提升“双减”成效")
    assert phrase_key("ＡＢＣ 1") == "abc1"
