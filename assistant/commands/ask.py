"""``assistant ask QUESTION``: a cited answer from the indexed documents (the chat's pipeline)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.commands.arguments import year_range
from assistant.records import ocr_mark

MODES = ("hybrid", "dense", "bm25")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ask",
        help="answer a question from the indexed documents, with numbered citations",
        description=(
            "Answer a question from the indexed documents. Without an LLM (the default) the "
            "answer is extractive: the sentences that carry the answer, grouped by locality and "
            "document, cited as [n]. With an LLM configured (ASSISTANT_LLM_BASE_URL, "
            "ASSISTANT_LLM_MODEL, ASSISTANT_LLM_API_KEY, ASSISTANT_LLM_PROVIDER=openai|ollama) "
            "the model writes the answer from the same passages, checked against them. The "
            "outcome is answered (found is true), related (the closest provisions, which do not "
            "answer directly) or not_covered (nothing is cited). Older versions of a text are "
            "left out unless --versions all."
        ),
    )
    p.add_argument("question", help='the question, e.g. "各地如何落实双减"')
    p.add_argument(
        "--json",
        action="store_true",
        help='print {"answer", "found", "outcome", "citations": [...]} as JSON',
    )
    p.add_argument("--mode", choices=MODES, default="hybrid", help="retrieval mode")
    p.add_argument("--region", help="only documents of this locality, e.g. 庄浪县")
    p.add_argument(
        "--year",
        type=year_range,
        help="only documents of this year or range, e.g. 2023 or 2020-2024",
    )
    p.add_argument("--doc", dest="doc_id", help="only this document (doc_id)")
    add_versions_flag(p, default="current")
    p.add_argument("--index-dir", type=Path, help="index directory (default: settings, index/)")
    p.set_defaults(func=run)


def add_versions_flag(p: argparse.ArgumentParser, *, default: str) -> None:
    p.add_argument(
        "--versions",
        choices=("current", "all"),
        default=default,
        help="current: leave out older versions of a text that the index holds in a newer one; "
        f"all: keep them (default: {default})",
    )


def format_sources(citations: list[dict]) -> str:
    lines = ["", "来源："]
    for c in citations:
        where = " › ".join([*c["path"], c["label"]] if c["label"] else c["path"])
        region = c["region"] or ("（地区未具名）" if c.get("region_withheld") else "")
        year = f" {c['year']}" if c["year"] else ""
        note = c["version"]["note"] if c.get("version") else ""
        lines.append(f"[{c['n']}] {region}《{c['title']}》{note}{year} {where}".rstrip())
        mark = ocr_mark(c.get("ocr", False), c.get("page"))
        lines.append(f"    {c['file']}" + (f"  （{mark}）" if mark else ""))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from assistant.answering.pipeline import answer
    from assistant.config import load_settings
    from assistant.search.retriever import Retriever, SearchFilters
    from assistant.search.store import IndexMismatchError, IndexNotFoundError

    try:
        settings = load_settings(getattr(args, "config", None))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = settings.with_overrides(index_dir=args.index_dir)
    try:
        retriever = Retriever.open(settings.index_dir, settings)
    except (IndexNotFoundError, IndexMismatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    filters = SearchFilters(
        year=args.year, region=args.region, doc_id=args.doc_id, superseded=args.versions == "all"
    )
    result = answer(args.question, retriever, settings, filters=filters, mode=args.mode)
    data = result.to_dict()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    if result.notice:
        print(f"注意：{result.notice}", file=sys.stderr)
    print(result.text)
    if data["citations"]:
        print(format_sources(data["citations"]))
    return 0
