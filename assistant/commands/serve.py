"""``assistant serve``: update the index from the corpus, then serve the chat app."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="start the chat app (Gradio) after updating the index from the corpus",
        description=(
            "Bring the index up to date with the corpus (incrementally, with progress), then "
            "serve the web app: a cited chat, a precedent-wording search and the document list "
            "with uploads. Binds to 127.0.0.1 unless --host says otherwise; set auth = "
            '"user:password" in the settings (or ASSISTANT_AUTH) to require a login.'
        ),
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.add_argument("--index-dir", type=Path, help="index directory (default: index/)")
    p.add_argument(
        "--corpus", type=Path, dest="corpus_dir", help="corpus folder (default: corpus/)"
    )
    p.add_argument(
        "--no-update",
        action="store_true",
        help="serve the existing index without scanning the corpus first",
    )
    p.set_defaults(func=run)


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """ "user:password" → (user, password); None when no login is configured."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user.strip() or not password:
        raise ValueError('the auth setting must look like "user:password"')
    return user.strip(), password


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from assistant.config import load_settings

    try:
        settings = load_settings(getattr(args, "config", None))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = settings.with_overrides(
        host=args.host, port=args.port, index_dir=args.index_dir, corpus_dir=args.corpus_dir
    )
    try:
        credentials = parse_auth(settings.auth)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.no_update and not settings.corpus_dir.is_dir():
        print(f"error: corpus folder not found: {settings.corpus_dir}", file=sys.stderr)
        return 2
    from assistant.embedding import load_embedder
    from assistant.live_index import LiveIndex
    from assistant.search.store import IndexMismatchError, IndexNotFoundError

    live = LiveIndex(settings.corpus_dir, settings.index_dir, settings, load_embedder(settings))
    try:
        if not args.no_update:
            print(
                f"bringing the index in {settings.index_dir}/ up to date with "
                f"{settings.corpus_dir}/ …",
                file=sys.stderr,
                flush=True,
            )
            report = live.update(progress=True)
            print(f"index: {report.summary()}", file=sys.stderr, flush=True)
            for failure in report.failed:
                print(f"  failed: {failure.message}", file=sys.stderr)
        live.retriever  # noqa: B018 - open now, so a missing index is reported before serving
    except (IndexNotFoundError, IndexMismatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    from assistant.app import build_app, launch

    app = build_app(live)
    print(
        f"serving on http://{settings.host}:{settings.port}"
        f"{' (login required)' if credentials else ''}",
        file=sys.stderr,
        flush=True,
    )
    launch(
        app,
        host=settings.host,
        port=settings.port,
        credentials=credentials,
        max_upload_mb=settings.upload_max_mb,
    )
    return 0
