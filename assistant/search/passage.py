"""What the index sees of a chunk: the embedded/keyword text and the phrase-match key.

The dense model and BM25 both read one string per chunk, ``title · heading path · text``, in
normalized form (``assistant.text.normalize``: t2s, half-width, single spaces). The title and
path give a bare item such as "2.持续推进…" the context a reader has (which bureau, which
section), which helps both paraphrased questions and keyword queries naming a law. Citations
always show the original ``Chunk.text``; this string is never displayed.
"""

from __future__ import annotations

import hashlib
import re

from assistant.records import Chunk
from assistant.search.store import StoredChunk
from assistant.text import normalize, tokenize

SEPARATOR = " · "
# Recorded in the manifest so an index built with another recipe is recognised as different.
PASSAGE_RECIPE = "normalize(title · path… · text)"
_WS = re.compile(r"\s+")


def passage_text(chunk: Chunk) -> str:
    """The normalized text embedded and keyword-indexed for ``chunk``."""
    body = chunk.search_text or normalize(chunk.text)
    parts = [normalize(chunk.doc.title or ""), *(normalize(p) for p in chunk.path), body]
    return SEPARATOR.join(p for p in parts if p)


def passage_tokens(text: str) -> list[str]:
    """BM25 tokens of a passage text (jieba search mode over the normalized form)."""
    return tokenize(text)


def passage_hash(text: str) -> str:
    """Key under which a passage's vector is reused across builds."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
