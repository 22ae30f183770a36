"""The answer reader: reads a question against a passage's sentences and scores how well the
best one or two of them answer it.

Similarity (``dense``) and term coverage (``soft``) say a passage is about the question; they
cannot tell a provision that answers it from one on the same topic that does not. The reader is
a cross-encoder (``reader_model.py``, trained by ``eval/train_reader.py``): question and
sentence go through the model together. A passage's score is the best logit over its sentences
and pairs of neighbouring sentences (an answer often leans on the sentence before it).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.embedding import cpu_session
from assistant.reader_model import ONNX_FILE, encode_pairs, ensure_reader_model, reader_tokenizer
from assistant.text import normalize, split_sentences

MIN_SENTENCE = 6  # characters; shorter pieces are headings or labels
BATCH = 32


def windows(text: str) -> list[str]:
    """The sentences of a passage and each with the sentence before it, as written (the reader
    reads them normalized)."""
    sentences = [s for s in split_sentences(text) if len(normalize(s)) >= MIN_SENTENCE]
    if not sentences:
        return [text.strip()]
    return sentences + [a + b for a, b in zip(sentences, sentences[1:], strict=False)]


@dataclass(frozen=True)
class Reading:
    """The reader's verdict on one passage: its best logit, and the window that earned it."""

    score: float
    window: str


class AnswerReader:
    """``read(question, passages)``: per passage, the reader's best logit over its windows."""

    def __init__(self, model_dir: Path, tokenizer_dir: Path) -> None:
        self._session = cpu_session(model_dir / ONNX_FILE)
        self._tokenizer = reader_tokenizer(tokenizer_dir)
        self._lock = threading.Lock()

    def logits(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """The reader's logit for ``question`` against each of ``texts``."""
        q = normalize(question)
        texts = [normalize(t) for t in texts]
        out = np.empty(len(texts), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # batches pad little
        with self._lock:
            for start in range(0, len(order), BATCH):
                part = order[start : start + BATCH]
                ids, mask = encode_pairs(self._tokenizer, [(q, texts[i]) for i in part])
                feed = {"input_ids": ids, "attention_mask": mask}
                out[part] = self._session.run(None, feed)[0].reshape(-1)
        return out

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]:
        """For each passage text, its best window and that window's logit."""
        spans = [windows(p) for p in passages]
        flat = [w for ws in spans for w in ws]
        if not flat:
            return []
        scores = self.logits(question, flat)
        out, start = [], 0
        for ws in spans:
            i = int(scores[start : start + len(ws)].argmax())
            out.append(Reading(float(scores[start + i]), ws[i]))
            start += len(ws)
        return out

    def best(self, question: str, passages: Sequence[str]) -> list[float]:
        """For each passage text, the best logit of its windows."""
        return [r.score for r in self.read(question, passages)]


def reader_cache_dir(embedder: object, default: Path) -> Path:
    """The cache directory holding ``embedder``'s model when that is the offline embedding model
    the reader is built on (so it is not built a second time elsewhere); else ``default``."""
    from assistant.offline_model import offline_model_dir

    path = getattr(embedder, "model_path", None)
    if isinstance(path, Path) and path == offline_model_dir(path.parent.parent):
        return path.parent.parent
    return default


@lru_cache(maxsize=4)
def load_reader(cache_dir: Path) -> AnswerReader:
    """The reader built under ``cache_dir`` (built on first use), one per process."""
    from assistant.offline_model import offline_model_dir

    model_dir = ensure_reader_model(cache_dir)
    return AnswerReader(model_dir, offline_model_dir(cache_dir))
