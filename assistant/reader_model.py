"""Build the answer reader, a cross-encoder, from the offline embedding model and shipped deltas.

The reader is intfloat/multilingual-e5-small fine-tuned to tell whether a sentence answers a
question (``eval/train_reader.py``). Only what fine-tuning changed ships with the package:
``answering/reader_delta.npz`` holds, per tensor, the difference to the embedding model's weights
as 4-bit values with one scale per row (the word embeddings were frozen and are not in it), and
the new classification head whole. On first use the deltas are added to the weights of the
offline embedding model (``offline_model.py``), the result is exported to ONNX, quantized to
int8 and checked against logits recorded when the deltas were written; the directory is
installed atomically under the cache, like the embedding model. The feed-forward output
projections stay in fp32: their inputs (GELU activations) carry the outliers that dynamic int8
quantization handles worst, and quantizing them moved the reader's logits by a sizeable share of
their spread on real question/sentence pairs, far more than on the check pairs
(``eval/answerability.md``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.hashing import file_sha256
from assistant.offline_model import ensure_offline_model, install_dir, model_build_lock

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

DELTA_FILE = "reader_delta.npz"
CHECK_FILE = "reader_check.json"  # question/passage pairs and the trained model's logits
ONNX_FILE = "reader.onnx"
QUANTIZATION = "ffn-out-fp32"  # names the scheme in the cache directory (see above)
BUILD_INFO = "reader_build.json"
MAX_LENGTH = 160  # tokens of question + passage, as in training
FP32_MAX_DIFF = 0.01  # logits: the rebuilt model against the recorded ones
INT8_MAX_DIFF = 0.3  # logits: int8 quantization moves them a little


class ReaderModelError(RuntimeError):
    """The answer reader could not be built or failed its check."""


@dataclass(frozen=True)
class ReaderBuild:
    delta_sha256: str
    onnx_file: str
    max_diff_fp32: float
    max_diff_int8: float


def shipped(name: str) -> Path:
    """A file shipped in ``assistant/answering``."""
    return Path(str(resources.files("assistant.answering").joinpath(name)))


def reader_dir(cache_dir: Path, delta: Path | None = None) -> Path:
    digest = file_sha256(delta or shipped(DELTA_FILE))[:16]
    return Path(cache_dir) / "models" / f"answer-reader-{digest}-{QUANTIZATION}"


def apply_deltas(
    base: dict[str, np.ndarray], deltas: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The fine-tuned state dict (``BertForSequenceClassification`` names) from the embedding
    model's tensors (``BertModel`` names) and the shipped deltas."""
    out = {f"bert.{k}": v for k, v in base.items()}
    for key in deltas:
        if key.endswith(".q4"):
            name = key[: -len(".q4")]
            target = base[name.removeprefix("bert.")]
            out[name] = target + unpack_q4(deltas[key], deltas[f"{name}.scale"], target.shape)
        elif not key.endswith(".scale"):
            out[key] = deltas[key]
    return out


def unpack_q4(packed: np.ndarray, scale: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """4-bit values (two per byte, low nibble first, stored +8) times their row's scale."""
    flat = np.empty(packed.size * 2, np.int8)
    flat[0::2] = (packed & 15).astype(np.int8) - 8
    flat[1::2] = (packed >> 4).astype(np.int8) - 8
    n = int(np.prod(shape))
    rows = scale.shape[0]
    return (flat[:n].reshape(rows, -1) * scale.astype(np.float32)).reshape(shape)


def pack_q4(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``unpack_q4``'s inverse, to the nearest of 15 levels per row (float16 scales)."""
    rows = delta.reshape(delta.shape[0], -1) if delta.ndim > 1 else delta.reshape(1, -1)
    scale = (np.abs(rows).max(axis=1, keepdims=True) / 7 + 1e-12).astype(np.float16)
    values = np.clip(np.round(rows / scale.astype(np.float32)), -7, 7).astype(np.int8) + 8
    flat = values.reshape(-1).astype(np.uint8)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(8))
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8), scale


def read_build(model_dir: Path) -> ReaderBuild | None:
    try:
        info = ReaderBuild(**json.loads((model_dir / BUILD_INFO).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return info if (model_dir / info.onnx_file).is_file() else None


def ensure_reader_model(
    cache_dir: Path, delta: Path | None = None, *, progress: bool = True
) -> Path:
    """The built, checked reader directory under ``cache_dir`` (built on first use), of the
    shipped deltas or of ``delta`` (with its check logits beside it)."""
    dest = reader_dir(cache_dir, delta)
    if read_build(dest) is not None:
        return dest
    base_dir = ensure_offline_model(cache_dir, progress=progress)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with model_build_lock(dest.parent / f".{dest.name}.lock"):
        if read_build(dest) is None:
            log.warning("building the answer reader into %s (once, about a minute)", dest)
            build_reader(base_dir, dest, delta, progress=progress)
    return dest


def build_reader(
    base_dir: Path, dest: Path, delta: Path | None = None, *, progress: bool = True
) -> ReaderBuild:
    """Rebuild, export, quantize and check the reader into ``dest`` (atomically)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from safetensors.numpy import load_file
    from tqdm import tqdm
    from transformers import BertConfig, BertForSequenceClassification

    delta = delta or shipped(DELTA_FILE)
    tmp = dest.parent / f".{dest.name}.build-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    steps = ["rebuild", "check fp32", "export onnx", "quantize int8", "check int8"]
    bar = tqdm(total=len(steps), desc="answer reader", unit="step", disable=not progress)

    def step(done: bool = True) -> None:
        if done:
            bar.update()
        if bar.n < len(steps):
            bar.set_postfix_str(steps[bar.n])

    step(done=False)
    try:
        with np.load(delta) as z:
            deltas = {k: z[k] for k in z.files}
        state = apply_deltas(load_file(base_dir / "model.safetensors"), deltas)
        config = BertConfig.from_pretrained(base_dir, num_labels=1)
        model = BertForSequenceClassification(config).eval()
        model.load_state_dict(
            {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
        )
        step()
        check_file = delta.with_name(CHECK_FILE)
        if not check_file.is_file():
            raise ReaderModelError(f"no {CHECK_FILE} beside {delta}: the deltas cannot be checked")
        check = json.loads(check_file.read_text(encoding="utf-8"))
        tokenizer = reader_tokenizer(base_dir)
        ids, mask = encode_pairs(tokenizer, [(q, p) for q, p, _ in check])
        expected = np.array([logit for _, _, logit in check], dtype=np.float32)
        with torch.no_grad():
            fp32 = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        diff_fp32 = float(np.abs(fp32.logits.view(-1).numpy() - expected).max())
        if not diff_fp32 <= FP32_MAX_DIFF:
            raise ReaderModelError(
                f"the answer reader rebuilt from {base_dir} and {delta} gives logits up to "
                f"{diff_fp32:.3f} away from the recorded ones: the embedding model or the deltas "
                "are not the ones it was trained with"
            )
        step()
        plain = tmp / "reader-fp32.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about constants
            torch.onnx.export(
                model,
                (torch.from_numpy(ids), torch.from_numpy(mask)),
                str(plain),
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                dynamic_axes={
                    n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask")
                },
                opset_version=17,
                dynamo=False,
            )
        step()
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # onnxruntime advises pre-processing on the root logger
        try:
            quantize_dynamic(
                str(plain),
                str(tmp / ONNX_FILE),
                weight_type=QuantType.QInt8,
                per_channel=True,
                nodes_to_exclude=feed_forward_outputs(plain),
            )
        finally:
            root.setLevel(level)
        plain.unlink()
        step()
        int8 = run_onnx(tmp / ONNX_FILE, ids, mask)
        diff_int8 = float(np.abs(int8 - expected).max())
        if not diff_int8 <= INT8_MAX_DIFF:
            raise ReaderModelError(f"the int8 answer reader is off by {diff_int8:.3f} in logits")
        info = ReaderBuild(file_sha256(delta), ONNX_FILE, round(diff_fp32, 5), round(diff_int8, 5))
        (tmp / BUILD_INFO).write_text(json.dumps(asdict(info), indent=2), encoding="utf-8")
        install_dir(tmp, dest)
        step()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        bar.close()
    return info


def feed_forward_outputs(model: Path) -> list[str]:
    """The feed-forward output projections of an exported BERT (one MatMul per layer)."""
    import onnx

    names = [
        n.name
        for n in onnx.load(str(model)).graph.node
        if n.op_type == "MatMul" and n.name.endswith("/output/dense/MatMul")
        and "/attention/" not in n.name
    ]  # fmt: skip
    if not names:
        raise ReaderModelError(f"no feed-forward output projection found in {model.name}")
    return names


def reader_tokenizer(base_dir: Path) -> Tokenizer:
    """The embedding model's tokenizer, set up for question/passage pairs."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_LENGTH, strategy="only_second")
    tokenizer.enable_padding(pad_id=1, pad_token="<pad>")
    return tokenizer


def encode_pairs(
    tokenizer: Tokenizer, pairs: list[tuple[str, str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Padded token ids and attention masks of question/passage pairs."""
    encoded = tokenizer.encode_batch(pairs)
    ids = np.array([e.ids for e in encoded], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
    return ids, mask


def run_onnx(path: Path, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input_ids": ids, "attention_mask": mask})[0].reshape(-1)
