"""Evaluation inputs: BEIR-format folders and the project's quote-labelled policy query set.

A BEIR folder holds ``corpus.jsonl`` or ``corpus.jsonl.gz`` (``_id``, ``title``, ``text``),
``queries.jsonl`` (``_id``, ``text``) and ``qrels.tsv`` (query id, corpus id, score; a header
line is optional) — or, as in the standard BEIR releases, ``qrels/<split>.tsv``.

The policy query set is JSON lines ``{"id", "query", "type", "split", "relevant": [{"file",
"quote", "grade"}]}``: a relevant passage is named by its file and a verbatim quote it contains, so
the labels survive changes to chunking (see :mod:`assistant.evaluation.matching`). ``split`` is
``dev`` (tune on it) or ``test`` (report once); a record without one is ``dev``.

The answerability set (``eval/answer_questions.jsonl``) is JSON lines ``{"id", "question",
"answerable", "kind", "split", "relevant", "note"}`` with the same passage labels; ``kind`` is
``answerable``, ``near_miss`` (an education topic the corpus does not cover) or ``off_topic``.
Its split may also be ``fresh`` or ``fresh2`` … ``fresh5``:
``eval/answer_questions_fresh*.jsonl`` were each written to be held out and run once.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from assistant.records import Chunk, DocumentMeta
from assistant.text import is_traditional, normalize

QUERY_TYPES = (
    "topic",  # a question staff ask, relevant items across several documents
    "cross_script",  # simplified query over traditional text or the reverse
    "paraphrase",  # a rewording of a sentence a writer wants a precedent for
    "factual",  # a fact stated in one place
    "keyword",  # a few keywords, as typed into a search box
    "unanswerable",  # the corpus does not cover it: relevant is empty
)
SPLITS = ("dev", "test")  # tune on dev; report test once
# Held-out answerability sets, each run once.
ANSWER_SPLITS = (*SPLITS, "fresh", "fresh2", "fresh3", "fresh4", "fresh5")
ANSWER_KINDS = ("answerable", "near_miss", "off_topic")


class DatasetError(ValueError):
    """An evaluation input is missing or malformed; the message says which file and line."""


# --------------------------------------------------------------------------------------------
# BEIR


@dataclass(frozen=True)
class BeirDoc:
    doc_id: str
    title: str
    text: str


@dataclass
class BeirDataset:
    name: str
    path: Path
    corpus: dict[str, BeirDoc]
    queries: dict[str, str]  # only queries that have at least one relevant document
    qrels: dict[str, dict[str, int]]  # query id -> corpus id -> grade (> 0)
    skipped_queries: int = 0  # queries without a relevant document in qrels

    def limited(self, limit: int | None, seed: int = 13) -> BeirDataset:
        """A copy with a fixed, seeded sample of at most ``limit`` queries (same every run)."""
        if not limit or limit >= len(self.queries):
            return self
        keep = sorted(random.Random(seed).sample(sorted(self.queries), limit))
        return BeirDataset(
            name=self.name,
            path=self.path,
            corpus=self.corpus,
            queries={q: self.queries[q] for q in keep},
            qrels={q: self.qrels[q] for q in keep},
            skipped_queries=self.skipped_queries,
        )


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise DatasetError(f"{path}:{lineno}: expected a JSON object")
            yield lineno, row


def _field(row: dict[str, Any], key: str, path: Path, lineno: int) -> str:
    value = row.get(key)
    if value is None:
        raise DatasetError(f"{path}:{lineno}: missing field {key!r}")
    return str(value)


def _find_corpus(folder: Path) -> Path:
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (folder / name).is_file():
            return folder / name
    raise DatasetError(f"{folder}: no corpus.jsonl or corpus.jsonl.gz")


def _find_qrels(folder: Path, split: str) -> Path:
    if (folder / "qrels.tsv").is_file():
        return folder / "qrels.tsv"
    sub = folder / "qrels"
    if (sub / f"{split}.tsv").is_file():
        return sub / f"{split}.tsv"
    candidates = sorted(sub.glob("*.tsv")) if sub.is_dir() else []
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        names = ", ".join(p.name for p in candidates)
        raise DatasetError(f"{sub}: no {split}.tsv; choose a split (--split) among {names}")
    raise DatasetError(f"{folder}: no qrels.tsv or qrels/{split}.tsv")


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Read a qrels TSV (query id, corpus id, score), with or without a header line.

    A first line whose score column is not an integer is taken as the header. Rows with a
    score of 0 or less are kept out: BEIR uses them for judged non-relevant documents.
    """
    qrels: dict[str, dict[str, int]] = {}
    first = True
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            is_first, first = first, False
            parts = line.rstrip("\n\r").split("\t")
            if len(parts) == 4:  # TREC style: query, iteration, doc, score
                parts = [parts[0], parts[2], parts[3]]
            if len(parts) != 3:
                raise DatasetError(
                    f"{path}:{lineno}: expected 3 tab-separated columns "
                    f"(query-id, corpus-id, score), got {len(parts)}"
                )
            qid, did, score = (p.strip() for p in parts)
            try:
                grade = int(float(score))
            except ValueError:
                if is_first:
                    continue  # header
                raise DatasetError(f"{path}:{lineno}: score {score!r} is not a number") from None
            if grade > 0:
                qrels.setdefault(qid, {})[did] = grade
    return qrels


def load_beir(folder: str | Path, *, split: str = "test", name: str | None = None) -> BeirDataset:
    """Load a BEIR folder; queries without a relevant document are counted and left out."""
    path = Path(folder)
    if not path.is_dir():
        raise DatasetError(f"{path}: not a directory (expected a BEIR dataset folder)")
    corpus_path = _find_corpus(path)
    queries_path = path / "queries.jsonl"
    if not queries_path.is_file():
        raise DatasetError(f"{path}: no queries.jsonl")
    qrels = read_qrels(_find_qrels(path, split))

    corpus: dict[str, BeirDoc] = {}
    for lineno, row in _jsonl(corpus_path):
        did = _field(row, "_id", corpus_path, lineno)
        corpus[did] = BeirDoc(
            did, str(row.get("title") or ""), _field(row, "text", corpus_path, lineno)
        )
    all_queries = {
        _field(row, "_id", queries_path, lineno): _field(row, "text", queries_path, lineno)
        for lineno, row in _jsonl(queries_path)
    }
    unknown = sorted({d for rel in qrels.values() for d in rel} - corpus.keys())
    if unknown:
        raise DatasetError(
            f"{path}: qrels name {len(unknown)} corpus id(s) not in the corpus, e.g. {unknown[:3]}"
        )
    queries = {q: t for q, t in all_queries.items() if q in qrels}
    missing = sorted(set(qrels) - all_queries.keys())
    if missing:
        raise DatasetError(
            f"{path}: qrels name {len(missing)} unknown query id(s), e.g. {missing[:3]}"
        )
    if not corpus:
        raise DatasetError(f"{corpus_path}: the corpus is empty")
    if not queries:
        raise DatasetError(f"{path}: no query has a relevant document in the qrels")
    return BeirDataset(
        name=name or dataset_name(path),
        path=path,
        corpus=corpus,
        queries=queries,
        qrels={q: qrels[q] for q in queries},
        skipped_queries=len(all_queries) - len(queries),
    )


def dataset_name(path: Path) -> str:
    """``…/cmrc2018/beir_dev`` → ``cmrc2018/beir_dev`` (the last two parts say what it is)."""
    parts = path.resolve().parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else path.name


_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


def split_passage(text: str, max_chars: int = 500) -> list[str]:
    """Split at sentence ends into parts of at most ``max_chars`` (a longer sentence is cut)."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text]
    parts: list[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        while len(sentence) > max_chars:
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        if len(current) + len(sentence) > max_chars:
            parts.append(current)
            current = ""
        current += sentence
    if current:
        parts.append(current)
    return [p for p in (p.strip() for p in parts) if p]


def beir_chunks(dataset: BeirDataset, max_chars: int = 500) -> list[Chunk]:
    """The corpus as index chunks: one per passage, long ones split with the same ``doc_id``.

    The title is kept in ``DocumentMeta.title`` but is not searched: the index embeds and
    keyword-indexes ``heading path · text`` (``assistant.search.passage``) and BEIR chunks have
    no heading path, so each part is searched by its normalized text alone. A passage with no
    text becomes one chunk holding its title.
    """
    chunks: list[Chunk] = []
    for doc in dataset.corpus.values():
        meta = DocumentMeta(
            doc_id=doc.doc_id,
            file=doc.doc_id,
            source_path=doc.doc_id,
            title=doc.title,
            script="traditional" if is_traditional(doc.title + doc.text) else "simplified",
        )
        parts = split_passage(doc.text, max_chars) or [doc.title]
        offset = 0
        for i, part in enumerate(parts):
            start = max(doc.text.find(part, offset), 0)
            offset = start + len(part)
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}:{i}",
                    doc=meta,
                    path=(),
                    label="",
                    text=part,
                    start=start,
                    end=start + len(part),
                    part=i + 1 if len(parts) > 1 else 0,
                    search_text=normalize(part),
                )
            )
    return chunks


# --------------------------------------------------------------------------------------------
# Policy query set


@dataclass(frozen=True)
class RelevantPassage:
    file: str  # file name (or a path ending, e.g. "regulations/national/…/教育法(2021-04-29).md")
    quote: str  # verbatim text the passage contains
    grade: int  # 2 = directly answers, 1 = related


@dataclass(frozen=True)
class PolicyQuery:
    id: str
    query: str
    type: str
    relevant: tuple[RelevantPassage, ...] = field(default_factory=tuple)
    split: str = "dev"

    @property
    def answerable(self) -> bool:
        return bool(self.relevant)


@dataclass(frozen=True)
class AnswerQuestion:
    """A question of the answerability set: does the corpus answer it, and where."""

    id: str
    question: str
    kind: str  # one of ANSWER_KINDS
    split: str  # one of ANSWER_SPLITS
    relevant: tuple[RelevantPassage, ...] = field(default_factory=tuple)
    note: str = ""

    @property
    def answerable(self) -> bool:
        return self.kind == "answerable"


def _relevant(row: dict[str, Any], where: str) -> list[RelevantPassage]:
    rel_rows = row.get("relevant")
    if not isinstance(rel_rows, list):
        raise DatasetError(f"{where}: 'relevant' must be a list")
    relevant = []
    for i, rel in enumerate(rel_rows):
        if not isinstance(rel, dict) or not rel.get("file") or not rel.get("quote"):
            raise DatasetError(f"{where}: relevant[{i}] needs 'file' and 'quote'")
        grade = rel.get("grade", 1)
        if grade not in (1, 2):
            raise DatasetError(f"{where}: relevant[{i}] grade must be 1 or 2, got {grade!r}")
        relevant.append(RelevantPassage(str(rel["file"]), str(rel["quote"]), int(grade)))
    return relevant


def _split(
    row: dict[str, Any], where: str, default: str | None, allowed: tuple[str, ...] = SPLITS
) -> str:
    split = row.get("split", default)
    if split not in allowed:
        raise DatasetError(f"{where}: split {split!r} is not one of {', '.join(allowed)}")
    return str(split)


def load_policy_queries(path: str | Path) -> list[PolicyQuery]:
    """Read and validate the quote-labelled query set (clear errors with line numbers)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: query set not found")
    out: list[PolicyQuery] = []
    seen: set[str] = set()
    for lineno, row in _jsonl(path):
        where = f"{path}:{lineno}"
        qid = _field(row, "id", path, lineno)
        query = _field(row, "query", path, lineno).strip()
        qtype = _field(row, "type", path, lineno)
        if qid in seen:
            raise DatasetError(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        if not query:
            raise DatasetError(f"{where}: empty query")
        if qtype not in QUERY_TYPES:
            raise DatasetError(f"{where}: type {qtype!r} is not one of {', '.join(QUERY_TYPES)}")
        relevant = _relevant(row, where)
        if (qtype == "unanswerable") != (not relevant):
            raise DatasetError(
                f"{where}: an 'unanswerable' query has no relevant passages and every other "
                f"query has at least one (query {qid!r}, type {qtype!r}, {len(relevant)} given)"
            )
        split = _split(row, where, default="dev")
        out.append(PolicyQuery(qid, query, qtype, tuple(relevant), split))
    if not out:
        raise DatasetError(f"{path}: no queries")
    return out


def load_answer_questions(path: str | Path) -> list[AnswerQuestion]:
    """Read and validate the answerability set; every record must name its split."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: question set not found")
    out: list[AnswerQuestion] = []
    seen: set[str] = set()
    for lineno, row in _jsonl(path):
        where = f"{path}:{lineno}"
        qid = _field(row, "id", path, lineno)
        question = _field(row, "question", path, lineno).strip()
        kind = _field(row, "kind", path, lineno)
        if qid in seen:
            raise DatasetError(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        if not question:
            raise DatasetError(f"{where}: empty question")
        if kind not in ANSWER_KINDS:
            raise DatasetError(f"{where}: kind {kind!r} is not one of {', '.join(ANSWER_KINDS)}")
        answerable = row.get("answerable")
        if answerable is not (kind == "answerable"):
            raise DatasetError(
                f"{where}: 'answerable' must be {kind == 'answerable'} for kind {kind!r}, "
                f"got {answerable!r}"
            )
        relevant = _relevant(row, where)
        if answerable != bool(relevant):
            raise DatasetError(
                f"{where}: an answerable question needs at least one relevant passage and an "
                f"unanswerable one has none ({qid!r}: {len(relevant)} given)"
            )
        split = _split(row, where, default=None, allowed=ANSWER_SPLITS)
        note = str(row.get("note") or "")
        out.append(AnswerQuestion(qid, question, kind, split, tuple(relevant), note))
    if not out:
        raise DatasetError(f"{path}: no questions")
    return out


class _HasSplit(Protocol):
    @property
    def split(self) -> str: ...


_T = TypeVar("_T", bound=_HasSplit)


def in_split(items: Iterable[_T], split: str | None) -> list[_T]:
    """The items of one split (``None``: all of them)."""
    if split is not None and split not in SPLITS:
        raise DatasetError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    return [item for item in items if split is None or item.split == split]


def select_queries(
    queries: Iterable[PolicyQuery],
    *,
    split: str | None = None,
    types: Iterable[str] | None = None,
) -> list[PolicyQuery]:
    """The queries of one split and of the given types (``None``: no restriction)."""
    wanted = None if types is None else set(types)
    unknown = sorted((wanted or set()) - set(QUERY_TYPES))
    if unknown:
        raise DatasetError(f"unknown query type(s) {', '.join(unknown)}")
    return [q for q in in_split(queries, split) if wanted is None or q.type in wanted]
