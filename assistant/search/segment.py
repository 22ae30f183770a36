"""One immutable index segment: chunk rows, their vectors and lexical postings.

A segment holds a contiguous range of chunk ids ``[base, base + count)``; chunk id = base + row.
Files (never modified once the segment is committed)::

    seg-000012/
      segment.json     base, count, dim, dense kind
      chunks.sqlite    documents and chunks: each text once (original and normalized)
      docs.npy         int32 [count]: the document row of each chunk (for diversification)
      vectors.npy      float32 [count × dim], L2-normalized (exact-search segments)
      dense.faiss      HNSW graph + vectors (HNSW segments, instead of vectors.npy)
      lexical/         BM25 postings (``assistant.search.lexical.Postings``)

The embedded, keyword-indexed passage (``passage.passage_text``) is rebuilt from the heading
path and the normalized text when needed; phrase search reads the normalized text with its
spaces removed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.records import Chunk, DocumentMeta
from assistant.search.dense import DenseIndex, DenseKind
from assistant.search.lexical import Postings
from assistant.search.store import StoredChunk

SEGMENT_META = "segment.json"
CHUNKS_FILE = "chunks.sqlite"
DOCS_FILE = "docs.npy"

_SCHEMA = """
CREATE TABLE documents (
  doc_row INTEGER PRIMARY KEY, file_rel TEXT NOT NULL, doc_id TEXT NOT NULL, file TEXT NOT NULL,
  source_path TEXT NOT NULL, title TEXT NOT NULL, year INTEGER, region TEXT,
  region_withheld INTEGER NOT NULL, level TEXT, issuer TEXT, date TEXT, url TEXT,
  script TEXT NOT NULL
);
CREATE TABLE chunks (
  row INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, doc_row INTEGER NOT NULL,
  file_rel TEXT NOT NULL, path TEXT NOT NULL, label TEXT NOT NULL, text TEXT NOT NULL,
  start INTEGER NOT NULL, "end" INTEGER NOT NULL, part INTEGER NOT NULL,
  search_text TEXT NOT NULL, passage_hash BLOB NOT NULL, ocr_page INTEGER
);
"""
_INDEXES = """
CREATE INDEX chunks_file ON chunks(file_rel);
CREATE INDEX chunks_hash ON chunks(passage_hash);
CREATE INDEX documents_doc_id ON documents(doc_id);
"""
_DOC_COLS = (
    "doc_id", "file", "source_path", "title", "year", "region", "region_withheld", "level",
    "issuer", "date", "url", "script",
)  # fmt: skip
# ocr_page: the scanned page an OCR'd chunk was read from, NULL for text
_CHUNK_COLS = (
    'row, chunk_id, doc_row, file_rel, path, label, text, start, "end", part, search_text, ocr_page'
)


@dataclass(frozen=True)
class SegmentInfo:
    name: str
    base: int
    count: int
    dim: int
    dense: DenseKind

    def to_json(self) -> str:
        return json.dumps(
            {"base": self.base, "count": self.count, "dim": self.dim, "dense": self.dense}
        )


def _meta_values(file_rel: str, meta: DocumentMeta) -> tuple[Any, ...]:
    return (
        file_rel, meta.doc_id, meta.file, meta.source_path, meta.title, meta.year, meta.region,
        int(meta.region_withheld), meta.level, meta.issuer, meta.date, meta.url, meta.script,
    )  # fmt: skip


def _meta_from(values: Sequence[Any]) -> DocumentMeta:
    d = dict(zip(_DOC_COLS, values, strict=True))
    d["region_withheld"] = bool(d["region_withheld"])
    return DocumentMeta(**d)


def write_segment(
    path: Path,
    base: int,
    chunks: Iterable[StoredChunk],
    postings: Postings,
    vectors: Iterable[np.ndarray],
    dim: int,
    kind: DenseKind,
) -> SegmentInfo:
    """Write a segment: its chunks in row order, their postings, and their vectors arriving in
    batches (row order too); nothing needs to be in memory all at once."""
    path.mkdir(parents=True)
    con = sqlite3.connect(path / CHUNKS_FILE)
    doc_rows: dict[tuple[str, DocumentMeta], int] = {}
    doc_of_row: list[int] = []
    try:
        con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        batch: list[tuple[Any, ...]] = []
        for row, sc in enumerate(chunks):
            c = sc.chunk
            key = (sc.file_rel, c.doc)
            if key not in doc_rows:
                doc_rows[key] = len(doc_rows)
                con.execute(
                    f"INSERT INTO documents VALUES ({','.join('?' * 14)})",
                    (doc_rows[key], *_meta_values(*key)),
                )
            doc_of_row.append(doc_rows[key])
            batch.append(
                (
                    row, c.chunk_id, doc_rows[key], sc.file_rel,
                    json.dumps(list(c.path), ensure_ascii=False), c.label, c.text, c.start,
                    c.end, c.part, c.search_text, bytes.fromhex(sc.passage_hash),
                    c.page if c.ocr else None,
                )
            )  # fmt: skip
            if len(batch) >= 5000:
                con.executemany(f"INSERT INTO chunks VALUES ({','.join('?' * 13)})", batch)
                batch = []
        con.executemany(f"INSERT INTO chunks VALUES ({','.join('?' * 13)})", batch)
        con.executescript(_INDEXES)
        con.commit()
    finally:
        con.close()
    n = len(doc_of_row)
    if len(postings) != n:
        raise ValueError(f"{n} chunks but {len(postings)} keyword rows")
    np.save(path / DOCS_FILE, np.asarray(doc_of_row, dtype=np.int32))
    postings.save(path)
    DenseIndex.write(path, vectors, n, dim, kind)
    info = SegmentInfo(path.name, base, n, dim, kind)
    (path / SEGMENT_META).write_text(info.to_json() + "\n", encoding="utf-8")
    return info


class Segment:
    """A committed segment opened read-only (thread-safe); every file is opened at once, so
    the segment stays readable even after a later merge deletes it from disk."""

    def __init__(self, path: Path) -> None:
        meta = json.loads((path / SEGMENT_META).read_text(encoding="utf-8"))
        self.path = path
        self.info = SegmentInfo(path.name, meta["base"], meta["count"], meta["dim"], meta["dense"])
        uri = f"file:{path / CHUNKS_FILE}?mode=ro&immutable=1"
        self._con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        cur = self._con.execute(f"SELECT doc_row, file_rel, {', '.join(_DOC_COLS)} FROM documents")
        self.docs: dict[int, tuple[str, DocumentMeta]] = {
            r[0]: (r[1], _meta_from(r[2:])) for r in cur
        }
        self.doc_rows = np.load(path / DOCS_FILE, mmap_mode="r")
        self.postings = Postings.load(path)
        self.dense = DenseIndex.load(path)
        n = self.info.count
        if not (len(self.doc_rows) == len(self.postings) == len(self.dense) == n):
            raise ValueError(
                f"{path}: {n} chunks, {len(self.dense)} vectors, {len(self.postings)} keyword rows"
            )

    @property
    def base(self) -> int:
        return self.info.base

    @property
    def count(self) -> int:
        return self.info.count

    def close(self) -> None:
        self._con.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    def _chunk(self, r: Sequence[Any]) -> Chunk:
        (_row, chunk_id, doc_row, _rel, path, label, text, start, end, part, search_text, page) = r
        return Chunk(
            chunk_id=chunk_id, doc=self.docs[doc_row][1], path=tuple(json.loads(path)),
            label=label, text=text, start=start, end=end, part=part, search_text=search_text,
            ocr=page is not None, page=page,
        )  # fmt: skip

    def chunks(self, rows: Sequence[int]) -> dict[int, Chunk]:
        out: dict[int, Chunk] = {}
        rows = [int(r) for r in rows]
        for i in range(0, len(rows), 500):
            part = rows[i : i + 500]
            sql = f"SELECT {_CHUNK_COLS} FROM chunks WHERE row IN ({','.join('?' * len(part))})"
            for r in self._query(sql, part):
                out[r[0]] = self._chunk(r)
        return out

    def stored(self, keep: np.ndarray) -> Iterator[StoredChunk]:
        """The kept rows as stored chunks, in row order (for a merge: no passage or tokens,
        which the merged postings and vectors already hold)."""
        sql = f"SELECT {_CHUNK_COLS}, passage_hash FROM chunks ORDER BY row"
        with self._lock:
            cur = self._con.execute(sql)
            for r in cur:
                if keep[r[0]]:
                    chunk = self._chunk(r[:12])
                    yield StoredChunk(
                        chunk=chunk, file_rel=r[3], passage="", tokens=(),
                        passage_hash=r[12].hex(), phrase="", row=r[0],
                    )  # fmt: skip

    def filter_rows(self, where: str, params: Sequence[Any]) -> np.ndarray:
        sql = (
            "SELECT c.row FROM chunks c JOIN documents d ON d.doc_row = c.doc_row"
            f" WHERE {where} ORDER BY c.row"
        )
        return np.asarray([r[0] for r in self._query(sql, params)], dtype=np.int64)

    def phrase_rows(
        self, key: str, where: str, params: Sequence[Any], limit: int
    ) -> list[tuple[int, int]]:
        """Rows whose normalized, space-free text contains ``key``: ``[(row, occurrences)]``."""
        phrase = "lower(replace(c.search_text, ' ', ''))"
        sql = (
            f"SELECT c.row, (length({phrase}) - length(replace({phrase}, ?, ''))) / length(?)"
            " AS n FROM chunks c JOIN documents d ON d.doc_row = c.doc_row"
            f" WHERE instr({phrase}, ?) > 0 AND ({where}) ORDER BY n DESC, c.row LIMIT ?"
        )
        return [(r[0], r[1]) for r in self._query(sql, [key, key, key, *params, limit])]

    def verbatim_counts(self, keys: Sequence[str], rows: Sequence[int]) -> dict[int, int]:
        """How many of ``keys`` (phrase form) each of ``rows`` contains."""
        if not keys or not rows:
            return {}
        hits = " + ".join(["(instr(p, ?) > 0)"] * len(keys))
        sql = (
            f"SELECT row, {hits} FROM (SELECT row, lower(replace(search_text, ' ', '')) AS p"
            f" FROM chunks WHERE row IN ({','.join('?' * len(rows))}))"
        )
        return {r[0]: int(r[1]) for r in self._query(sql, [*keys, *map(int, rows)])}

    def file_rows(self, rel: str) -> np.ndarray:
        rows = self._query("SELECT row FROM chunks WHERE file_rel = ?", [rel])
        return np.asarray([r[0] for r in rows], dtype=np.int64)

    def hash_rows(self, hashes: Sequence[str]) -> dict[str, int]:
        """passage hash → a row holding that passage's vector."""
        out: dict[str, int] = {}
        for i in range(0, len(hashes), 500):
            part = [bytes.fromhex(h) for h in hashes[i : i + 500]]
            marks = ",".join("?" * len(part))
            sql = f"SELECT passage_hash, row FROM chunks WHERE passage_hash IN ({marks})"
            out.update((h.hex(), row) for h, row in self._query(sql, part))
        return out
