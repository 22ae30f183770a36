"""A quick-loading tokenizer for the texts this product embeds: the Han/ASCII part of a Unigram
vocabulary, exact for every text it covers, the full tokenizer for the rest.

Loading a multilingual Unigram tokenizer (250k pieces) dominates a short process's start. Most
of its pieces are in scripts Chinese policy text never contains. ``SubsetTokenizer`` keeps the
pieces made only of characters in ``COVERED`` and maps their ids back to the full vocabulary.
For a text whose normalized characters are all covered, every piece that could match one of its
substrings is kept, with the same score, and the unknown-piece score (derived from the lowest
piece score) is kept too, so Viterbi picks the same pieces: the ids are identical. A text with
any other character goes to the full tokenizer, loaded on first need.

The subset is derived once per tokenizer file and kept in the cache directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

FORMAT = 1
METASPACE = "\u2581"
# (first, last) code points: ASCII, general punctuation, number forms, enclosed numbers (①),
# CJK symbols and punctuation, CJK unified ideographs and extension A, full-width forms.
COVERED = (
    (0x00, 0x7F), (0xB7, 0xB7), (0x2000, 0x206F), (0x2150, 0x218F), (0x2460, 0x24FF),
    (0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF),
)  # fmt: skip


def covered(ch: str) -> bool:
    code = ord(ch)
    return ch == METASPACE or any(lo <= code <= hi for lo, hi in COVERED)


class SubsetTokenizer:
    """``encode_batch(texts) -> list[list[int]]``, ids of the full vocabulary, truncated to
    ``max_length``. Without a subset (``subset=None``) every text goes to the full tokenizer."""

    def __init__(
        self, full_path: Path, subset: Tokenizer | None, ids: np.ndarray | None, max_length: int
    ) -> None:
        self.full_path = full_path
        self.max_length = max_length
        self._subset = subset
        self._ids = ids
        if subset is not None:
            subset.enable_truncation(max_length)
            subset.no_padding()
        self._full: Tokenizer | None = None
        self._full_lock = threading.Lock()

    @property
    def full_loaded(self) -> bool:
        return self._full is not None

    def covers(self, text: str) -> bool:
        """True when the subset gives this text's ids (all its normalized characters covered)."""
        if self._subset is None:
            return False
        normalizer = self._subset.normalizer
        normalized = normalizer.normalize_str(text) if normalizer is not None else text
        return all(covered(ch) for ch in set(normalized))

    def full(self) -> Tokenizer:
        with self._full_lock:
            if self._full is None:
                self._full = Tokenizer.from_file(str(self.full_path))
                self._full.enable_truncation(self.max_length)
                self._full.no_padding()
            return self._full

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in texts]
        inside = [i for i, t in enumerate(texts) if self.covers(t)]
        outside = sorted(set(range(len(texts))) - set(inside))
        if inside:
            encoded = self._subset.encode_batch([texts[i] for i in inside])
            for i, enc in zip(inside, encoded, strict=True):
                out[i] = self._ids[enc.ids].tolist()
        if outside:
            encoded = self.full().encode_batch([texts[i] for i in outside])
            for i, enc in zip(outside, encoded, strict=True):
                out[i] = enc.ids
        return out


def subset_spec(full: dict) -> tuple[dict, list[int]] | None:
    """The subset tokenizer's JSON and its ids in the full vocabulary; None when the tokenizer
    is not a Unigram model this construction is exact for."""
    model = full.get("model") or {}
    if model.get("type") != "Unigram" or model.get("byte_fallback"):
        return None
    vocab = model["vocab"]
    special = {t["id"] for t in full.get("added_tokens", [])}
    lowest = min(range(len(vocab)), key=lambda i: vocab[i][1])  # sets the unknown-piece score
    keep = [
        i for i, (piece, _) in enumerate(vocab)
        if i in special or i == lowest or all(covered(ch) for ch in piece)
    ]  # fmt: skip
    new_id = {old: new for new, old in enumerate(keep)}
    unk = model.get("unk_id")
    spec = dict(full)
    spec["model"] = dict(model, vocab=[vocab[i] for i in keep], unk_id=new_id.get(unk, unk))
    spec["added_tokens"] = [dict(t, id=new_id[t["id"]]) for t in full.get("added_tokens", [])]
    template = (full.get("post_processor") or {}).get("special_tokens", {})
    if any(new_id.get(i) != i for token in template.values() for i in token["ids"]):
        return None  # the template's ids would need rewriting; keep it simple and exact
    return spec, keep


def load_tokenizer(path: Path, cache_dir: Path, max_length: int) -> SubsetTokenizer:
    """The tokenizer of ``path`` (a ``tokenizer.json``) with its subset, derived and cached on
    first use; without a subset when the tokenizer does not allow one."""
    stat = path.stat()
    key = f"{FORMAT}-{stat.st_size}-{stat.st_mtime_ns}"
    home = cache_dir / "tokenizers" / f"{path.parent.name}-{key}"
    try:
        subset = Tokenizer.from_file(str(home / "tokenizer.json"))
        ids = np.load(home / "ids.npy")
    except Exception:  # not derived yet, or damaged: derive it again
        shutil.rmtree(home, ignore_errors=True)
        derived = subset_spec(json.loads(path.read_text(encoding="utf-8")))
        if derived is None:
            return SubsetTokenizer(path, None, None, max_length)
        spec, keep = derived
        subset = Tokenizer.from_str(json.dumps(spec, ensure_ascii=False))
        ids = np.asarray(keep, dtype=np.int64)
        with contextlib.suppress(OSError):  # a read-only cache only costs the next start
            _save(home, spec, ids)
    return SubsetTokenizer(path, subset, ids, max_length)


def _save(home: Path, spec: dict, ids: np.ndarray) -> None:
    """Write the pair into a fresh directory and rename it into place (readers never see half)."""
    home.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=home.parent, prefix=".tmp-"))
    (tmp / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    np.save(tmp / "ids.npy", ids)
    try:
        os.rename(tmp, home)
    except OSError:  # another process got there first
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
