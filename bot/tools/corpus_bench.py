"""`article-qa bench --corpus N`: how the index scales, at N passages of real Chinese text.

The passages come from SQuAD-style files (CMRC 2018, DRCD): each entry's context becomes an
article; the contexts are repeated under new titles ("…（第2份）") until the index holds N passages.
For each FAISS kind the report gives the build rate, the folder's size, and — through a fresh
`article-qa ask --jsonl` process, as a user of the CLI would see it — per-question p50/p95 over
the files' own questions and that process's peak memory (its serving footprint). With
`--store milvus`, the same corpus is then written to Milvus (a Milvus Lite server) and measured the
same way, side by side.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.config import Settings
from bot.tools.measure import peak_rss_mb, percentile as _pct
from bot.runtime import embedder
from index.sources.article import Article, parse_article
from index.archive.store import build_index

DEFAULT_SOURCES = [Path(__file__).resolve().parents[3] / "shared" / "eval" / name
                   for name in ("cmrc2018_trial.json", "drcd_test.json")]


def corpus(settings: Settings, passages: int, kinds: list[str], sources: list[Path], questions: int = 200,
           stores: tuple[str, ...] = ("embedded",)) -> str:
    entries = _entries(sources or [s for s in DEFAULT_SOURCES if s.is_file()])
    if not entries:
        return "no source files: give --source FILE.json (SQuAD-style, e.g. CMRC 2018)"
    articles = _articles(entries, passages)
    asked = [q for _, _, qs in entries for q in qs][:questions]
    model = _Remembering(embedder(settings))
    rows = [("passages", f"{sum(len(list(a.passages())) for a in articles)} in {len(articles)} articles")]
    for n, kind in enumerate(kinds):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            index = build_index(articles, model, folder, kind)
            seconds = time.perf_counter() - started
            size = sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())
            latencies, peak = _serve(settings, Path(folder), asked)
            reused = " (vectors of the first build reused)" if n else ""
            rows += [(f"{kind}: build", f"{seconds:.1f} s, {len(index.passages) / seconds:.0f} passages/s{reused}"),
                     (f"{kind}: index size", f"{size / 2**20:.0f} MB"),
                     (f"{kind}: per question p50 / p95", f"{_pct(latencies, 50):.1f} / {_pct(latencies, 95):.1f} ms "
                                                         f"({len(latencies)} questions, ask --jsonl)"),
                     (f"{kind}: serving process peak RSS", f"{peak:.0f} MB")]
            del index
            rows += _change(Path(folder), kind, entries[0][1])
    if "milvus" in stores:
        rows += _milvus(settings, articles, model, asked, entries[0][1])
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


class _Remembering:
    """The embedder, remembering its vectors so that each FAISS kind after the first is built
    without embedding the same passages again."""

    def __init__(self, model):
        self._model, self._vectors = model, {}

    def __getattr__(self, name):
        return getattr(self._model, name)

    def encode(self, texts, kind="passage", batch_size=32, max_tokens=None):
        key = (tuple(texts), max_tokens)
        if key not in self._vectors:
            self._vectors[key] = self._model.encode(texts, kind, batch_size, max_tokens)
        return self._vectors[key]


def _entries(sources: list[Path]) -> list[tuple[str, str, list[str]]]:
    """(title, context, questions) of every paragraph of the SQuAD-style files."""
    out = []
    for source in sources:
        for entry in json.loads(source.read_text(encoding="utf-8"))["data"]:
            for paragraph in entry["paragraphs"]:
                out.append((entry.get("title") or paragraph["context"][:10], paragraph["context"],
                            [qa["question"] for qa in paragraph["qas"]]))
    return out


def _articles(entries, passages: int) -> list[Article]:
    """Articles made of the entries' contexts, repeated under new titles until `passages` are reached."""
    articles, total, copy = [], 0, 1
    while total < passages:
        for title, context, _ in entries:
            name = title if copy == 1 else f"{title}（第{copy}份）"
            article = parse_article(f"{name}\n\n{context}\n", article_id=f"a{len(articles)}")
            articles.append(article)
            total += sum(1 for _ in article.passages())
            if total >= passages:
                break
        copy += 1
    return articles


def _milvus(settings: Settings, articles: list[Article], model, asked: list[str], context: str) -> list[tuple[str, str]]:
    """The same corpus in Milvus (a Milvus Lite server in its own process, HNSW as a server gets):
    writing it (vectors reused), questions through `ask --jsonl` and that process's memory — the
    archive's is the server's — then --add and --remove."""
    from bot.tools.milvus_server import milvus_lite_server
    from index.archive.milvus import MilvusArchive
    with tempfile.TemporaryDirectory() as folder, milvus_lite_server(Path(folder) / "milvus") as (uri, server):
        started = time.perf_counter()
        archive = MilvusArchive(uri, "bench", "auto")
        written = archive.rebuild(articles, {}, model).passages
        seconds = time.perf_counter() - started
        config = Path(folder) / "index-config.yaml"
        config.write_text(f"store: {{backend: milvus, uri: '{uri}', collection: bench}}\n"
                          "insights: {enabled: false}\n", encoding="utf-8")
        latencies, peak = _serve(settings, Path(folder) / "index", asked, config)
        return [("milvus: build", f"{seconds:.1f} s, {written / seconds:.0f} passages/s (vectors of the first build reused)"),
                ("milvus: per question p50 / p95", f"{_pct(latencies, 50):.1f} / {_pct(latencies, 95):.1f} ms "
                                                   f"({len(latencies)} questions, ask --jsonl)"),
                ("milvus: serving process peak RSS", f"{peak:.0f} MB (the archive is in the server)"),
                ("milvus: Milvus Lite server peak RSS", f"{peak_rss_mb(server.pid):.0f} MB"),
                *_change(Path(folder) / "index", "milvus", context, config)]


def _change(folder: Path, kind: str, context: str, config: Path | None = None) -> list[tuple[str, str]]:
    """Wall time of `article-qa index --add` of one more article and of `--remove` of it, as an
    admin would run them on the index (a fresh process each: loading and checking the index,
    parsing, embedding the new article alone, writing the folder or the archive)."""
    cli = str(Path(sys.executable).parent / "article-qa")
    if config is None:
        config = folder.parent / f"{folder.name}-config.yaml"
        config.write_text(f"retrieval: {{faiss: {kind}}}\n", encoding="utf-8")
    article = folder.parent / f"{folder.name}-added.txt"
    article.write_text(f"新增的一篇文章\n\n{context}\n", encoding="utf-8")
    rows = []
    for label, args in (("add one article", ["--add", str(article)]), ("remove it", ["--remove", article.stem])):
        started = time.perf_counter()
        done = subprocess.run([cli, "--config", str(config), "index", *args, "--index-dir", str(folder)],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - started
        rows.append((f"{kind}: {label} (article-qa index {args[0]})",
                     f"{seconds:.1f} s" if done.returncode == 0 else f"failed: {done.stderr.strip()[-200:]}"))
    return rows


def _serve(settings: Settings, folder: Path, questions: list[str], config: Path | None = None
           ) -> tuple[list[float], float]:
    """Per-question milliseconds through a fresh `ask --jsonl` on the index, and its peak RSS (MB)."""
    cli = str(Path(sys.executable).parent / "article-qa")
    options = ["--config", str(config)] if config else []
    process = subprocess.Popen([cli, *options, "ask", "--jsonl", "--index-dir", str(folder)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1)
    latencies = []
    try:
        for n, question in enumerate(questions):
            started = time.perf_counter()
            process.stdin.write(json.dumps({"question": question}, ensure_ascii=False) + "\n")
            process.stdin.flush()
            if not process.stdout.readline():
                raise RuntimeError("article-qa ask --jsonl stopped")
            if n >= 3:   # the first answers warm caches up
                latencies.append((time.perf_counter() - started) * 1000)
        peak = peak_rss_mb(process.pid)
    finally:
        process.stdin.close()
        process.wait(60)
    return latencies, peak

