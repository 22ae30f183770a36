"""``assistant search QUERY``: ranked passages from the index (one query, or a JSONL batch)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from assistant.commands.arguments import year_range
from assistant.commands.ask import add_versions_flag
from assistant.records import ocr_mark

MODES = ("hybrid", "dense", "bm25")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "search",
        help="search the index: numbered passages with their document, heading path and label",
        description=(
            "Search the indexed documents. hybrid (default) fuses the semantic (dense) and "
            "keyword (BM25) rankings; simplified and traditional characters match each other. "
            'Batch mode: --queries FILE.jsonl with lines {"id", "query"} prints one JSON '
            'line {"id", "hits": [...]} per query (the model is loaded once).'
        ),
    )
    p.add_argument("query", nargs="?", help='the query, e.g. "各地如何落实双减"')
    p.add_argument(
        "--queries",
        type=Path,
        metavar="FILE.jsonl",
        help='batch mode: JSON lines {"id": ..., "query": ...}; prints JSON lines',
    )
    p.add_argument("--k", "-k", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--mode", choices=MODES, default="hybrid", help="retrieval mode")
    p.add_argument("--region", help="only documents of this locality, e.g. 庄浪县")
    p.add_argument(
        "--year",
        type=year_range,
        help="only documents of this year or range, e.g. 2023 or 2020-2024",
    )
    p.add_argument("--doc", dest="doc_id", help="only this document (doc_id)")
    p.add_argument("--file", help="only chunks of this file (file name)")
    add_versions_flag(p, default="all")
    p.add_argument(
        "--per-doc",
        type=int,
        metavar="N",
        help="at most N hits per document (spread results across documents)",
    )
    p.add_argument(
        "--phrase",
        action="store_true",
        help="exact wording search (ignores script, width and line breaks)",
    )
    p.add_argument(
        "--precedent",
        action="store_true",
        help="precedent wording for a sentence you want to write: passages containing it "
        "verbatim, then similar wordings (one per document, matched sentence by sentence)",
    )
    p.add_argument(
        "--documents",
        action="store_true",
        help="list documents instead of passages (each scored by the evidence of its items)",
    )
    p.add_argument("--index-dir", type=Path, help="index directory (default: settings, index/)")
    p.add_argument("--model", help="embedding model the index was built with (default: settings)")
    p.add_argument("--json", action="store_true", help="print hits as JSON")
    p.set_defaults(func=run)


def _excerpt(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def format_hit(n: int, hit: dict[str, Any]) -> str:
    where = " · ".join(
        str(x)
        for x in (
            hit["region"] or ("地区未具名" if hit.get("region_withheld") else None),
            hit["year"],
        )
        if x
    )
    trail = " › ".join([*hit["path"], hit["label"]] if hit["label"] else hit["path"])
    ranks = ", ".join(f"{k} #{v}" if v is not None else f"{k} -" for k, v in hit["ranks"].items())
    note = hit["version"]["note"] if hit.get("version") else ""
    head = f"{n:>2}. {hit['title']}{note}" + (f"  ({where})" if where else "")
    body = textwrap.indent(_excerpt(hit["text"]), "    ")
    lines = [head]
    if trail:
        lines.append(f"    {trail}")
    mark = ocr_mark(hit.get("ocr", False), hit.get("page"))
    source = f"{hit['file']}  （{mark}）" if mark else hit["file"]
    lines += [body, f"    {source}   score {hit['score']:.4g}   [{ranks}]"]
    return "\n".join(lines)


def format_document(n: int, doc: dict[str, Any]) -> str:
    where = " · ".join(str(x) for x in (doc["region"], doc["year"]) if x)
    head = f"{n:>2}. {doc['title']}" + (f"  ({where})" if where else "")
    labels = "、".join(i["label"] or "(lead)" for i in doc["items"])
    return f"{head}\n    {doc['file']}   score {doc['score']:.4g}   items {labels}"


def format_precedents(found: dict[str, list[dict[str, Any]]]) -> str:
    out = []
    for key, title, empty in (
        ("exact", "完全相同的表述", "没有文件包含这段原文。"),
        ("similar", "语义相近的表述（每份文件一条）", "没有找到相近的表述。"),
    ):
        hits = found[key]
        body = "\n\n".join(format_hit(n, h) for n, h in enumerate(hits, start=1)) or empty
        out.append(f"{title}（{len(hits)}）\n{body}")
    return "\n\n".join(out)


def _read_queries(path: Path) -> list[tuple[Any, str]]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                out.append((item["id"], str(item["query"])))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(
                    f'{path}:{n}: expected a JSON object with "id" and "query" ({exc})'
                ) from None
    return out


def run(args: argparse.Namespace) -> int:
    from assistant.config import load_settings
    from assistant.search.precedents import find_precedents
    from assistant.search.retriever import Retriever, SearchFilters
    from assistant.search.store import IndexMismatchError, IndexNotFoundError

    if (args.query is None) == (args.queries is None):
        print("error: give a QUERY or --queries FILE.jsonl (not both)", file=sys.stderr)
        return 2
    try:
        settings = load_settings(getattr(args, "config", None))
        if args.k < 1 or (args.per_doc is not None and args.per_doc < 1):
            raise ValueError("--k and --per-doc must be at least 1")
        batch = _read_queries(args.queries) if args.queries else [(None, args.query)]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = settings.with_overrides(index_dir=args.index_dir, embed_model=args.model)
    try:
        retriever = Retriever.open(settings.index_dir, settings)
    except (IndexNotFoundError, IndexMismatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    filters = SearchFilters(
        year=args.year,
        region=args.region,
        doc_id=args.doc_id,
        file=args.file,
        superseded=args.versions == "all",
    )

    given = [f"--{f}" for f in ("documents", "phrase", "precedent") if getattr(args, f)]
    given += ["--per-doc"] if args.per_doc and given else []
    if len(given) > 1:
        print(f"error: {given[0]} cannot be combined with {given[1]}", file=sys.stderr)
        return 2

    def hits_for(query: str) -> Any:
        if args.precedent:
            return find_precedents(retriever, query, filters=filters).to_dict()
        if args.documents:
            docs = retriever.search_documents(query, k=args.k, mode=args.mode, filters=filters)
            return [d.to_dict() for d in docs]
        if args.phrase:
            found = retriever.phrase_search(query, k=args.k, filters=filters)
        else:
            found = retriever.search(
                query, k=args.k, mode=args.mode, filters=filters, per_doc=args.per_doc
            )
        return [h.to_dict() for h in found]

    if args.queries:
        for qid, query in batch:
            print(json.dumps({"id": qid, "hits": hits_for(query)}, ensure_ascii=False), flush=True)
        return 0
    hits = hits_for(args.query)
    if args.json:
        print(json.dumps(hits, ensure_ascii=False, indent=2))
    elif args.precedent:
        print(format_precedents(hits))
    elif not hits:
        print("no matching documents" if args.documents else "no matching passages")
    else:
        fmt = format_document if args.documents else format_hit
        print("\n\n".join(fmt(n, h) for n, h in enumerate(hits, start=1)))
    return 0
