"""`article-qa eval`: hit@1, hit@3 and abstentions on labelled questions.

- `.jsonl`: {"question", "answers": [...]} per line, asked against the configured (or given) index;
  an empty answers list means the article does not hold the answer.
- SQuAD-style `.json` (CMRC 2018): corpus mode — every passage becomes an article, all in one
  temporary index, and every question is asked against it.
A question is a hit@k when an accepted answer appears verbatim in one of the first k quotes.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from bot import runtime
from bot.config import Settings
from bot.errors import UserError


def run(settings: Settings, file: Path, index_dir: Path | None, limit: int = 0) -> str:
    """Evaluate and return the report text."""
    if not file.is_file():
        raise UserError(f"no question file at {file}")
    if file.suffix == ".json":
        return _corpus(settings, file, limit)
    items = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return _report(runtime.conversations(settings, index_dir), items)


def _corpus(settings: Settings, file: Path, limit: int) -> str:
    data = json.loads(file.read_text(encoding="utf-8"))["data"]
    contexts = [(a.get("title", "untitled"), p) for a in data for p in a["paragraphs"]]
    contexts = contexts[:limit] if limit else contexts
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for n, (title, paragraph) in enumerate(contexts):
            files.append(Path(tmp) / f"article-{n:04d}.txt")
            files[-1].write_text(f"{title}\n\n{paragraph['context']}\n", encoding="utf-8")
        started = time.time()
        runtime.build(settings, files, Path(tmp) / "index")
        built = f"corpus: {len(files)} articles, index built in {time.time() - started:.1f}s\n"
        items = [{"question": qa["question"], "answers": [a["text"] for a in qa["answers"]
                                                           if a["text"] in paragraph["context"]]}
                 for _, paragraph in contexts for qa in paragraph["qas"]]
        items = [it for it in items if it["answers"]]
        return built + _report(runtime.conversations(settings, Path(tmp) / "index"), items)


def _report(conversations, items: list[dict]) -> str:
    hit1 = hit3 = answerable = false_abstain = unanswerable = refused = 0
    started = time.time()
    for number, item in enumerate(items):
        answer = conversations.reply(f"question-{number}", item["question"])   # each its own conversation
        quotes = [q.text for q in answer.quotes]
        if item["answers"]:
            answerable += 1
            false_abstain += not answer.answered
            hit1 += bool(quotes) and any(a in quotes[0] for a in item["answers"])
            hit3 += any(a in q for q in quotes[:3] for a in item["answers"])
        else:
            unanswerable += 1
            refused += not answer.answered
    n = max(answerable, 1)
    return (f"asked {len(items)} in {time.time() - started:.1f}s\n"
            f"answerable {answerable}: hit@1 {hit1 / n:.3f} ({hit1}), hit@3 {hit3 / n:.3f} ({hit3}), "
            f"refused {false_abstain}\n"
            f"unanswerable {unanswerable}: refused {refused}")
