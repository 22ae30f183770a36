"""Train the answer reader (a cross-encoder) and write the deltas the package ships.

The reader tells whether a sentence (or two) answers a question. Training pairs come from the
two Chinese reading-comprehension sets beside the repository (``../shared/benchmarks``:
cmrc2018 dev, drcd test, with their answer strings): for each question, one window of one or two
sentences of its context holding an answer is a positive; the two windows of the same context
without an answer that share most character bigrams with the question, and one sentence of
another context, are negatives. Every 20th question is held out to report the reader's own
AUC and top-1 (is the answer window ranked first among its question's windows).

The model starts from the offline embedding model (``offline_model.py``) with its word
embeddings frozen, so that only the rest needs shipping: ``--write`` packs the differences as
4-bit deltas (``reader_model.pack_q4``) into ``assistant/answering/reader_delta.npz`` and records
check logits in ``assistant/answering/reader_check.json``. No policy question is used. Needs
torch and transformers (installed with sentence-transformers); ~1 hour for 500 steps on 2 cores.

    PYTHONPATH=. .venv/bin/python eval/train_reader.py --out /tmp/reader --steps 500 --write
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.reader import MIN_SENTENCE  # noqa: E402  (as the reader reads)
from assistant.text import normalize, split_sentences  # noqa: E402

BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
SETS = ("cmrc2018/beir_dev", "drcd_zh_hant/beir_test")
HELD_OUT_EVERY = 20
# Pairs the rebuilt reader is checked against (not evaluation questions).
CHECK_PAIRS = (
    ("学校可以向学生收取借读费吗", "学校不得向学生收取借读费。"),
    ("学校可以向学生收取借读费吗", "县级人民政府应当合理规划学校布局。"),
    ("义务教育实行几年制", "国家实行九年义务教育制度。"),
    ("谁负责校车安全管理", "学校应当建立健全校车安全管理制度,配备安全管理人员。"),
    ("學校能不能組織學生參加商業性活動", "學校不得組織學生參加商業性慶典活動。"),
    ("锣鼓经是什么", "锣鼓经是大陆传统器乐及戏曲里面常用的打击乐记谱方法。"),
)


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def windows(sentences: list[str]) -> list[tuple[int, int, str]]:
    """Each sentence, and each sentence with the one before it: (first, last, text)."""
    out = []
    for i, s in enumerate(sentences):
        out.append((i, i, s))
        if i > 0:
            out.append((i - 1, i, sentences[i - 1] + s))
    return out


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def training_pairs(benchmarks: Path, seed: int = 0) -> tuple[list[tuple], list[tuple]]:
    """(train, held out) lists of (question id, question, window, label)."""
    rnd = random.Random(seed)
    train, held = [], []
    for name in SETS:
        folder = benchmarks / name
        contexts = {row["_id"]: row["text"] for row in read_jsonl(folder / "corpus.jsonl")}
        answers = {row["_id"]: row["answer"] for row in read_jsonl(folder / "answers.jsonl")}
        qrels = {}
        for line in (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
            qid, cid, _ = line.split("\t")
            qrels[qid] = cid
        sentences = {
            cid: [s for s in map(normalize, split_sentences(text)) if len(s) >= MIN_SENTENCE]
            for cid, text in contexts.items()
        }
        ids = sorted(sentences)
        queries = sorted((r["_id"], r["text"]) for r in read_jsonl(folder / "queries.jsonl"))
        for k, (qid, text) in enumerate(queries):
            found = [normalize(a) for a in answers.get(qid, []) if a]
            ss = sentences.get(qrels.get(qid, ""), [])
            if not found or len(ss) < 3:
                continue
            has = [any(a in s for a in found) for s in ss]
            wins = windows(ss)
            pos = [w for w in wins if has[w[1]]]
            neg = [w for w in wins if not any(has[w[0] : w[1] + 1])]
            if not pos or not neg:
                continue
            question = normalize(text)
            qb = bigrams(question)
            neg.sort(key=lambda w: -len(qb & bigrams(w[2])))
            pairs = [(qid, question, rnd.choice(pos)[2], 1.0)]
            pairs += [(qid, question, w[2], 0.0) for w in neg[:2]]
            other = sentences[rnd.choice(ids)]
            if other:
                pairs.append((qid, question, rnd.choice(other), 0.0))
            (held if k % HELD_OUT_EVERY == 0 else train).extend(pairs)
    rnd.shuffle(train)
    return train, held


def auc(labels: list[float], scores: list[float]) -> float:
    """The probability that a positive scores above a negative (ties count half)."""
    pos = np.array([s for s, y in zip(scores, labels, strict=True) if y])
    neg = np.array([s for s, y in zip(scores, labels, strict=True) if not y])
    above = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(above / (len(pos) * len(neg)))


def evaluate(model, tokenizer, held: list[tuple], max_length: int) -> dict[str, float]:
    import torch

    scores: list[float] = []
    model.eval()
    with torch.no_grad():
        for i in range(0, len(held), 64):
            batch = held[i : i + 64]
            enc = tokenizer(
                [b[1] for b in batch], [b[2] for b in batch], truncation="only_second",
                max_length=max_length, padding=True, return_tensors="pt",
            )  # fmt: skip
            scores += model(**enc).logits.view(-1).tolist()
    model.train()
    by_question: dict[str, list[tuple[float, float]]] = {}
    for row, score in zip(held, scores, strict=True):
        by_question.setdefault(row[0], []).append((score, row[3]))
    top1 = np.mean([max(v, key=lambda x: x[0])[1] for v in by_question.values()])
    return {"auc": round(auc([h[3] for h in held], scores), 4),
            "top1": round(float(top1), 4)}  # fmt: skip


def write_deltas(checkpoint: Path, base_dir: Path) -> None:
    """Pack ``checkpoint``'s differences to the embedding model; record check logits."""
    import torch
    from safetensors.numpy import load_file
    from transformers import BertConfig, BertForSequenceClassification

    from assistant import reader_model as rm

    base = load_file(base_dir / "model.safetensors")
    tuned = load_file(checkpoint / "model.safetensors")
    deltas: dict[str, np.ndarray] = {}
    for name, value in tuned.items():
        original = base.get(name.removeprefix("bert."))
        if original is None:
            deltas[name] = value
        elif not np.array_equal(original, value):
            deltas[f"{name}.q4"], deltas[f"{name}.scale"] = rm.pack_q4(value - original)
    np.savez_compressed(rm.shipped(rm.DELTA_FILE), **deltas)
    model = BertForSequenceClassification(BertConfig.from_pretrained(base_dir, num_labels=1))
    state = rm.apply_deltas(base, deltas)
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    ids, mask = rm.encode_pairs(rm.reader_tokenizer(base_dir), list(CHECK_PAIRS))
    with torch.no_grad():
        logits = model.eval()(
            input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)
        )
    check = [
        [q, p, round(float(v), 5)]
        for (q, p), v in zip(CHECK_PAIRS, logits.logits.view(-1), strict=True)
    ]
    rm.shipped(rm.CHECK_FILE).write_text(
        json.dumps(check, ensure_ascii=False, indent=1) + "\n", "utf-8"
    )
    print(f"wrote {rm.shipped(rm.DELTA_FILE)} and {rm.shipped(rm.CHECK_FILE)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer, BertForSequenceClassification

    from assistant.config import load_settings
    from assistant.offline_model import ensure_offline_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="checkpoint directory")
    ap.add_argument("--benchmarks", type=Path, default=BENCHMARKS)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--max-length", type=int, default=160)
    ap.add_argument("--write", action="store_true", help="write the shipped deltas at the end")
    ap.add_argument("--write-only", action="store_true", help="only pack an existing --out")
    args = ap.parse_args(argv)

    base_dir = ensure_offline_model(load_settings().cache_dir)
    if not args.write_only:
        torch.manual_seed(0)
        tokenizer = AutoTokenizer.from_pretrained(base_dir)
        model = BertForSequenceClassification.from_pretrained(base_dir, num_labels=1)
        model.bert.embeddings.word_embeddings.weight.requires_grad = False
        train, held = training_pairs(args.benchmarks)
        # the schedule spans one epoch; --steps may stop before its end
        epoch = len(train) // args.batch
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / 50) * max(0.0, 1 - s / epoch)
        )
        loss_fn = torch.nn.BCEWithLogitsLoss()
        print(f"{len(train)} pairs, {len(held)} held out, {epoch} steps an epoch", file=sys.stderr)
        model.train()
        for step in tqdm(range(min(args.steps, epoch)), desc="training", unit="step"):
            batch = train[step * args.batch : (step + 1) * args.batch]
            enc = tokenizer(
                [b[1] for b in batch], [b[2] for b in batch], truncation="only_second",
                max_length=args.max_length, padding=True, return_tensors="pt",
            )  # fmt: skip
            loss = loss_fn(model(**enc).logits.view(-1), torch.tensor([b[3] for b in batch]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            if (step + 1) % 250 == 0:
                model.save_pretrained(args.out)
                tokenizer.save_pretrained(args.out)
                print(
                    f"step {step + 1}: held out {evaluate(model, tokenizer, held, args.max_length)}"
                )
        model.save_pretrained(args.out)
        tokenizer.save_pretrained(args.out)
    if args.write or args.write_only:
        write_deltas(args.out, base_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
