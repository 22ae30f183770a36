"""``assistant index [PATH...]``: build or update the search index, incrementally and atomically."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "index",
        help="build or update the search index from corpus files (incremental)",
        description=(
            "Index policy documents for search. Only new or changed files are read and embedded; "
            "chunks of deleted files are removed; everything else is carried over. A file that "
            "cannot be read is reported (and an earlier indexed version of it is kept); files a "
            "folder walk skips are summed up per reason (--json lists each). The new "
            "index replaces the old one atomically: an interrupted build leaves the previous "
            "index usable. Exit status 1 when any file failed (the index is still written)."
        ),
    )
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or folders to index (default: the corpus folder, corpus/)",
    )
    p.add_argument("--index-dir", type=Path, help="index directory (default: settings, index/)")
    p.add_argument(
        "--model",
        help="embedding model: hub id or local directory "
        "(default: settings / ASSISTANT_EMBED_MODEL, intfloat/multilingual-e5-small)",
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="re-read and re-embed everything (needed after changing the model)",
    )
    p.add_argument(
        "--dense",
        choices=("auto", "flat", "hnsw"),
        help="vector index: exact (flat), approximate (hnsw), or by size (auto)",
    )
    p.add_argument("--json", action="store_true", help="print the build report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def format_report(report) -> str:  # noqa: ANN001 - BuildReport, imported lazily
    from assistant.documents.walk import skip_summary

    lines = [report.summary()]
    if report.embedded or report.reused:
        lines.append(
            f"embedded {report.embedded} passages, reused {report.reused} vectors; "
            f"{report.dense} vector index; model {report.model}"
        )
    if report.reingested:
        lines.append(
            f"re-read {report.reingested} unchanged files: the ingestion code changed "
            "since the last build (vectors were reused where the text was the same)"
        )
    for f in report.failed:
        lines.append(f"FAILED [{f.kind}] {f.message}")
    lines += skip_summary(report.skipped)
    lines += [f"WARNING {w}" for w in report.warnings]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from assistant.config import load_settings
    from assistant.documents.ocr import OcrOptions, ocr_context
    from assistant.search.builder import build_index
    from assistant.search.store import IndexLockedError, IndexMismatchError, IndexNotFoundError

    try:
        settings = load_settings(getattr(args, "config", None))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = settings.with_overrides(index_dir=args.index_dir, embed_model=args.model)
    paths = args.paths or [settings.corpus_dir]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    try:
        with ocr_context(OcrOptions.from_settings(settings)):
            report = build_index(
                paths,
                settings.index_dir,
                settings,
                rebuild=args.rebuild,
                dense=args.dense,
                progress=not args.quiet,
                release_model=True,
            )
    except KeyboardInterrupt:
        print("interrupted, previous index kept", file=sys.stderr)
        return 130
    except (IndexMismatchError, IndexLockedError, IndexNotFoundError) as exc:  # e.g. no Milvus
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 1 if report.failed else 0
