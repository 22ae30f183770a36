"""Paths of the shipped corpus for the ingestion tests (a uniquely named helper module)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "corpus" / "work_plans"
REGULATIONS = REPO / "corpus" / "regulations"
FIXTURES = Path(__file__).parent / "fixtures"
SEED_PREFIXES = ("000", "001", "002", "003", "004")


def seed_path(prefix: str) -> Path:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path
