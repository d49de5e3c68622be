"""`article-qa bench`: latency per question and index build time, measured in this process.

Baselines measured in the same run: the same answers with the question embedded through PyTorch
(sentence-transformers) instead of ONNX Runtime, and dense-only retrieval (embed the question +
one FAISS search), which shows what keyword scoring, features and fusion add on top of the model.
A breakdown says where each millisecond of an answer goes.
"""
from __future__ import annotations

import json
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bot import runtime
from bot.config import Settings
from bot.tools.measure import percentile as _pct
from bot.chat.render import terminal
from index.encode.embed import Embedder, EmbeddingError
from index.archive.store import build_index


def in_process(settings: Settings, index_dir: Path | None, questions_file: Path | None) -> str:
    """Return the benchmark table as text."""
    conversations = runtime.conversations(settings, index_dir)
    conversations.warm_up()   # as the bot does at start
    searcher = conversations.answerer.searcher
    questions = _questions(questions_file, searcher.index)

    def ask(question: str) -> str:   # one conversation per question, rendered as the CLI would
        return terminal(conversations.reply(question, question))
    for q in questions[:3]:
        ask(q)   # warm caches, as a running bot would be
    full = _timed(ask, questions)
    stages = _breakdown(ask, questions, searcher)
    baseline = _timed(lambda q: searcher.index.dense.search(searcher.embedder.encode([q], kind="query"), 3),
                      questions)
    rows = [("questions", f"{len(questions)}"),
            (f"answer p50 / p95 (ms), {searcher.embedder.runtime}", f"{_pct(full, 50):.1f} / {_pct(full, 95):.1f}")]
    rows += _pytorch_rows(settings, searcher, ask, questions, full)
    rows += [("dense-only baseline p50 / p95 (ms)", f"{_pct(baseline, 50):.1f} / {_pct(baseline, 95):.1f}"),
             ("ratio answer / dense-only (p50)", f"{_pct(full, 50) / max(_pct(baseline, 50), 1e-9):.2f}")]
    rows += [(f"  {stage} (ms, mean)", f"{ms:.2f}") for stage, ms in stages]
    rows += _recording_rows(conversations, ask, questions)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        build_index(searcher.index.articles, searcher.embedder, tmp, settings.retrieval.faiss)
        build_seconds = time.perf_counter() - started
    n = len(searcher.index.passages)
    rows.append(("index build, model loaded", f"{build_seconds:.2f} s for {n} passages ({n / build_seconds:.0f}/s)"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _recording_rows(conversations, ask, questions) -> list[tuple[str, str]]:
    """The same answers with each one recorded for the editor's report, alternating passes with
    and without, against a scratch insights database."""
    from bot.insights.record import Insights
    with tempfile.TemporaryDirectory() as tmp:
        recorder = Insights(Path(tmp) / "insights.sqlite3",
                            embed=lambda q: conversations.answerer.searcher.embedder.encode_question(q)[0])
        on, off = [], []
        for _ in range(3):
            conversations.recorder = recorder
            on += _timed(ask, questions)
            conversations.recorder = None
            off += _timed(ask, questions)
        recorder.close()
    return [("answer p50 / p95 (ms), recording on", f"{_pct(on, 50):.2f} / {_pct(on, 95):.2f}"),
            ("answer p50 / p95 (ms), recording off", f"{_pct(off, 50):.2f} / {_pct(off, 95):.2f}"),
            ("recording cost per question (p50, ms)", f"{_pct(on, 50) - _pct(off, 50):+.2f}")]


def _pytorch_rows(settings, searcher, ask, questions, full) -> list[tuple[str, str]]:
    """The same answers with the question embedded through PyTorch: the baseline of the ONNX path."""
    if searcher.embedder.runtime != "onnx":
        return []
    try:
        torch_embedder = Embedder(settings.embedding.backend, settings.embedding.model, runtime="torch")
    except EmbeddingError as exc:
        return [("PyTorch baseline", f"not measured: {exc}")]
    onnx_embedder, searcher.embedder = searcher.embedder, torch_embedder
    try:
        for q in questions[:3]:
            ask(q)
        with_torch = _timed(ask, questions)
    finally:
        searcher.embedder = onnx_embedder
    return [("answer p50 / p95 (ms), PyTorch", f"{_pct(with_torch, 50):.1f} / {_pct(with_torch, 95):.1f}"),
            ("ratio PyTorch / ONNX (p50)", f"{_pct(with_torch, 50) / max(_pct(full, 50), 1e-9):.2f}")]


def _breakdown(ask, questions, searcher) -> list[tuple[str, float]]:
    """Mean milliseconds per question spent in each stage (each stage's own time, nested stages
    excluded), by timing wrappers put around the stages' methods for one more pass."""
    spent: dict[str, float] = defaultdict(float)
    stack: list[list[float]] = []
    embedder, index = searcher.embedder, searcher.index
    encoder = embedder.onnx_encoder
    stages = [(searcher, "analyse", "question words (jieba, focus)"),
              (searcher, "_candidates", "FAISS search + candidate union"),
              (index.passage_keywords, "scores", "BM25"), (index.section_keywords, "scores", "BM25"),
              (searcher, "_feature_matrix", "features"),
              (searcher.ranker, "logits", "ranking networks"), (searcher.refusal, "logits", "ranking networks"),
              (searcher, "abstain_signals", "refusal signals")]
    if encoder is not None:
        stages += [(encoder, "tokenise", "tokenise (tokenizers)"), (encoder, "run_model", "encode (ONNX Runtime)")]
    else:
        stages += [(embedder, "encode", "encode (PyTorch)")]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in stages]
    for owner, name, stage in stages:
        setattr(owner, name, _watched(getattr(owner, name), stage, spent, stack))
    try:
        total = sum(_timed(ask, questions)) / 1000
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)
    spent["the rest (intent, conversation, answer, rendering)"] = total - sum(spent.values())
    return [(stage, seconds * 1000 / len(questions)) for stage, seconds in spent.items()]


def _watched(method, stage: str, spent: dict, stack: list):
    def timed(*args, **kwargs):
        started = time.perf_counter()
        stack.append([0.0])
        try:
            return method(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            nested = stack.pop()[0]
            spent[stage] += elapsed - nested
            if stack:
                stack[-1][0] += elapsed
    return timed


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
        if len(out) == 200:   # an archive read by key is not read to its end
            break
    return out or ["这篇文章讲了什么？"]


def _timed(func, questions) -> list[float]:
    times = []
    for q in questions:
        started = time.perf_counter()
        func(q)
        times.append((time.perf_counter() - started) * 1000)
    return times

