"""The former answer pipeline's ``found`` on the answerability question set (the "before" figures).

Run it with the code of the commit before the answerability model (issue 8) on the path, over an
index of the shipped corpus; it reads the question set directly (the former code has no loader
for it) and prints one JSON object ``{id: found}``:

    git archive 1497b0c assistant | tar -x -C /tmp/before-code
    PYTHONPATH=/tmp/before-code .venv/bin/python eval/former_rule_outcomes.py \\
        --index-dir /tmp/index --split dev > /tmp/before-dev.json

``eval/fit_answerability.py --before /tmp/before-dev.json`` puts the figures beside the new ones.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parent / "answer_questions.jsonl"


def main() -> int:
    from assistant.answering.pipeline import retrieve
    from assistant.config import load_settings
    from assistant.search.retriever import Retriever

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    ap.add_argument("--split", choices=("dev", "test"), required=True)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.questions.open(encoding="utf-8") if line.strip()]
    retriever = Retriever.open(args.index_dir, load_settings())
    found = {
        r["id"]: bool(retrieve(r["question"], retriever).relevance.found)
        for r in rows
        if r["split"] == args.split
    }
    print(json.dumps(found, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
