"""One segment on disk: rows, documents, filters, phrases, vectors and postings read back."""

import sqlite3

import numpy as np
import pytest

from assistant.search.dense import DenseIndex
from assistant.search.lexical import Postings
from assistant.search.passage import stored_chunk
from assistant.search.segment import Segment, write_segment


def test_segment_round_trips_chunks_filters_and_phrases(tmp_path, chunks):
    stored = [stored_chunk(c, c.doc.source_path) for c in chunks]
    vectors = np.eye(len(stored), 8, dtype=np.float32)
    info = write_segment(
        tmp_path / "seg-000001",
        100,
        zip(stored, vectors, strict=True),
        Postings.build([sc.tokens for sc in stored]),
        DenseIndex.build(vectors),
    )
    assert (info.base, info.count, info.dim, info.dense) == (100, len(chunks), 8, "flat")
    seg = Segment(tmp_path / "seg-000001")
    got = seg.chunks(range(len(chunks)))
    assert [got[i] for i in range(len(chunks))] == chunks  # records come back identical
    assert seg.filter_rows("d.region = ?", ["庄浪县"]).tolist() == [0, 1, 2]
    assert seg.file_rows("plans/fs.txt").tolist() == [3, 4]
    assert seg.doc_rows[4] == seg.doc_rows[3] != seg.doc_rows[0]
    assert seg.phrase_rows("双减", "1", [], 10) == [(0, 1), (3, 1)]
    assert seg.hash_rows([stored[5].passage_hash, "00" * 32]) == {stored[5].passage_hash: 5}
    assert np.allclose(seg.dense.vectors_at(np.array([2])), vectors[[2]])
    back = list(seg.stored(np.array([False, False, False, True, True, False, False])))
    assert [sc.chunk for sc in back] == chunks[3:5] and back[0].passage_hash == stored[
        3
    ].passage_hash
    # the file is opened read-only: a reader can never damage a committed segment
    with pytest.raises(sqlite3.OperationalError):
        seg._con.execute("DELETE FROM chunks")
    seg.close()
