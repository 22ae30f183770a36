"""``assistant chunks PATH...``: show the chunks the index would hold (outline or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PREVIEW_CHARS = 40


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "chunks",
        help="show how files are cleaned and cut into citable chunks (outline or --json)",
        description=(
            "Read policy files (.txt .md .html .htm .pdf .docx; folders are walked "
            "recursively), remove web-page boilerplate, parse the numbering (一、 （一） 1. "
            "一是 第一章 第一条 篇一 …) and print one chunk per numbered item with its heading "
            "path and the document's metadata. Files that cannot be read or exceed a per-file "
            "bound are reported on stderr with the reason; what a folder walk skips (hidden "
            "files, unsupported types, symlinks out of the folder, loops) is summed up there, "
            "one line per reason. Exit status: 0 all files read, 1 some failed, 2 none could "
            "be read."
        ),
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    p.add_argument(
        "--json",
        action="store_true",
        help="print JSON Lines: one object per chunk and line (file, doc_id, title, region, "
        "year, issuer, path, label, text, start, end, …)",
    )
    p.add_argument("--full", action="store_true", help="outline: print each chunk's whole text")
    p.set_defaults(func=run)


def _doc_header(d: dict) -> list[str]:
    region = d["region"] or ("（地区未具名）" if d["region_withheld"] else "（地区不详）")
    level = f"（{d['level']}级）" if d["level"] else ""
    facts = [
        f"《{d['title']}》",
        str(d["year"]) if d["year"] else "年份不详",
        region + level,
    ]
    if d["issuer"]:
        facts.append(f"来源 {d['issuer']}")
    if d["date"]:
        facts.append(d["date"])
    facts.append("繁体" if d["script"] == "traditional" else "简体")
    lines = [f"== {d['source_path']}  [{d['doc_id']}]", "   " + " · ".join(facts)]
    if d["url"]:
        lines.append(f"   {d['url']}")
    return lines


def format_outline(chunks: list, full: bool = False) -> str:
    """Documents with their metadata, then heading paths and labels with a text preview."""
    out: list[str] = []
    doc_id = None
    shown_path: tuple[str, ...] = ()
    for c in chunks:
        d = c.to_dict()
        if d["doc_id"] != doc_id:
            if out:
                out.append("")
            out.extend(_doc_header(d))
            doc_id, shown_path = d["doc_id"], ()
        path = tuple(c.path)
        common = 0
        while common < min(len(path), len(shown_path)) and path[common] == shown_path[common]:
            common += 1
        for depth in range(common, len(path)):
            out.append("   " + "   " * depth + path[depth])
        shown_path = path
        indent = "   " + "   " * len(path)
        label = c.label or "·"
        if c.part:
            label += f" [{c.part}]"
        body = c.text[len(c.label) :].lstrip() if c.label and c.text.startswith(c.label) else c.text
        if full:
            text = body.replace("\n", "\n" + indent + "    ")
        else:
            flat = " ".join(body.split())
            text = flat[:PREVIEW_CHARS] + ("…" if len(flat) > PREVIEW_CHARS else "")
        out.append(f"{indent}{label}  {text}  ({len(c.text)}字)")
    return "\n".join(out)


def summary_line(report) -> str:
    kinds = report.failure_kinds()
    detail = ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items()))
    text = f"{report.files} files, {len(report.chunks)} chunks, {len(report.failures)} failed"
    return text + (f" ({detail})" if detail else "")


def run(args: argparse.Namespace) -> int:
    from assistant.config import load_settings
    from assistant.documents import FileLimits, ingest, skip_summary

    try:
        settings = load_settings(getattr(args, "config", None))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = ingest(args.paths, limits=FileLimits.from_settings(settings))
    for line in skip_summary(report.skipped):
        print(line, file=sys.stderr)
    if report.files == 0:
        print(
            "error: no supported files found in: " + " ".join(map(str, args.paths)), file=sys.stderr
        )
        return 2
    if args.json:
        for c in report.chunks:
            sys.stdout.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
    elif report.chunks:
        print(format_outline(report.chunks, full=args.full))
    sys.stdout.flush()
    for f in report.failures:
        print(f"failed [{f.kind}] {f.message}", file=sys.stderr)
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(summary_line(report), file=sys.stderr)
    if not report.failures:
        return 0
    return 2 if len(report.failures) == report.files else 1
