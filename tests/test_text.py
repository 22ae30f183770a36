"""jieba's dictionary loaded from the project's cache splits text exactly as jieba itself does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TEXT = "各地如何落实双减，老师可以没收学生手机吗？推进义务教育优质均衡发展"
SPLIT = """
import json, sys
from pathlib import Path
import jieba
from assistant.text import load_jieba_dictionary
if sys.argv[1] != "-":
    load_jieba_dictionary(Path(sys.argv[1]))
print(json.dumps([list(jieba.cut_for_search(sys.argv[2])), jieba.dt.total]))
"""


def split_in_new_process(cache_dir: Path | None) -> list:
    run = subprocess.run(
        [sys.executable, "-c", SPLIT, str(cache_dir) if cache_dir else "-", TEXT],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(run.stdout)


def test_cached_dictionary_splits_like_jieba_and_survives_damage(tmp_path):
    plain = split_in_new_process(None)
    first = split_in_new_process(tmp_path)  # derives the cache
    [cache] = tmp_path.glob("jieba-*.npz")
    second = split_in_new_process(tmp_path)  # loads it
    assert plain == first == second
    whole = cache.read_bytes()
    for damaged in (b"not an npz", whole[: len(whole) // 2]):
        cache.write_bytes(damaged)
        assert split_in_new_process(tmp_path) == plain
        assert cache.read_bytes() == whole  # rewritten whole
