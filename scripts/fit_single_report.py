"""Measure how a conversation about ONE report should refuse: the corpus gate alone, the corpus
gate with the evidence-of-absence rules (bot/chat/absence.py), a lower gate that would quote
the closest sentence of the report more often, and what the bot serves (absence refuses; below
the gate, the closest sentence is quoted said to be unsure).

Honest data only, never the evaluation conversations: SQuAD-style passages (CMRC 2018 trial, DRCD
test), each one a report of its own (the question is asked within its passage, as in a chat about
one forwarded report), and the same passages with the answering sentence deleted — a near miss:
the report is on the topic, the answer is not in it. Scored by
    answered correctly − COST_OF_A_WRONG_QUOTE × (answered wrongly, near misses included),
on two halves split by passage (the gate is chosen on one, reported on both).

Usage: python scripts/fit_single_report.py ../shared/eval/cmrc2018_trial.json ../shared/eval/drcd_test.json
       [--passages 120]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bot.chat import absence  # noqa: E402
from bot.chat.answer import Answerer  # noqa: E402
from index.language import text  # noqa: E402
from index.sources.article import parse_article  # noqa: E402
from index.encode.embed import DEFAULT_BACKEND, DEFAULT_MODEL, DEFAULT_MODEL_NAME, Embedder  # noqa: E402
from index.search.retrieve import Searcher, fitted_networks  # noqa: E402
from index.archive.store import build_index, load_index  # noqa: E402

# Quoting a sentence that does not answer misleads; refusing one that does only disappoints.
COST_OF_A_WRONG_QUOTE = 2.0
GRID = np.round(np.arange(0.0, 0.61, 0.02), 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sources", nargs="+", type=Path)
    ap.add_argument("--passages", type=int, default=120, help="passages drawn from each source")
    ap.add_argument("--seed", type=int, default=25)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    items = []
    for source in args.sources:
        data = json.loads(source.read_text(encoding="utf-8"))["data"]
        paragraphs = [(a.get("title", "") or "untitled", p) for a in data for p in a["paragraphs"]]
        items += rng.sample(paragraphs, min(args.passages, len(paragraphs)))
    embedder = Embedder(DEFAULT_BACKEND, DEFAULT_MODEL_NAME)
    whole, deleted, questions = _articles(items)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, articles in (("whole", whole), ("deleted", deleted)):
            build_index(articles, embedder, Path(tmp) / name)
        answerers = {name: Answerer(Searcher(load_index(Path(tmp) / name), embedder), threshold=1.1)
                     for name in ("whole", "deleted")}
        for article_id, question, answers, near_miss in questions:
            answerer = answerers["deleted" if near_miss else "whole"]
            rows.append(_row(answerer, article_id, question, answers, near_miss))
    by_passage = sorted({r["article"] for r in rows})
    rng.shuffle(by_passage)
    fit_half = set(by_passage[: len(by_passage) // 2])
    fit = [r for r in rows if r["article"] in fit_half]
    test = [r for r in rows if r["article"] not in fit_half]
    corpus = float(json.loads(fitted_networks(DEFAULT_MODEL).read_text())["refusal"]["threshold"])
    best = max(GRID, key=lambda t: _utility(fit, t)[0])
    print(f"{len(rows)} questions ({sum(r['near_miss'] for r in rows)} near misses) over {len(by_passage)} passages")
    for name, part in (("fit", fit), ("held out", test)):
        for label, threshold, rules in (("corpus gate", corpus, False), ("+ absence", corpus, True),
                                        ("+ absence@1", corpus, "first"), ("lower gate", 0.0, True),
                                        ("best gate", best, True)):
            utility, counts = _utility(part, threshold, rules)
            print(f"{name:9s} {label:12s} t={threshold:.2f}: utility {utility:.0f}; " + ", ".join(
                f"{k} {v}" for k, v in counts.items()))
        print(f"{name:9s} as served (absence refuses, below t={corpus:.2f} the closest sentence said to be "
              f"only that): " + ", ".join(f"{k} {v}" for k, v in _as_served(part, corpus).items()))


def _articles(items):
    """Each passage as a report, the same with its answering sentence deleted, and the questions:
    (article id, question, answers, near miss)."""
    whole, deleted, questions = [], [], []
    for n, (title, paragraph) in enumerate(items):
        context = paragraph["context"]
        article_id = f"p{n:04d}"
        whole.append(parse_article(f"{title}\n\n{context}\n", article_id))
        for m, qa in enumerate(paragraph["qas"][:2]):
            answers = [a["text"] for a in qa["answers"] if a["text"] in context]
            if not answers:
                continue
            start = qa["answers"][0].get("answer_start", context.find(answers[0]))
            reworded = _reworded(qa["question"], _sentence_at(context, start))
            asked = [qa["question"]] + ([reworded] if reworded else [])
            questions += [(article_id, q, answers, False) for q in asked]
            cut = _without_sentence(context, start)
            if cut and not any(a in cut for a in answers):
                near_id = f"{article_id}-{m}"
                deleted.append(parse_article(f"{title}\n\n{cut}\n", near_id))
                questions += [(near_id, q, answers, True) for q in asked]
    return whole, deleted, questions


def _reworded(question: str, sentence: str) -> str:
    """The question as a reader who did not copy the report's words asks it: without its rarest
    word that the answering sentence shares (spoken questions share at most one content word with
    the sentence that answers them). "" when it shares none."""
    shared = [w for w in text.content_words(question) if w in sentence and len(w) >= 2]
    if not shared:
        return ""
    rarest = max(shared, key=text.word_weight)
    reworded = question.replace(rarest, "", 1).strip()
    return reworded if len(reworded) >= 4 else ""


def _sentence_at(context: str, at: int) -> str:
    ends = [m.end() for m in re.finditer(r"[。！？!?]+[”’」』\"']?", context)]
    start = max([e for e in ends if e <= at], default=0)
    end = min([e for e in ends if e > at], default=len(context))
    return context[start:end]


def _without_sentence(context: str, at: int) -> str:
    """The context without the sentence that holds position `at`."""
    ends = [m.end() for m in re.finditer(r"[。！？!?]+[”’」』\"']?", context)]
    start = max([e for e in ends if e <= at], default=0)
    end = min([e for e in ends if e > at], default=len(context))
    return (context[:start] + context[end:]).strip()


def _row(answerer: Answerer, article_id: str, question: str, answers: list[str], near_miss: bool) -> dict:
    message = text.Message.of(question)
    result = answerer.searcher.search(message, k=3, article_id=article_id)
    best = result.hits[0] if result.hits else None
    quoted = best.passage.text if best else ""
    lacking = absence.lacking(message.question, [answerer.searcher.passage_text(h.number) for h in result.hits],
                              answerer.searcher.article_text(article_id)) if best else "nothing"
    first_only = absence.lacking(message.question, [answerer.searcher.passage_text(best.number)],
                                 answerer.searcher.article_text(article_id)) if best else "nothing"
    return {"article": article_id.split("-")[0], "confidence": result.confidence, "near_miss": near_miss,
            "question": question, "lacking_first": bool(first_only),
            "correct": not near_miss and any(a in quoted for a in answers), "lacking": bool(lacking)}


def _utility(rows: list[dict], threshold: float, rules: bool | str = True) -> tuple[float, dict]:
    """rules: False (the gate alone), True (absence judged on the three closest sentences) or
    "first" (on the first alone)."""
    counts = {"answered right": 0, "answered wrong": 0, "near misses quoted": 0, "refused": 0}
    for r in rows:
        lacks = r["lacking_first"] if rules == "first" else (rules and r["lacking"])
        answered = r["confidence"] >= threshold and not lacks
        if not answered:
            counts["refused"] += 1
        elif r["near_miss"]:
            counts["near misses quoted"] += 1
        elif r["correct"]:
            counts["answered right"] += 1
        else:
            counts["answered wrong"] += 1
    wrong = counts["answered wrong"] + counts["near misses quoted"]
    return counts["answered right"] - COST_OF_A_WRONG_QUOTE * wrong, counts


def _as_served(rows: list[dict], threshold: float) -> dict:
    """What the bot does in a conversation about one report: refuse what the report plainly
    lacks; quote the closest sentence, said to be unsure, below the gate; answer above it."""
    counts = {"sure right": 0, "sure wrong": 0, "sure near misses": 0, "unsure right": 0,
              "unsure wrong": 0, "unsure near misses": 0, "refused": 0}
    for r in rows:
        if r["lacking"]:
            counts["refused"] += 1
            continue
        how = "sure" if r["confidence"] >= threshold else "unsure"
        what = "near misses" if r["near_miss"] else ("right" if r["correct"] else "wrong")
        counts[f"{how} {what}"] += 1
    return counts


if __name__ == "__main__":
    main()
