"""Fit how alike (cosine of the question vectors) a reader's question must be to one an editor
corrected for the correction to apply to it (bot/insights/pins.py, PIN_SIMILARITY).

Pairs from the shared evaluation sets: questions about the same article that expect the same
answer (a word of the same sentence) mean the same; questions about the same article that expect
different answers do not. Only questions that stand alone (a conversation's first turn, the
dev.jsonl questions), since a follow-up means nothing without its previous turn. The threshold is
the lowest at which at most 2% of the pairs that do not mean the same would be matched: a wrong
correction applied to another question is worse than none.

    .venv/bin/python scripts/fit_pin_threshold.py [--eval ../shared/eval]
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from index.encode.embed import DEFAULT_BACKEND, DEFAULT_MODEL_NAME, Embedder

ALLOWED_FALSE_MATCHES = 0.02


def standalone_questions(folder: Path) -> list[tuple[str, str, frozenset[str]]]:
    """(article, question, expected answer strings) of every question that stands alone."""
    found = [("lanshan", item["question"], frozenset(item["answers"]))
             for item in map(json.loads, (folder / "dev.jsonl").read_text(encoding="utf-8").splitlines()) if item["answers"]]
    for name in ("chat_dev.jsonl", "chat_news_dev.jsonl", "chat_news_colloquial.jsonl", "chat_library_dev.jsonl"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            conversation = json.loads(line)
            first = conversation["turns"][0]
            expected = frozenset(first.get("expect", {}).get("first_quote", []))
            article = conversation.get("article") or first.get("expect", {}).get("article", [""])
            article = article if isinstance(article, str) else "|".join(article)
            if expected:
                found.append((article or "lanshan", first["q"], expected))
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval")
    args = ap.parse_args()
    questions = standalone_questions(args.eval)
    embedder = Embedder(DEFAULT_BACKEND, DEFAULT_MODEL_NAME)
    vectors = np.concatenate([embedder.encode_question(q) for _, q, _ in questions]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    same, different = [], []
    for i, j in itertools.combinations(range(len(questions)), 2):
        (a, _, x), (b, _, y) = questions[i], questions[j]
        if a != b:
            continue
        (same if x & y else different).append(float(vectors[i] @ vectors[j]))
    same, different = np.array(same), np.array(different)
    threshold = float(np.quantile(different, 1 - ALLOWED_FALSE_MATCHES))
    print(f"{len(questions)} questions; pairs about one article: {len(same)} that mean the same, "
          f"{len(different)} that do not")
    print(f"threshold {threshold:.3f}: matches {np.mean(same >= threshold):.0%} of the pairs that mean the same, "
          f"{np.mean(different >= threshold):.1%} of those that do not")


if __name__ == "__main__":
    main()
