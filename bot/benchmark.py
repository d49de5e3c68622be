"""`article-qa bench`: latency per question and index build time, measured in this process.

The baseline, measured in the same run, is dense-only retrieval (embed the question + one FAISS
search): the ratio shows what keyword scoring, features and fusion add on top of the model.
"""
from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from bot import runtime
from bot.config import Settings
from index.store import build_index


def in_process(settings: Settings, index_dir: Path | None, questions_file: Path | None) -> str:
    """Return the benchmark table as text."""
    conversations = runtime.conversations(settings, index_dir)
    searcher = conversations.answerer.searcher
    questions = _questions(questions_file, searcher.index)
    ask = lambda q: conversations.reply(q, q)  # noqa: E731  (one conversation per question)
    for q in questions[:3]:
        ask(q)   # warm caches, as a running bot would be
    full = _timed(ask, questions)
    baseline = _timed(lambda q: searcher.index.dense.search(searcher.embedder.encode([q], kind="query"), 3),
                      questions)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        build_index(searcher.index.articles, searcher.embedder, tmp, settings.retrieval.faiss)
        build_seconds = time.perf_counter() - started
    rows = [("questions", f"{len(questions)}"),
            ("answer p50 / p95 (ms)", f"{_pct(full, 50):.1f} / {_pct(full, 95):.1f}"),
            ("dense-only baseline p50 / p95 (ms)", f"{_pct(baseline, 50):.1f} / {_pct(baseline, 95):.1f}"),
            ("ratio answer / baseline (p50)", f"{_pct(full, 50) / max(_pct(baseline, 50), 1e-9):.2f}"),
            ("index build, model loaded (s)", f"{build_seconds:.2f} for {len(searcher.index.passages)} passages")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _questions(file: Path | None, index) -> list[str]:
    if file:
        return [json.loads(line)["question"] for line in file.read_text(encoding="utf-8").splitlines()
                if line.strip()]
    # Without a question file, ask about each passage: its first clause turned into a question.
    out = []
    for p in index.passages:
        clause = re.split(r"[，,；;。！？!?]", p.text)[0]
        if len(clause) >= 6:
            out.append(clause[:20] + "是什么？")
    return out[:200] or ["这篇文章讲了什么？"]


def _timed(func, questions) -> list[float]:
    times = []
    for q in questions:
        started = time.perf_counter()
        func(q)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]
