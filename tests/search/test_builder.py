"""Incremental builds of a real on-disk index from small files, with the real model."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.search import builder
from assistant.search.builder import build_index
from assistant.search.retriever import Retriever
from assistant.search.store import (
    IndexMismatchError,
    current_generation,
    generation_dirs,
    read_manifest,
    segment_dirs,
)

pytestmark = pytest.mark.slow

FILES = {
    "plans/a.txt": """榆中县2023年教育工作要点

一、落实双减政策
1.严格落实“双减”政策，减轻学生过重作业负担和校外培训负担。
2.规范校外培训机构管理，开展专项治理行动。
二、加强学校体育
3.保证学生每天校内体育活动时间不少于1小时。
""",
    "plans/b.txt": """会宁县2022年教育工作总结

一、教师队伍建设
1.开展教师全员培训，提升教师信息技术应用能力。
2.落实乡村教师生活补助政策。
""",
    "c.md": """# 学前教育条例

第一条 为了规范学前教育，促进学前教育普及普惠，制定本条例。

第二条 幼儿园应当以游戏为基本活动。
""",
}


class CountingEmbedder:
    """The real embedder, counting the passages it is asked to encode."""

    def __init__(self, real):
        self.real = real
        self.model_name, self.dim, self.backend = real.model_name, real.dim, real.backend
        self.passages: list[str] = []

    def embed_passages(self, texts, **kw):
        self.passages.extend(texts)
        return self.real.embed_passages(texts, **kw)

    def embed_queries(self, texts):
        return self.real.embed_queries(texts)


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def spy(embedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


def build(corpus, index_dir, spy, **kw):
    spy.passages.clear()
    return build_index([corpus], index_dir, Settings(), embedder=spy, progress=False, **kw)


def texts(index_dir, spy, query="教育", k=20):
    r = Retriever.open(index_dir, Settings(), embedder=spy)
    try:
        return [h.chunk.text for h in r.search(query, k=k, mode="bm25")]
    finally:
        r.close()


def test_first_build_indexes_every_file_with_hashes_in_the_manifest(corpus, tmp_path, spy):
    report = build(corpus, tmp_path / "index", spy)
    assert sorted(report.added) == sorted(FILES) and report.failed == []
    assert report.chunks == 7 == report.embedded == len(spy.passages)
    manifest = read_manifest(current_generation(tmp_path / "index"))
    assert manifest.model == spy.model_name and manifest.dim == 384 and manifest.dense == "flat"
    for rel, text in FILES.items():
        entry = manifest.files[rel]
        assert entry.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert {rel: e.chunks for rel, e in manifest.files.items()} == {
        "plans/a.txt": 3,
        "plans/b.txt": 2,
        "c.md": 2,
    }
    assert manifest.normalization["script"] == "OpenCC t2s"
    # the embedded text carries the heading path
    assert "一、落实双减政策 · 1.严格落实" in "\n".join(spy.passages)


def test_unchanged_corpus_embeds_nothing_and_keeps_the_generation(corpus, tmp_path, spy):
    first = build(corpus, tmp_path / "index", spy)
    report = build(corpus, tmp_path / "index", spy)
    assert report.generation == first.generation  # nothing rewritten
    assert (report.added, report.updated, report.removed) == ([], [], [])
    assert report.unchanged == 3 and report.embedded == 0 and spy.passages == []
    assert report.reused == report.chunks == 7


def test_add_change_delete_touch_only_those_files(corpus, tmp_path, spy):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    # change one item of b, add d, delete c
    b = corpus / "plans/b.txt"
    b.write_text(FILES["plans/b.txt"].replace("生活补助政策", "生活补助和周转宿舍政策"), "utf-8")
    (corpus / "d.txt").write_text(
        "景泰县2024年工作计划\n\n1.推进县域普通高中振兴。\n2.建设智慧校园。\n", encoding="utf-8"
    )
    (corpus / "c.md").unlink()
    report = build(corpus, index_dir, spy)
    assert report.added == ["d.txt"] and report.updated == ["plans/b.txt"]
    assert report.removed == ["c.md"] and report.unchanged == 1
    # only the edited item and the new file's items were embedded
    assert report.embedded == len(spy.passages) == 3
    assert sorted(p.split(" · ")[-1] for p in spy.passages) == [
        "1.推进县域普通高中振兴。",
        "2.建设智慧校园。",
        "2.落实乡村教师生活补助和周转宿舍政策。",
    ]
    assert report.chunks == 3 + 2 + 2
    manifest = read_manifest(current_generation(index_dir))
    assert sorted(manifest.files) == ["d.txt", "plans/a.txt", "plans/b.txt"]
    found = texts(index_dir, spy, "学前教育 幼儿园 周转宿舍 智慧校园")
    assert not any("幼儿园" in t for t in found)  # deleted file's chunks are gone
    assert any("周转宿舍" in t for t in found) and any("智慧校园" in t for t in found)
    assert len(generation_dirs(index_dir)) == 1  # the old generation was removed


def test_unreadable_new_file_is_reported_and_skipped(corpus, tmp_path, spy):
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blob.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    report = build(corpus, tmp_path / "index", spy)
    assert {Path(f.path).name: f.kind for f in report.failed} == {
        "empty.txt": "empty",
        "blob.pdf": "corrupt",
    }
    assert all(Path(f.path).name in f.message for f in report.failed)
    assert (
        report.chunks == 7
        and "empty.txt" not in read_manifest(current_generation(tmp_path / "index")).files
    )


def test_previously_indexed_file_that_now_fails_keeps_its_chunks(corpus, tmp_path, spy):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    (corpus / "plans/a.txt").write_bytes(b"\x00\x01\x02binary junk\x00" * 50)
    report = build(corpus, index_dir, spy)
    assert [Path(f.path).name for f in report.failed] == ["a.txt"]
    assert report.failed[0].kind == "binary" and "previously indexed version is kept" in (
        report.failed[0].message
    )
    assert report.kept == ["plans/a.txt"] and report.updated == [] and report.embedded == 0
    assert report.chunks == 7
    assert any("校外培训" in t for t in texts(index_dir, spy, "校外培训"))
    # the manifest keeps the hash of the version that is indexed, so a fixed file re-indexes
    entry = read_manifest(current_generation(index_dir)).files["plans/a.txt"]
    assert entry.sha256 == hashlib.sha256(FILES["plans/a.txt"].encode()).hexdigest()


def test_changed_ingestion_code_reingests_but_reuses_vectors(corpus, tmp_path, spy, monkeypatch):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    monkeypatch.setattr(builder, "pipeline_fingerprint", lambda: "something-else")
    report = build(corpus, index_dir, spy)
    assert report.reingested == 3 and report.unchanged == 3 and report.embedded == 0
    assert read_manifest(current_generation(index_dir)).pipeline == "something-else"


def test_rebuild_reembeds_everything(corpus, tmp_path, spy):
    build(corpus, tmp_path / "index", spy)
    report = build(corpus, tmp_path / "index", spy, rebuild=True)
    assert sorted(report.added) == sorted(FILES) and report.embedded == 7


def test_other_model_is_refused_before_anything_is_written(corpus, tmp_path, spy):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    before = current_generation(index_dir)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        build_index(
            [corpus], index_dir, Settings(embed_model="BAAI/bge-small-zh-v1.5"), progress=False
        )
    assert current_generation(index_dir) == before


def test_newer_format_index_is_not_overwritten(corpus, tmp_path, spy):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    path = current_generation(index_dir) / "manifest.json"
    data = json.loads(path.read_text())
    data["format_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="newer"):
        build(corpus, index_dir, spy)
    assert json.loads(path.read_text())["format_version"] == 99


def test_hnsw_can_be_chosen_and_answers(corpus, tmp_path, spy):
    report = build(corpus, tmp_path / "index", spy, dense="hnsw")
    assert report.dense == "hnsw"
    r = Retriever.open(tmp_path / "index", Settings(), embedder=spy)
    assert r.manifest.dense == "hnsw"
    assert "双减" in r.search("减轻作业负担", k=1, mode="dense")[0].chunk.text


def test_leftover_generation_of_a_killed_build_is_cleaned_up(corpus, tmp_path, spy):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    junk = index_dir / "gen-000099"
    junk.mkdir()
    (junk / "chunks.sqlite").write_bytes(b"half written")
    build(corpus, index_dir, spy)
    assert not junk.exists() and len(generation_dirs(index_dir)) == 1


def test_relative_paths_key_the_files(corpus, tmp_path, spy):
    # indexing a copy elsewhere with the same relative paths reuses everything
    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    copy = tmp_path / "copy"
    shutil.copytree(corpus, copy)
    report = build(copy, index_dir, spy)
    assert report.unchanged == 3 and report.embedded == 0


def test_rebuild_with_another_model_replaces_the_index(corpus, tmp_path, spy, embedding_cache_dir):
    from assistant.offline_model import offline_model_dir

    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    # the same weights named by their directory count as another model for the index
    other = Settings(
        embed_model=str(offline_model_dir(embedding_cache_dir)), cache_dir=embedding_cache_dir
    )
    with pytest.raises(IndexMismatchError):
        build_index([corpus], index_dir, other, progress=False)
    report = build_index([corpus], index_dir, other, rebuild=True, progress=False)
    assert report.embedded == 7 and report.model == other.embed_model
    with pytest.raises(IndexMismatchError, match=f"ASSISTANT_EMBED_MODEL={other.embed_model}"):
        Retriever.open(index_dir, Settings())
    r = Retriever.open(index_dir, other)
    assert "双减" in r.search("减轻作业负担", k=1, mode="dense")[0].chunk.text


KILLED_UPDATE = """
import sys, time
from pathlib import Path
import assistant.search.backends.embedded as embedded
from assistant.config import Settings
from assistant.embedding import load_query_embedder
from assistant.search.builder import build_index

corpus, index_dir, marker, cache = (Path(a) for a in sys.argv[1:5])
settings = Settings(cache_dir=cache)

def stop_before_the_swap(index_dir, gen, new_segments):
    marker.write_text(f"{gen.name} {[p.name for p in new_segments]}")
    time.sleep(600)

embedded.commit_generation = stop_before_the_swap
build_index([corpus], index_dir, settings, embedder=load_query_embedder(settings), progress=False)
"""


def test_an_update_killed_before_its_commit_leaves_the_previous_index_answering(
    corpus, tmp_path, spy, embedding_cache_dir
):
    import os
    import signal
    import subprocess
    import sys
    import time

    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    before = current_generation(index_dir)
    b = corpus / "plans/b.txt"
    b.write_text(FILES["plans/b.txt"].replace("生活补助政策", "生活补助和周转宿舍政策"), "utf-8")
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_UPDATE, str(corpus), str(index_dir), str(marker),
         str(embedding_cache_dir)],
        env=os.environ.copy(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), "the update never reached its commit"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    written = marker.read_text()
    assert "seg-" in written  # the new segment was on disk when the process died
    assert current_generation(index_dir) == before
    found = texts(index_dir, spy, "周转宿舍 生活补助")
    assert any("生活补助政策" in t for t in found) and not any("周转宿舍" in t for t in found)
    # the next build clears what the killed one left and commits the change
    report = build(corpus, index_dir, spy)
    assert report.updated == ["plans/b.txt"] and report.embedded == 1
    assert any("周转宿舍" in t for t in texts(index_dir, spy, "周转宿舍"))
    live = read_manifest(current_generation(index_dir)).segments
    assert [p.name for p in segment_dirs(index_dir)] == live
    assert generation_dirs(index_dir) == [current_generation(index_dir)]


def test_a_one_file_update_writes_only_that_file(corpus, tmp_path, spy):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    first = read_manifest(current_generation(index_dir)).segments
    old_files = {p: p.stat().st_mtime_ns for p in (index_dir / "segments").rglob("*")}
    (corpus / "d.txt").write_text("景泰县2024年工作计划\n\n1.建设智慧校园。\n", encoding="utf-8")
    report = build(corpus, index_dir, spy)
    assert report.added == ["d.txt"] and report.embedded == 1
    segments = read_manifest(current_generation(index_dir)).segments
    assert segments[: len(first)] == first and len(segments) == len(first) + 1
    # nothing already written was touched
    assert all(p.stat().st_mtime_ns == t for p, t in old_files.items())
    r = Retriever.open(index_dir, Settings(), embedder=spy)
    try:
        new = r.backend.segments[-1]
        assert new.count == 1 and len(r) == 8
        assert r.search("智慧校园", k=1)[0].chunk.text == "1.建设智慧校园。"
    finally:
        r.close()


def test_small_updates_are_merged_and_deleted_rows_dropped(corpus, tmp_path, spy):
    index_dir = tmp_path / "index"
    build(corpus, index_dir, spy)
    b = corpus / "plans/b.txt"
    for n in range(1, 5):  # four updates of one file: the fourth small segment triggers a merge
        b.write_text(FILES["plans/b.txt"] + f"3.第{n}次修订。\n", encoding="utf-8")
        build(corpus, index_dir, spy)
    manifest = read_manifest(current_generation(index_dir))
    assert len(manifest.segments) < 4
    assert np.load(current_generation(index_dir) / "deleted.npy").size < 3 * 3
    r = Retriever.open(index_dir, Settings(), embedder=spy)
    try:
        assert len(r) == manifest.chunks == 8
        hits = r.search("修订", k=5, mode="bm25")
        assert [h.chunk.text for h in hits] == ["3.第4次修订。"]
        assert r.phrase_search("乡村教师")[0].chunk.text.startswith("2.落实乡村教师")
    finally:
        r.close()


@pytest.mark.slow
def test_a_one_shot_build_holds_no_model_while_it_merges(
    tmp_path, embedding_cache_dir, monkeypatch
):
    import gc
    import weakref

    import assistant.embedding as embedding
    from assistant.search.writer import LazyEmbedder

    monkeypatch.setattr(embedding, "_CACHE", {})  # a fresh `assistant index` process
    monkeypatch.setattr(embedding, "_QUERY_CACHE", {})
    loaded = []
    load = embedding.load_query_embedder

    def spy(*args, **kwargs):
        model = load(*args, **kwargs)
        loaded.append(weakref.ref(model))
        return model

    monkeypatch.setattr(embedding, "load_query_embedder", spy)
    alive_at_commit = []
    release = LazyEmbedder.release

    def released(self):
        release(self)
        gc.collect()
        alive_at_commit.extend(ref() is not None for ref in loaded)

    monkeypatch.setattr(LazyEmbedder, "release", released)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "plan.txt").write_text("示例县工作要点\n\n1.推进课后服务。\n", "utf-8")
    settings = Settings(cache_dir=embedding_cache_dir)
    build_index([tmp_path / "c"], tmp_path / "idx", settings, progress=False, release_model=True)
    assert loaded and alive_at_commit == [False] * len(loaded)
