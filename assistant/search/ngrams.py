"""Recurring n-grams of a corpus that jieba splits: the coinages nobody put in quotation marks.

Education policy writes its programmes as fixed strings repeated from one document to the next
(一校一案, 五育并举, 课后服务, 家校社协同); jieba, trained on general text, cuts most of them
into pieces, so BM25 only sees the pieces. The rule, fixed before any measurement:

- **Han characters only, within one run.** A candidate never crosses punctuation, digits,
  Latin letters or spaces: those end a term.
- **4 to 8 characters.** Coinages of the domain are four-character phrases (四字格) or compounds
  of two or three words; a three-character string jieba splits is nearly always a word plus a
  particle or a fragment (的学生, 和社会), and a repeat longer than eight characters is a shared
  sentence or title, not a term.
- **In at least ``MIN_DOCUMENTS`` = 3 different documents.** Two documents sharing a string is
  often one quoting or revising the other; three that use it independently make it vocabulary
  of the corpus. Frequency within one document does not count (a long document repeats its own
  phrases).
- **Closed**: not contained in a one-character-longer string with the same document frequency
  (then only the longest repeat of a shared passage is kept, and a repeat longer than eight
  characters yields no word at all).
- **Split by jieba**: jieba's search-mode words of the string do not include the string itself
  (a string jieba already keeps whole adds nothing).

Document frequency is counted over the documents written together: a whole build of an index
(one batch of the index writer), or the changed files of an update. A word is never removed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import jieba

from assistant.text import words_of_normalized

MIN_DOCUMENTS = 3
MIN_LENGTH = 4
MAX_LENGTH = 8
MIN_COHESION = 0.5

_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def _grams(runs: list[str], n: int, keep: set[str] | None) -> set[str]:
    """Distinct n-grams of ``runs`` (only those whose (n-1)-prefix and suffix are in ``keep``)."""
    out: set[str] = set()
    for run in runs:
        for i in range(len(run) - n + 1):
            g = run[i : i + n]
            if keep is None or (g[:-1] in keep and g[1:] in keep):
                out.add(g)
    return out


def _boundaries(run: str) -> set[int]:
    """Offsets in ``run`` where jieba's precise cut starts or ends a word."""
    out, at = {0}, 0
    for w in jieba.cut(run):
        at += len(w)
        out.add(at)
    return out


def recurring_ngrams(
    documents: Iterable[Iterable[str]],
    *,
    min_documents: int = MIN_DOCUMENTS,
    min_length: int = MIN_LENGTH,
    max_length: int = MAX_LENGTH,
    min_cohesion: float = MIN_COHESION,
) -> list[str]:
    """The closed Han n-grams of ``documents`` (each an iterable of normalized, lower-cased
    texts) that occur whole, at jieba word boundaries, in at least ``min_documents`` of them,
    and that jieba's search mode splits; sorted."""
    docs = [
        [r for text in doc for r in _HAN_RUN.findall(text) if len(r) >= min_length]
        for doc in documents
    ]
    if len(docs) < min_documents:
        return []
    # Candidates level by level (closure looks one character further than max_length): a
    # string can recur only as often as its prefix and suffix, so each level counts only
    # extensions of the previous level's survivors.
    candidates: set[str] = set()
    keep: set[str] | None = None
    for n in range(min_length, max_length + 2):
        counts: Counter[str] = Counter()
        for runs in docs:
            counts.update(_grams(runs, n, keep))
        keep = {g for g, c in counts.items() if c >= min_documents}
        candidates |= keep
        if not keep:
            break
    # Document frequency of the occurrences that start and end at jieba word boundaries: a
    # string that recurs only as the tail of one word and the head of the next is a fragment.
    df: Counter[str] = Counter()
    for runs in docs:
        found: set[str] = set()
        for run in runs:
            if not any(run[i : i + min_length] in candidates for i in range(len(run))):
                continue
            cuts = sorted(_boundaries(run))
            for a, i in enumerate(cuts):
                for j in cuts[a + 1 :]:
                    if j - i > max_length + 1:
                        break
                    if j - i >= min_length and run[i:j] in candidates:
                        found.add(run[i:j])
        df.update(found)
    recurring = {g: c for g, c in df.items() if c >= min_documents}
    # Closed: no longer recurring string contains it with the same document frequency.
    covered: dict[str, int] = {}
    for h, c in recurring.items():
        for n in range(min_length, len(h)):
            for i in range(len(h) - n + 1):
                part = h[i : i + n]
                covered[part] = max(covered.get(part, 0), c)
    words = {
        g: c
        for g, c in recurring.items()
        if len(g) <= max_length and covered.get(g, 0) < c and g not in words_of_normalized(g)
    }
    if min_cohesion <= 0:
        return sorted(words)
    # Cohesive: the rarest of its jieba pieces occurs inside it in most documents that have it.
    pieces = {g: list(jieba.cut(g)) for g in words}
    piece_df = _substring_df(docs, {p for ps in pieces.values() for p in ps})
    return sorted(
        g for g, c in words.items() if c >= min_cohesion * min(piece_df[p] for p in pieces[g])
    )


def _substring_df(docs: list[list[str]], strings: set[str]) -> Counter[str]:
    """In how many of ``docs`` (lists of Han runs) each of ``strings`` occurs."""
    lengths = sorted({len(s) for s in strings})
    df: Counter[str] = Counter()
    for runs in docs:
        found: set[str] = set()
        for run in runs:
            for n in lengths:
                found.update(
                    run[i : i + n] for i in range(len(run) - n + 1) if run[i : i + n] in strings
                )
        df.update(found)
    return df
