"""Throughput and latency of the running app under concurrent clients, per concurrency setting.

For each ``--concurrency`` value, starts ``assistant serve --no-update`` on the given index (a
free port, no LLM: answers are extractive), then ``--clients`` threads, each with its own
``gradio_client.Client``, send ``--requests`` calls each through the named API (``/ask`` or
``/search``) with questions worded as users ask them, all released at once. Reports requests
per second over the whole run (first request sent to last answer received), latency p50/p95/max
per request as the client sees it (queueing included) and errors. One warm-up call per server
(retried until the server has loaded the query model) precedes the timing. The CPU count is
printed beside the figures.

Usage:

    .venv/bin/python eval/bench_serve.py --index-dir index [--clients 50] [--requests 4]
        [--endpoint ask] [--concurrency 1 4 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "各地如何落实双减",
    "学校课后服务应该几点结束",
    "怎么加强教师队伍建设",
    "学前教育普及普惠有哪些做法",
    "校外培训机构怎么治理",
    "农村学校办学条件如何改善",
    "学生体质健康怎么提升",
    "家校共育有哪些措施",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: Path, concurrency: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    exe = Path(sys.executable).with_name("assistant")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_LLM")}
    env.pop("ASSISTANT_AUTH", None)
    cmd = [str(exe), "serve", "--no-update", "--index-dir", str(index_dir), "--port", str(port)]
    cmd += ["--concurrency", str(concurrency)]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"assistant serve exited:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("assistant serve did not start in 300 s")


def call(client, endpoint: str, question: str) -> None:
    if endpoint == "ask":
        client.predict(question=question, api_name="/ask")
    else:
        client.predict(query=question, k=10, api_name="/search")


def run_clients(url: str, endpoint: str, clients: int, requests: int) -> dict:
    from gradio_client import Client

    deadline = time.monotonic() + 300
    while True:  # the server loads the query model in the background: wait for a first answer
        try:
            first = Client(url, verbose=False)
            call(first, endpoint, QUESTIONS[0])
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)
    connected = [first, *(Client(url, verbose=False) for _ in range(clients - 1))]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def worker(i: int) -> None:
        start.wait()
        for r in range(requests):
            question = QUESTIONS[(i + r) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                call(connected[i], endpoint, question)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "wall_s": round(wall, 2),
        "req_per_s": round(len(latencies) / wall, 2),
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--index-dir", type=Path, default=ROOT / "index")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=4, help="per client")
    ap.add_argument("--endpoint", choices=("ask", "search"), default="ask")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    for n in args.concurrency:
        log = Path(f"/tmp/bench-serve-{os.getpid()}-{n}.log")
        proc, url = start_server(args.index_dir, n, log)
        try:
            row = {"concurrency": n, **run_clients(url, args.endpoint, args.clients, args.requests)}
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.unlink(missing_ok=True)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False) if args.json else _line(row), flush=True)
    if not args.json:
        print(
            f"({args.clients} clients × {args.requests} /{args.endpoint} requests; "
            f"{os.cpu_count()} CPUs)"
        )
    return 0


def _line(row: dict) -> str:
    return (
        f"concurrency {row['concurrency']:>2}: {row['req_per_s']:6.2f} req/s, "
        f"p50 {row['p50_s']} s, p95 {row['p95_s']} s, max {row['max_s']} s, "
        f"{row['requests']} ok, {row['errors']} errors ({row['wall_s']} s)"
    )


if __name__ == "__main__":
    sys.exit(main())
