import json
import multiprocessing
import sqlite3

import pytest

from assistant.search.passage import stored_chunk
from assistant.search.store import (
    FORMAT_VERSION,
    ChunkTable,
    FileEntry,
    IndexLockedError,
    IndexMismatchError,
    Manifest,
    build_lock,
    check_model,
    commit_generation,
    current_generation,
    generation_dirs,
    new_generation,
    read_manifest,
    remove_stale_generations,
    write_chunk_table,
    write_manifest,
)


def manifest(**kw) -> Manifest:
    base = dict(
        model="intfloat/multilingual-e5-small",
        dim=384,
        chunks=3,
        files={"a.txt": FileEntry(sha256="ab" * 32, chunks=3, size=10)},
        normalization={"script": "OpenCC t2s"},
    )
    return Manifest(**{**base, **kw})


def test_manifest_round_trips_through_json(tmp_path):
    m = manifest()
    write_manifest(tmp_path, m)
    data = json.loads((tmp_path / "manifest.json").read_text())
    assert data["format_version"] == FORMAT_VERSION and data["files"]["a.txt"]["chunks"] == 3
    assert read_manifest(tmp_path) == m


def test_newer_format_is_refused_with_instructions(tmp_path):
    write_manifest(tmp_path, manifest(format_version=FORMAT_VERSION + 1))
    with pytest.raises(IndexMismatchError, match="newer than this program") as err:
        read_manifest(tmp_path)
    assert "--rebuild" in str(err.value)


def test_other_model_is_refused_with_instructions(tmp_path):
    m = manifest()
    check_model(m, "intfloat/multilingual-e5-small", tmp_path)
    with pytest.raises(IndexMismatchError) as err:
        check_model(m, "BAAI/bge-small-zh-v1.5", tmp_path)
    msg = str(err.value)
    assert "ASSISTANT_EMBED_MODEL=intfloat/multilingual-e5-small" in msg and "--rebuild" in msg
    with pytest.raises(IndexMismatchError):
        check_model(m, "intfloat/multilingual-e5-small", tmp_path, dim=768)


def test_commit_swaps_current_and_removes_older_generations(tmp_path):
    assert current_generation(tmp_path) is None
    g1 = new_generation(tmp_path)
    (g1 / "x").write_text("1")
    commit_generation(tmp_path, g1)
    assert current_generation(tmp_path) == g1
    g2 = new_generation(tmp_path)
    assert g2.name > g1.name
    # until committed, the new generation is invisible and the old one stays
    assert current_generation(tmp_path) == g1 and g1.exists()
    commit_generation(tmp_path, g2)
    assert current_generation(tmp_path) == g2 and not g1.exists()
    assert (tmp_path / "CURRENT").read_text() == g2.name + "\n"


def test_stale_generations_from_a_killed_build_are_removed(tmp_path):
    g1 = new_generation(tmp_path)
    commit_generation(tmp_path, g1)
    half = new_generation(tmp_path)  # a build died before committing this one
    assert remove_stale_generations(tmp_path) == [half.name]
    assert generation_dirs(tmp_path) == [g1]


def _try_lock(path, queue):
    try:
        with build_lock(path):
            queue.put("got it")
    except IndexLockedError as exc:
        queue.put(str(exc))


def test_a_second_build_is_refused_while_one_holds_the_lock(tmp_path):
    ctx = multiprocessing.get_context("fork")
    with build_lock(tmp_path):
        q = ctx.Queue()
        p = ctx.Process(target=_try_lock, args=(tmp_path, q))
        p.start()
        p.join(30)
        assert "another build" in q.get(timeout=5)
    p = ctx.Process(target=_try_lock, args=(tmp_path, q))
    p.start()
    p.join(30)
    assert q.get(timeout=5) == "got it"


def test_chunk_table_round_trips_chunks_and_filters(tmp_path, chunks):
    stored = [stored_chunk(c, c.doc.source_path) for c in chunks]
    path = tmp_path / "chunks.sqlite"
    write_chunk_table(path, stored)
    table = ChunkTable(path)
    assert len(table) == len(chunks)
    got = table.chunks(range(len(chunks)))
    assert [got[i] for i in range(len(chunks))] == chunks  # records come back identical
    back = list(table.stored(["plans/fs.txt"]))
    assert [sc.chunk for sc in back] == chunks[3:5] and [sc.row for sc in back] == [3, 4]
    assert back[0].tokens == stored[3].tokens and back[0].passage_hash == stored[3].passage_hash
    assert table.filter_rows("d.region = ?", ["庄浪县"]) == [0, 1, 2]
    assert table.doc_row(4) == table.doc_row(3) != table.doc_row(0)
    docs = table.documents()
    assert [(m.doc_id, n) for m, n in docs] == [("zl", 3), ("fs", 2), ("law", 2)]
    assert table.phrase_rows("双减", "1", [], 10) == [(0, 1), (3, 1)]
    # the file is opened read-only: a reader can never damage a committed generation
    with pytest.raises(sqlite3.OperationalError):
        table._con.execute("DELETE FROM chunks")
    table.close()


def test_ocr_pages_round_trip_and_a_table_without_them_reads_as_not_ocr(tmp_path, chunks):
    import dataclasses

    scanned = [
        dataclasses.replace(c, ocr=True, page=2) if i == 1 else c for i, c in enumerate(chunks)
    ]
    path = tmp_path / "chunks.sqlite"
    write_chunk_table(path, [stored_chunk(c, c.doc.source_path) for c in scanned])
    table = ChunkTable(path)
    assert [table.chunks([i])[i] for i in range(len(chunks))] == scanned
    assert [sc.chunk for sc in table.stored()] == scanned
    table.close()
    con = sqlite3.connect(path)  # the chunk table as written before OCR existed
    con.execute("ALTER TABLE chunks DROP COLUMN ocr_page")
    con.commit()
    con.close()
    table = ChunkTable(path)
    assert [table.chunks([i])[i] for i in range(len(chunks))] == chunks
    table.close()
