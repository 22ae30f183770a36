"""Lexical analysis that knows the corpus: a per-index user dictionary and character bigrams.

Two things keep a term from hiding behind a bad jieba split:

- **The corpus dictionary.** Terms a document puts in quotation marks (“双减”, 「一校一案」) are
  the domain's coinages, and so are strings that recur whole in several documents although
  jieba splits them (立德树人, 产教融合; the rule is in ``assistant.search.ngrams``). Every such
  term found at index time becomes a dictionary word of that index. It is saved beside the
  index and loaded with it, so two indexes never share jieba state (jieba's own global
  dictionary is never touched): text is split at dictionary words first (longest first), the
  rest goes through jieba, and a dictionary word is emitted whole, with the dictionary words
  inside it and jieba's pieces of it.
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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.search import ngrams
from assistant.search.store import StoredChunk
from assistant.text import normalize, words_of_normalized

ANALYSIS_FILE = "analysis.json"
BIGRAM_PREFIX = "\u2021"  # marks bigram tokens so they never collide with jieba words
# Shown in the manifest: an index built by another analysis is rebuilt, and an update starts
# from the saved dictionary only when it was chosen by this recipe.
RECIPE = (
    "jieba cut_for_search + corpus dictionary (quoted terms; Han n-grams of "
    f"{ngrams.MIN_LENGTH}-{ngrams.MAX_LENGTH} characters whole in >= {ngrams.MIN_DOCUMENTS} "
    f"documents, closed, cohesion >= {ngrams.MIN_COHESION}) + Han character bigrams"
)

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
    recipe: str = field(default=RECIPE, compare=False)  # the analysis that chose ``words``
    _set: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)
    _longest: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_set", frozenset(self.words))
        object.__setattr__(self, "_longest", max(map(len, self.words), default=0))

    @classmethod
    def from_passages(cls, passages: Iterable[str], *, bigrams: bool = True) -> Analyzer:
        """The analyzer of a corpus whose passages are each one document."""
        return cls(bigrams=bigrams).grown([p] for p in passages)

    def grown(self, documents: Iterable[Iterable[str]]) -> Analyzer:
        """This analyzer with the quoted terms and the recurring n-grams of ``documents`` (each
        the normalized passages of one document) added to its dictionary."""
        docs = [[p.lower() for p in doc] for doc in documents]
        new = {t for doc in docs for text in doc for t in quoted_terms(text)}
        new.update(ngrams.recurring_ngrams(docs))
        if new <= self._set:
            return self
        return Analyzer(words=tuple(sorted(new.union(self.words))), bigrams=self.bigrams)

    def _matches(self, norm: str) -> Iterator[tuple[int, int]]:
        """(start, end) of the dictionary words of ``norm``, leftmost and longest first, not
        overlapping."""
        i, n = 0, len(norm)
        while i < n:
            for end in range(min(n, i + self._longest), i + 1, -1):
                if norm[i:end] in self._set:
                    yield i, end
                    i = end
                    break
            else:
                i += 1

    def uses_words(self, norm: str) -> bool:
        """True when normalized ``norm`` contains a dictionary word (its tokens then differ
        from those of an analyzer without the dictionary)."""
        return next(self._matches(norm.lower()), None) is not None

    def retokenize(self, stored: Sequence[StoredChunk]) -> list[StoredChunk]:
        """``stored`` with the tokens of this analyzer (only passages with a word change)."""
        return [
            replace(sc, tokens=tuple(self.tokens(sc.passage)))
            if self.uses_words(sc.passage)
            else sc
            for sc in stored
        ]

    def _inside(self, word: str) -> list[str]:
        """The dictionary words strictly inside ``word``."""
        return [
            word[i:j]
            for i in range(len(word))
            for j in range(i + 2, len(word) + 1)
            if j - i < len(word) and word[i:j] in self._set
        ]

    def words_of(self, norm: str) -> list[str]:
        """jieba search-mode words of normalized text, dictionary words kept whole (and also
        split, so a query with only a piece of the word still matches)."""
        if not self._set:
            return words_of_normalized(norm)
        out: list[str] = []
        start = 0
        for i, end in self._matches(norm):
            word = norm[i:end]
            out += words_of_normalized(norm[start:i])
            out.append(word)
            out += self._inside(word)
            out += [t for t in words_of_normalized(word) if t != word]
            start = end
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
        data = {"recipe": self.recipe, "bigrams": self.bigrams, "words": list(self.words)}
        (directory / ANALYSIS_FILE).write_text(
            json.dumps(data, ensure_ascii=False, indent=0), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> Analyzer:
        """The analyzer saved with an index; an index without one used plain jieba words."""
        path = directory / ANALYSIS_FILE
        if not path.is_file():
            return cls(words=(), bigrams=False, recipe="")
        data = json.loads(path.read_text(encoding="utf-8"))
        words, bigrams = tuple(data.get("words", ())), bool(data.get("bigrams", False))
        return cls(words=words, bigrams=bigrams, recipe=data.get("recipe", ""))

    def kept_words(self) -> tuple[str, ...]:
        """The words an update of this index starts from: none when another recipe chose them
        (the update then reads every file again and chooses them afresh)."""
        return self.words if self.recipe == RECIPE else ()
