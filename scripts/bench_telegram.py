"""Load benchmark of the Telegram bot through the local fake Bot API server.

Starts the fake server on 127.0.0.1, starts the real `article-qa serve` process against it, then
N simulated users each ask M questions (all pushed at once, as a burst). Reports answers per
second, p50/p95 time from the update being available to the bot's sendMessage, and how many
answers were lost or duplicated. The index must exist (make run or article-qa index).

Usage: python scripts/bench_telegram.py [--users 40] [--per-user 10] [--rate 50] [--questions FILE]
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from fake_bot_api import FakeBotAPI  # noqa: E402

TOKEN = "999:BENCH"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--per-user", type=int, default=10)
    ap.add_argument("--rate", type=float, default=50, help="questions pushed per second")
    ap.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "lanshan_questions.txt")
    args = ap.parse_args()
    questions = [q for q in args.questions.read_text(encoding="utf-8").splitlines() if q.strip()]
    api = FakeBotAPI(TOKEN).start()
    bot = _start_bot(api)
    try:
        asked = _paced(api, questions, args.users, args.per_user, args.rate)
        print(_report(api, asked))
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(30)


def _start_bot(api: FakeBotAPI) -> subprocess.Popen:
    config = Path(tempfile.mkdtemp()) / "config.yaml"
    config.write_text(f"articles: [{ROOT / 'data/articles/lanshan.txt'}]\nindex_dir: {ROOT / 'data/index'}\n"
                      "telegram: {poll_timeout: 1, max_messages_per_second: 1000,\n"
                      "           rate_limit: {questions: 1000, per_seconds: 1}}\n",
                      encoding="utf-8")
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url}
    process = subprocess.Popen([str(Path(sys.executable).parent / "article-qa"), "--config", str(config), "serve"],
                               env=env, cwd=ROOT)
    deadline = time.time() + 120
    while "setMyCommands" not in api.calls:
        if process.poll() is not None or time.time() > deadline:
            sys.exit("the bot did not start (is the index built? run: article-qa index)")
        time.sleep(0.1)
    return process


def _paced(api: FakeBotAPI, questions: list[str], users: int, per_user: int, rate: float) -> dict[int, float]:
    asked, started = {}, time.time()
    for n in range(users * per_user):
        time.sleep(max(0.0, started + n / rate - time.time()))
        user = 10_000 + n % users
        message_id = 50_000 + n
        api.message(questions[n % len(questions)], user_id=user, message_id=message_id)
        asked[message_id] = time.time()
    return asked


def _report(api: FakeBotAPI, asked: dict[int, float], timeout: float = 120) -> str:
    started = min(asked.values())
    deadline = time.time() + timeout
    while time.time() < deadline and len(_answers(api)) < len(asked):
        time.sleep(0.05)
    time.sleep(1)   # late duplicates would arrive now
    answers = _answers(api)
    replied = {}
    for message_id, sent_at in answers:
        replied.setdefault(message_id, []).append(sent_at)
    latencies = [(min(t) - asked[m]) * 1000 for m, t in replied.items() if m in asked]
    finished = max((min(t) for t in replied.values()), default=started)
    rows = [("questions", len(asked)), ("answered", len(replied)),
            ("lost", len(set(asked) - set(replied))),
            ("duplicated", sum(len(t) - 1 for t in replied.values())),
            ("answers per second", f"{len(replied) / max(finished - started, 1e-9):.1f}"),
            ("update → sendMessage p50 / p95 (ms)",
             f"{_pct(latencies, 50):.0f} / {_pct(latencies, 95):.0f}" if len(latencies) > 1 else "n/a")]
    return "\n".join(f"{k:<38}{v}" for k, v in rows)


def _answers(api: FakeBotAPI) -> list[tuple[int, float]]:
    with api._lock:
        return [(s["params"].get("reply_parameters", {}).get("message_id"), s["time"]) for s in api.sent
                if s["method"] == "sendMessage"]


def _pct(values, p):
    return statistics.quantiles(values, n=100)[p - 1]


if __name__ == "__main__":
    main()
