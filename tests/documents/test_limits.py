"""Per-file bounds: zip expansion and ratio checked before parsing, text size, chunks per file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import docx_bomb, docx_file, numbered_list

from assistant.config import Settings
from assistant.documents import FileLimits, LoadError, ingest_file
from assistant.documents.limits import MB
from assistant.documents.loaders import load

RELAXED = FileLimits(max_zip_ratio=1e9, max_expanded_bytes=1 << 40)


def test_docx_bomb_is_refused_by_its_ratio_before_it_is_parsed(tmp_path, monkeypatch) -> None:
    bomb = docx_bomb(tmp_path / "bomb.docx", 3 * MB, blank=True)
    assert bomb.stat().st_size < 64 * 1024
    import docx

    def parse(*_args: object) -> None:
        raise AssertionError("the bomb was handed to the parser")

    monkeypatch.setattr(docx, "Document", parse)
    with pytest.raises(LoadError) as err:
        load(bomb)
    assert err.value.kind == "too_large"
    reason = err.value.reason
    assert reason.startswith("document.xml expands to 3.0 MB (ratio ")
    assert "over the 100:1 compression limit (max_zip_ratio)" in reason


def test_docx_whose_parts_expand_past_the_limit_is_refused(tmp_path) -> None:
    bomb = docx_bomb(tmp_path / "big.docx", 2 * MB)
    limits = FileLimits(max_zip_ratio=1e9, max_expanded_bytes=1 * MB)
    with pytest.raises(LoadError) as err:
        load(bomb, limits)
    assert err.value.kind == "too_large"
    assert "parts expand to 2.0 MB, over the 1.0 MB limit (max_expanded_mb)" in err.value.reason


def test_text_extracted_past_the_size_limit_is_refused(tmp_path) -> None:
    small_on_disk = docx_bomb(tmp_path / "text.docx", 300 * 1024)
    assert small_on_disk.stat().st_size < 100 * 1024
    limits = FileLimits(max_file_bytes=100 * 1024, max_zip_ratio=1e9)
    with pytest.raises(LoadError) as err:
        load(small_on_disk, limits)
    assert err.value.kind == "too_large" and err.value.reason == (
        "its text is 0.2 MB, over the 0.1 MB limit (max_file_mb)"
    )


def test_an_ordinary_docx_passes_the_bounds(tmp_path) -> None:
    f = docx_file(tmp_path / "plan.docx", ["工作要点", "一、总体要求", "落实双减。" * 20])
    assert "落实双减" in load(f).text


def test_file_over_the_chunk_cap_is_refused_whole_with_the_count(tmp_path) -> None:
    f = tmp_path / "list.txt"
    f.write_text(numbered_list(1, 30), encoding="utf-8")
    assert len(ingest_file(f, limits=FileLimits(max_chunks=30))) == 30
    with pytest.raises(LoadError) as err:
        ingest_file(f, limits=FileLimits(max_chunks=29))
    assert err.value.kind == "too_many_chunks"
    assert "would produce 30 chunks, over the limit of 29 per file" in err.value.reason


def test_limits_are_settings() -> None:
    limits = FileLimits.from_settings(
        Settings(max_file_mb=2, max_expanded_mb=3, max_zip_ratio=40, max_chunks_per_file=7)
    )
    assert limits == FileLimits(2 * MB, 3 * MB, 40.0, 7)
    assert FileLimits.from_settings(Settings()) == FileLimits()


def test_relaxed_limits_read_what_the_default_ones_refuse(tmp_path: Path) -> None:
    bomb = docx_bomb(tmp_path / "bomb.docx", 2 * MB)
    assert "各地要严格落实" in load(bomb, RELAXED).text
