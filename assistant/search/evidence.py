"""Verbatim evidence inside a candidate item: does it contain the query's wording exactly?

A slogan matches a few characters of a long item, and a pasted sentence matches one sentence
of it; either way the item holds the query's phrase keys (its quoted parts, and the whole
query) after t2s, width folding, whitespace removal and lower-casing. Checked on the
candidates the retriever already fetched, from their stored normalized text.
"""

from __future__ import annotations

import re

from assistant.records import Chunk
from assistant.search.analysis import quoted_terms
from assistant.search.passage import phrase_key

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
