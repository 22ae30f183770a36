"""Uploads: only readable documents of allowed types and size get into corpus/uploads/."""

from __future__ import annotations

import pytest

from assistant.hashing import file_sha256
from assistant.uploads import UploadError, safe_name, store_upload

PLAN = "2025年工作要点\n\n一、总体要求\n\n1.严格落实“双减”政策，规范课后服务。\n"


@pytest.mark.parametrize(
    ("original", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\双减 方案（2023）.PDF", "双减 方案（2023）.pdf"),
        ("a/b/..hidden..md", "hidden.md"),
        ("rm -rf $HOME;.txt", "rm -rf _HOME.txt"),
        ("庄浪县\u0000教育\n要点.docx", "庄浪县教育要点.docx"),
        ("...", "upload"),
    ],
)
def test_safe_name_strips_paths_and_keeps_cjk(original, safe):
    assert safe_name(original) == safe


def test_good_file_is_stored_under_uploads(tmp_path):
    src = tmp_path / "in" / "x"
    src.parent.mkdir()
    src.write_text(PLAN, encoding="utf-8")
    corpus = tmp_path / "corpus"
    up = store_upload(src, "../庄浪县2025年工作要点.txt", corpus, max_mb=1)
    assert up.path == corpus / "uploads" / "庄浪县2025年工作要点.txt"
    assert up.path.read_text(encoding="utf-8") == PLAN
    assert up.chunks >= 1 and up.duplicate_of is None
    again = store_upload(src, "庄浪县2025年工作要点.txt", corpus, max_mb=1)
    assert again.duplicate_of == "uploads/庄浪县2025年工作要点.txt" and again.path == up.path
    other = tmp_path / "in" / "y"
    other.write_text(PLAN + "2.加强教师队伍建设。\n", encoding="utf-8")
    renamed = store_upload(other, "庄浪县2025年工作要点.txt", corpus, max_mb=1)
    assert renamed.name == "庄浪县2025年工作要点-2.txt"
    assert sorted(p.name for p in (corpus / "uploads").iterdir()) == [
        "庄浪县2025年工作要点-2.txt",
        "庄浪县2025年工作要点.txt",
    ]


def test_gbk_text_is_accepted(tmp_path):
    src = tmp_path / "gbk"
    src.write_bytes(PLAN.encode("gbk"))
    assert store_upload(src, "gbk方案.txt", tmp_path / "corpus", max_mb=1).chunks >= 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", "not accepted"),
        ("empty.txt", b"", "empty"),
        ("binary.txt", bytes(range(256)) * 20, "binary"),
        ("broken.pdf", b"%PDF-1.4\n%broken" + bytes(range(256)) * 4, "broken.pdf"),
        ("big.txt", "落实双减。".encode() * 120_000, "MB limit"),
    ],
)
def test_bad_upload_is_refused_with_a_reason_and_nothing_is_stored(
    tmp_path, name, content, message
):
    src = tmp_path / "upload.bin"
    src.write_bytes(content)
    corpus = tmp_path / "corpus"
    with pytest.raises(UploadError, match=message) as info:
        store_upload(src, name, corpus, max_mb=1)
    assert name.split(".")[0] in str(info.value)
    assert not (corpus / "uploads").exists() or not any((corpus / "uploads").iterdir())


def test_same_content_under_another_name_names_the_existing_file_and_stores_nothing(tmp_path):
    corpus = tmp_path / "corpus"
    first = tmp_path / "a"
    first.write_text(PLAN, encoding="utf-8")
    store_upload(first, "方案.txt", corpus, max_mb=1)
    for name in ("方案（副本）.txt", "plan copy.txt", "方案.md"):
        copy = tmp_path / "b"
        copy.write_text(PLAN, encoding="utf-8")
        up = store_upload(copy, name, corpus, max_mb=1)
        assert up.duplicate_of == "uploads/方案.txt" and up.name == "方案.txt"
    assert [p.name for p in (corpus / "uploads").iterdir()] == ["方案.txt"]


def test_content_the_index_already_holds_is_not_stored(tmp_path):
    src = tmp_path / "upload"
    src.write_text(PLAN, encoding="utf-8")
    indexed = {file_sha256(src): "work_plans/001_zl.txt"}
    up = store_upload(src, "新名字.txt", tmp_path / "corpus", max_mb=1, indexed=indexed)
    assert up.duplicate_of == "work_plans/001_zl.txt" and up.chunks == 0
    assert not (tmp_path / "corpus" / "uploads").exists()


def test_a_docx_zip_bomb_upload_is_refused_with_the_reason(tmp_path):
    from hostile import docx_bomb

    src = docx_bomb(tmp_path / "upload.bin", 3 * 1024 * 1024)
    assert src.stat().st_size < 100 * 1024  # far under the upload limit
    corpus = tmp_path / "corpus"
    with pytest.raises(
        UploadError, match=r"^方案\.docx: too_large: document\.xml expands to 3\.0 MB"
    ):
        store_upload(src, "方案.docx", corpus, max_mb=1)
    assert not (corpus / "uploads").exists() or not any((corpus / "uploads").iterdir())


def test_the_upload_limit_bounds_the_text_a_file_expands_to(tmp_path):
    from hostile import docx_bomb

    from assistant.documents import FileLimits

    src = docx_bomb(tmp_path / "upload.bin", 2 * 1024 * 1024)
    relaxed = FileLimits(max_zip_ratio=1e9)
    message = r"its text is 1\.\d MB, over the 1\.0 MB limit \(upload_max_mb\)"
    with pytest.raises(UploadError, match=message):
        store_upload(src, "plan.docx", tmp_path / "corpus", max_mb=1, limits=relaxed)


def test_an_upload_over_the_chunk_cap_is_refused_with_the_count(tmp_path):
    from hostile import numbered_list

    from assistant.documents import FileLimits

    src = tmp_path / "upload.bin"
    src.write_text(numbered_list(1, 12), encoding="utf-8")
    with pytest.raises(UploadError, match="would produce 12 chunks, over the limit of 10"):
        store_upload(
            src, "list.txt", tmp_path / "corpus", max_mb=1, limits=FileLimits(max_chunks=10)
        )
