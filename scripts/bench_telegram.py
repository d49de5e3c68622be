"""Load and reliability benchmark of the Telegram bot through the local fake Bot API server.

Starts the fake server on 127.0.0.1 and the real `article-qa serve` process against it, then runs
one scenario and reports answers per second, p50/p95 time from an update being available to the
bot's sendMessage, and how many questions were lost (never answered) or answered twice:

  load          N users each ask M questions, offered at --rate per second
  kill          the same with SIGKILL halfway through the answers, then a restart
  term-twice    the same with two SIGTERMs halfway through (the second during the drain), then a restart
  send-outage   sendMessage answers 500 for --outage seconds from the first question on
  flood         one user sends 200 messages (questions, commands, button presses) at once, then
                another user asks one question: that answer's delay, and what the flooder was sent
  admin-six     six admins each upload a 3,000-sentence article at once while readers ask: the
                readers' answer times (the uploads wait in the admin lane, one after another)
  two-adds      two `article-qa index --add` of different articles started together on one index:
                whether both articles are in it afterwards
  second-serve  a second `article-qa serve` on the same config while the first has a backlog: its
                exit, and how many questions were answered twice

The index must exist (make run or article-qa index).
Usage: python scripts/bench_telegram.py [SCENARIO] [--users 50] [--per-user 20] [--rate 150]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from fake_bot_api import FakeBotAPI  # noqa: E402

from bot.tools.measure import peak_rss_mb, percentile as _pct  # noqa: E402

TOKEN = "999:BENCH"
ADMINS = range(77, 83)
FIRST_MESSAGE_ID = 50_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", nargs="?", default="load",
                    choices=["load", "kill", "term-twice", "send-outage", "flood", "admin-six", "two-adds",
                             "second-serve"])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--per-user", type=int, default=20)
    ap.add_argument("--rate", type=float, default=150, help="questions offered per second")
    ap.add_argument("--outage", type=float, default=20, help="seconds of 500s (send-outage)")
    ap.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "lanshan_questions.txt")
    args = ap.parse_args()
    questions = [q for q in args.questions.read_text(encoding="utf-8").splitlines() if q.strip()]
    api = FakeBotAPI(TOKEN).start()
    bot = BotProcess(api, Path(tempfile.mkdtemp()), flood=args.scenario == "flood")
    try:
        print(SCENARIOS[args.scenario](api, bot, questions, args))
        if bot.process:
            print(f"{'bot process peak RSS':<38}{bot.peak_rss_mb():.0f} MB")
    finally:
        bot.stop()


class BotProcess:
    """The real `article-qa serve`, restartable, with its journal in a temporary folder."""

    def __init__(self, api: FakeBotAPI, folder: Path, flood: bool = False):
        self.api, self.process = api, None
        # The fair-use limits are lifted for throughput scenarios and kept at their defaults for flood.
        limits = "" if flood else ("max_messages_per_second: 1000,\n"
                                   "           rate_limit: {questions: 1000, per_seconds: 1},\n           ")
        self.config, self.index = folder / "config.yaml", folder / "index"
        # A copy of the project's index: scenarios that add articles must not change the real one.
        subprocess.run(["cp", "-r", str(ROOT / "data" / "index"), str(self.index)], check=True)
        self.config.write_text(f"articles: [{ROOT / 'data/articles/lanshan.txt'}]\nindex_dir: {self.index}\n"
                               f"telegram: {{poll_timeout: 1, {limits}admin_ids: {list(ADMINS)}, "
                               f"journal: {folder / 'journal.sqlite3'}}}\n", encoding="utf-8")

    def start(self) -> "BotProcess":
        commands_set = self.api.calls.count("setMyCommands")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": self.api.base_url}
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "article-qa"), "--config",
                                         str(self.config), "serve"], env=env, cwd=ROOT)
        deadline = time.time() + 120
        while self.api.calls.count("setMyCommands") == commands_set:
            if self.process.poll() is not None or time.time() > deadline:
                sys.exit("the bot did not start (is the index built? run: article-qa index)")
            time.sleep(0.05)
        return self

    def peak_rss_mb(self) -> float:
        """The serving process's peak resident memory."""
        return peak_rss_mb(self.process.pid)

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)


def load(api, bot, questions, args) -> str:
    bot.start()
    asked = _offer(api, questions, args.users, args.per_user, args.rate)
    return _report(api, asked)


def kill(api, bot, questions, args) -> str:
    return _interrupted(api, bot, questions, args, [signal.SIGKILL])


def term_twice(api, bot, questions, args) -> str:
    return _interrupted(api, bot, questions, args, [signal.SIGTERM, signal.SIGTERM])


def _interrupted(api, bot, questions, args, signals: list[int]) -> str:
    """Offer every question at once, interrupt the bot when half are answered, restart it."""
    bot.start()
    asked = _offer(api, questions, args.users, args.per_user, rate=0)
    while len(_answered(api)) < len(asked) // 2:
        time.sleep(0.01)
    stopping = time.time()
    for sig in signals:
        bot.signal(sig)
        time.sleep(0.2)
    exit_code = bot.process.wait(60)
    stopped_in = time.time() - stopping
    answered_before = len(_answered(api))
    bot.start()
    report = _report(api, asked)
    names = "+".join(signal.Signals(s).name for s in signals)
    return (f"{'interrupted with':<38}{names} after {answered_before} answers; exit {exit_code} "
            f"{stopped_in:.1f} s after the first signal\n{report}")


def send_outage(api, bot, questions, args) -> str:
    bot.start()
    api.outage("sendMessage", args.outage)
    recovered = time.time() + args.outage
    asked = _offer(api, questions, args.users, args.per_user, args.rate)
    report = _report(api, asked, timeout=args.outage + 120)
    finished = max(min(t) for t in _answered(api).values())
    return (f"{'sendMessage answered 500 for':<38}{args.outage:.0f} s; last answer "
            f"{finished - recovered:.1f} s after it recovered\n{report}")


def flood(api, bot, questions, args) -> str:
    """200 messages from one user at once, then one question from another user."""
    bot.start()
    api.message(questions[0], user_id=1, message_id=FIRST_MESSAGE_ID - 1)
    button = api.wait_for(lambda s: s["method"] == "sendMessage" and s["params"].get("reply_markup"))[0]
    data = button["params"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    flooder, other = 666, 777
    for n in range(200):
        kind = n % 3
        if kind == 0:
            api.message(questions[n % len(questions)], user_id=flooder)
        elif kind == 1:
            api.message("/sections", user_id=flooder)
        else:
            api.push("callback_query", id=f"flood{n}", data=data, chat_instance="x",
                     **{"from": {"id": flooder, "is_bot": False, "first_name": "f"}},
                     message={"message_id": 5, "date": 0, "chat": {"id": flooder, "type": "private"}})
    asked_at = time.time()
    api.message(questions[1], user_id=other)
    answer = api.wait_for(lambda s: s["params"].get("chat_id") == other and s["method"] == "sendMessage", 60)[0]
    time.sleep(5)   # let the flood play out
    to_flooder = [s for s in api.sent_to(flooder) if s["method"] == "sendMessage"]
    alerts = sum(1 for c in api.calls if c == "answerCallbackQuery")
    return "\n".join([f"{'other user answered after':<38}{(answer['time'] - asked_at) * 1000:.0f} ms",
                      f"{'messages sent to the flooder':<38}{len(to_flooder)} (of 200 inputs)",
                      f"{'button acknowledgements':<38}{alerts}"])


def admin_six(api, bot, questions, args) -> str:
    """Six admins upload a large article each at once; readers keep asking meanwhile."""
    bot.start()
    for n, admin in enumerate(ADMINS):
        text = "\n\n".join([f"第{n}篇长文"] + [f"第{n}篇第{i}段讲的是一件不同的事情，编号{i}，记者看到了第{i}个场景。"
                                               for i in range(3000)])
        api.document(f"long{n}.txt", text.encode(), user_id=admin)
    asked = _offer(api, questions, 20, 5, rate=5)
    report = _report(api, asked, timeout=300)
    deadline = time.time() + 600
    while time.time() < deadline and sum(len([s for s in api.sent_to(a) if "已添加" in s["params"]["text"]])
                                         for a in ADMINS) < len(ADMINS):
        time.sleep(0.5)
    added = sum(len([s for s in api.sent_to(a) if "已添加" in s["params"]["text"]]) for a in ADMINS)
    return f"{'uploads indexed':<38}{added} of {len(ADMINS)}\n" + report.replace("update → sendMessage", "reader: update → send")


def two_adds(api, bot, questions, args) -> str:
    """Two index --add at once on one index folder."""
    cli = str(Path(sys.executable).parent / "article-qa")
    started = time.time()
    adds = [subprocess.Popen([cli, "--config", str(bot.config), "index", "--add", str(ROOT / "tests" / "data" / name)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name in ("qingshui_library.md", "paris_ai_summit.txt")]
    codes = [add.wait(300) for add in adds]
    ids = {a["id"] for a in json.loads((bot.index / "manifest.json").read_text(encoding="utf-8"))["articles"]}
    return "\n".join([f"{'exit codes':<38}{codes} after {time.time() - started:.1f} s",
                      f"{'both articles in the index':<38}{'yes' if {'qingshui_library', 'paris_ai_summit'} <= ids else 'NO'}"])


def second_serve(api, bot, questions, args) -> str:
    """A second serve on the same journal while the first answers a backlog."""
    bot.start()
    asked = _offer(api, questions, args.users, args.per_user, rate=0)
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url}
    started = time.time()
    second = subprocess.run([str(Path(sys.executable).parent / "article-qa"), "--config", str(bot.config), "serve"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    refused_in = time.time() - started
    report = _report(api, asked)
    return "\n".join([f"{'second serve':<38}exit {second.returncode} after {refused_in:.1f} s: "
                      f"{second.stderr.strip()[:120]}", report])


SCENARIOS = {"load": load, "kill": kill, "term-twice": term_twice, "send-outage": send_outage, "flood": flood,
             "admin-six": admin_six, "two-adds": two_adds, "second-serve": second_serve}


def _offer(api: FakeBotAPI, questions: list[str], users: int, per_user: int, rate: float) -> dict[int, float]:
    """Push users × per_user questions, `rate` per second (0: all at once). Returns message id → time."""
    asked, started = {}, time.time()
    for n in range(users * per_user):
        if rate:
            time.sleep(max(0.0, started + n / rate - time.time()))
        message_id = FIRST_MESSAGE_ID + n
        api.message(questions[n % len(questions)], user_id=10_000 + n % users, message_id=message_id)
        asked[message_id] = time.time()
    return asked


def _report(api: FakeBotAPI, asked: dict[int, float], timeout: float = 180) -> str:
    started = min(asked.values())
    deadline = time.time() + timeout
    while time.time() < deadline and len(set(_answered(api)) & set(asked)) < len(asked):
        time.sleep(0.05)
    time.sleep(2)   # late duplicates would arrive now
    replied = {m: times for m, times in _answered(api).items() if m in asked}
    latencies = [(min(t) - asked[m]) * 1000 for m, t in replied.items()]
    finished = max((min(t) for t in replied.values()), default=started)
    rows = [("questions", len(asked)), ("answered", len(replied)),
            ("lost", len(set(asked) - set(replied))),
            ("answered twice or more", sum(1 for t in replied.values() if len(t) > 1)),
            ("answers per second", f"{len(replied) / max(finished - started, 1e-9):.1f}"),
            ("update → sendMessage p50 / p95 (ms)",
             f"{_pct(latencies, 50):.0f} / {_pct(latencies, 95):.0f}" if len(latencies) > 1 else "n/a")]
    return "\n".join(f"{k:<38}{v}" for k, v in rows)


def _answered(api: FakeBotAPI) -> dict[int, list[float]]:
    """Question message id → times its answer was sent (one per copy: only each answer's first
    message counts, so an answer sent as several messages counts once)."""
    sent = defaultdict(list)
    with api._lock:
        for s in api.sent:
            if s["method"] == "sendMessage" and s["params"].get("reply_parameters"):
                sent[(s["params"]["reply_parameters"]["message_id"], s["params"]["text"])].append(s["time"])
    answered = defaultdict(list)
    for (message_id, _), times in sent.items():
        if len(times) > len(answered[message_id]):
            answered[message_id] = times
    return answered



if __name__ == "__main__":
    main()
