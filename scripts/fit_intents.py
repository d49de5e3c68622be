"""Fit the intent classifier (writes bot/chat/intent_model.npz) and report its cross-validated accuracy.

Data: bot/chat/intent_examples.txt (templates of reader messages by kind, slots filled from its
lists), each message also in Traditional characters and with common openings and endings
("请问", "？", "呀"); and the questions of SQuAD-style files (CMRC 2018 trial, DRCD test) as more
examples of "question". Messages that appear in ../shared/eval's conversations are left out, so
those stay a test of phrasings never seen.

Features: the embedding model's vector of the message (the default model's, unless --backend/--model) and its character
1–3-grams, hashed and weighted lower (bot/chat/intent.py computes the same at answer time). A second
head over the n-grams alone serves any other model. Model: multinomial logistic regression
(scikit-learn), classes weighted by the square root of their rarity.
Cross-validation: 5 folds by template (every message made from one template, or of one SQuAD entry,
in the same fold), so the score is for phrasings the classifier has not seen.

Usage: python scripts/fit_intents.py ../shared/eval/cmrc2018_trial.json ../shared/eval/drcd_test.json
Takes about a minute on 2 cores (most of it the 5 cross-validation fits).
"""
from __future__ import annotations

import argparse
import functools
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bot.chat.intent import MIN_PROBABILITY, NGRAM_SLOTS, NGRAM_WEIGHT, model_file, ngram_slots  # noqa: E402
from index.language import text  # noqa: E402
from index.encode.embed import DEFAULT_BACKEND, DEFAULT_MODEL_NAME, Embedder  # noqa: E402

MODEL = (DEFAULT_BACKEND, DEFAULT_MODEL_NAME)

EXAMPLES = ROOT / "bot" / "chat" / "intent_examples.txt"
FILLS_PER_TEMPLATE = 8
OPENINGS = ["", "", "请问", "我想问一下，", "那", "想知道"]
ENDINGS = ["", "？", "?", "呀", "啊？", "呢", "。"]
SQUAD_QUESTIONS = 600


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("squad", nargs="*", help="SQuAD-style files whose questions are more examples of 'question'")
    ap.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    ap.add_argument("--backend", default=MODEL[0])
    ap.add_argument("--model", default=MODEL[1], help="fit on another model's vectors (written to "
                    "bot/chat/intent_model-BACKEND-MODEL.npz, which that model's indexes use)")
    args = ap.parse_args()
    rng = random.Random(0)
    held_out = _evaluation_messages(args.eval_dir)
    messages, labels, groups = _expand(EXAMPLES.read_text(encoding="utf-8"), rng, held_out)
    for path in args.squad:
        for question, entry in _squad_questions(Path(path), rng):
            if text.Message.of(question).normal not in held_out:
                messages.append(question)
                labels.append("question")
                groups.append(f"squad:{entry}")
    kinds = sorted(set(labels))
    y = np.array([kinds.index(label) for label in labels])
    print(f"{len(messages)} messages: " + ", ".join(f"{k} {labels.count(k)}" for k in kinds))
    ngrams = _matrix(messages)
    embedder = Embedder(args.backend, args.model)
    out = model_file(embedder.name)
    vectors = embedder.encode([text.Message.of(m).question for m in messages], kind="query")
    from scipy import sparse
    both = sparse.hstack([ngrams * NGRAM_WEIGHT, sparse.csr_matrix(vectors)]).tocsr()
    groups = np.array(groups)
    print(f"vectors of {embedder.name} and n-grams:")
    _cross_validate(both, y, groups, kinds)
    print("n-grams alone (any other model):")
    _cross_validate(ngrams, y, groups, kinds)
    with_vectors, alone = _fit(both, y), _fit(ngrams, y)
    np.savez_compressed(out, kinds=np.array(kinds), model=np.array(embedder.name),
                        ngram_weights=(with_vectors.coef_[:, :NGRAM_SLOTS] * NGRAM_WEIGHT).astype(np.float32),
                        vector_weights=with_vectors.coef_[:, NGRAM_SLOTS:].astype(np.float32),
                        bias=with_vectors.intercept_.astype(np.float32),
                        alone_weights=alone.coef_.astype(np.float32), alone_bias=alone.intercept_.astype(np.float32))
    print(f"wrote {out.relative_to(ROOT)}")


def _expand(source: str, rng: random.Random, held_out: set[str]) -> tuple[list[str], list[str], list[str]]:
    """Messages, labels and template groups from the examples file."""
    slots, templates = {}, []
    for line in source.splitlines():
        if line.startswith("@"):
            name, _, values = line[1:].partition("\t")
            slots[name] = values.split()
        elif line.strip() and not line.startswith("#"):
            kind, _, template = line.partition("\t")
            templates.append((kind, template))
    messages, labels, groups = [], [], []
    for number, (kind, template) in enumerate(templates):
        names = re.findall(r"\{(\w)\}", template)
        fills = FILLS_PER_TEMPLATE if names else 1
        seen = set()
        for _ in range(fills):
            message = re.sub(r"\{(\w)\}", lambda m: rng.choice(slots[m.group(1)]), template)
            for variant in _variants(message, rng):
                key = text.Message.of(variant).normal
                if key not in seen and key not in held_out:
                    seen.add(key)
                    messages.append(variant)
                    labels.append(kind)
                    groups.append(f"template:{number}")
    return messages, labels, groups


def _variants(message: str, rng: random.Random) -> list[str]:
    """The message with an opening and an ending, and a Traditional copy of that."""
    opening, ending = rng.choice(OPENINGS), rng.choice(ENDINGS)
    if re.search(r"[a-z]", message, re.I):
        opening = ""
    varied = opening + message.rstrip("？?") + ending
    return [message, varied, _to_traditional(varied)]


def _to_traditional(message: str) -> str:
    return _s2t().convert(message)


@functools.lru_cache(maxsize=1)
def _s2t():
    import opencc
    return opencc.OpenCC("s2t")


def _squad_questions(path: Path, rng: random.Random) -> list[tuple[str, str]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    questions = [(qa["question"], str(a.get("id", a.get("title")))) for a in data for p in a["paragraphs"]
                 for qa in p["qas"]]
    rng.shuffle(questions)
    return questions[:SQUAD_QUESTIONS]


def _evaluation_messages(folder: Path) -> set[str]:
    """Every message of the shared conversations and question files, in normal form."""
    held_out = set()
    for path in folder.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            for question in [item.get("question")] + [t.get("q") for t in item.get("turns", [])]:
                if question:
                    held_out.add(text.Message.of(question).normal)
    return held_out


def _matrix(messages: list[str]):
    from scipy import sparse
    rows = [ngram_slots(text.Message.of(m).normal) for m in messages]
    return sparse.csr_matrix((np.concatenate([v for _, v in rows]),
                              np.concatenate([s for s, _ in rows]),
                              np.cumsum([0] + [len(s) for s, _ in rows])), shape=(len(rows), NGRAM_SLOTS))


def _fit(X, y):
    """Classes weighted by the square root of their rarity: fully balanced, each of the few
    examples of a rare kind ("place") would outweigh twenty questions, and a question that merely
    resembles one ("记者从哪里获悉了这个消息") would be taken for it."""
    from sklearn.linear_model import LogisticRegression
    counts = np.bincount(y)
    weights = np.sqrt(counts.max() / counts)[y]
    return LogisticRegression(C=32.0, max_iter=3000).fit(X, y, sample_weight=weights)


def _cross_validate(X, y, groups, kinds) -> None:
    """Accuracy per kind on held-out templates, deciding as bot/chat/intent.py does (an
    article-level kind only when it is at least MIN_PROBABILITY likely, else "question")."""
    from sklearn.model_selection import GroupKFold
    question = kinds.index("question")
    predicted = np.zeros_like(y)
    for train, test in GroupKFold(n_splits=5).split(X, y, groups):
        p = _fit(X[train], y[train]).predict_proba(X[test])
        best = p.argmax(axis=1)
        predicted[test] = np.where(p.max(axis=1) >= MIN_PROBABILITY, best, question)
    print(f"cross-validated by template: accuracy {np.mean(predicted == y):.3f}")
    for k, kind in enumerate(kinds):
        mine = y == k
        said = predicted == k
        print(f"  {kind:<10} recall {np.mean(predicted[mine] == k):.3f}  precision "
              f"{np.mean(y[said] == k) if said.any() else 0:.3f}  ({mine.sum()})")


if __name__ == "__main__":
    main()
