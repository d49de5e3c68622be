"""How much memory a bot holds on a Milvus archive of N passages, without a Milvus server.

A Milvus Lite server holds about 25 GB of vectors at a million passages, more than a 24 GB machine
has, so this measures what the bot itself holds. It writes a synthetic archive's catalogue rows
with the archive's own code: the CMRC 2018 / DRCD contexts of ../shared/eval are repeated under
new titles until N passages are reached (as `article-qa bench --corpus` does), and
`MilvusArchive._insert_articles` makes each article's entry rows. A fresh process then loads them
the way a bot starts: the real `MilvusArchive.load()`, `Conversations` and `warm_up()`, with
pymilvus imported as a real client imports it. A stand-in client answers from the rows on disk,
paged by key as `query_iterator` pages them. No questions are asked, since there is no server to
search; `article-qa bench --corpus N --store milvus` measures a serving process with questions
where a server fits.

Usage: python scripts/bench_milvus_memory.py [--passages 1000000]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLLECTIONS = ("passages", "sections", "articles", "terms", "meta")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)   # the measured process
    options = parser.parse_args()
    if options.serve:
        serve(options.serve)
        return
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        articles, passages = write_rows(Path(folder), options.passages)
        print(f"{passages} passages in {articles} articles: rows written in {time.perf_counter() - started:.0f} s")
        done = subprocess.run([sys.executable, __file__, "--serve", folder], capture_output=True, text=True)
        print(done.stdout.strip() or done.stderr.strip()[-2000:])


def write_rows(folder: Path, passages: int) -> tuple[int, int]:
    """The entry rows of a synthetic archive, in key order, as JSON lines; and its meta row."""
    import numpy as np
    from bot.tools.corpus_bench import DEFAULT_SOURCES, _articles, _entries
    from index.archive import milvus

    class Written:   # keeps the catalogue rows the archive inserts; the rest is never read here
        def __init__(self):
            self.rows: list[dict] = []

        def insert(self, name, rows):
            self.rows += [r for r in rows if r["kind"] == "entry"]

    archive = milvus.MilvusArchive.__new__(milvus.MilvusArchive)
    archive.names, archive.client = {kind: f"synthetic_{kind}" for kind in COLLECTIONS}, Written()
    articles = _articles(_entries(DEFAULT_SOURCES), passages)
    total = sum(len(a.passages()) for a in articles)
    archive._insert_articles(articles, {}, np.zeros(total, np.uint16))
    with open(folder / "entries.jsonl", "w", encoding="utf-8") as out:
        for row in sorted(archive.client.rows, key=lambda r: r["pk"]):
            row.pop("unused", None)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    sections = sum(len(a.sections) for a in articles)
    meta = {"format": milvus.FORMAT, "layout": milvus.LAYOUT, "model": "sentence-transformers:m3e-small",
            "dimension": 512, "version": 1, "articles": len(articles), "passages": total,
            "passage_tokens": total * 30, "sections": sections, "section_tokens": sections * 300, "writing": []}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return len(articles), total


def serve(folder: Path) -> None:
    """Load the rows in `folder` as a bot starts on them, and report this process's memory."""
    from pymilvus import MilvusClient  # noqa: F401  a real client imports it: its memory counts
    from bot import runtime
    from bot.config import load_settings
    from index.archive.milvus import MilvusArchive

    archive = MilvusArchive.__new__(MilvusArchive)
    archive.uri = archive.prefix = archive.where = "synthetic"
    archive.index_kind, archive.client = "auto", _RowsOnDisk(folder)
    archive.names = {kind: f"synthetic_{kind}" for kind in COLLECTIONS}
    runtime._archive = lambda settings, index_folder: archive
    started = time.perf_counter()
    conversations = runtime.conversations(load_settings(ROOT / "config.yaml"), None, config_articles=False)
    conversations.warm_up()
    index = conversations.answerer.searcher.index
    print(f"a bot on {len(index.passage_section)} passages, loaded and warmed up in "
          f"{time.perf_counter() - started:.0f} s: {_status('VmRSS'):.0f} MB resident, {_status('VmHWM'):.0f} MB at the peak")
    sys.stdout.flush()
    os._exit(0)   # the model's and the pool's threads need no orderly end


class _RowsOnDisk:
    """The few client calls loading makes, answered from the rows write_rows() wrote."""

    def __init__(self, folder: Path):
        self.folder = folder

    def has_collection(self, name):
        return True

    def load_collection(self, name):
        pass

    def query(self, collection, filter=None, output_fields=None, **kwargs):
        if collection.endswith("_meta"):
            return [{"body": (self.folder / "meta.json").read_text(encoding="utf-8")}]
        raise RuntimeError(f"not part of this measurement: a query of {collection}")

    def query_iterator(self, collection, batch_size, filter, output_fields):
        if filter != 'kind == "entry"':
            raise RuntimeError(f"not part of this measurement: {filter}")
        return _Pages(self.folder / "entries.jsonl", batch_size)


class _Pages:
    def __init__(self, path: Path, size: int):
        self.file, self.size = open(path, encoding="utf-8"), size

    def next(self) -> list[dict]:
        page = []
        for line in self.file:
            page.append(json.loads(line))
            if len(page) == self.size:
                break
        return page

    def close(self):
        self.file.close()


def _status(key: str) -> float:
    """A line of /proc/self/status, in MB."""
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
