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
check logits in ``assistant/answering/reader_check.json``. Needs torch and transformers
(installed with sentence-transformers); ~1 hour for 500 steps on 2 cores.

    PYTHONPATH=. .venv/bin/python eval/train_reader.py --out /tmp/reader --steps 500 --write

Wikipedia questions are factoid ones; people asking about policy ask yes/no questions in words
unlike the provisions'. ``--policy`` adapts the reader (``--init``: deltas to start from) on
the labelled policy questions of the fitting splits (never a held-out split): half of each batch
is policy pairs (``policy_pairs``), half reading-comprehension pairs not trained on before
(``--general-from``). Because the answerability model must be fitted on reader scores of
questions the reader has not seen, the same run is made once per fold without that fold's
questions (``--fold i``, ``fold_of``; ``fit_answerability.py --fold-deltas``), then on all:

    cp -a index /tmp/fit-index
    mkdir /tmp/wiki && git show b1ca2c9:assistant/answering/reader_delta.npz \\
        > /tmp/wiki/reader_delta.npz   # the reader of the first command (500 steps)
    for f in 0 1; do PYTHONPATH=. .venv/bin/python eval/train_reader.py --out /tmp/reader-$f \\
        --init /tmp/wiki --policy --index-dir /tmp/fit-index --fold $f --steps 124 --lr 2e-5 \\
        --general-from 16000 --write --delta-dir /tmp/deltas-$f; done
    PYTHONPATH=. .venv/bin/python eval/train_reader.py --out /tmp/reader --init /tmp/wiki \\
        --policy --index-dir /tmp/fit-index --steps 124 --lr 2e-5 --general-from 16000 --write

``--faq`` adds pairs from a government FAQ beside the repository (citizens' questions, officials'
answers; ``faq_pairs``) to the adapting half of each batch; without ``--policy`` no policy
question is read, so every question set stays unseen (``eval/answerability.md``, round 5):

    PYTHONPATH=. .venv/bin/python eval/train_reader.py --out /tmp/reader-faq \\
        --init assistant/answering --faq --steps 400 --lr 3e-5 --general-from 18000 \\
        --write --delta-dir /tmp/deltas-faq
"""

from __future__ import annotations

import argparse
import hashlib
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


def grams(text: str, n: int) -> set[str]:
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def bigrams(text: str) -> set[str]:
    return grams(text, 2)


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


# ---------------------------------------------------------------- policy questions (adaptation)

POLICY_QUESTIONS = tuple(sorted((ROOT / "eval").glob("answer_questions*.jsonl")))
POLICY_SPLITS = ("dev", "fresh", "fresh2")  # never a split reported as held out
QUOTE_GRAM = 6  # a window sharing a 6-character piece with a labelled quote is not a negative


def fold_of(question_id: str, folds: int) -> int:
    """A question's fold, stable across runs and scripts (``fit_answerability.py``)."""
    return int(hashlib.sha256(question_id.encode("utf-8")).hexdigest(), 16) % folds


def closest(question: str, windows: list[str], n: int) -> list[str]:
    """The ``n`` windows that share most character bigrams with ``question``."""
    qb = bigrams(question)
    return sorted(windows, key=lambda w: -len(qb & bigrams(w)))[:n]


def policy_pairs(questions, chunks, search, seed: int = 0) -> list[tuple]:
    """(question id, question, window, label) pairs from labelled policy questions.

    Answerable: the window of a labelled passage holding its quote is a positive (twice, to
    balance), the two windows of the same passage without it that share most bigrams with the
    question and the best such window of each top passage from an unlabelled document are
    negatives. Near-miss and off-topic questions: the three (one) windows of the top passages
    that share most bigrams with the question are negatives — the hard case is a passage on the
    topic that does not answer.
    """
    from assistant.answering.reader import windows as passage_windows
    from assistant.answering.relevance import SOFT_TOP  # the passages the pipeline's reader reads
    from assistant.evaluation.matching import match_key, passage_matches

    def reader_windows(text: str) -> list[str]:
        return [normalize(w) for w in passage_windows(text)]  # as the reader reads them

    rnd = random.Random(seed)
    pairs: list[tuple] = []
    for q in questions:
        question = normalize(q.question)
        hits = search(q.question)[:SOFT_TOP]
        if not q.answerable:
            ws = [w for h in hits for w in reader_windows(h.chunk.text)]
            n = 3 if q.kind == "near_miss" else 1
            pairs += [(q.id, question, w, 0.0) for w in closest(question, ws, n)]
            continue
        quote_grams = set().union(*(grams(match_key(p.quote), QUOTE_GRAM) for p in q.relevant))
        labelled = [c for c in chunks if any(passage_matches(p, c) for p in q.relevant)]
        for chunk in labelled:
            ws = reader_windows(chunk.text)
            pos = [w for w in ws if any(match_key(p.quote) in match_key(w) for p in q.relevant)]
            neg = [w for w in ws if not quote_grams & grams(match_key(w), QUOTE_GRAM)]
            if pos:
                best = min(pos, key=len)
                pairs += [(q.id, question, best, 1.0)] * 2
            pairs += [(q.id, question, w, 0.0) for w in closest(question, neg, 2)]
        files = {c.doc.file for c in labelled}
        for h in hits:
            if h.chunk.doc.file not in files:
                ws = reader_windows(h.chunk.text)
                pairs += [(q.id, question, w, 0.0) for w in closest(question, ws, 1)]
    rnd.shuffle(pairs)
    return pairs


# ------------------------------------------------- citizens' questions and officials' answers

FAQ = ROOT.parent / "shared" / "policy_corpora" / "taipei_city_faq_zh_hant.jsonl"
FAQ_NEIGHBOURS = 8  # other questions whose answers are searched for on-topic negatives
FAQ_SAME = 0.5  # bigram Jaccard above which two questions ask the same thing
LEAD_IN = 15  # characters; a shorter first sentence of an answer only leads in


def answer_opening(sentences: list[str]) -> str | None:
    """The window an official answer opens with: its first sentence, with the second when the
    first is a short lead-in ("依據…規定:")."""
    if not sentences:
        return None
    if len(sentences[0]) < LEAD_IN and len(sentences) > 1:
        return sentences[0] + sentences[1]
    return sentences[0]


def faq_pairs(path: Path, seed: int = 0) -> tuple[list[tuple], list[tuple]]:
    """(train, held out) pairs from a government FAQ (JSON lines with ``question`` and
    ``answer``): citizens ask in their own words, officials answer in the documents'.

    A question's positive is the opening of its own answer; its negatives are the two windows
    of other answers, among those to the questions most like it (character bigrams; not the
    same question reworded), that share most bigrams with it — an answer on the topic that
    answers something else, as a near-miss draws — and one sentence of a random answer. Only
    entries whose question is a question (it asks: ?/吗/什么/如何/…) and whose answer has a
    sentence of reader length are used; every 20th is held out.
    """
    asks = ("?", "吗", "什么", "如何", "怎么", "是否", "可否", "多少", "哪")
    rows = []
    for row in read_jsonl(path):
        question = normalize(row.get("question") or "")
        sentences = [
            s for s in map(normalize, split_sentences(row.get("answer") or ""))
            if len(s) >= MIN_SENTENCE
        ]  # fmt: skip
        opening = answer_opening(sentences)
        if len(question) >= MIN_SENTENCE and opening and any(a in question for a in asks):
            rows.append((question, sentences, opening))
    rnd = random.Random(seed)
    qgrams = [bigrams(q) for q, _, _ in rows]
    train, held = [], []
    for k, (question, _, opening) in enumerate(rows):
        qb = qgrams[k]

        def jaccard(j: int, qb: set[str] = qb) -> float:
            return len(qb & qgrams[j]) / (len(qb | qgrams[j]) or 1)

        others = sorted((j for j in range(len(rows)) if j != k), key=jaccard, reverse=True)
        near = [j for j in others[: 3 * FAQ_NEIGHBOURS] if jaccard(j) < FAQ_SAME]
        near = near[:FAQ_NEIGHBOURS]
        ws = [w[2] for j in near for w in windows(rows[j][1])]
        qid = f"faq-{k}"
        pairs = [(qid, question, opening, 1.0)]
        pairs += [(qid, question, w, 0.0) for w in closest(question, ws, 2)]
        other = rnd.choice([j for j in range(len(rows)) if j != k] or [k])
        pairs.append((qid, question, rnd.choice(rows[other][1]), 0.0))
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


def write_deltas(checkpoint: Path, base_dir: Path, out_dir: Path) -> None:
    """Pack ``checkpoint``'s differences to the embedding model into ``out_dir``; record check
    logits beside them."""
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
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / rm.DELTA_FILE, **deltas)
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
    (out_dir / rm.CHECK_FILE).write_text(
        json.dumps(check, ensure_ascii=False, indent=1) + "\n", "utf-8"
    )
    print(f"wrote {out_dir / rm.DELTA_FILE} and {out_dir / rm.CHECK_FILE}", file=sys.stderr)


def initial_model(base_dir: Path, init: Path | None):
    """The embedding model with a fresh head, or the reader of the deltas in ``init``."""
    import torch
    from safetensors.numpy import load_file
    from transformers import BertConfig, BertForSequenceClassification

    from assistant import reader_model as rm

    if init is None:
        return BertForSequenceClassification.from_pretrained(base_dir, num_labels=1)
    model = BertForSequenceClassification(BertConfig.from_pretrained(base_dir, num_labels=1))
    with np.load(init / rm.DELTA_FILE) as z:
        state = rm.apply_deltas(load_file(base_dir / "model.safetensors"), dict(z))
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    return model


def load_policy(args, settings) -> tuple[list[tuple], list[tuple]]:
    """(train, held out) policy pairs: held out are those of ``--fold`` when given."""
    from assistant.answering.pipeline import PER_DOC, SEARCH_K, answer_filters
    from assistant.documents import ingest
    from assistant.evaluation.datasets import load_answer_questions
    from assistant.search.builder import build_index
    from assistant.search.retriever import Retriever

    splits = set(args.policy_splits.split(","))
    questions = [
        q for path in POLICY_QUESTIONS for q in load_answer_questions(path) if q.split in splits
    ]
    build_index([ROOT / "corpus"], args.index_dir, settings, progress=True)
    retriever = Retriever.open(args.index_dir, settings)
    chunks = ingest([ROOT / "corpus"], progress=False).chunks

    def search(question: str):
        return retriever.search(
            question, k=SEARCH_K, mode="hybrid", filters=answer_filters(None), per_doc=PER_DOC
        )

    left_out = [q for q in questions if fold_of(q.id, args.folds) == args.fold]
    kept = [q for q in questions if fold_of(q.id, args.folds) != args.fold]
    out = policy_pairs(kept, chunks, search), policy_pairs(left_out, chunks, search)
    retriever.close()
    return out


def main(argv: list[str] | None = None) -> int:
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer

    from assistant import reader_model as rm
    from assistant.config import load_settings
    from assistant.offline_model import ensure_offline_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="checkpoint directory")
    ap.add_argument("--benchmarks", type=Path, default=BENCHMARKS)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--max-length", type=int, default=160)
    ap.add_argument(
        "--init", type=Path,
        help=f"a directory with a reader's {rm.DELTA_FILE} to start from (default: the "
        "embedding model with a new head)",
    )  # fmt: skip
    ap.add_argument(
        "--policy", action="store_true",
        help="adapt on the labelled policy questions of --policy-splits (half of each batch)",
    )  # fmt: skip
    ap.add_argument("--index-dir", type=Path, help="with --policy: an index of corpus/ (written)")
    ap.add_argument(
        "--faq", type=Path, nargs="?", const=FAQ,
        help=f"adapt on a government FAQ's questions and answers (default {FAQ.name}; with "
        "--policy, mixed into the same half of each batch)",
    )  # fmt: skip
    ap.add_argument("--policy-splits", default=",".join(POLICY_SPLITS))
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument(
        "--fold", type=int, default=-1,
        help="with --policy: leave out the questions of this fold (cross-fitting)",
    )  # fmt: skip
    ap.add_argument(
        "--general-from", type=int, default=0,
        help="skip this many reading-comprehension pairs (those trained on before)",
    )  # fmt: skip
    ap.add_argument(
        "--delta-dir", type=Path, default=rm.shipped(rm.DELTA_FILE).parent,
        help="where --write puts the deltas and check logits (default: the package's)",
    )  # fmt: skip
    ap.add_argument("--write", action="store_true", help="write the deltas at the end")
    ap.add_argument("--write-only", action="store_true", help="only pack an existing --out")
    args = ap.parse_args(argv)
    if args.policy and args.index_dir is None:
        ap.error("--policy needs --index-dir")

    settings = load_settings()
    base_dir = ensure_offline_model(settings.cache_dir)
    if not args.write_only:
        torch.manual_seed(0)
        tokenizer = AutoTokenizer.from_pretrained(base_dir)
        model = initial_model(base_dir, args.init)
        model.bert.embeddings.word_embeddings.weight.requires_grad = False
        train, held = training_pairs(args.benchmarks)
        train = train[args.general_from :]
        policy, policy_held = load_policy(args, settings) if args.policy else ([], [])
        faq, faq_held = faq_pairs(args.faq) if args.faq else ([], [])
        if faq:
            policy = policy + faq
            random.Random(1).shuffle(policy)
        general = args.batch // 2 if policy else args.batch
        # without --policy the schedule spans one epoch and --steps may stop before its end
        total = args.steps if policy else len(train) // args.batch
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
        warmup = 10 if policy else 50
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / total)
        )
        loss_fn = torch.nn.BCEWithLogitsLoss()
        print(
            f"{len(train)} reading-comprehension pairs, {len(held)} held out; "
            f"{len(policy) - len(faq)} policy pairs, {len(policy_held)} held out; "
            f"{len(faq)} FAQ pairs, {len(faq_held)} held out; {total} steps",
            file=sys.stderr,
        )
        model.train()
        for step in tqdm(range(min(args.steps, total)), desc="training", unit="step"):
            batch = train[step * general : (step + 1) * general]
            if policy:
                start = step * (args.batch - general) % len(policy)
                batch = batch + (policy + policy)[start : start + args.batch - general]
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
        model.save_pretrained(args.out)
        tokenizer.save_pretrained(args.out)
        report = {"reading comprehension": evaluate(model, tokenizer, held, args.max_length)}
        if policy_held:
            report["policy, left-out fold"] = evaluate(
                model, tokenizer, policy_held, args.max_length
            )
        if faq_held:
            report["FAQ"] = evaluate(model, tokenizer, faq_held, args.max_length)
        print(f"held out: {report}")
    if args.write or args.write_only:
        write_deltas(args.out, base_dir, args.delta_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
