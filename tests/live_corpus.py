"""A writable copy of the seed corpus and of its session index, and a new plan to add to it."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "corpus" / "work_plans"
ZL = "001_a2a3b87c571a2f00.txt"

# Forty numbered items, so that indexing it takes long enough to be watched.
NEW_PLAN = "示例县2025年研学旅行工作方案.md"
NEW_PLAN_TEXT = "# 示例县2025年研学旅行工作方案\n\n一、组织研学旅行\n\n" + "".join(
    f"{n}.第{n}批研学旅行线路由县教育局统一审核备案，费用实行自愿原则。\n\n" for n in range(1, 41)
)


def seed_copy(seed_index_dir: Path, work: Path) -> tuple[Path, Path]:
    """(corpus, index): the five seeds and their index, to change freely."""
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(SEEDS, corpus)
    shutil.copytree(seed_index_dir, index)
    return corpus, index
