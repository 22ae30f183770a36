"""Which index the policy evaluation runs on: the product index when it is up to date (nothing
embedded), else the evaluation's own index, with a sentence saying what will happen."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.evaluation.index_choice import choose_policy_index
from assistant.search.builder import build_index

pytestmark = pytest.mark.slow

FILES = {
    "a.txt": "某县教育工作要点\n一、减负\n1.严格落实“双减”政策,科学规范开展课后服务。\n"
    "2.高度重视防溺水安全教育。\n",
    "b.txt": "某市教育局工作計劃\n一、繼續做好“雙減”工作。\n二、推進校園足球特色學校建設。\n",
}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def build(corpus: Path, index: Path, embedder) -> None:
    build_index([corpus], index, Settings(), embedder=embedder, progress=False)


def test_an_up_to_date_product_index_is_used_as_it_is(corpus, tmp_path, embedder):
    product = tmp_path / "index"
    build(corpus, product, embedder)
    choice = choose_policy_index(corpus, tmp_path / "eval", product, embedder, passages=4)
    assert (choice.index_dir, choice.build) == (product, False)
    assert f"using the index in {product}" in choice.message
    assert "2 files" in choice.message and "nothing to embed" in choice.message


def test_a_stale_product_index_is_not_used_and_the_build_is_announced(corpus, tmp_path, embedder):
    product, own = tmp_path / "index", tmp_path / "eval"
    build(corpus, product, embedder)
    (corpus / "a.txt").write_text(FILES["a.txt"] + "3.加强学生视力保护。\n", encoding="utf-8")
    choice = choose_policy_index(corpus, own, product, embedder, passages=5)
    assert (choice.index_dir, choice.build) == (own, True)
    assert choice.message.startswith(f"building the evaluation index {own} of the 2 files")
    assert "5 passages to embed" in choice.message

    build(corpus, own, embedder)
    (corpus / "c.txt").write_text("一、新增一条。\n", encoding="utf-8")
    choice = choose_policy_index(corpus, own, product, embedder, passages=6)
    assert (choice.index_dir, choice.build) == (own, True)
    assert "updating the evaluation index" in choice.message
    assert "1 file of" in choice.message and "new or changed, 0 removed" in choice.message


def test_without_an_own_index_the_build_goes_to_a_temporary_one(corpus, tmp_path, embedder):
    choice = choose_policy_index(corpus, None, tmp_path / "no-index-here", embedder, passages=4)
    assert (choice.index_dir, choice.build) == (None, True)
    assert choice.message.startswith("building a temporary index of the 2 files")
