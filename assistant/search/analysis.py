"""Lexical analysis that knows the corpus: a per-index user dictionary and character bigrams.

Two things keep a term from hiding behind a bad jieba split:

- **The corpus dictionary.** Terms a document puts in quotation marks (“双减”, 「一校一案」) are
  the domain's coinages; every such term found at index time becomes a dictionary word of that
  index. It is saved beside the index and loaded with it, so two indexes never share jieba state
  (jieba's own global dictionary is never touched): text is split at dictionary words first, the
  rest goes through jieba, and a dictionary word is emitted whole and as jieba's pieces of it.
- **Character bigrams** of every run of Han characters (as Elasticsearch's CJK analyzer does),
  added to the same token stream under a prefix, so a query term still matches when the passage
  is split differently.

``Analyzer.tokens`` is the one tokenizer of the keyword index: passages are tokenized with it
when they are written (``passage.passage_tokens``, then again with the dictionary by the
backend's writer where a dictionary word occurs), queries by the retriever with the index's own
analyzer (``SearchBackend.analyzer``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.search.store import StoredChunk
from assistant.text import normalize, words_of_normalized

ANALYSIS_FILE = "analysis.json"
BIGRAM_PREFIX = "\u2021"  # marks bigram tokens so they never collide with jieba words
# Shown in the manifest: an index built by another analysis is rebuilt.
RECIPE = "jieba cut_for_search + corpus dictionary (quoted terms) + Han character bigrams"

_QUOTED = re.compile(r"[“\"「『‘]([^”\"」』’\s]{2,12})[”\"」』’]")
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_PUNCT_ONLY = re.compile(r"^[\W_]+$")


def quoted_terms(text: str) -> list[str]:
    """Terms inside quotation marks, normalized and lower-cased (2–12 characters, no spaces)."""
    out = []
    for m in _QUOTED.finditer(normalize(text).lower()):
        term = m.group(1)
        if _HAN_RUN.search(term) and not _PUNCT_ONLY.match(term):
            out.append(term)
    return out


def han_bigrams(norm: str) -> list[str]:
    """Overlapping bigrams of each run of Han characters of normalized text (a lone character
    stays a unigram)."""
    out: list[str] = []
    for run in _HAN_RUN.findall(norm):
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


@dataclass(frozen=True)
class Analyzer:
    """The keyword analysis of one index: its dictionary words, and bigrams on or off."""

    words: tuple[str, ...] = ()
    bigrams: bool = True
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = sorted(self.words, key=lambda w: (-len(w), w))  # longest match wins
        pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        object.__setattr__(self, "_pattern", pattern)

    @classmethod
    def from_passages(cls, passages: Iterable[str], *, bigrams: bool = True) -> Analyzer:
        """The analyzer of a corpus: every quoted term of its passages is a dictionary word."""
        return cls(bigrams=bigrams).grown(passages)

    def grown(self, passages: Iterable[str]) -> Analyzer:
        """This analyzer with the quoted terms of ``passages`` added to its dictionary."""
        new = {t for text in passages for t in quoted_terms(text)}
        if new <= set(self.words):
            return self
        return Analyzer(words=tuple(sorted(new.union(self.words))), bigrams=self.bigrams)

    def uses_words(self, norm: str) -> bool:
        """True when normalized ``norm`` contains a dictionary word (its tokens then differ
        from those of an analyzer without the dictionary)."""
        return self._pattern is not None and self._pattern.search(norm.lower()) is not None

    def retokenize(self, stored: Sequence[StoredChunk]) -> list[StoredChunk]:
        """``stored`` with the tokens of this analyzer (only passages with a word change)."""
        return [
            replace(sc, tokens=tuple(self.tokens(sc.passage)))
            if self.uses_words(sc.passage)
            else sc
            for sc in stored
        ]

    def words_of(self, norm: str) -> list[str]:
        """jieba search-mode words of normalized text, dictionary words kept whole (and also
        split, so a query with only a piece of the word still matches)."""
        pattern = self._pattern
        if pattern is None:
            return words_of_normalized(norm)
        out: list[str] = []
        start = 0
        for m in pattern.finditer(norm):
            out += words_of_normalized(norm[start : m.start()])
            out.append(m.group(0))
            out += [t for t in words_of_normalized(m.group(0)) if t != m.group(0)]
            start = m.end()
        out += words_of_normalized(norm[start:])
        return out

    def tokens(self, text: str) -> list[str]:
        """The keyword-index tokens of ``text``: words, then prefixed Han bigrams."""
        norm = normalize(text).lower()
        words = self.words_of(norm)
        if not self.bigrams:
            return words
        return words + [BIGRAM_PREFIX + b for b in han_bigrams(norm)]

    def save(self, directory: Path) -> None:
        data = {"recipe": RECIPE, "bigrams": self.bigrams, "words": list(self.words)}
        (directory / ANALYSIS_FILE).write_text(
            json.dumps(data, ensure_ascii=False, indent=0), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> Analyzer:
        """The analyzer saved with an index; an index without one used plain jieba words."""
        path = directory / ANALYSIS_FILE
        if not path.is_file():
            return cls(words=(), bigrams=False)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(words=tuple(data.get("words", ())), bigrams=bool(data.get("bigrams", False)))
