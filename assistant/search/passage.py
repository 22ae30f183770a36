"""What the index sees of a chunk: the embedded/keyword text and the phrase-match key.

The dense model and BM25 both read one string per chunk, ``heading path · text``, normalized
(``assistant.text.normalize``: t2s, half-width, single spaces). The heading path gives a bare
item such as "2.持续推进…" the section it belongs to. The document title is left out: on the
policy query set (eval/policy_queries.jsonl, 69 queries, corpus/) prefixing it lowered dense
nDCG@10 from 0.756 to 0.682 (every article of a law shares the law's long title, which pulls
them together), while BM25 was unchanged (0.853 with the title, 0.856 without) and hybrid went
from 0.815 to 0.846. Citations always show the original ``Chunk.text``; this string is never shown.
"""

from __future__ import annotations

import re

from assistant.hashing import text_sha256
from assistant.records import Chunk
from assistant.search.analysis import Analyzer
from assistant.search.store import StoredChunk
from assistant.text import normalize

SEPARATOR = " · "
# Recorded in the manifest so an index built with another recipe is recognised as different.
PASSAGE_RECIPE = "normalize(heading path… · text)"
_WS = re.compile(r"\s+")


def passage_text(chunk: Chunk) -> str:
    """The normalized text embedded and keyword-indexed for ``chunk``."""
    body = chunk.search_text or normalize(chunk.text)
    parts = [*(normalize(p) for p in chunk.path), body]
    return SEPARATOR.join(p for p in parts if p)


def passage_tokens(text: str) -> list[str]:
    """BM25 tokens of a passage text before the corpus dictionary is known (jieba search mode
    and Han bigrams, ``assistant.search.analysis``); the commit redoes passages it affects."""
    return Analyzer().tokens(text)


def passage_hash(text: str) -> str:
    """Key under which a passage's vector is reused across builds."""
    return text_sha256(text)


def phrase_key(text: str) -> str:
    """Normalized, whitespace-free, lower-cased form for exact phrase matching.

    Whitespace is dropped entirely because Chinese text is often broken across lines at
    arbitrary points; a phrase must still match across such breaks.
    """
    return _WS.sub("", normalize(text)).lower()


def stored_chunk(chunk: Chunk, file_rel: str) -> StoredChunk:
    """Everything the index keeps for a chunk of the file ``file_rel``."""
    text = passage_text(chunk)
    return StoredChunk(
        chunk=chunk,
        file_rel=file_rel,
        passage=text,
        tokens=tuple(passage_tokens(text)),
        passage_hash=passage_hash(text),
        phrase=phrase_key(chunk.text),
    )
