"""Index build and query speed, memory and disk size, at the shipped corpus and at scale.

For one corpus this builds a fresh index (``assistant.search.build_index``, the model loaded
before the clock starts), then measures:

- build throughput: chunks/s over the whole build, with the read / embed / write phases, and
  beside it the raw model encode throughput (``Embedder.embed_passages`` on a sample of the same
  passages, no index work), wall-clock and per CPU-second (the machine is shared: the CPU-second
  figure moves much less with other load);
- query latency p50/p95 per mode (hybrid, dense, bm25, hybrid with per_doc=2, phrase search,
  precedent search the first time and once its candidates' sentences are kept)
  over the policy query set, after a warm-up query, with the model already loaded;
- for HNSW segments: recall@10 of HNSW against exact search for the same query vectors, and the
  latency of the exact search beside it;
- peak RSS (``resource.getrusage``) of the build process and, separately, of a process that only
  opens the index and answers queries (with its resident memory split into anonymous and
  file-backed, i.e. memory-mapped, pages);
- a one-file update: one law gets one more article, then ``assistant index`` runs as a new
  process (wall time, process start included);
- cold ``assistant search``: a new process answering one hybrid query (wall and CPU time);
- cold ``assistant serve``: until its page answers, and until a first search has come back;
- the index size on disk, per file kind.

The build and the query phase each run in their own subprocess so their peak RSS is their own.
``--backend`` picks the index backend (``ASSISTANT_BACKEND`` for every subprocess); results are
written to ``--out`` after every phase, so a long run that is stopped keeps what it measured.

Usage (figures go to stdout as a markdown table, and as JSON to --out):

    .venv/bin/python eval/bench_speed.py                       # the shipped corpus/
    .venv/bin/python eval/bench_speed.py --chunks 100000 \
        --lawref ../shared/policy_corpora/lawrefbook_all_markdown.tar.gz
    .venv/bin/python eval/bench_speed.py --limit 20       # a quick check: 20 files

``--lawref`` extracts the LawRefBook tarball into the work directory and takes a seeded random
choice of its laws whose estimated article count reaches ``--chunks``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHASE_MARK = "BENCH-RESULT "
ARTICLE = re.compile(r"^\s*(?:#+\s*)?第[一二三四五六七八九十百千零〇两]+条", re.M)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def load_queries(path: Path) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(json.loads(line)["query"])
    return out


# ---------------------------------------------------------------------------- phases


class StandInEmbedder:
    """For index-side figures at a scale the shared cores cannot embed in one sitting: each
    passage gets a pseudo-random unit vector seeded by its hash (no model work at all). Results
    built with it say so; its vectors mean nothing, so neither do its rankings or HNSW recall."""

    backend = "stand-in (hashed random vectors)"

    def __init__(self, model_name: str, dim: int = 384) -> None:
        self.model_name, self.dim = model_name, dim

    def embed_passages(self, texts, **_kw):
        import hashlib

        import numpy as np

        out = np.empty((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim)
            out[i] = v / np.linalg.norm(v)
        return out

    embed_queries = embed_passages


def phase_build(
    corpus: Path, index_dir: Path, dense: str | None, sample: int, stand_in: bool = False
) -> dict:
    from assistant.config import load_settings
    from assistant.embedding import load_query_embedder
    from assistant.search.builder import build_index
    from assistant.search.passage import passage_text
    from assistant.search.retriever import Retriever

    settings = load_settings()
    cpu0 = time.process_time()
    # As `assistant index` builds: the model loaded by the build and let go before the merges.
    given = StandInEmbedder(settings.embed_model) if stand_in else None
    with RssTimeline() as timeline:
        report = build_index(
            [corpus], index_dir, settings, embedder=given, dense=dense, release_model=True
        )
    build_cpu = time.process_time() - cpu0
    build_rss = peak_rss_mb()
    t = time.perf_counter()
    embedder = given or load_query_embedder(settings)
    load_s = time.perf_counter() - t

    # Raw encode throughput on a sample of the very passages just indexed.
    retriever = Retriever.open(index_dir, settings, embedder=embedder)
    rng = random.Random(13)
    ids = _chunk_ids(retriever)
    chosen = rng.sample(ids, min(sample, len(ids)))
    passages = [passage_text(c) for c in retriever.backend.chunks(chosen).values()]
    retriever.close()
    texts = passages
    embedder.embed_passages(texts[:32], progress=False)  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    embedder.embed_passages(texts, progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "files": len(report.added) + report.unchanged,
        "failed": len(report.failed),
        "chunks": report.chunks,
        "dense": report.dense,
        "model": report.model,
        "backend": embedder.backend,
        "model_load_s": round(load_s, 1),
        "build_s": round(report.seconds, 1),
        "build_cpu_s": round(build_cpu, 1),
        "phases_s": {k: round(v, 1) for k, v in report.timings.items()},
        "build_chunks_per_s": round(report.chunks / report.seconds, 1),
        "build_chunks_per_cpu_s": round(report.chunks / build_cpu, 1),
        "embed_phase_chunks_per_s": round(report.embedded / report.timings["embed"], 1)
        if report.timings.get("embed")
        else None,
        "encode_sample": len(texts),
        "encode_passages_per_s": round(len(texts) / wall, 1),
        "encode_passages_per_cpu_s": round(len(texts) / cpu, 1),
        "mean_passage_chars": round(statistics.mean(len(p) for p in passages), 1),
        "build_peak_rss_mb": round(build_rss, 0),
        # when the sampled RSS was highest, in seconds from the start of the build, and the
        # RSS every ~10 s (phases: read and embed interleave, then the commit's write + merge)
        "build_rss_peak_at_s": timeline.peak_at(),
        "build_rss_timeline": timeline.every(10.0),
        "cpu_threads": os.cpu_count(),
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


class RssTimeline:
    """Samples this process's resident memory twice a second in a thread."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.perf_counter()
        while not self._stop.wait(0.5):
            self.samples.append((time.perf_counter() - start, _memory_mb()["VmRSS"]))

    def __enter__(self) -> RssTimeline:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak_at(self) -> float | None:
        return round(max(self.samples, key=lambda s: s[1])[0], 1) if self.samples else None

    def every(self, seconds: float) -> list[list[float]]:
        out, due = [], 0.0
        for t, mb in self.samples:
            if t >= due:
                out.append([round(t, 1), mb])
                due = t + seconds
        return out


def _chunk_ids(retriever) -> list[int]:
    """Every chunk id of an index (any backend: the ids its documents' chunks answer to)."""
    backend = retriever.backend
    segments = getattr(backend, "segments", None)
    if segments is not None:  # embedded: contiguous ids per segment
        return [seg.base + r for seg in segments for r in range(seg.count)]
    return list(range(len(retriever)))


def _memory_mb() -> dict[str, float]:
    """Resident memory now, anonymous vs file-backed (memory-mapped index files)."""
    out = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(("VmRSS", "RssAnon", "RssFile")):
                key, value = line.split(":")
                out[key] = round(int(value.split()[0]) / 1024, 0)
    return out


def _timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def _latency(ms: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(ms, 0.5), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "n": len(ms),
    }


def phase_query(index_dir: Path, queries: list[str], repeat: int) -> dict:
    import numpy as np

    from assistant.config import load_settings
    from assistant.search.fusion import top_k
    from assistant.search.precedents import find_precedents
    from assistant.search.retriever import Retriever
    from assistant.text import normalize

    settings = load_settings()
    t = time.perf_counter()
    retriever = Retriever.open(index_dir, settings)
    open_s = time.perf_counter() - t
    t = time.perf_counter()
    retriever.search(queries[0], k=10)  # loads the model
    first_s = time.perf_counter() - t
    runs = queries * repeat
    # precedent search embeds its candidates' sentences once per process: first time, then kept
    precedent = lambda q: find_precedents(retriever, q)  # noqa: E731
    ms = _timed(precedent, queries)
    latency = {"precedent_first": _latency(ms)}
    for name, fn in {
        "hybrid": lambda q: retriever.search(q, k=10),
        "dense": lambda q: retriever.search(q, k=10, mode="dense"),
        "bm25": lambda q: retriever.search(q, k=10, mode="bm25"),
        "hybrid+per_doc2": lambda q: retriever.search(q, k=10, per_doc=2),
        "phrase": lambda q: retriever.phrase_search(q[:6], k=20),
        "precedent": precedent,
    }.items():
        latency[name] = _latency(_timed(fn, runs))
    embedder = retriever.embedder()
    qvecs = embedder.embed_queries([normalize(q) for q in queries])
    ms = _timed(lambda q: embedder.embed_queries([normalize(q)]), queries)
    latency["query_embedding_only"] = _latency(ms)
    out = {
        "open_s": round(open_s, 2),
        "first_query_s": round(first_s, 1),
        "chunks": len(retriever),
        "dense": retriever.manifest.dense,
        "latency": latency,
    }
    out["query_peak_rss_mb"] = round(peak_rss_mb(), 0)
    out["query_memory_mb"] = _memory_mb()
    hnsw = [seg for seg in getattr(retriever.backend, "segments", []) if seg.dense.kind == "hnsw"]
    ms_exact, ms_index, recalls = [], [], []
    for seg in hnsw:
        vectors = seg.dense.vectors_at(np.arange(seg.count))
        for q in qvecs:
            t = time.perf_counter()
            exact, _ = top_k(vectors @ q, 10)
            ms_exact.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            got, _ = seg.dense.search(q, 10)
            ms_index.append((time.perf_counter() - t) * 1000)
            recalls.append(len(set(exact.tolist()) & set(got.tolist())) / 10)
    out["segments"] = [
        {"rows": seg.count, "dense": seg.dense.kind}
        for seg in getattr(retriever.backend, "segments", [])
    ]
    if recalls:
        out["vector_search"] = {
            "kind": "hnsw",
            "faiss_p50_ms": round(percentile(ms_index, 0.5), 2),
            "exact_numpy_p50_ms": round(percentile(ms_exact, 0.5), 2),
            "recall_at_10_vs_exact": round(statistics.mean(recalls), 4),
        }
    retriever.close()
    return out


# ---------------------------------------------------------------------------- orchestration


BACKEND = "embedded"


def _env() -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    if BACKEND != "embedded":
        env["ASSISTANT_BACKEND"] = BACKEND
    return env


def cli(*argv: str) -> tuple[float, float]:
    """Run ``assistant ARGV`` as a new process: (wall s, CPU s of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "assistant", *argv], env=_env(), check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(wall, 2), round(cpu, 2)


def one_file_update(corpus: Path, index_dir: Path) -> dict:
    """Append one article to one file and bring the index up to date with `assistant index`."""
    target = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".md", ".txt"))[0]
    original = target.read_bytes()
    target.write_text(
        original.decode("utf-8", "replace") + "\n\n第九百九十九条 本条为测速追加的条文。\n",
        encoding="utf-8",
    )
    try:
        wall, cpu = cli("index", str(corpus), "--index-dir", str(index_dir), "--quiet")
        again_wall, _ = cli("index", str(corpus), "--index-dir", str(index_dir), "--quiet")
    finally:
        target.write_bytes(original)
    restore_wall, _ = cli("index", str(corpus), "--index-dir", str(index_dir), "--quiet")
    return {
        "file": target.name, "wall_s": wall, "cpu_s": cpu,
        "nothing_changed_wall_s": again_wall, "restore_wall_s": restore_wall,
    }  # fmt: skip


def cold_search(index_dir: Path, query: str, runs: int = 3) -> dict:
    """`assistant search` in a new process, a few times: median wall and CPU seconds."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = cli("search", query, "--index-dir", str(index_dir), "--json")
        walls.append(wall)
        cpus.append(cpu)
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus), "runs": runs}


def cold_serve(index_dir: Path, query: str) -> dict:
    """`assistant serve --no-update` in a new process: seconds until its page answers HTTP, and
    until a first search through the named API has come back."""
    import urllib.request

    from bench_serve import free_port  # eval/, beside this script
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, "-m", "assistant", "serve", "--no-update", "--index-dir", str(index_dir)]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)], env=_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while True:
            if proc.poll() is not None or time.perf_counter() - started > 300:
                raise RuntimeError("assistant serve did not come up")
            try:
                with urllib.request.urlopen(url, timeout=5):
                    break
            except OSError:
                time.sleep(0.05)
        reachable = time.perf_counter() - started
        Client(url, verbose=False).predict(query=query, k=10, api_name="/search")
        answered = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait()
    return {"reachable_s": round(reachable, 2), "first_search_s": round(answered, 2)}


def run_phase(args: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
        check=True,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(PHASE_MARK):
            return json.loads(line[len(PHASE_MARK) :])
    raise RuntimeError(f"phase {args[0]} printed no result")


def disk_usage(index_dir: Path) -> dict[str, float]:
    sizes: dict[str, float] = {}
    for path in index_dir.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            key = "lexical/" if path.parent.name == "lexical" else path.name
            if "milvus.db" in path.parts:  # a Milvus Lite database: one entry
                key = "milvus.db/"
            sizes[key] = sizes.get(key, 0) + path.stat().st_size
    mb = {k: round(v / 2**20, 1) for k, v in sorted(sizes.items())}
    mb["total"] = round(sum(sizes.values()) / 2**20, 1)
    return mb


def lawref_corpus(
    tarball: Path, work: Path, chunks: int, seed: int, limit: int | None = None
) -> tuple[Path, int, int]:
    """Extract the tarball and copy a random choice of laws reaching ~``chunks`` articles."""
    extracted = work / "lawref-all"
    if not extracted.is_dir():
        with tarfile.open(tarball) as tar:
            tar.extractall(extracted, filter="data")
    files = sorted(p for p in extracted.rglob("*.md") if p.name != "_index.md")
    random.Random(seed).shuffle(files)
    corpus = work / f"lawref-{chunks}"
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    estimate = 0
    taken = 0
    for path in files:
        if estimate >= chunks or (limit is not None and taken >= limit):
            break
        text = path.read_text(encoding="utf-8", errors="replace")
        estimate += len(ARTICLE.findall(text)) + 1
        target = corpus / path.relative_to(extracted)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
        taken += 1
    return corpus, taken, estimate


def markdown(result: dict) -> str:
    b, q, d = result["build"], result.get("query", {}), result.get("disk_mb", {})
    rows = [
        f"| corpus | {result['label']} (backend {result.get('backend', 'embedded')}) |",
        "|---|---|",
        f"| files / chunks | {b['files']} / {b['chunks']} (mean passage {b['mean_passage_chars']}"
        " chars) |",
        f"| vector index | {b['dense']} ({b['model']}, {b['backend']}) |",
        f"| build (model loaded) | {b['build_s']} s = {b['build_chunks_per_s']} chunks/s "
        f"({b['build_chunks_per_cpu_s']} per CPU-s); read {b['phases_s'].get('read')} s, "
        f"embed {b['phases_s'].get('embed')} s, write {b['phases_s'].get('write')} s |",
        f"| embed phase alone | {b['embed_phase_chunks_per_s']} passages/s |",
        f"| raw model encode, same passages | {b['encode_passages_per_s']} passages/s "
        f"({b['encode_passages_per_cpu_s']} per CPU-s), sample of {b['encode_sample']} |",
        f"| peak RSS build | {b['build_peak_rss_mb']:.0f} MB |",
    ]
    lat = q.get("latency", {})
    for mode in (
        "hybrid",
        "dense",
        "bm25",
        "hybrid+per_doc2",
        "phrase",
        "precedent_first",
        "precedent",
        "query_embedding_only",
    ):
        if mode in lat:
            rows.append(
                f"| query {mode} p50 / p95 | {lat[mode]['p50_ms']} / {lat[mode]['p95_ms']} ms"
                f" (n={lat[mode]['n']}) |"
            )
    vs = q.get("vector_search")
    if vs:
        rows.append(
            f"| HNSW search alone p50 | {vs['faiss_p50_ms']} ms (exact numpy "
            f"{vs['exact_numpy_p50_ms']} ms); recall@10 vs exact {vs['recall_at_10_vs_exact']} |"
        )
    if q:
        mem = q.get("query_memory_mb", {})
        segments = ", ".join(f"{seg['rows']} {seg['dense']}" for seg in q.get("segments", []))
        rows += [
            f"| segments (rows, vector index) | {segments} |",
            f"| open index / first query (model load) | {q['open_s']} s / {q['first_query_s']} s |",
            f"| peak RSS query process | {q['query_peak_rss_mb']:.0f} MB (at the end: anonymous "
            f"{mem.get('RssAnon')} MB, memory-mapped files {mem.get('RssFile')} MB) |",
        ]
    if "update" in result:
        u = result["update"]
        rows.append(
            f"| one-file update, `assistant index` process | {u['wall_s']} s wall ({u['cpu_s']} "
            f"CPU-s); nothing changed: {u['nothing_changed_wall_s']} s |"
        )
    if "cold_search" in result:
        c = result["cold_search"]
        rows.append(
            f"| cold `assistant search` process | {c['wall_s']} s wall ({c['cpu_s']} CPU-s), "
            f"median of {c['runs']} |"
        )
    if "cold_serve" in result:
        c = result["cold_serve"]
        rows.append(
            f"| cold `assistant serve` process | page answers after {c['reachable_s']} s, first "
            f"search through the API after {c['first_search_s']} s |"
        )
    if d:
        rows.append("| index on disk | " + ", ".join(f"{k} {v} MB" for k, v in d.items()) + " |")
    rows.append(f"| load average after build | {b['loadavg_after']} (2 cores) |")
    return "\n".join(rows)


def main() -> int:
    global BACKEND
    if len(sys.argv) > 1 and sys.argv[1] in ("_build", "_query"):
        phase, rest = sys.argv[1], sys.argv[2:]
        if phase == "_build":
            corpus, index_dir, dense, sample, stand_in = rest
            res = phase_build(
                Path(corpus), Path(index_dir), dense or None, int(sample), stand_in == "1"
            )
        else:
            index_dir, queries, repeat = rest
            res = phase_query(Path(index_dir), load_queries(Path(queries)), int(repeat))
        print(PHASE_MARK + json.dumps(res, ensure_ascii=False), flush=True)
        return 0

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--lawref", type=Path, help="LawRefBook markdown tarball (scale run)")
    ap.add_argument("--chunks", type=int, default=100_000, help="target size of the scale run")
    ap.add_argument("--limit", type=int, help="take at most this many files (a quick run)")
    ap.add_argument("--backend", default="embedded", help="index backend (default embedded)")
    ap.add_argument("--dense", choices=("auto", "flat", "hnsw"), default="auto")
    ap.add_argument(
        "--stand-in-vectors", action="store_true",
        help="build with hashed random vectors instead of the model (index-side figures only)",
    )  # fmt: skip
    ap.add_argument("--queries", type=Path, default=ROOT / "eval" / "policy_queries.jsonl")
    ap.add_argument("--repeat", type=int, default=3, help="passes over the query set per mode")
    ap.add_argument("--sample", type=int, default=512, help="passages for the raw encode figure")
    ap.add_argument("--work", type=Path, help="work directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--out", type=Path, help="write the JSON result here (after every phase)")
    args = ap.parse_args()
    BACKEND = args.backend

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "command": " ".join(["eval/bench_speed.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d"),
        "backend": args.backend,
    }

    def save() -> None:
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")

    try:
        if args.lawref:
            corpus, taken, estimate = lawref_corpus(
                args.lawref, work, args.chunks, seed=13, limit=args.limit
            )
            label = f"LawRefBook sample: {taken} laws (~{estimate} articles estimated)"
        else:
            corpus = work / "corpus"  # a copy: the update step edits one file
            if corpus.exists():
                shutil.rmtree(corpus)
            files = sorted(p for p in args.corpus.rglob("*") if p.is_file())[: args.limit]
            for path in files:
                target = corpus / path.relative_to(args.corpus)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)
            label = f"shipped corpus ({args.corpus}, {len(files)} files)"
        if args.stand_in_vectors:
            label += "; STAND-IN VECTORS (no model at build time: index-side figures only)"
        result["label"] = label
        index_dir = work / "index"
        if index_dir.exists():
            shutil.rmtree(index_dir)
        print(f"building {label} into {index_dir} …", file=sys.stderr)
        result["build"] = run_phase(
            ["_build", str(corpus), str(index_dir), args.dense, str(args.sample),
             "1" if args.stand_in_vectors else "0"]
        )  # fmt: skip
        result["disk_mb"] = disk_usage(index_dir)
        save()
        print("querying …", file=sys.stderr)
        result["query"] = run_phase(["_query", str(index_dir), str(args.queries), str(args.repeat)])
        save()
        print("cold search …", file=sys.stderr)
        result["cold_search"] = cold_search(index_dir, load_queries(args.queries)[0])
        save()
        print("cold serve …", file=sys.stderr)
        result["cold_serve"] = cold_serve(index_dir, load_queries(args.queries)[0])
        save()
        print("one-file update …", file=sys.stderr)
        result["update"] = one_file_update(corpus, index_dir)
        save()
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
