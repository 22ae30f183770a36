"""Settings: embedded defaults, overridden by a TOML config file, overridden by ``ASSISTANT_*``.

The config file is ``$ASSISTANT_CONFIG`` or ``./assistant.toml`` when present; its keys are the
field names below (e.g. ``embed_model = "BAAI/bge-small-zh-v1.5"``). CLI flags override both.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_EMBED_MODEL = "intfloat/multilingual-e5-small"
BACKENDS = ("embedded", "milvus")


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policy-assistant"


@dataclass(frozen=True)
class Settings:
    embed_model: str = DEFAULT_EMBED_MODEL  # hub id or local directory
    embed_backend: str = "onnx-int8"  # "onnx-int8" | "onnx" | "torch"
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    cache_dir: Path = _default_cache_dir()  # where the offline model is built
    # Index storage: "embedded" (files in index_dir) or "milvus". milvus_uri: a file path opens
    # Milvus Lite (default: index_dir/milvus.db), http://host:19530 a Milvus server or cluster.
    backend: str = "embedded"
    milvus_uri: str | None = None
    milvus_token: str | None = None  # "user:password" or an API key, for a server with auth
    # Hybrid fusion: "convex" (normalised scores, assistant.search.fusion) or "rrf"
    fusion: str = "convex"
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # Best-sentence evidence in convex fusion (assistant.search.sentences); 0 = off. It embeds
    # the sentences of each query's first candidates (kept per chunk in the process).
    sentence_weight: float = 0.0
    # The same evidence for precedent-wording search (a writer pastes one sentence), where a
    # cold query's extra second is worth it
    precedent_sentence_weight: float = 0.5
    # Read the top passages against the question with the answer reader (a cross-encoder built
    # on first use, assistant/reader_model.py) when deciding whether they answer it
    answer_reader: bool = True
    # Vector index: "auto" (exact below hnsw_threshold vectors, HNSW from there), "flat", "hnsw"
    dense_index: str = "auto"
    hnsw_threshold: int = 50_000
    # LLM (optional): provider "openai" (any OpenAI-compatible endpoint) or "ollama"
    llm_provider: str | None = None
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    # seconds per LLM request; a local CPU model can take a minute to read a 2,000-token prompt
    llm_timeout: float = 180.0
    prompts_dir: Path | None = None  # system.txt, answer.txt; default ./prompts/, else shipped
    # Chat server
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str | None = None  # "user:password" turns on the Gradio login
    upload_max_mb: int = 20
    concurrency: int = 0  # requests the app handles at once; 0: chosen from the CPU cores
    # Per-file bounds against hostile files (see assistant/documents/limits.py)
    max_file_mb: int = 50  # on disk, and the text extracted from a file
    max_expanded_mb: int = 100  # what a .docx's zip parts expand to
    max_zip_ratio: float = 100.0  # expanded : compressed, per large zip part
    max_chunks_per_file: int = 2000  # a file that would produce more is refused
    # OCR of scans (image-only PDF pages, .png .jpg .tif): work bounds per file, and the mean
    # recognition confidence below which a page is reported instead of indexed
    ocr_max_pages: int = 50
    ocr_seconds_per_file: float = 600.0
    ocr_min_confidence: float = 0.8

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with the given non-None values applied (for CLI flags)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_BOOLEAN = {"1": True, "true": True, "yes": True, "on": True,
            "0": False, "false": False, "no": False, "off": False}  # fmt: skip


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if value is None:
        return None
    if "Path" in str(kind):
        return Path(value).expanduser()
    if kind in ("int",):
        return int(value)
    if kind in ("float",):
        return float(value)
    if kind in ("bool",) and not isinstance(value, bool):
        text = str(value).strip().lower()
        if text not in _BOOLEAN:
            raise ValueError(f"{name}: {value!r} is not one of {', '.join(_BOOLEAN)}")
        return _BOOLEAN[text]
    return value


def load_settings(
    config_file: str | Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read settings from the config file and environment (environment wins)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = Path(config_file) if config_file else None
    if path is None and env.get("ASSISTANT_CONFIG"):
        path = Path(env["ASSISTANT_CONFIG"])
    if path is None and Path("assistant.toml").is_file():
        path = Path("assistant.toml")
    known = {f.name for f in fields(Settings)}
    if path is not None:
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"{path}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        values.update({k: _coerce(k, v) for k, v in data.items()})
    for name in known:
        raw = env.get(f"ASSISTANT_{name.upper()}")
        if raw not in (None, ""):
            values[name] = _coerce(name, raw)
    if values.get("backend", BACKENDS[0]) not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {values['backend']!r}")
    return Settings(**values)
