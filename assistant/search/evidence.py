"""Evidence inside one candidate item: verbatim matches and the best-matching sentence.

Items stay the unit of display and citation, but a writer's half-remembered sentence matches
one sentence of a long item, and a slogan matches a few characters of it. For each candidate
the retriever already fetched, two cheap signals are computed from its normalized text:

- **verbatim**: how many of the query's phrase keys (its quoted parts, and the whole query)
  the item contains exactly (after t2s, width folding, whitespace removed, lower-cased);
- **sentence**: the best sentence's Dice overlap of Han character bigrams with the query, so
  one sentence that says nearly the same thing outweighs an item that shares words all over.
"""

from __future__ import annotations

import re

from assistant.answering.extractive import split_sentences
from assistant.records import Chunk
from assistant.search.analysis import han_bigrams, quoted_terms
from assistant.search.passage import phrase_key
from assistant.text import normalize

_WS = re.compile(r"\s+")
MIN_KEY = 2  # characters; a one-character key would match nearly everything


def verbatim_keys(query: str) -> tuple[str, ...]:
    """Phrase keys of ``query``: each quoted part, and the whole query (no repeats)."""
    keys = [phrase_key(t) for t in quoted_terms(query)] + [phrase_key(query)]
    return tuple(dict.fromkeys(k for k in keys if len(k) >= MIN_KEY))


def chunk_key_text(chunk: Chunk) -> str:
    """The chunk's text in phrase-key form (its stored normalized text, whitespace removed)."""
    if chunk.search_text:
        return _WS.sub("", chunk.search_text).lower()
    return phrase_key(chunk.text)


def verbatim_count(keys: tuple[str, ...], key_text: str) -> int:
    return sum(1 for k in keys if k in key_text)


def sentence_match(query_bigrams: frozenset[str], text: str) -> float:
    """Best Dice overlap of Han bigrams between the query and one sentence of ``text``
    (normalized text, e.g. ``Chunk.search_text``)."""
    if not query_bigrams:
        return 0.0
    best = 0.0
    for sentence in split_sentences(text.lower()):
        grams = set(han_bigrams(sentence))
        if not grams:
            continue
        dice = 2 * len(query_bigrams & grams) / (len(query_bigrams) + len(grams))
        best = max(best, dice)
    return best


def query_bigrams(query: str) -> frozenset[str]:
    return frozenset(han_bigrams(normalize(query).lower()))
