"""Uploads in the app's background worker: accepted at once, then deduplicated, checked, indexed.

Over a copy of the seed index; the worker updates it for real.
"""

from __future__ import annotations

import tempfile
import threading

import pytest
from live_corpus import NEW_PLAN, NEW_PLAN_TEXT, ZL, seed_copy

from assistant.config import Settings
from assistant.live_index import LiveIndex
from assistant.upload_queue import UploadQueue

pytestmark = pytest.mark.slow


@pytest.fixture
def live(seed_index_dir, embedder, tmp_path) -> LiveIndex:
    corpus, index = seed_copy(seed_index_dir, tmp_path)
    return LiveIndex(corpus, index, Settings(), embedder)


def test_an_upload_is_accepted_at_once_and_indexed_by_the_worker(live, tmp_path):
    uploads = UploadQueue(live)
    src = tmp_path / "from-browser" / NEW_PLAN
    src.parent.mkdir()
    src.write_text(NEW_PLAN_TEXT, encoding="utf-8")
    before = live.retriever.generation
    with live.lock:  # an index update is running: the upload must not wait for it
        job = uploads.submit(src, NEW_PLAN)
        assert job.state == "queued" and job.text() == f"【排队中】{NEW_PLAN}"
        assert not src.exists()  # taken out of the upload folder at once
    uploads.wait()
    assert job.state == "indexed" and job.chunks == 40, job.message
    assert job.text() == f"【已索引】{NEW_PLAN}：40 个段落"
    assert job.file == f"uploads/{NEW_PLAN}" and (live.corpus_dir / job.file).is_file()
    assert live.retriever.generation != before
    hits = live.retriever.search("研学旅行线路由谁审核", k=3, mode="bm25")
    assert hits and hits[0].chunk.doc.file == NEW_PLAN


def test_the_same_bytes_under_another_name_are_reported_as_already_indexed(live, tmp_path):
    uploads = UploadQueue(live)
    src = tmp_path / "副本.txt"
    src.write_bytes((live.corpus_dir / ZL).read_bytes())
    before = live.retriever.generation
    job = uploads.submit(src, "庄浪县要点（副本）.txt")
    uploads.wait()
    assert job.state == "duplicate" and job.file == ZL
    assert ZL in job.text() and "未重复添加" in job.text()
    assert not (live.corpus_dir / "uploads").exists()
    assert live.retriever.generation == before  # nothing was rebuilt


def test_a_refused_upload_leaves_nothing_behind(live, tmp_path):
    uploads = UploadQueue(live)
    src = tmp_path / "扫描件.pdf"
    src.write_bytes(b"%PDF-1.4\n%broken\n" + bytes(range(256)) * 4)
    job = uploads.submit(src, "扫描件.pdf")
    uploads.wait()
    assert job.state == "refused" and job.text().startswith("【未接收】扫描件.pdf")
    assert not src.exists()
    assert not (live.corpus_dir / "uploads").exists()
    assert not any(uploads.staging_dir().iterdir())  # the private copy is gone too


def test_uploads_are_processed_outside_the_submitting_thread(live, tmp_path, monkeypatch):
    import assistant.uploads as uploads_module

    seen: list[str] = []
    real = uploads_module.count_chunks

    def count_chunks(*args):
        seen.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(uploads_module, "count_chunks", count_chunks)
    uploads = UploadQueue(live)
    src = tmp_path / "x.md"
    src.write_text(NEW_PLAN_TEXT, encoding="utf-8")
    uploads.submit(src, NEW_PLAN)
    uploads.wait()
    assert seen == ["uploads"]  # the worker's thread, never the request's


def test_the_private_upload_folder_exists_only_once_a_file_is_uploaded(live, tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    uploads = UploadQueue(live)
    assert list(temp.iterdir()) == []  # a server nobody uploads to leaves no folder behind
    src = tmp_path / "副本.txt"
    src.write_bytes((live.corpus_dir / ZL).read_bytes())
    uploads.submit(src, "副本.txt")
    uploads.wait()
    (staging,) = temp.iterdir()
    assert staging.name.startswith("assistant-uploads-") and staging.stat().st_mode & 0o077 == 0
