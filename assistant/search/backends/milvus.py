"""The Milvus backend: chunks, vectors and BM25 in Milvus (a Lite file, a server or a cluster).

``settings.milvus_uri`` names the database: a path ending in ``.db`` opens Milvus Lite inside this
process (default ``index_dir/milvus.db``); ``http://host:19530`` a Milvus server or cluster, which
several app servers can share. An index is two collections named after the index directory
(``index/`` → ``pa_index_chunks_l2_384``, ``pa_index_catalog``):

- chunks: one row per chunk: the passage vector (FLAT or HNSW, inner product); the passage's
  keyword tokens (``Analyzer.tokens``, the embedded index's) as opaque ASCII words
  (``lex_text``) in a field with Milvus's standard tokenizer and a BM25 function into a sparse
  field; the phrase key; the chunk record (JSON); the scalar fields that filters are pushed
  down to (year, region, doc_id, file, source_path, file_rel);
- catalog: the head row (committed version), one row per version (the manifest without its
  file list), one per indexed file, one per document and one per corpus dictionary word.

Milvus has no transactions, so every row carries the version that wrote it (``ver``) and the
version that retired it (``dead``). A reader opened at committed version C sees the rows with
``floor(C) <= ver <= C < dead``; a writer adds rows at C+1 and retires replaced ones by setting
their ``dead`` to C+1 (both invisible at C), then commits by upserting the head row. Rows that no
reader of the new or the previous version can see are deleted after the commit; what a killed
writer left behind is removed by the next writer. Fusion stays in the retriever.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import re
import threading
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.hashing import text_sha256
from assistant.records import Chunk, DocumentMeta
from assistant.search.analysis import RECIPE as ANALYSIS_RECIPE
from assistant.search.analysis import Analyzer
from assistant.search.backends.base import (
    IndexWriter,
    LexicalQuery,
    Scored,
    SearchBackend,
    SearchFilters,
)
from assistant.search.backends.embedded import SEGMENT_ROWS
from assistant.search.dense import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M
from assistant.search.lexical import K1 as BM25_K1
from assistant.search.lexical import MAX_TERM
from assistant.search.lexical import B as BM25_B
from assistant.search.store import (
    FileEntry,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    Manifest,
    StoredChunk,
    build_lock,
)

LITE_FILE = "milvus.db"
# Version of the collections' layout: a reader refuses any other, a writer rebuilds an older one.
# 2: the keyword field holds Analyzer tokens as opaque words; the corpus dictionary is stored.
LAYOUT = 2
ALIVE = 1 << 62  # ``dead`` of a row no version has retired
BATCH = 512  # rows per insert / ids per lookup
# Chunks a writer buffers before it inserts them: the corpus dictionary grows at the same points
# as the embedded writer's (one segment), so both backends give a passage the same tokens.
BUFFER_ROWS = SEGMENT_ROWS
VARCHAR_MAX = 65_535
ANALYZER = {"tokenizer": "standard"}  # keeps each word of ``lex_text`` whole
_CHUNKS_SUFFIX = re.compile(r"_chunks(?:_l\d+)?_\d+")


class MilvusUnavailableError(IndexNotFoundError):
    """Milvus cannot be reached or opened (the commands report it like a missing index)."""


class MilvusLiteBusyError(IndexLockedError, MilvusUnavailableError):
    """Another process has the Milvus Lite database open."""


@functools.lru_cache(maxsize=1 << 18)
def lex_word(token: str) -> str:
    """``token`` as one lower-case ASCII word that Milvus's standard tokenizer keeps whole: "w"
    and 16 hex digits (64 bits) of its SHA-256."""
    return "w" + text_sha256(token)[:16]


def lex_text(tokens: Iterable[str]) -> str:
    """The keyword field of a passage: its ``Analyzer`` tokens as words, in order. Milvus's BM25
    then counts exactly the embedded index's terms and passage lengths (Milvus Lite only has the
    jieba and standard tokenizers, neither of which can split the Analyzer's stream itself)."""
    return " ".join(map(lex_word, tokens))


def lex_query(query: LexicalQuery) -> str:
    """The query's tokens as ``lex_text`` words; those the embedded index does not index (longer
    than ``MAX_TERM``) are left out, as there."""
    return lex_text(t for t in query.tokens if len(t) <= MAX_TERM)


def _pymilvus() -> Any:
    try:
        import pymilvus
    except ImportError:
        raise MilvusUnavailableError(
            "the Milvus backend needs pymilvus (and milvus-lite for a local file): "
            "pip install 'policy-assistant[milvus]'"
        ) from None
    # Milvus Lite makes pymilvus warn at every query iterator (there is no server timestamp);
    # set after the import, which configures pymilvus's loggers.
    logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
    return pymilvus


# --------------------------------------------------------------------------- where and how


@dataclass(frozen=True)
class Target:
    """Where an index lives in Milvus."""

    uri: str
    token: str
    prefix: str  # collection name prefix, from the index directory's name
    lite: Path | None  # the Milvus Lite data directory when the URI is a local file

    @property
    def catalog(self) -> str:
        return f"{self.prefix}_catalog"

    def chunks(self, dim: int) -> str:
        return f"{self.prefix}_chunks_l{LAYOUT}_{dim}"

    def is_chunks(self, collection: str) -> bool:
        """True for a chunks collection of this index, of any layout (layout 1 had no "_lN")."""
        rest = collection[len(self.prefix) :] if collection.startswith(self.prefix) else ""
        return _CHUNKS_SUFFIX.fullmatch(rest) is not None


def target(index_dir: Path, settings: Settings) -> Target:
    uri = settings.milvus_uri or str(Path(index_dir) / LITE_FILE)
    lite = None
    if "://" not in uri and not uri.startswith("unix:"):
        path = Path(uri).expanduser()
        if path.suffix != ".db":
            raise MilvusUnavailableError(
                f"milvus_uri {uri!r}: a Milvus Lite database is a path ending in .db "
                "(a server is http://host:19530)"
            )
        lite = path.resolve()
        uri = str(lite)
    name = Path(index_dir).resolve().name or "index"
    safe = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if safe != name:  # keep names that differ only in non-ASCII characters apart
        safe += "_" + text_sha256(name)[:8]
    return Target(uri=uri, token=settings.milvus_token or "", prefix=f"pa_{safe}", lite=lite)


_clients: dict[tuple[str, str], list[Any]] = {}  # (uri, token) → [client, users]
_clients_lock = threading.Lock()


def _lite_locked(path: Path) -> bool:
    """True when another process has the Milvus Lite database at ``path`` open."""
    from milvus_lite.server_manager import server_manager_instance

    lock = path / "LOCK"
    if not lock.exists() or str(path) in getattr(server_manager_instance, "_servers", {}):
        return False  # not open, or open in this process
    with open(lock, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return False


def acquire(t: Target) -> Any:
    """A client for ``t``, shared within the process (Milvus Lite opens a file only once)."""
    with _clients_lock:
        entry = _clients.get((t.uri, t.token))
        if entry is not None:
            entry[1] += 1
            return entry[0]
        pymilvus = _pymilvus()
        options: dict[str, Any] = {}
        if t.lite is not None:
            # pymilvus's keepalive pings (every 10 s) make the Lite server hang up
            options = {"grpc.keepalive_time_ms": 1 << 30, "grpc.keepalive_permit_without_calls": 0}
            t.lite.parent.mkdir(parents=True, exist_ok=True)
            if _lite_locked(t.lite):
                raise MilvusLiteBusyError(
                    f"the Milvus Lite database {t.lite} is open in another process (Milvus Lite "
                    "serves one process at a time): stop that process, or run a Milvus server "
                    "(`milvus-lite server --data-dir DIR`, or Milvus Standalone) and set "
                    "ASSISTANT_MILVUS_URI=http://host:19530"
                )
        try:
            client = pymilvus.MilvusClient(
                uri=t.uri, token=t.token, timeout=30, grpc_options=options
            )
        except Exception as exc:
            raise MilvusUnavailableError(f"cannot open Milvus at {t.uri}: {exc}") from None
        _clients[(t.uri, t.token)] = [client, 1]
        return client


def release(t: Target) -> None:
    with _clients_lock:
        entry = _clients.get((t.uri, t.token))
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _clients[(t.uri, t.token)]
        with contextlib.suppress(Exception):
            entry[0].close()
        if t.lite is not None:  # stop the in-process Lite server and free the file
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(str(t.lite))


# --------------------------------------------------------------------------- expressions


def literal(value: str) -> str:
    """A string literal for a Milvus boolean expression."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def filter_expr(filters: SearchFilters | None) -> str:
    """``filters`` as a scalar expression over the chunks collection ("" when empty)."""
    if filters is None:
        return ""
    parts: list[str] = []
    years = filters.year_range()
    if years is not None:
        parts.append(f"(year >= {years[0]} and year <= {years[1]})")
    if filters.region:
        parts.append(f"region == {literal(filters.region)}")
    if filters.doc_id:
        parts.append(f"doc_id == {literal(filters.doc_id)}")
    if filters.file:
        v = literal(filters.file)
        parts.append(f"(file == {v} or source_path == {v} or file_rel == {v})")
    if filters.exclude_doc_ids:
        parts.append(f"doc_id not in [{', '.join(literal(d) for d in filters.exclude_doc_ids)}]")
    return " and ".join(parts)


def visible(version: int, floor: int) -> str:
    """Rows a reader of committed ``version`` sees."""
    return f"(ver >= {floor} and ver <= {version} and dead > {version})"


def _both(*parts: str) -> str:
    return " and ".join(p for p in parts if p)


def _ids(ids: Iterable[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"


def _keys(keys: Iterable[str]) -> str:
    return "[" + ",".join(literal(k) for k in keys) + "]"


def _checked(value: str, what: str) -> str:
    if len(value.encode("utf-8")) > VARCHAR_MAX:
        raise ValueError(f"{what} is longer than Milvus allows ({VARCHAR_MAX} bytes)")
    return value


# --------------------------------------------------------------------------- collections


def _create_catalog(client: Any, t: Target) -> None:
    pm = _pymilvus()
    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("key", pm.DataType.VARCHAR, is_primary=True, max_length=8192)
    s.add_field("kind", pm.DataType.VARCHAR, max_length=16)  # head, version, file, doc
    s.add_field("rel", pm.DataType.VARCHAR, max_length=4096)
    s.add_field("ver", pm.DataType.INT64)
    s.add_field("dead", pm.DataType.INT64)
    s.add_field("data", pm.DataType.VARCHAR, max_length=VARCHAR_MAX)
    s.add_field("v", pm.DataType.FLOAT_VECTOR, dim=2)  # unused: Milvus wants a vector field
    ip = client.prepare_index_params()
    ip.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_collection(t.catalog, schema=s, index_params=ip, consistency_level="Strong")


def _create_chunks(client: Any, name: str, dim: int, kind: str) -> None:
    pm = _pymilvus()
    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", pm.DataType.INT64, is_primary=True)
    s.add_field("vec", pm.DataType.FLOAT_VECTOR, dim=dim)
    s.add_field(
        "lex", pm.DataType.VARCHAR, max_length=VARCHAR_MAX, enable_analyzer=True,
        analyzer_params=ANALYZER,
    )  # fmt: skip
    s.add_field("sparse", pm.DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("phrase", pm.DataType.VARCHAR, max_length=VARCHAR_MAX)
    s.add_field("record", pm.DataType.VARCHAR, max_length=VARCHAR_MAX)
    s.add_field("doc_key", pm.DataType.VARCHAR, max_length=8192)
    s.add_field("file_rel", pm.DataType.VARCHAR, max_length=4096)
    s.add_field("doc_id", pm.DataType.VARCHAR, max_length=4096)
    s.add_field("file", pm.DataType.VARCHAR, max_length=4096)
    s.add_field("source_path", pm.DataType.VARCHAR, max_length=4096)
    s.add_field("year", pm.DataType.INT64, nullable=True)
    s.add_field("region", pm.DataType.VARCHAR, max_length=1024, nullable=True)
    s.add_field("passage_hash", pm.DataType.VARCHAR, max_length=64)
    s.add_field("ver", pm.DataType.INT64)
    s.add_field("dead", pm.DataType.INT64)
    s.add_function(
        pm.Function(
            name="bm25", function_type=pm.FunctionType.BM25,
            input_field_names=["lex"], output_field_names=["sparse"],
        )
    )  # fmt: skip
    ip = client.prepare_index_params()
    if kind == "hnsw":
        params = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
        ip.add_index("vec", index_type="HNSW", metric_type="IP", params=params)
    else:
        ip.add_index("vec", index_type="FLAT", metric_type="IP")
    ip.add_index(
        "sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
        params={"bm25_k1": BM25_K1, "bm25_b": BM25_B},
    )  # fmt: skip
    for field in ("file_rel", "passage_hash", "doc_id", "region", "year"):
        ip.add_index(field, index_type="INVERTED")
    client.create_collection(name, schema=s, index_params=ip, consistency_level="Strong")


def _dense_kind(client: Any, name: str) -> str:
    info = client.describe_index(name, "vec")
    return "hnsw" if str(info.get("index_type", "")).upper() == "HNSW" else "flat"


def _query_all(client: Any, collection: str, where: str, output: list[str]) -> Iterator[dict]:
    it = client.query_iterator(collection, batch_size=1000, filter=where, output_fields=output)
    try:
        while batch := it.next():
            yield from batch
    finally:
        it.close()


def _get(client: Any, t: Target, key: str) -> dict | None:
    rows = client.query(t.catalog, filter=f"key == {literal(key)}", output_fields=["data"])
    return json.loads(rows[0]["data"]) if rows else None


def _open_head(client: Any, t: Target) -> dict | None:
    """The head row (None: no index yet), after loading the catalog."""
    if not client.has_collection(t.catalog):
        return None
    client.load_collection(t.catalog)
    return _get(client, t, "head")


def _chunk_from(record: dict[str, Any], doc: DocumentMeta) -> Chunk:
    known = {f.name for f in fields(Chunk)} - {"doc"}
    values = {k: v for k, v in record.items() if k in known}
    values["path"] = tuple(values.get("path", ()))
    return Chunk(doc=doc, **values)


def _record(chunk: Chunk) -> str:
    data = asdict(chunk)
    del data["doc"]
    return json.dumps(data, ensure_ascii=False)


def doc_key(rel: str, doc_id: str) -> str:
    return json.dumps([rel, doc_id], ensure_ascii=False)


def _row_key(kind: str, version: int, name: str) -> str:
    """A catalog primary key. Hashed: pymilvus pages through string keys without escaping them."""
    return f"{kind}:{version}:{text_sha256(name)[:32]}"


@dataclass(frozen=True)
class _State:
    """One committed version as the catalog records it."""

    version: int
    floor: int
    collection: str
    manifest: Manifest
    docs: dict[str, tuple[DocumentMeta, int, int]]  # doc key → (meta, chunks, order in file)
    layout: int
    analyzer: Analyzer  # how the keyword field was tokenized (corpus dictionary included)


def label(version: int) -> str:
    return f"milvus-{version:06d}"


def _load_state(client: Any, t: Target, version: int, *, docs: bool = True) -> _State:
    header = _get(client, t, f"version:{version}")
    if header is None:
        raise IndexMismatchError(
            f"the Milvus index {t.prefix} at {t.uri} names version {version}, which is missing; "
            "rebuild it with `assistant index --rebuild`"
        )
    if int(header.get("layout", 0)) > LAYOUT:
        raise IndexMismatchError(
            f"the Milvus index {t.prefix} at {t.uri} was written by a newer policy-assistant "
            f"(layout {header['layout']}): upgrade, or rebuild it with this version"
        )
    floor = int(header["floor"])
    where = visible(version, floor)
    files: dict[str, FileEntry] = {}
    found: dict[str, tuple[DocumentMeta, int, int]] = {}
    words: list[str] = []
    kinds = '["file", "doc", "word"]' if docs else '["file", "word"]'
    for row in _query_all(client, t.catalog, _both(f"kind in {kinds}", where), ["kind", "data"]):
        if row["kind"] == "word":
            words.append(row["data"])
            continue
        data = json.loads(row["data"])
        if row["kind"] == "file":
            files[data["rel"]] = FileEntry(**data["entry"])
        else:
            meta = DocumentMeta(**data["meta"])
            found[doc_key(data["rel"], meta.doc_id)] = (meta, int(data["chunks"]), data["order"])
    manifest = Manifest.from_dict({**header["manifest"], "files": {}, "generation": label(version)})
    manifest = replace(manifest, files=dict(sorted(files.items())))
    analysis = header.get("analysis", {})
    analyzer = Analyzer(words=tuple(sorted(words)), bigrams=bool(analysis.get("bigrams", False)))
    layout = int(header.get("layout", 0))
    return _State(version, floor, header["collection"], manifest, found, layout, analyzer)


# --------------------------------------------------------------------------- reading


class MilvusBackend(SearchBackend):
    """One committed version of a Milvus index, opened for reading."""

    def __init__(self, index_dir: Path, settings: Settings, t: Target, client: Any, state: _State):
        self.index_dir = index_dir
        self.settings = settings
        self._t = t
        self._client = client
        self._state = state
        self._where = visible(state.version, state.floor)
        self._kind = _dense_kind(client, state.collection)
        self._closed = False

    @classmethod
    def open(cls, index_dir: Path, settings: Settings) -> MilvusBackend:
        t = target(index_dir, settings)
        missing = IndexNotFoundError(
            f"no index {t.prefix} in Milvus at {t.uri}: build one with "
            f"`ASSISTANT_BACKEND=milvus assistant index --index-dir {index_dir}`"
        )
        if t.lite is not None and not t.lite.exists():
            raise missing  # without creating a database there
        client = acquire(t)
        try:
            head = _open_head(client, t)
            if head is None:
                raise missing
            state = _load_state(client, t, int(head["current"]))
            if state.layout < LAYOUT:
                raise IndexMismatchError(
                    f"the Milvus index {t.prefix} at {t.uri} was built by an older "
                    "policy-assistant (its keyword index is not the one search now uses): "
                    f"rebuild it with `assistant index --rebuild --index-dir {index_dir}` "
                    "(with the Milvus setting)"
                )
            client.load_collection(state.collection)
            return cls(Path(index_dir), settings, t, client, state)
        except BaseException:
            release(t)
            raise

    @property
    def manifest(self) -> Manifest:
        return self._state.manifest

    @property
    def version(self) -> str:
        return label(self._state.version)

    @property
    def analyzer(self) -> Analyzer:
        return self._state.analyzer

    def count(self) -> int:
        return self._state.manifest.chunks

    def _search(self, data: Any, field: str, k: int, params: dict, filters: Any) -> list[dict]:
        if k <= 0:
            return []
        res = self._client.search(
            self._state.collection, data=[data], anns_field=field, limit=min(k, 16_384),
            filter=_both(self._where, filter_expr(filters)), output_fields=["id"],
            search_params=params,
        )  # fmt: skip
        return list(res[0]) if res else []

    def dense_search(
        self, query: np.ndarray, k: int, filters: SearchFilters | None = None
    ) -> Scored:
        params: dict[str, Any] = {"metric_type": "IP"}
        if self._kind == "hnsw":
            params["params"] = {"ef": max(HNSW_EF_SEARCH, k)}
        vec = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        return [
            (int(h["id"]), float(h["distance"]))
            for h in self._search(vec, "vec", k, params, filters)
        ]

    def lexical_search(
        self, query: LexicalQuery, k: int, filters: SearchFilters | None = None
    ) -> Scored:
        text = lex_query(query)
        if not text:
            return []
        hits = self._search(text, "sparse", k, {"metric_type": "BM25"}, filters)
        # Milvus Lite returns BM25 as a negative distance, a server as a positive score; the
        # order is best first either way.
        return [(int(h["id"]), abs(float(h["distance"]))) for h in hits if h["distance"]]

    def _rows(self, ids: Sequence[int], output: list[str]) -> list[dict]:
        rows: list[dict] = []
        ids = list(dict.fromkeys(int(i) for i in ids))
        for i in range(0, len(ids), BATCH):
            where = _both(f"id in {_ids(ids[i : i + BATCH])}", self._where)
            rows += self._client.query(self._state.collection, filter=where, output_fields=output)
        return rows

    def dense_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        rows = self._rows(ids, ["id", "vec"])
        if not rows:
            return {}
        matrix = np.asarray([r["vec"] for r in rows], dtype=np.float32)
        scores = matrix @ np.asarray(query, dtype=np.float32).reshape(-1)
        return {int(r["id"]): float(s) for r, s in zip(rows, scores, strict=True)}

    def lexical_scores(self, query: LexicalQuery, ids: Sequence[int]) -> dict[int, float]:
        ids = list(dict.fromkeys(int(i) for i in ids))
        out = dict.fromkeys(ids, 0.0)
        text = lex_query(query)
        if not ids or not text:
            return out
        for i in range(0, len(ids), BATCH):
            part = ids[i : i + BATCH]
            res = self._client.search(
                self._state.collection, data=[text], anns_field="sparse", limit=len(part),
                filter=_both(self._where, f"id in {_ids(part)}"), output_fields=["id"],
                search_params={"metric_type": "BM25"},
            )  # fmt: skip
            out.update({int(h["id"]): abs(float(h["distance"])) for h in (res[0] if res else [])})
        return out

    def phrase_search(
        self, key: str, k: int, filters: SearchFilters | None = None
    ) -> list[tuple[int, int]]:
        if not key or k <= 0:
            return []
        # A % or _ in the key is a wildcard to LIKE (Milvus Lite has no escape for them): LIKE
        # narrows the rows down, the count below keeps only exact occurrences.
        where = _both(f"phrase like {literal('%' + key + '%')}", self._where, filter_expr(filters))
        found = []
        for row in _query_all(self._client, self._state.collection, where, ["id", "phrase"]):
            n = row["phrase"].count(key)
            if n:
                found.append((int(row["id"]), n))
        found.sort(key=lambda item: (-item[1], item[0]))
        return found[:k]

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        out: dict[int, Chunk] = {}
        for r in self._rows(ids, ["id", "record", "doc_key"]):
            doc = self._state.docs.get(r["doc_key"])
            if doc is not None:
                out[int(r["id"])] = _chunk_from(json.loads(r["record"]), doc[0])
        return out

    def doc_keys(self, ids: Sequence[int]) -> dict[int, Hashable]:
        return {int(r["id"]): r["doc_key"] for r in self._rows(ids, ["id", "doc_key"])}

    def documents(self) -> list[tuple[DocumentMeta, int]]:
        docs = sorted(self._state.docs.values(), key=lambda d: (d[0].source_path, d[2]))
        return [(meta, n) for meta, n, _ in docs]

    def is_stale(self) -> bool:
        head = _get(self._client, self._t, "head")
        return head is None or int(head["current"]) != self._state.version

    def reopen(self) -> MilvusBackend:
        return MilvusBackend.open(self.index_dir, self.settings)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release(self._t)


# --------------------------------------------------------------------------- writing


class MilvusWriter(IndexWriter):
    """One write transaction on a Milvus index (see the module docstring for the scheme).

    The build lock is the index directory's lock file: one writer per index on one machine.
    Writers on several machines must not update the same index at once.
    """

    def __init__(
        self, index_dir: Path, settings: Settings, *, rebuild: bool = False,
        dense: str | None = None, progress: bool = False,
    ) -> None:  # fmt: skip
        self._t = target(index_dir, settings)
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(build_lock(Path(index_dir)))
        try:
            self._client = acquire(self._t)
            self._stack.callback(release, self._t)
            if not self._client.has_collection(self._t.catalog):
                _create_catalog(self._client, self._t)
            head = _open_head(self._client, self._t) or {"current": 0, "next_id": 1}
            self._committed_version = int(head["current"])
            self._next_id = int(head["next_id"])
            self._recover()
            self._prev = (
                _load_state(self._client, self._t, self._committed_version, docs=False)
                if self._committed_version
                else None
            )
        except BaseException:
            self._stack.close()
            raise
        self._new = self._committed_version + 1
        # An index of an older layout is rebuilt (nothing of it can be reused), as the embedded
        # writer does with an older format.
        self._rebuild = rebuild or (self._prev is not None and self._prev.layout < LAYOUT)
        self._floor = self._new if self._rebuild or self._prev is None else self._prev.floor
        self._collection: str | None = None
        self._dense = dense or settings.dense_index
        self._done = False
        self._buffer: list[tuple[str, list[StoredChunk], np.ndarray]] = []
        self._buffered = 0
        words = self._prev.analyzer.words if self.previous is not None and self._prev else ()
        self._stored_words = set(words)  # the corpus dictionary as the catalog holds it
        self._analyzer = Analyzer(words=words)

    # -- state

    @property
    def previous(self) -> Manifest | None:
        return None if self._rebuild or self._prev is None else self._prev.manifest

    def _old(self) -> str:
        """Rows of the committed version (to retire)."""
        return f"(ver <= {self._committed_version} and dead == {ALIVE})"

    def _chunk_collections(self) -> list[str]:
        return [c for c in self._client.list_collections() if self._t.is_chunks(c)]

    def _all_collections(self) -> list[tuple[str, str]]:
        """(collection, primary key field) of everything this index writes."""
        return [(c, "id") for c in self._chunk_collections()] + [(self._t.catalog, "key")]

    def _set_dead(self, collection: str, pk: str, where: str, value: int) -> None:
        keys = [r[pk] for r in _query_all(self._client, collection, where, [pk])]
        for i in range(0, len(keys), BATCH):
            rows = [{pk: key, "dead": value} for key in keys[i : i + BATCH]]
            self._client.upsert(collection, rows, partial_update=True)

    def _recover(self) -> None:
        """Remove rows of versions never committed and undo their retirements."""
        c = self._committed_version
        for collection, pk in self._all_collections():
            self._client.load_collection(collection)
            self._client.delete(collection, filter=f"ver > {c}")  # the head row has ver 0
            self._set_dead(collection, pk, f"dead > {c} and dead < {ALIVE}", ALIVE)

    def _chunks_collection(self, dim: int) -> str:
        if self._collection is None:
            name = self._t.chunks(dim)
            if self._prev is not None and not self._rebuild and self._prev.collection != name:
                raise IndexMismatchError(
                    f"the Milvus index {self._t.prefix} holds {self._prev.manifest.dim}-dimension "
                    f"vectors, not {dim}: rebuild it with `assistant index --rebuild`"
                )
            if not self._client.has_collection(name):
                kind = self._dense
                if kind == "auto":  # a server builds HNSW per sealed segment; Lite stays exact
                    kind = "flat" if self._t.lite is not None else "hnsw"
                _create_chunks(self._client, name, dim, kind)
            self._client.load_collection(name)
            self._collection = name
        return self._collection

    # -- writes

    def reusable_vectors(self, passage_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        sources: list[tuple[str, str]] = []  # committed rows (unless rebuilding), and our own
        if self.previous is not None and self._prev is not None:
            sources.append(
                (self._prev.collection, visible(self._committed_version, self._prev.floor))
            )
        if self._collection is not None:
            sources.append((self._collection, f"ver == {self._new}"))
        hashes = sorted(set(passage_hashes))
        out: dict[str, np.ndarray] = {}
        for _rel, chunks, vectors in self._buffer:
            for sc, vec in zip(chunks, vectors, strict=True):
                out.setdefault(sc.passage_hash, vec)
        hashes = [h for h in hashes if h not in out]
        for collection, where in sources:
            for i in range(0, len(hashes), BATCH):
                rows = self._client.query(
                    collection,
                    filter=_both(f"passage_hash in {_keys(hashes[i : i + BATCH])}", where),
                    output_fields=["passage_hash", "vec"],
                )
                for r in rows:
                    out[r["passage_hash"]] = np.asarray(r["vec"], dtype=np.float32)
        return out

    def _retire(self, collection: str, pk: str, where: str) -> None:
        """Retire the committed rows matching ``where``; drop those this writer added."""
        self._client.delete(collection, filter=_both(where, f"ver == {self._new}"))
        if self.previous is not None:
            self._set_dead(collection, pk, _both(where, self._old()), self._new)

    def _retire_file(self, rel: str) -> None:
        kept = [b for b in self._buffer if b[0] != rel]
        if len(kept) != len(self._buffer):
            self._buffer, self._buffered = kept, sum(len(b[1]) for b in kept)
        where = f"file_rel == {literal(rel)}"
        for collection in self._chunk_collections():
            self._retire(collection, "id", where)
        self._retire(self._t.catalog, "key", f'kind == "doc" and rel == {literal(rel)}')

    def put_file(self, rel: str, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{rel}: {len(chunks)} chunks but {len(vectors)} vectors")
        self._retire_file(rel)
        if not len(chunks):
            return
        self._buffer.append((rel, list(chunks), np.asarray(vectors, dtype=np.float32)))
        self._buffered += len(chunks)
        if self._buffered >= BUFFER_ROWS:
            self._flush()

    def _flush(self) -> None:
        """Insert the buffered files' chunks, tokenized with the dictionary grown by them (rows
        inserted earlier keep their tokens, as the embedded index's older segments do)."""
        buffer, self._buffer, self._buffered = self._buffer, [], 0
        self._analyzer = self._analyzer.grown(sc.passage for _, cs, _ in buffer for sc in cs)
        for rel, chunks, vectors in buffer:
            self._insert(rel, self._analyzer.retokenize(chunks), vectors)

    def _insert(self, rel: str, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        collection = self._chunks_collection(int(vectors.shape[1]))
        rows = []
        docs: dict[str, list[Any]] = {}  # doc key → [meta, chunks, order]
        for sc, vec in zip(chunks, np.asarray(vectors, dtype=np.float32), strict=True):
            meta = sc.chunk.doc
            key = doc_key(rel, meta.doc_id)
            docs.setdefault(key, [meta, 0, len(docs)])[1] += 1
            where = f"{rel} chunk {sc.chunk.chunk_id}"
            rows.append(
                {
                    "id": self._next_id, "vec": vec.tolist(),
                    "lex": _checked(lex_text(sc.tokens), where),
                    "phrase": _checked(sc.phrase, where),
                    "record": _checked(_record(sc.chunk), where),
                    "doc_key": key, "file_rel": rel, "doc_id": meta.doc_id, "file": meta.file,
                    "source_path": meta.source_path, "year": meta.year, "region": meta.region,
                    "passage_hash": sc.passage_hash, "ver": self._new, "dead": ALIVE,
                }
            )  # fmt: skip
            self._next_id += 1
        for i in range(0, len(rows), BATCH):
            self._client.insert(collection, rows[i : i + BATCH])
        self._catalog_rows(
            [
                {
                    "key": _row_key("doc", self._new, key), "kind": "doc", "rel": rel,
                    "data": json.dumps(
                        {"rel": rel, "meta": asdict(meta), "chunks": n, "order": order},
                        ensure_ascii=False,
                    ),
                }
                for key, (meta, n, order) in docs.items()
            ]
        )  # fmt: skip

    def _catalog_rows(self, rows: list[dict[str, Any]], ver: int | None = None) -> None:
        for r in rows:
            r.setdefault("ver", self._new if ver is None else ver)
            r.setdefault("dead", ALIVE)
            r["v"] = [0.0, 0.0]
            _checked(r["data"], f"catalog entry {r['key']}")
        for i in range(0, len(rows), BATCH):
            self._client.upsert(self._t.catalog, rows[i : i + BATCH])

    def delete_file(self, rel: str) -> None:
        self._retire_file(rel)

    def commit(self, manifest: Manifest) -> str:
        new = self._new
        self._flush()
        collection = self._chunks_collection(manifest.dim)
        self._catalog_rows(
            [
                {"key": _row_key("word", new, word), "kind": "word", "rel": "", "data": word}
                for word in sorted(set(self._analyzer.words) - self._stored_words)
            ]
        )
        before = self.previous.files if self.previous is not None else {}
        changed = [rel for rel, e in manifest.files.items() if before.get(rel) != e]
        for rel in [*changed, *(set(before) - set(manifest.files))]:
            self._retire(self._t.catalog, "key", f'kind == "file" and rel == {literal(rel)}')
        self._catalog_rows(
            [
                {
                    "key": _row_key("file", new, rel), "kind": "file", "rel": rel,
                    "data": json.dumps(
                        {"rel": rel, "entry": asdict(manifest.files[rel])}, ensure_ascii=False
                    ),
                }
                for rel in changed
            ]
        )  # fmt: skip
        header = json.loads(manifest.to_json())
        header["files"] = {}
        header["dense"] = _dense_kind(self._client, collection)
        version_row = {"manifest": header, "floor": self._floor, "collection": collection}
        version_row["layout"] = LAYOUT
        version_row["analysis"] = {"recipe": ANALYSIS_RECIPE, "bigrams": self._analyzer.bigrams}
        self._catalog_rows(
            [{"key": f"version:{new}", "kind": "version", "rel": "",
              "data": json.dumps(version_row, ensure_ascii=False)}]
        )  # fmt: skip
        self._client.flush(collection)
        self._client.flush(self._t.catalog)
        head = {"current": new, "next_id": self._next_id}
        self._catalog_rows(
            [{"key": "head", "kind": "head", "rel": "", "data": json.dumps(head)}], ver=0
        )
        self._client.flush(self._t.catalog)
        self._done = True
        with contextlib.suppress(Exception):  # the next commit collects whatever is left
            self._collect(collection)
        return label(new)

    def _collect(self, collection: str) -> None:
        """Delete rows that neither the new nor the previous version can see."""
        prev = self._prev
        if prev is None:
            return
        gone = f"(dead <= {prev.version} or ver < {prev.floor})"
        self._client.delete(self._t.catalog, filter=_both(gone, 'key != "head"'))
        self._client.delete(self._t.catalog, filter=f'kind == "version" and ver < {prev.version}')
        for name in self._chunk_collections():
            if name == collection or (name == prev.collection and prev.layout == LAYOUT):
                self._client.delete(name, filter=gone)
            else:
                self._client.drop_collection(name)

    def abort(self) -> None:
        if not self._done:
            self._done = True
            self._buffer, self._buffered = [], 0
            self._recover()

    def close(self) -> None:
        try:
            self.abort()
        finally:
            self._stack.close()
