"""Hostile-input scenarios against the real bot and CLI, with the numbers each one is judged by.

  links       links to private addresses in many spellings and through a redirect chain, given to
              `article-qa index --add` and sent by an admin: how many reached the local server
              (must be 0); then the same server fetched with sources.allow_private_urls on
  bombs       an admin uploads a PDF declaring 90,000 pages and a .docx inflating to 1 GB while 40
              readers ask: time to each refusal, readers' p50/p95, the bot's peak memory; then a
              large article is uploaded and SIGTERM sent while it is embedded: seconds to exit
  poison      that large upload is cut short by SIGKILL twice: at the third start, time until a
              reader is answered, and whether the upload was set aside
  idle        2,000 idle connections held open to the webhook, then a real update: its answer time
  strangers   with allowed_ids, 200 messages from a stranger and 100 from new accounts, then an
              allowed user asks: that answer's delay, and how many refusals strangers were sent
  edits       one message edited 100 times: how many replies; then 20 readers each edit a message
              50 times while another reader asks 20 questions: that reader's p50/p95
  verdict     another process holds the insights database's write lock while a reader presses 👎:
              how long other readers wait for their answers meanwhile, and whether the 👎 is kept

The index must exist (make run or article-qa index).
Usage: python scripts/bench_hostile.py [SCENARIO ...]   (default: all)
"""
from __future__ import annotations

import argparse
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from fake_bot_api import FakeBotAPI  # noqa: E402
from test_hostile_sources import PRIVATE_SPELLINGS, _docx_bomb, _pdf_declaring  # noqa: E402

from bot.tools.measure import peak_rss_mb, percentile  # noqa: E402

TOKEN = "999:HOSTILE"
ADMIN, READER = 77, 5000
CLI = str(Path(sys.executable).parent / "article-qa")
QUESTION, EXPECTED = "有多少个项目通过了评审？", "12个"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)} (default: all)")
    names = ap.parse_args().scenarios or list(SCENARIOS)
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        ap.error(f"unknown scenario {', '.join(sorted(unknown))}")
    for name in names:
        print(f"== {name}")
        with tempfile.TemporaryDirectory() as folder:
            print(SCENARIOS[name](Path(folder)), flush=True)


class Bot:
    """The real `article-qa serve` on a copy of the project's index, against a fake Bot API."""

    def __init__(self, folder: Path, telegram: str = "", sources: str = ""):
        self.api = FakeBotAPI(TOKEN).start()
        self.folder, self.process = folder, None
        index = folder / "index"
        if not index.exists():
            subprocess.run(["cp", "-r", str(ROOT / "data" / "index"), str(index)], check=True)
        self.config = folder / "config.yaml"
        self.config.write_text(f"index_dir: {index}\nsources: {{{sources}}}\n"
                               f"telegram: {{poll_timeout: 1, admin_ids: [{ADMIN}], journal: {folder / 'journal.sqlite3'}"
                               f"{', ' + telegram if telegram else ''}}}\n", encoding="utf-8")

    def start(self, wait_for_commands: bool = True) -> "Bot":
        commands = self.api.calls.count("setMyCommands")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": self.api.base_url}
        self.process = subprocess.Popen([CLI, "--config", str(self.config), "serve"], env=env, cwd=ROOT,
                                        stdout=open(self.folder / "bot.log", "a"), stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while wait_for_commands and self.api.calls.count("setMyCommands") == commands:
            if self.process.poll() is not None or time.time() > deadline:
                sys.exit("the bot did not start:\n" + (self.folder / "bot.log").read_text())
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)
        self.api.stop()

    def replies(self, chat_id: int, count: int = 1, timeout: float = 60) -> list[dict]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            sent = [s for s in self.api.sent_to(chat_id) if s["method"] == "sendMessage"]
            if len(sent) >= count:
                return sent
            time.sleep(0.01)
        return [s for s in self.api.sent_to(chat_id) if s["method"] == "sendMessage"]

    def ask(self, user: int, question: str = QUESTION) -> float:
        """Seconds until the reader's answer is sent (inf if none within a minute)."""
        asked = time.time()
        self.api.message(question, user_id=user)
        sent = self.replies(user)
        return sent[0]["time"] - asked if sent and EXPECTED in sent[0]["params"]["text"] else float("inf")


# ---- links -----------------------------------------------------------------------------------------

class _Counting(http.server.BaseHTTPRequestHandler):
    hits = 0
    page = ("<html><head><title>内网页面</title></head><body><p>新华社北京3月1日电（记者张三）这是一张只应在内网看到的页面，"
            "上面写着服务器的口令：hunter2，以及别的机密内容，足够长可以当作一篇文章。</p></body></html>").encode()

    def do_GET(self):
        type(self).hits += 1
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.path.partition("to=")[2])
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args):
        pass


def links(folder: Path) -> str:
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    spellings = [_with_port(url, port) for url in PRIVATE_SPELLINGS]
    chain = f"http://127.0.0.1:{port}/redirect?to=http://2130706433:{port}/secret"
    bot = Bot(folder).start()
    refused_cli = 0
    try:
        for url in spellings[:6] + [chain]:   # through the CLI (each run loads the index: a few)
            result = subprocess.run([CLI, "--config", str(bot.config), "index", "--add", url],
                                    capture_output=True, text=True, timeout=120)
            refused_cli += result.returncode != 0 and "private or local" in result.stderr
        for n, url in enumerate(spellings + [chain], 1):   # and every one from an admin in Telegram
            bot.api.message(url, user_id=ADMIN)
        answers = [plain["params"]["text"] for plain in bot.replies(ADMIN, 2 * (len(spellings) + 1), timeout=180)]
        refused_bot = sum("private or local" in a for a in answers)
        hits = _Counting.hits
    finally:
        bot.stop()
    allowed = Bot(folder, sources="allow_private_urls: true")
    result = subprocess.run([CLI, "--config", str(allowed.config), "index", "--add", f"http://127.0.0.1:{port}/page"],
                            capture_output=True, text=True, timeout=300)
    allowed.api.stop()
    server.shutdown()
    return "\n".join([
        f"{'spellings tried (and a redirect chain)':<44}{len(spellings)} + 1",
        f"{'refused by index --add':<44}{refused_cli} of {len(spellings[:6]) + 1}",
        f"{'refused when an admin sent them':<44}{refused_bot} of {len(spellings) + 1}",
        f"{'requests that reached the local server':<44}{hits}",
        f"{'allowed with allow_private_urls: true':<44}{'yes' if result.returncode == 0 else 'NO: ' + result.stderr[-200:]}"])


def _with_port(url: str, port: int) -> str:
    scheme, rest = url.split("://")
    host, _, path = rest.partition("/")
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return f"{scheme}://{host}:{port}/{path}"


# ---- bombs, SIGTERM, poison --------------------------------------------------------------------------

def _large_article(folder: Path, sentences: int = 4800) -> bytes:
    lines = ["一篇很长的通讯", ""] + [f"第{n}段说的是一件不同的事情，编号{n}，内容各不相同，记者在现场看到了第{n}个场景。"
                                      for n in range(sentences)]
    return "\n\n".join(lines).encode()


def bombs(folder: Path) -> str:
    bot = Bot(folder).start()
    try:
        docx = _docx_bomb(folder / "bomb.docx", 1024).read_bytes()
        started = time.time()
        bot.api.document("bomb.pdf", _pdf_declaring(90_000), user_id=ADMIN)
        bot.api.document("bomb.docx", docx, user_id=ADMIN)
        readers = [bot.ask(READER + n) for n in range(40)]
        reports = bot.replies(ADMIN, 4, timeout=120)
        refused = [(s["time"] - started, s["params"]["text"]) for s in reports if "没有完成" in s["params"]["text"]]
        rss = peak_rss_mb(bot.process.pid)
        bot.api.document("long.txt", _large_article(folder), user_id=ADMIN)
        bot.replies(ADMIN, 5)
        time.sleep(2)   # embedding now
        signalled = time.time()
        bot.process.send_signal(signal.SIGTERM)
        exit_code = bot.process.wait(60)
        stopped_in = time.time() - signalled
    finally:
        bot.stop()
    return "\n".join(
        [f"{'refused after (s)':<44}" + ", ".join(f"{t:.1f} ({_limit(text)})" for t, text in refused),
         f"{'readers meanwhile p50 / p95 (ms)':<44}{percentile(readers, 50) * 1000:.0f} / {percentile(readers, 95) * 1000:.0f}",
         f"{'bot peak RSS':<44}{rss:.0f} MB",
         f"{'SIGTERM while embedding: exit after':<44}{stopped_in:.1f} s (code {exit_code}; grace 5 s)"])


def _limit(text: str) -> str:
    for name in ("pdf_pages", "docx_inflated_mb", "memory_mb", "seconds", "sentences"):
        if name in text:
            return name
    return text[:40]


def poison(folder: Path) -> str:
    bot = Bot(folder).start()
    try:
        for attempt in range(2):   # SIGKILL while the large upload is embedded, twice
            if attempt == 0:
                bot.api.document("long.txt", _large_article(folder), user_id=ADMIN)
            else:
                bot.start()
            time.sleep(4)
            bot.process.kill()
            bot.process.wait(10)
        started = time.time()
        bot.start(wait_for_commands=False)
        waited = bot.ask(READER)
        answered_after = time.time() - started if waited != float("inf") else waited
        told = [s["params"]["text"] for s in bot.replies(ADMIN, 3, timeout=30) if "已搁置" in s["params"]["text"]]
    finally:
        bot.stop()
    return "\n".join([f"{'reader answered after the third start':<44}{answered_after:.1f} s (model load included)",
                      f"{'upload set aside, admin told':<44}{'yes' if told else 'NO'}"])


# ---- webhook, strangers ------------------------------------------------------------------------------

def idle(folder: Path) -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    bot = Bot(folder, telegram=f"mode: webhook, webhook: {{url: '{url}', listen: 127.0.0.1, port: {port}}}").start()
    held = []
    try:
        while "secret_token" not in bot.api.webhook:
            time.sleep(0.05)
        for _ in range(2000):
            held.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(1)
        update = {"update_id": 1, "message": {"message_id": 1, "date": int(time.time()), "text": QUESTION,
                                              "chat": {"id": READER, "type": "private"},
                                              "from": {"id": READER, "is_bot": False, "first_name": "r"}}}
        asked = time.time()
        request = urllib.request.Request(url, json.dumps(update).encode(), method="POST", headers={
            "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": bot.api.webhook["secret_token"]})
        status = urllib.request.urlopen(request, timeout=10).status
        sent = bot.replies(READER, timeout=30)
        answered = sent[0]["time"] - asked if sent else float("inf")
    finally:
        for connection in held:
            connection.close()
        bot.stop()
    return f"{'with 2,000 idle connections: HTTP':<44}{status}, answered after {answered * 1000:.0f} ms"


def strangers(folder: Path) -> str:
    bot = Bot(folder, telegram="allowed_ids: [42]").start()
    try:
        for n in range(200):
            bot.api.message(f"问题{n}", user_id=666)
        for n in range(100):
            bot.api.message(QUESTION, user_id=10_000 + n)
        waited = bot.ask(42)
        time.sleep(2)
        to_flooder = len(bot.api.sent_to(666))
        to_new = sum(len(bot.api.sent_to(10_000 + n)) for n in range(100))
        traceback = "Traceback" in (folder / "bot.log").read_text()
    finally:
        bot.stop()
    return "\n".join([f"{'allowed user answered after':<44}{waited * 1000:.0f} ms",
                      f"{'sent to the flooder / to 100 new accounts':<44}{to_flooder} / {to_new}",
                      f"{'traceback in the log':<44}{'yes' if traceback else 'no'}"])


def _edit(bot: Bot, user: int, message_id: int, text: str) -> None:
    bot.api.push("edited_message", message_id=message_id, date=int(time.time()), edit_date=int(time.time()),
                 chat={"id": user, "type": "private"}, text=text, **{"from": {"id": user, "is_bot": False, "first_name": "u"}})


def edits(folder: Path) -> str:
    bot = Bot(folder).start()
    try:
        bot.api.message(QUESTION, user_id=6000, message_id=1)
        for n in range(100):
            _edit(bot, 6000, 1, QUESTION + "？" * (n % 5))
        time.sleep(8)
        one = len(bot.replies(6000, 10_000, timeout=0.1))
        for reader in range(20):
            bot.api.message(QUESTION, user_id=7000 + reader, message_id=2)
        waits = []
        for n in range(50):
            for reader in range(20):
                _edit(bot, 7000 + reader, 2, QUESTION + "？" * (n % 5))
            if n % 5 == 0 and len(waits) < 20:
                waits.append(bot.ask(8000 + n))
        while len(waits) < 20:
            waits.append(bot.ask(8000 + 100 + len(waits)))
    finally:
        bot.stop()
    return "\n".join([f"{'replies to 100 edits of one message':<48}{one}",
                      f"{'another reader during 20 × 50 edits, p50/p95':<48}"
                      f"{percentile(waits, 50) * 1000:.0f} / {percentile(waits, 95) * 1000:.0f} ms"])


def verdict(folder: Path) -> str:
    import sqlite3
    bot = Bot(folder, telegram="").start()
    try:
        bot.api.message(QUESTION, user_id=6100)
        answer = bot.replies(6100)[0]
        time.sleep(1)   # recorded
        press = next(b["callback_data"] for row in answer["params"]["reply_markup"]["inline_keyboard"]
                     for b in row if b["callback_data"].startswith("fb:") and ":0:" in b["callback_data"])
        database = folder / "data" / "insights.sqlite3"   # insights.path, relative to the bot's config
        holder = sqlite3.connect(database, isolation_level=None, timeout=0)
        holder.execute("BEGIN IMMEDIATE")   # another process writing, for 8 seconds
        bot.api.push("callback_query", id="press-lock", data=press, chat_instance="x",
                     **{"from": {"id": 6100, "is_bot": False, "first_name": "u"}},
                     message={"message_id": 5, "date": 0, "chat": {"id": 6100, "type": "private"}})
        waits = [bot.ask(6200 + n) for n in range(10)]
        time.sleep(max(0.0, 8 - sum(waits)))
        holder.execute("COMMIT")
        holder.close()
        time.sleep(35)   # the writer retries with a growing wait
        kept = sqlite3.connect(database).execute(
            "SELECT COUNT(*) FROM questions WHERE verdict = 0").fetchone()[0]
    finally:
        bot.stop()
    return "\n".join([f"{'others answered while the lock was held, max':<44}{max(waits) * 1000:.0f} ms",
                      f"{'👎 rows after the lock went':<44}{kept}"])


SCENARIOS = {"links": links, "bombs": bombs, "poison": poison, "idle": idle, "strangers": strangers,
             "edits": edits, "verdict": verdict}

if __name__ == "__main__":
    main()
