"""How long it takes to find the report a library message names, as the library grows.

Routing (bot/chat/stories.py) splits a message into the story it names and its question and
resolves the story by the words it shares with the catalogue's joined texts and titles; no
vector is read, so its cost depends on how much text the library holds, not on the model. This
builds catalogues of N reports from the real reports of a library config (cycled, each copy's
title numbered so that no two are alike) and times the split and the choice for every message of
a conversation set, as the bot does it for a message without a report in discussion.

Usage: python scripts/bench_routing.py [--sizes 309 2000 10000]
       [--config ../shared/eval/library.yaml] [--conversations ../shared/eval/chat_library_dev.jsonl]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bot.chat import stories  # noqa: E402
from bot.chat.conversation import _Titles  # noqa: E402
from index.archive.shelf import ArticleTexts, searchable_text  # noqa: E402
from index.language import text  # noqa: E402
from index.sources.article import parse_article  # noqa: E402


@dataclass
class _Catalogue:
    """The two things routing reads of the index's catalogue."""
    entries: list
    texts: ArticleTexts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[309, 2000, 10000])
    ap.add_argument("--config", type=Path, default=ROOT.parent / "shared" / "eval" / "library.yaml")
    ap.add_argument("--conversations", type=Path, default=ROOT.parent / "shared" / "eval" / "chat_library_dev.jsonl")
    args = ap.parse_args()
    articles = _articles(args.config)
    messages = [text.Message.of(turn["q"]).normal for line in args.conversations.read_text(encoding="utf-8").splitlines()
                if line.strip() for turn in json.loads(line)["turns"]]
    print(f"{len(articles)} reports read from {args.config.name}; {len(messages)} messages")
    for size in args.sizes:
        titles = [f"{articles[n % len(articles)][0]}（{n}）" for n in range(size)]
        texts = ArticleTexts([articles[n % len(articles)][1] for n in range(size)])
        finder = stories.StoryFinder(_Catalogue(titles, texts), _Titles(titles))
        finder.ranked("预热")   # the first lookup pays for nothing the others do not
        times = []
        for message in messages:
            started = time.perf_counter()
            parts = stories.split(message)
            finder.chosen(parts.reference or message)
            times.append(time.perf_counter() - started)
        times.sort()
        p50, p95 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.95))]
        size_mb = sum(len(group.string) for group in texts._groups) * 2 / 2**20
        print(f"{size:>6} reports ({size_mb:.1f} MB of joined text): routing p50 {p50 * 1000:.2f} ms, "
              f"p95 {p95 * 1000:.2f} ms")


def _articles(config: Path) -> list[tuple[str, str]]:
    """(title, searchable text in normal form) of each article the config names."""
    sources = yaml.safe_load(config.read_text(encoding="utf-8"))["articles"]
    found = []
    for source in sources:
        path = (config.parent / source).resolve()
        article = parse_article(path.read_text(encoding="utf-8"), path.stem)
        found.append((article.title, searchable_text(article)))
    return found


if __name__ == "__main__":
    main()
