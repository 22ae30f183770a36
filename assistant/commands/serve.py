"""``assistant serve``: serve the chat app from the existing index at once, update it meanwhile.

The address is checked before anything slow (a busy port or an unknown host is one line and exit
code 2); a non-loopback address without a login is warned about. The app is reachable within
seconds: it serves the committed index (or says the first one is being built) while a background
thread brings the index up to date with the corpus; the app switches to each new generation.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
import threading
import warnings
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="start the chat app (Gradio); the index is updated from the corpus meanwhile",
        description=(
            "Serve the web app at once from the existing index — a cited chat, a "
            "precedent-wording search and the document list with uploads — and bring the index "
            "up to date with the corpus in the background (progress in the app and here). Binds "
            '127.0.0.1 unless --host says otherwise; set auth = "user:password" in the settings '
            "(or ASSISTANT_AUTH) to require a login."
        ),
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.add_argument("--index-dir", type=Path, help="index directory (default: index/)")
    p.add_argument(
        "--corpus", type=Path, dest="corpus_dir", help="corpus folder (default: corpus/)"
    )
    p.add_argument(
        "--concurrency",
        type=int,
        help="requests handled at once (default: setting `concurrency`, else from the CPU cores)",
    )
    p.add_argument(
        "--no-update",
        action="store_true",
        help="serve the existing index without scanning the corpus",
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


def default_concurrency() -> int:
    """Requests at once when not configured: one per CPU core, at least 2. Answers without an
    LLM are CPU work; more workers than cores starve Gradio's event loop of the GIL, so requests
    time out instead of queueing (eval/README.md, "Serving 50 concurrent clients")."""
    return max(2, os.cpu_count() or 1)


def check_address(host: str, port: int) -> tuple[str | None, bool]:
    """(an error line or None, whether every address ``host`` names is a loopback one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        return f"cannot serve on {host}:{port}: unknown host ({exc})", False
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        # As the server itself binds: a port whose last connections are in TIME_WAIT (a server
        # just stopped) is free; one another program listens on is not.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == 98:  # EADDRINUSE
                reason = "the port is in use by another program (choose one with --port)"
            return f"cannot serve on {host}:{port}: {reason}", False
    loopback = all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)
    return None, loopback


def quiet_third_party() -> None:
    """Keep the web stack's deprecation warnings (Starlette's, raised by Gradio on every request)
    out of the terminal; they are not the user's to act on."""
    from starlette.exceptions import StarletteDeprecationWarning  # a UserWarning subclass

    warnings.filterwarnings("ignore", category=StarletteDeprecationWarning)
    for module in ("starlette", "fastapi", "gradio", "websockets", "uvicorn", "httpx"):
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from assistant.config import load_settings

    try:
        settings = load_settings(getattr(args, "config", None))
    except (OSError, ValueError) as exc:
        say(f"error: {exc}")
        return 2
    settings = settings.with_overrides(
        host=args.host,
        port=args.port,
        index_dir=args.index_dir,
        corpus_dir=args.corpus_dir,
        concurrency=args.concurrency,
    )
    try:
        credentials = parse_auth(settings.auth)
    except ValueError as exc:
        say(f"error: {exc}")
        return 2
    if settings.concurrency < 0:
        say(f"error: concurrency must be 0 (automatic) or more, not {settings.concurrency}")
        return 2
    if not args.no_update and not settings.corpus_dir.is_dir():
        say(f"error: corpus folder not found: {settings.corpus_dir}")
        return 2
    problem, loopback = check_address(settings.host, settings.port)
    if problem:
        say(f"error: {problem}")
        return 2
    if not loopback and credentials is None:
        say(
            f"warning: serving on {settings.host} without a login: anyone who can reach this "
            "machine can read the documents and upload files; set auth = "
            '"user:password" in the settings (or ASSISTANT_AUTH)'
        )

    from assistant.live_index import IndexNotReadyError, LiveIndex
    from assistant.search.store import IndexMismatchError

    live = LiveIndex(settings.corpus_dir, settings.index_dir, settings, embedder=None)
    try:
        served = live.retriever.manifest
        say(f"index: {served.chunks} chunks of {len(served.files)} files in {settings.index_dir}")
        # The query model loads (mostly outside the GIL) while Gradio is imported below.
        threading.Thread(target=live.warm_up, name="warm-up", daemon=True).start()
    except IndexNotReadyError as exc:
        if args.no_update:
            say(f"error: {exc}")
            return 1
        say(f"index: none yet in {settings.index_dir}; the app says so until it is built")
    except IndexMismatchError as exc:
        say(f"error: {exc}")
        return 1

    quiet_third_party()
    from assistant.app import build_app, launch

    app = build_app(live)
    concurrency = settings.concurrency or default_concurrency()
    try:
        launch(
            app,
            host=settings.host,
            port=settings.port,
            credentials=credentials,
            max_upload_mb=settings.upload_max_mb,
            concurrency=concurrency,
        )
    except OSError as exc:  # the port was taken between the check and now
        say(f"error: cannot serve on {settings.host}:{settings.port}: {exc}")
        return 2
    say(
        f"serving on http://{settings.host}:{settings.port}"
        f"{' (login required)' if credentials else ''}; {concurrency} requests at once"
    )
    if not args.no_update:
        say(f"index: updating from {settings.corpus_dir} in the background")
        live.start_update(say=say)  # then loads the answer reader
    else:  # after the launch, so that the page is up first
        threading.Thread(
            target=live.warm_up, kwargs={"answers": True}, name="warm-up", daemon=True
        ).start()
    try:
        app.block_thread()
    finally:
        app.close()
    return 0
