"""How long `article-qa report` takes, and how much memory, over many recorded questions.

Fills a scratch insights database with N rows (default 100,000) made of real questions (CMRC 2018
trial and DRCD test, in ../shared/eval), a third of them refused and carrying their vector from
the index's encoder, spread over 30 days; then runs `article-qa report --since 30d --png` as a
subprocess and reports its wall time and peak resident memory.

Usage: python scripts/bench_report.py [--rows 100000]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bot.insights.record import Insights, connect  # noqa: E402
from index.encode.embed import DEFAULT_BACKEND, DEFAULT_MODEL_NAME, Embedder  # noqa: E402
from index.archive.store import ENCODER_DIR  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    questions = _questions()
    embedder = Embedder(DEFAULT_BACKEND, DEFAULT_MODEL_NAME, encoder_dir=ROOT / "data" / "index" / ENCODER_DIR)
    refused = questions[: len(questions) // 3]
    vectors = embedder.encode(refused, kind="query").astype(np.float16)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "insights.sqlite3"
        Insights(path).close()   # schema and key
        filled = time.perf_counter()
        _fill(path, args.rows, questions, dict(zip(refused, vectors)))
        print(f"{'rows recorded':<40}{args.rows} ({len(questions)} distinct questions, filled in "
              f"{time.perf_counter() - filled:.0f} s)")
        config = Path(tmp) / "config.yaml"
        config.write_text(f"insights: {{path: '{path}'}}\n", encoding="utf-8")
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result = subprocess.run([str(Path(sys.executable).parent / "article-qa"), "--config", str(config), "report",
                                 "--since", "30d", "--png", str(Path(tmp) / "report.png")],
                                capture_output=True, text=True)
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if result.returncode:
            sys.exit(result.stderr)
        groups = sum(line.startswith("G") for line in result.stdout.splitlines())
        print(f"{'article-qa report --since 30d --png':<40}{wall:.1f} s, peak RSS {max(peak, before) / 1024:.0f} MB, "
              f"{groups} groups shown")
        print("\n".join(result.stdout.splitlines()[:12]))


def _questions() -> list[str]:
    found = []
    for name in ("cmrc2018_trial.json", "drcd_test.json"):
        data = json.loads((EVAL / name).read_text(encoding="utf-8"))["data"]
        found += [qa["question"] for entry in data for p in entry["paragraphs"] for qa in p["qas"]]
    random.Random(1).shuffle(found)
    return list(dict.fromkeys(found))[:6000]


def _fill(path: Path, rows: int, questions: list[str], vectors: dict) -> None:
    rng, now = random.Random(2), time.time()
    db = connect(path)
    db.execute("BEGIN")
    for n in range(rows):
        question = questions[min(int(rng.paretovariate(1.2)) - 1, len(questions) - 1)] if n % 2 else rng.choice(questions)
        vector = vectors.get(question)
        cursor = db.execute("INSERT INTO questions (at, reader, article, question, kind, answered, latency_ms, vector) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (now - rng.random() * 29 * 86400, f"{rng.getrandbits(64):016x}", f"a{n % 50}", question,
                             "refusal" if vector is not None else "quote", int(vector is None), rng.uniform(2, 20),
                             vector.tobytes() if vector is not None else None))
        if vector is None:
            db.execute("INSERT INTO quoted VALUES (?, ?, ?, ?)",
                       (cursor.lastrowid, f"文章{n % 50}", f"第{n % 7}部分", f"被引用的第{n % 997}句。"))
    db.execute("COMMIT")
    db.close()


if __name__ == "__main__":
    main()
