"""The corpus dictionary and the character-bigram channel of the keyword index."""

from assistant.search.analysis import BIGRAM_PREFIX, Analyzer, han_bigrams, quoted_terms
from assistant.search.store import StoredChunk


def test_quoted_terms_in_either_script_and_any_quote_style():
    text = "嚴格落實“雙減”政策，推行「一校一案」，堅持‘五育并举’。"
    assert quoted_terms(text) == ["双减", "一校一案", "五育并举"]
    assert quoted_terms("他说“ ”和“。”") == []  # blanks and punctuation are not terms


def test_han_bigrams_overlap_within_runs_only():
    assert han_bigrams("控辍保学 a 学") == ["控辍", "辍保", "保学", "学"]


def test_a_dictionary_word_is_one_token_whole_and_still_split():
    plain = Analyzer(bigrams=False)
    assert "一校一案" not in plain.tokens("落实一校一案要求")
    corpus = Analyzer.from_passages(["推行“一校一案”。", "其他内容"], bigrams=False)
    assert corpus.words == ("一校一案",)
    tokens = corpus.tokens("落實一校一案要求")  # traditional query, simplified dictionary
    assert "一校一案" in tokens
    assert set(plain.tokens("一校一案")) <= set(tokens)  # the pieces still match too


def test_bigrams_join_the_word_tokens_under_a_prefix():
    tokens = Analyzer().tokens("双减政策")
    assert f"{BIGRAM_PREFIX}双减" in tokens and f"{BIGRAM_PREFIX}减政" in tokens
    assert "双减" in tokens


def test_indexes_do_not_share_dictionaries(tmp_path):
    a = Analyzer.from_passages(["“趴改躺”"])
    b = Analyzer.from_passages(["“一校一案”"])
    a.save(tmp_path)
    loaded = Analyzer.load(tmp_path)
    assert loaded == a
    assert "趴改躺" in loaded.tokens("推进趴改躺")
    assert "趴改躺" not in b.tokens("推进趴改躺")
    assert Analyzer.load(tmp_path / "missing") == Analyzer(words=(), bigrams=False)


def test_retokenize_redoes_only_passages_with_a_dictionary_word(chunks):
    def sc(text: str) -> StoredChunk:
        return StoredChunk(chunk=chunks[0], file_rel="zl.txt", passage=text, tokens=("x",),
                           passage_hash="h", phrase=text)  # fmt: skip

    analyzer = Analyzer.from_passages(["“趴改躺”"])
    done = analyzer.retokenize([sc("推进趴改躺"), sc("其他")])
    assert "趴改躺" in done[0].tokens
    assert done[1].tokens == ("x",)
