"""The retriever over a real index of hand-made chunks, with the real embedding model, on each
backend: the embedded files, and Milvus Lite (a file in the index directory)."""

import json
from dataclasses import replace

import pytest

from assistant.config import Settings
from assistant.search.retriever import Retriever, SearchFilters, parse_year
from assistant.search.store import IndexMismatchError, IndexNotFoundError, current_generation
from assistant.search.writer import index_chunks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["embedded", "milvus"])
def settings(request, embedding_cache_dir):
    if request.param == "milvus":
        pytest.importorskip("milvus_lite")
    return Settings(cache_dir=embedding_cache_dir, backend=request.param)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, chunks, embedder, settings):
    path = tmp_path_factory.mktemp("index")
    index_chunks(chunks, path, settings, embedder=embedder, progress=False)
    return path


@pytest.fixture(scope="module")
def retriever(index_dir, embedder, settings):
    r = Retriever.open(index_dir, settings, embedder=embedder)
    yield r
    r.close()


def ids(hits):
    return [h.chunk.chunk_id for h in hits]


def test_hybrid_puts_both_scripts_shuang_jian_items_first(retriever):
    hits = retriever.search("各地如何落实双减", k=5)
    assert set(ids(hits)[:2]) == {"zl:0", "fs:0"}
    top = hits[0]
    assert set(top.ranks) == {"dense", "bm25"} and set(top.scores) == {"dense", "bm25"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_rrf_fusion_remains_available(retriever, index_dir, embedder):
    rrf = Retriever(index_dir, retriever.backend, Settings(fusion="rrf"), embedder)
    top = rrf.search("各地如何落实双减", k=5)[0]
    assert top.score == pytest.approx(
        sum(1 / (60 + r) for r in top.ranks.values() if r is not None)
    )


def test_a_verbatim_term_ranks_its_passages_first_in_either_script(retriever):
    # "五大行动" occurs only in the traditional 佛山 item; dense alone ranks other items higher.
    assert ids(retriever.search("五大行动", k=3))[0] == "fs:0"
    assert ids(retriever.search("學校應當履行下列義務", k=3))[0] == "law:1"


def test_documents_are_ranked_by_their_items(retriever):
    docs = retriever.search_documents("双减政策 课后服务 作业负担", k=3)
    assert docs[0].meta.doc_id == "zl"
    assert docs[0].hits[0].chunk.chunk_id == "zl:0"
    assert len({d.meta.doc_id for d in docs}) == len(docs)


def test_hit_dict_carries_metadata_text_and_ranks(retriever):
    d = retriever.search("双减", k=1)[0].to_dict()
    for key in (
        "file",
        "doc_id",
        "title",
        "region",
        "year",
        "path",
        "label",
        "text",
        "score",
        "ranks",
        "scores",
        "chunk_id",
    ):
        assert key in d
    json.dumps(d, ensure_ascii=False)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("雙減政策怎樣落實", "zl:0"),  # traditional query, simplified text
        ("巩固提升双减成效", "fs:0"),  # simplified query, traditional text
        ("学生每天体育活动一小时", "zl:1"),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_across_scripts(retriever, query, expected, mode):
    hits = retriever.search(query, k=3, mode=mode)
    assert expected in ids(hits)[:2]
    if mode != "hybrid":
        assert set(hits[0].ranks) == {mode}
        assert hits[0].score == pytest.approx(hits[0].scores[mode])


def test_dense_mode_answers_a_paraphrase_without_shared_words(retriever):
    hits = retriever.search("老师培训", k=1, mode="dense")
    assert ids(hits) == ["zl:2"]


def test_bm25_mode_returns_only_keyword_matches(retriever):
    assert retriever.search("量子计算机", mode="bm25") == []


def test_query_is_embedded_once_per_search(retriever, embedder, monkeypatch):
    calls = []
    original = embedder.embed_queries
    monkeypatch.setattr(embedder, "embed_queries", lambda t: calls.append(t) or original(t))
    retriever.search("双减", k=3)
    retriever.search("双减", k=3, mode="bm25")
    assert len(calls) == 1


@pytest.mark.parametrize(
    "filters, allowed",
    [
        (SearchFilters(year=2022), {"fs"}),
        (SearchFilters(year=(2021, 2022)), {"fs", "law"}),
        (SearchFilters(year=(2022, 2021)), {"fs", "law"}),
        (SearchFilters(region="庄浪县"), {"zl"}),
        (SearchFilters(doc_id="law"), {"law"}),
        (SearchFilters(file="教育法.md"), {"law"}),
        (SearchFilters(file="plans/fs.txt"), {"fs"}),
        (SearchFilters(year=2023, region="佛山市"), set()),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_filters_restrict_every_mode(retriever, filters, allowed, mode):
    hits = retriever.search("教育 双减 学校", k=10, mode=mode, filters=filters)
    assert {h.chunk.doc.doc_id for h in hits} <= allowed
    if allowed and mode != "bm25":
        assert {h.chunk.doc.doc_id for h in hits} == allowed


def test_per_doc_spreads_hits_across_documents(retriever):
    query = "推动全面育人有效落实"  # the heading of all three 庄浪县 items: they fill the top
    plain = retriever.search(query, k=3, mode="dense")
    assert {h.chunk.doc.doc_id for h in plain} == {"zl"}
    spread = retriever.search(query, k=3, mode="dense", per_doc=1)
    assert [h.chunk.doc.doc_id for h in spread][0] == "zl"
    assert len({h.chunk.doc.doc_id for h in spread}) == 3
    two = retriever.search(query, k=10, per_doc=2)
    assert sorted(h.chunk.doc.doc_id for h in two) == ["fs", "fs", "law", "law", "zl", "zl"]


def test_phrase_search_matches_exact_wording_in_either_script(retriever):
    hits = retriever.phrase_search("持续巩固提升“双减”成效")
    assert ids(hits) == ["fs:0"] and hits[0].score == 1.0 and hits[0].ranks == {"phrase": 1}
    assert ids(retriever.phrase_search("嚴格落實“雙減”")) == ["zl:0"]
    assert ids(retriever.phrase_search("“双减”", filters=SearchFilters(region="佛山市"))) == [
        "fs:0"
    ]
    assert retriever.phrase_search("落实双减") == []  # not the same wording: quotes missing
    assert retriever.phrase_search("   ") == []


def test_documents_regions_years(retriever):
    docs = {s.meta.doc_id: s.chunks for s in retriever.documents()}
    assert docs == {"zl": 3, "fs": 2, "law": 2}
    assert retriever.regions() == ["佛山市", "庄浪县"]
    assert retriever.years() == [2021, 2022, 2023]
    assert retriever.manifest.chunks == 7 and retriever.manifest.dim == 384


def test_bad_arguments(retriever):
    assert retriever.search("   ") == []
    assert retriever.search("双减", k=0) == []
    with pytest.raises(ValueError, match="mode"):
        retriever.search("双减", mode="sparse")
    with pytest.raises(ValueError):
        retriever.search("双减", per_doc=0)


def test_parse_year():
    assert parse_year("2023") == 2023
    assert parse_year("2020-2023") == (2020, 2023)
    with pytest.raises(ValueError):
        parse_year("twenty")


def test_missing_index_says_to_run_assistant_index(tmp_path, settings):
    with pytest.raises(IndexNotFoundError, match="assistant index"):
        Retriever.open(tmp_path / "nowhere", settings)
    assert not (tmp_path / "nowhere").exists()


def test_other_model_is_refused(index_dir, settings):
    with pytest.raises(IndexMismatchError, match="ASSISTANT_EMBED_MODEL="):
        Retriever.open(index_dir, replace(settings, embed_model="BAAI/bge-small-zh-v1.5"))


def test_newer_format_is_refused(tmp_path, chunks, embedder):
    index_chunks(chunks[:2], tmp_path, Settings(), embedder=embedder, progress=False)
    manifest = current_generation(tmp_path) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] += 1
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="newer"):
        Retriever.open(tmp_path, Settings(), embedder=embedder)


def test_reopen_sees_a_newer_build(tmp_path, chunks, embedder, settings):
    index_chunks(chunks[:2], tmp_path, settings, embedder=embedder, progress=False)
    r = Retriever.open(tmp_path, settings, embedder=embedder)
    assert not r.is_stale()
    index_chunks(chunks, tmp_path, settings, embedder=embedder, progress=False)
    assert r.is_stale()
    assert len(r.search("教育法", k=10, mode="bm25")) <= 2  # still answering from the old one
    fresh = r.reopen()
    assert len(fresh) == 7 and not fresh.is_stale()
    r.close()
    fresh.close()


def _commit_during_open(monkeypatch, index_dir, chunks, embedder, commits: int) -> list[str]:
    """Make ``commits`` real builds commit while the retriever is between reading a generation's
    vectors and its FAISS file (the interleaving of `assistant index` racing `serve`)."""
    import assistant.search.backends.embedded as embedded

    real = embedded._open_segments
    opened: list[str] = []

    building = False

    def open_segments(index_dir, names):
        nonlocal building
        if building:  # the build itself opens the previous index to reuse its vectors
            return real(index_dir, names)
        opened.append(",".join(names))
        if len(opened) <= commits:
            building = True
            try:
                index_chunks(chunks[: 2 + len(opened)], index_dir, Settings(), embedder=embedder,
                             progress=False)  # fmt: skip
            finally:
                building = False
        return real(index_dir, names)

    monkeypatch.setattr(embedded, "_open_segments", open_segments)
    return opened


def test_open_retries_when_a_commit_deletes_the_generation_being_read(
    tmp_path, chunks, embedder, monkeypatch
):
    index_chunks(chunks[:2], tmp_path, Settings(), embedder=embedder, progress=False)
    opened = _commit_during_open(monkeypatch, tmp_path, chunks, embedder, commits=2)
    r = Retriever.open(tmp_path, Settings(), embedder=embedder)
    # FAISS failed on two deleted generations (a RuntimeError, not FileNotFoundError); the
    # third open read the generation the last build committed.
    assert len(opened) == 3 and len(set(opened)) == 3
    assert r.generation == current_generation(tmp_path) and len(r) == 4
    assert not r.is_stale()


def test_open_gives_up_after_a_bounded_number_of_concurrent_commits(
    tmp_path, chunks, embedder, monkeypatch
):
    index_chunks(chunks[:2], tmp_path, Settings(), embedder=embedder, progress=False)
    _commit_during_open(monkeypatch, tmp_path, chunks, embedder, commits=99)
    with pytest.raises(IndexNotFoundError, match="changed 5 times while being opened"):
        Retriever.open(tmp_path, Settings(), embedder=embedder)
