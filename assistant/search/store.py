"""The index directory: generations, the manifest, the SQLite chunk table, atomic commit.

Layout::

    index/
      CURRENT              one line: the name of the live generation, e.g. "gen-000007"
      .lock                held (flock) by a running build
      gen-000007/
        manifest.json      format version, model + dim, normalization, per-file sha256 + chunks
        chunks.sqlite      documents and chunks (row id = vector row = BM25 document id)
        vectors.npy        float32 [chunks × dim], L2-normalized passage vectors
        dense.faiss        FAISS index over the same vectors (flat IP or HNSW IP)
        bm25/              bm25s index over the passages' jieba tokens

A build writes a complete new generation beside the live one, fsyncs it, then replaces
``CURRENT`` atomically (temp file + ``os.replace`` + directory fsync) and only then deletes
older generations. A reader opens whatever ``CURRENT`` names, so a build killed at any moment
leaves the previous index untouched; the half-written generation is removed by the next build.
Generation files are never modified after commit, so readers open SQLite read-only/immutable.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.records import Chunk, DocumentMeta

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
LOCK_FILE = ".lock"
MANIFEST_FILE = "manifest.json"
CHUNKS_FILE = "chunks.sqlite"
_GEN = re.compile(r"^gen-(\d{6})$")


class IndexNotFoundError(Exception):
    """There is no committed index in the directory."""


class IndexMismatchError(Exception):
    """The index was built with another model or in a format this program cannot read."""


class IndexLockedError(Exception):
    """Another build holds the index directory's lock."""


@dataclass(frozen=True)
class FileEntry:
    """One indexed source file: its content hash and how many chunks it gave."""

    sha256: str
    chunks: int
    size: int = 0


@dataclass(frozen=True)
class Manifest:
    model: str
    dim: int
    files: dict[str, FileEntry]
    chunks: int
    normalization: dict[str, str]
    dense: str = "flat"  # "flat" (exact inner product) or "hnsw"
    pipeline: str = ""  # fingerprint of the ingestion code that made the chunks
    backend: str | None = None
    generation: str = ""
    created: str = ""
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        files = {k: FileEntry(**v) for k, v in data.get("files", {}).items()}
        known = {f for f in cls.__dataclass_fields__ if f != "files"}
        return cls(files=files, **{k: v for k, v in data.items() if k in known})


# --------------------------------------------------------------------------- generations


def generation_dirs(index_dir: Path) -> list[Path]:
    if not index_dir.is_dir():
        return []
    return sorted(p for p in index_dir.iterdir() if p.is_dir() and _GEN.match(p.name))


def current_generation(index_dir: Path) -> Path | None:
    """The committed generation directory, or None when the directory holds no index."""
    pointer = index_dir / CURRENT_FILE
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not _GEN.match(name):
        raise IndexMismatchError(
            f"{pointer} is corrupt ({name!r}); rebuild with "
            f"`assistant index --rebuild --index-dir {index_dir}`"
        )
    return index_dir / name


def new_generation(index_dir: Path) -> Path:
    """Create the next (empty) generation directory; it is invisible until committed."""
    index_dir.mkdir(parents=True, exist_ok=True)
    numbers = [int(_GEN.match(p.name).group(1)) for p in generation_dirs(index_dir)]  # type: ignore[union-attr]
    current = current_generation(index_dir)
    if current is not None:
        numbers.append(int(current.name[4:]))
    path = index_dir / f"gen-{max(numbers, default=0) + 1:06d}"
    path.mkdir()
    return path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush every file under ``path`` and the directories themselves to disk."""
    for root, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(Path(root) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def commit_generation(index_dir: Path, gen_dir: Path) -> None:
    """Make ``gen_dir`` the live index atomically, then delete every other generation."""
    fsync_tree(gen_dir)
    tmp = index_dir / f".{CURRENT_FILE}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(gen_dir.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / CURRENT_FILE)
    _fsync_dir(index_dir)
    remove_stale_generations(index_dir)


def remove_stale_generations(index_dir: Path) -> list[str]:
    """Delete generations other than the committed one (call only while holding the lock)."""
    current = current_generation(index_dir)
    removed = []
    for path in generation_dirs(index_dir):
        if current is None or path.name != current.name:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def read_manifest(gen_dir: Path) -> Manifest:
    with open(gen_dir / MANIFEST_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    version = int(data.get("format_version", 0))
    if version > FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index at {gen_dir.parent} has format version {version}, newer than this "
            f"program reads ({FORMAT_VERSION}): upgrade policy-assistant, or rebuild with this "
            f"version into a new directory: `assistant index --rebuild --index-dir NEW_DIR`"
        )
    if version < FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index at {gen_dir.parent} has old format version {version} (this program "
            f"writes {FORMAT_VERSION}): rebuild it with "
            f"`assistant index --rebuild --index-dir {gen_dir.parent}`"
        )
    return Manifest.from_dict(data)


def write_manifest(gen_dir: Path, manifest: Manifest) -> None:
    (gen_dir / MANIFEST_FILE).write_text(manifest.to_json() + "\n", encoding="utf-8")


def same_model(a: str, b: str) -> bool:
    """True when two model references name the same model (an id, or the same directory)."""
    if a == b:
        return True
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    if pa.is_dir() and pb.is_dir():
        return pa.resolve() == pb.resolve()
    return False


def check_model(manifest: Manifest, model: str, index_dir: Path, dim: int | None = None) -> None:
    """Raise IndexMismatchError when the index was built with another model."""
    if not same_model(manifest.model, model) or (dim is not None and dim != manifest.dim):
        got = f"{model}" + (f" (dim {dim})" if dim is not None else "")
        raise IndexMismatchError(
            f"the index at {index_dir} was built with embedding model {manifest.model} "
            f"(dim {manifest.dim}) but the configured model is {got}. Either use the index's "
            f"model (set ASSISTANT_EMBED_MODEL={manifest.model} or pass --model "
            f"{manifest.model}), or rebuild: `assistant index --rebuild --index-dir {index_dir}` "
            f"(or into a new --index-dir)"
        )


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index directory's build lock (released by the OS if the process dies)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the block's lifetime
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            raise IndexLockedError(
                f"another build (pid {holder}) is updating {index_dir}; wait for it to finish"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()


# --------------------------------------------------------------------------- chunk table


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as the index keeps it: the record plus what the retrievers read."""

    chunk: Chunk
    file_rel: str  # source file key (SourceFile.rel), as in the manifest
    passage: str  # normalized "title · path · text" (embedded and keyword-indexed)
    tokens: tuple[str, ...]  # BM25 tokens of ``passage``
    passage_hash: str  # vector reuse key
    phrase: str  # whitespace-free normalized text for exact phrase matching
    row: int = -1  # row in the generation it was read from


_SCHEMA = """
CREATE TABLE documents (
  doc_row INTEGER PRIMARY KEY, file_rel TEXT NOT NULL, doc_id TEXT NOT NULL, file TEXT NOT NULL,
  source_path TEXT NOT NULL, title TEXT NOT NULL, year INTEGER, region TEXT,
  region_withheld INTEGER NOT NULL, level TEXT, issuer TEXT, date TEXT, url TEXT,
  script TEXT NOT NULL
);
CREATE TABLE chunks (
  row INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, doc_row INTEGER NOT NULL, file_rel TEXT NOT NULL,
  path TEXT NOT NULL, label TEXT NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL,
  "end" INTEGER NOT NULL, part INTEGER NOT NULL, search_text TEXT NOT NULL,
  passage TEXT NOT NULL, tokens TEXT NOT NULL, passage_hash TEXT NOT NULL, phrase TEXT NOT NULL,
  ocr_page INTEGER
);
CREATE INDEX chunks_doc ON chunks(doc_row);
CREATE INDEX chunks_file ON chunks(file_rel);
CREATE INDEX chunks_hash ON chunks(passage_hash);
CREATE INDEX documents_doc_id ON documents(doc_id);
"""
_TOKEN_SEP = "\x1f"
_DOC_COLS = (
    "doc_id",
    "file",
    "source_path",
    "title",
    "year",
    "region",
    "region_withheld",
    "level",
    "issuer",
    "date",
    "url",
    "script",
)
_CHUNK_COLS = (
    "row",
    "chunk_id",
    "doc_row",
    "file_rel",
    "path",
    "label",
    "text",
    "start",
    '"end"',
    "part",
    "search_text",
    "passage",
    "tokens",
    "passage_hash",
    "phrase",
    "ocr_page",  # the page an OCR'd chunk starts on; NULL for text that was not OCR'd
)


def write_chunk_table(path: Path, chunks: Sequence[StoredChunk]) -> None:
    """Write a new SQLite chunk table; row i of ``chunks`` becomes row id i."""
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA)
        doc_rows: dict[tuple[str, DocumentMeta], int] = {}
        doc_values = []
        chunk_values = []
        for row, sc in enumerate(chunks):
            meta = sc.chunk.doc
            key = (sc.file_rel, meta)
            if key not in doc_rows:
                doc_rows[key] = len(doc_rows)
                doc_values.append(
                    (
                        doc_rows[key],
                        sc.file_rel,
                        meta.doc_id,
                        meta.file,
                        meta.source_path,
                        meta.title,
                        meta.year,
                        meta.region,
                        int(meta.region_withheld),
                        meta.level,
                        meta.issuer,
                        meta.date,
                        meta.url,
                        meta.script,
                    )
                )
            c = sc.chunk
            chunk_values.append(
                (
                    row,
                    c.chunk_id,
                    doc_rows[key],
                    sc.file_rel,
                    json.dumps(list(c.path), ensure_ascii=False),
                    c.label,
                    c.text,
                    c.start,
                    c.end,
                    c.part,
                    c.search_text,
                    sc.passage,
                    _TOKEN_SEP.join(sc.tokens),
                    sc.passage_hash,
                    sc.phrase,
                    c.page if c.ocr else None,
                )
            )
        con.executemany(f"INSERT INTO documents VALUES ({','.join('?' * 14)})", doc_values)
        con.executemany(f"INSERT INTO chunks VALUES ({','.join('?' * 16)})", chunk_values)
        con.commit()
    finally:
        con.close()


def _meta_from_row(r: Sequence[Any]) -> DocumentMeta:
    d = dict(zip(_DOC_COLS, r, strict=True))
    d["region_withheld"] = bool(d["region_withheld"])
    return DocumentMeta(**d)


@dataclass
class ChunkTable:
    """Read-only access to one generation's chunks.sqlite (thread-safe)."""

    path: Path
    _con: sqlite3.Connection = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    _docs: dict[int, tuple[str, DocumentMeta]] = field(init=False, repr=False)
    _doc_of_row: list[int] = field(init=False, repr=False)
    _cols: list[str] = field(init=False, repr=False)  # _CHUNK_COLS as this table has them

    def __post_init__(self) -> None:
        if not self.path.is_file():
            raise FileNotFoundError(self.path)
        uri = f"file:{self.path}?mode=ro&immutable=1"
        self._con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        cur = self._con.execute(f"SELECT doc_row, file_rel, {', '.join(_DOC_COLS)} FROM documents")
        self._docs = {r[0]: (r[1], _meta_from_row(r[2:])) for r in cur}
        self._doc_of_row = [
            r[0] for r in self._con.execute("SELECT doc_row FROM chunks ORDER BY row")
        ]
        names = {r[1] for r in self._con.execute("PRAGMA table_info(chunks)")}
        # An index written before OCR existed has no ocr_page column: nothing in it was OCR'd.
        self._cols = [c if c.strip('"') in names else "NULL" for c in _CHUNK_COLS]

    def close(self) -> None:
        self._con.close()

    def __len__(self) -> int:
        return len(self._doc_of_row)

    def doc_row(self, row: int) -> int:
        return self._doc_of_row[row]

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    def _chunk_from(self, r: Sequence[Any]) -> Chunk:
        (_row, chunk_id, doc_row, _rel, path, label, text, start, end, part, search_text) = r[:11]
        ocr_page = r[-1]
        return Chunk(
            chunk_id=chunk_id,
            doc=self._docs[doc_row][1],
            path=tuple(json.loads(path)),
            label=label,
            text=text,
            start=start,
            end=end,
            part=part,
            search_text=search_text,
            ocr=ocr_page is not None,
            page=ocr_page,
        )

    def chunks(self, rows: Sequence[int]) -> dict[int, Chunk]:
        """The chunks at the given rows, keyed by row."""
        out: dict[int, Chunk] = {}
        rows = [int(r) for r in rows]
        for i in range(0, len(rows), 500):
            part = rows[i : i + 500]
            sql = (
                f"SELECT {', '.join(self._cols[:11] + self._cols[-1:])} FROM chunks "
                f"WHERE row IN ({','.join('?' * len(part))})"
            )
            for r in self._query(sql, part):
                out[r[0]] = self._chunk_from(r)
        return out

    def stored(self, file_rels: Iterable[str] | None = None) -> Iterator[StoredChunk]:
        """Every stored chunk (of the given files), in row order, for carrying into a new build."""
        sql = f"SELECT {', '.join(self._cols)} FROM chunks"
        params: list[Any] = []
        if file_rels is not None:
            rels = list(file_rels)
            if not rels:
                return
            sql += f" WHERE file_rel IN ({','.join('?' * len(rels))})"
            params = rels
        for r in self._query(sql + " ORDER BY row", params):
            tokens = tuple(r[12].split(_TOKEN_SEP)) if r[12] else ()
            yield StoredChunk(
                chunk=self._chunk_from(r),
                file_rel=r[3],
                passage=r[11],
                tokens=tokens,
                passage_hash=r[13],
                phrase=r[14],
                row=r[0],
            )

    def rows_by_hash(self) -> dict[str, int]:
        """passage hash → a row holding that passage's vector."""
        return {h: row for row, h in self._query("SELECT row, passage_hash FROM chunks")}

    def filter_rows(self, where: str, params: Sequence[Any]) -> list[int]:
        sql = (
            "SELECT c.row FROM chunks c JOIN documents d ON d.doc_row = c.doc_row"
            f" WHERE {where} ORDER BY c.row"
        )
        return [r[0] for r in self._query(sql, params)]

    def phrase_rows(
        self, key: str, where: str, params: Sequence[Any], limit: int
    ) -> list[tuple[int, int]]:
        """Rows whose phrase text contains ``key``: ``[(row, occurrences)]``, most first."""
        sql = (
            "SELECT c.row, (length(c.phrase) - length(replace(c.phrase, ?, ''))) / length(?)"
            " AS n FROM chunks c JOIN documents d ON d.doc_row = c.doc_row"
            f" WHERE instr(c.phrase, ?) > 0 AND ({where}) ORDER BY n DESC, c.row LIMIT ?"
        )
        return [(r[0], r[1]) for r in self._query(sql, [key, key, key, *params, limit])]

    def documents(self) -> list[tuple[DocumentMeta, int]]:
        counts = dict(self._query("SELECT doc_row, count(*) FROM chunks GROUP BY doc_row"))
        return [
            (meta, int(counts.get(doc_row, 0)))
            for doc_row, (_rel, meta) in sorted(self._docs.items())
        ]

    def doc_meta(self, doc_row: int) -> DocumentMeta:
        return self._docs[doc_row][1]
