"""End-to-end tier: the real bot against the fake Bot API, used as an attacker and a careless admin
would use it — bombs uploaded, names that collide, a stranger's flood, a poison update left in the
journal."""
import json
import shutil
import sqlite3
import statistics
import time

import pytest

from conftest import LANSHAN, QINGSHUI, run_cli
from test_hostile_sources import _docx_bomb, _pdf_declaring
from test_telegram_e2e import Bot, plain

pytestmark = pytest.mark.e2e
ADMIN = 77


def _lanshan_bot(tmp_path, config: str = "") -> Bot:
    """A bot (not started) on an index of the Lanshan article alone, in tmp_path."""
    folder = tmp_path / "index"
    assert run_cli("index", LANSHAN, "--index-dir", folder).returncode == 0
    return Bot(folder, tmp_path, config)


def _configured_bot(tmp_path, extra=""):
    """A bot whose config.yaml lists the Lanshan article, with its index built."""
    article = tmp_path / "articles" / "lanshan.txt"
    article.parent.mkdir()
    shutil.copy(LANSHAN, article)
    folder = tmp_path / "index"
    config = (f"articles: ['{article}']\nindex_dir: '{folder}'\n"
              f"telegram: {{poll_timeout: 1, typing_after: 0, admin_ids: [{ADMIN}]{extra}}}\n")
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    assert run_cli("--config", tmp_path / "config.yaml", "index").returncode == 0
    return Bot(folder, tmp_path, config)


def test_bombs_are_refused_within_their_limits_while_readers_are_answered(tmp_path):
    bot = _configured_bot(tmp_path).start()
    try:
        docx = _docx_bomb(tmp_path / "bomb.docx", 200).read_bytes()
        started = time.time()
        bot.api.document("bomb.docx", docx, user_id=ADMIN)
        bot.api.document("bomb.pdf", _pdf_declaring(90_000), user_id=ADMIN)
        readers = []
        for n in range(20):
            asked = time.time()
            bot.api.message("有多少个项目通过了评审？", user_id=500 + n)
            assert "12个" in plain(bot.replies(500 + n)[0]["params"]["text"])
            readers.append(time.time() - asked)
        replies = [plain(r["params"]["text"]) for r in bot.replies(ADMIN, 4, timeout=120)]
        print(f"bombs refused in {time.time() - started:.1f} s; readers p50 {statistics.median(readers) * 1000:.0f} ms, "
              f"max {max(readers) * 1000:.0f} ms")
        assert any("bomb.docx 解压后有 200 MB" in r for r in replies) and any("bomb.pdf 有 90000 页" in r for r in replies)
        assert time.time() - started < 60 and max(readers) < 2
        bot.api.message(None, user_id=ADMIN, document={"file_id": "big", "file_unique_id": "big",   # announced too big
                                                       "file_name": "big.pdf", "file_size": 30 * 2**20})
        assert "文件太大" in plain(bot.replies(ADMIN, 5)[4]["params"]["text"])
        assert "Traceback" not in bot.log.read_text()
    finally:
        bot.stop()


def test_replacements_are_said_and_a_configured_article_waits_for_confirmation(tmp_path):
    bot = _configured_bot(tmp_path).start()
    try:
        bot.api.document("a b.md", QINGSHUI.read_bytes(), user_id=ADMIN)
        bot.replies(ADMIN, 2, timeout=60)
        bot.api.document("a_b.md", QINGSHUI.read_bytes(), user_id=ADMIN)   # maps to the same id
        assert "替换了原有的" in plain(bot.replies(ADMIN, 4, timeout=60)[3]["params"]["text"])

        bot.api.document("lanshan.md", QINGSHUI.read_bytes(), user_id=ADMIN)   # the configured article's id
        prompt = bot.replies(ADMIN, 5, timeout=60)[4]["params"]
        assert "确定替换吗" in prompt["text"]
        bot.api.message("岚山区委书记是谁？", user_id=501)   # nothing replaced before the admin confirms
        assert "焦春锋" in plain(bot.replies(501)[0]["params"]["text"])
        replace = prompt["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        bot.api.push("callback_query", id="confirm", data=replace, chat_instance="x",
                     **{"from": {"id": ADMIN, "is_bot": False, "first_name": "a"}},
                     message={"message_id": 9, "date": 0, "chat": {"id": ADMIN, "type": "private"}})
        report = plain(bot.replies(ADMIN, 7, timeout=60)[6]["params"]["text"])
        assert "替换了原有的《日照岚山区实干组织力赋能高质量发展力》" in report
        bot.stop()
        bot.start()   # the replaced configured article does not make the next start fail as stale
        bot.api.message("清水镇图书馆的馆长叫什么名字？", user_id=502)
        assert "陈建国" in plain(bot.replies(502)[0]["params"]["text"])
    finally:
        bot.stop()


def test_a_strangers_flood_does_not_delay_an_allowed_user(tmp_path):
    bot = _lanshan_bot(tmp_path, "telegram: {poll_timeout: 1, typing_after: 0, allowed_ids: [42]}\n").start()
    try:
        for n in range(200):
            bot.api.message(f"问题{n}", user_id=666)
        for n in range(100):   # and a hundred new accounts
            bot.api.message("岚山区委书记是谁？", user_id=10_000 + n)
        asked = time.time()
        bot.api.message("岚山区委书记是谁？", user_id=42)
        assert "焦春锋" in plain(bot.replies(42)[0]["params"]["text"])
        waited = time.time() - asked
        print(f"allowed user answered {waited * 1000:.0f} ms into a flood of 300 strangers' messages")
        assert waited < 1
        time.sleep(1)
        assert len(bot.api.sent_to(666)) == 1   # one refusal, then silence
        notices = sum(len(bot.api.sent_to(10_000 + n)) for n in range(100))
        assert notices <= 10
        assert "Traceback" not in bot.log.read_text()
    finally:
        bot.stop()


def test_an_update_cut_short_twice_is_set_aside_and_the_admin_told(tmp_path):
    bot = _configured_bot(tmp_path)
    journal = tmp_path / "data" / "telegram-journal.sqlite3"
    config = tmp_path / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "telegram: {", f"telegram: {{journal: '{journal}', "), encoding="utf-8")
    journal.parent.mkdir()
    poison = {"update_id": 5, "message": {"message_id": 5, "date": int(time.time()), "chat": {"id": ADMIN, "type": "private"},
                                          "from": {"id": ADMIN, "is_bot": False, "first_name": "a"},
                                          "document": {"file_id": "gone", "file_unique_id": "gone",
                                                       "file_name": "bomb.pdf", "file_size": 4000}}}
    reader = {"update_id": 6, "message": {"message_id": 6, "date": int(time.time()), "chat": {"id": 601, "type": "private"},
                                          "from": {"id": 601, "is_bot": False, "first_name": "r"},
                                          "text": "岚山区委书记是谁？"}}
    with sqlite3.connect(journal) as db:   # as two starts that died handling update 5 leave it
        db.execute("CREATE TABLE updates (id INTEGER PRIMARY KEY, body TEXT NOT NULL, received REAL NOT NULL, "
                   "done REAL, attempts INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0)")
        db.execute("INSERT INTO updates VALUES (5, ?, 0, NULL, 2, 0)", (json.dumps(poison),))
        db.execute("INSERT INTO updates VALUES (6, ?, 0, NULL, 0, 0)", (json.dumps(reader),))
    bot.api._next_update = 7
    started = time.time()
    bot.start()
    try:
        assert "焦春锋" in plain(bot.replies(601)[0]["params"]["text"])
        print(f"reader answered {time.time() - started:.1f} s after the start (model load included)")
        assert "已搁置" in plain(bot.replies(ADMIN)[0]["params"]["text"])
        with sqlite3.connect(journal) as db:
            assert db.execute("SELECT failed, done IS NOT NULL FROM updates WHERE id = 5").fetchone() == (1, 1)
        assert "set aside" in bot.log.read_text()
    finally:
        bot.stop()


def test_an_outage_longer_than_the_send_retries_loses_nothing(tmp_path):
    bot = _lanshan_bot(tmp_path, "telegram: {poll_timeout: 1, typing_after: 0, send_retry_seconds: 1}\n").start()
    try:
        bot.api.outage("sendMessage", 8)   # eight times the retry time
        for n in range(5):
            bot.api.message("岚山区委书记是谁？", user_id=700 + n)
        time.sleep(4)
        bot.stop()   # and a restart in the middle of the outage
        bot.api.outage("sendMessage", 3)
        bot.start()
        for n in range(5):
            replies = bot.replies(700 + n, timeout=60)
            assert len(replies) == 1 and "焦春锋" in plain(replies[0]["params"]["text"])
        bot.api.message("岚山区委书记是谁？", user_id=710, date=int(time.time()) - 2 * 3600)   # held up for hours
        assert "服务中断" in plain(bot.replies(710)[0]["params"]["text"])
        assert "stays pending" in bot.log.read_text() and "Traceback" not in bot.log.read_text()
    finally:
        bot.stop()


def test_a_second_bot_on_the_same_journal_is_refused_at_once(tmp_path):
    import os
    import subprocess

    from conftest import CLI, ROOT
    from test_telegram_e2e import TOKEN
    bot = _lanshan_bot(tmp_path).start()
    try:
        started = time.time()
        second = subprocess.run([CLI, "--config", bot.config, "serve", "--index-dir", bot.index_dir], cwd=ROOT,
                                env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": bot.api.base_url},
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and time.time() - started < 10
        assert f"another article-qa serve (pid {bot.process.pid})" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1 and TOKEN not in second.stderr
        bot.api.message("岚山区委书记是谁？", user_id=801)
        assert len(bot.replies(801)) == 1
    finally:
        bot.stop()


def test_one_press_sends_a_few_messages_and_offers_the_rest(tmp_path):
    article = tmp_path / "huge.txt"
    sentences = "".join(f"第{n}句讲的是图书馆的第{n}项服务，读者可以在服务台咨询办理，" + "详细说明" * 30 + "。"
                        for n in range(1000))   # one paragraph of about 150,000 characters
    article.write_text("图书馆服务大全\n\n" + sentences + "\n", encoding="utf-8")
    folder = tmp_path / "index"
    assert run_cli("index", article, "--index-dir", folder).returncode == 0
    bot = Bot(folder, tmp_path).start()
    try:
        bot.api.message("第500项服务怎么办理？", user_id=900)
        answer = bot.replies(900)[-1]["params"]
        context = next(b for row in answer["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "查看上下文")

        def press(data):
            before = len(bot.replies(900, 0))
            bot.api.push("callback_query", id=f"p{before}", data=data, chat_instance="x",
                         **{"from": {"id": 900, "is_bot": False, "first_name": "u"}},
                         message={"message_id": 5, "date": 0, "chat": {"id": 900, "type": "private"}})
            time.sleep(1.5)
            return bot.replies(900, before + 1)[before:]
        first = press(context["callback_data"])
        assert len(first) == 3 and "继续" in first[-1]["params"]["reply_markup"]["inline_keyboard"][0][0]["text"]
        more = first[-1]["params"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        second = press(more)
        assert len(second) == 3 and second[0]["params"]["text"] != first[0]["params"]["text"]
        bot.api.push("callback_query", id="inline", data=more, chat_instance="x", inline_message_id="abc",
                     **{"from": {"id": 900, "is_bot": False, "first_name": "u"}})   # no chat to reply in
        time.sleep(1)
        assert "Traceback" not in bot.log.read_text()
    finally:
        bot.stop()


def test_a_webhook_port_in_use_is_one_line_and_the_secret_is_never_logged(tmp_path):
    import os
    import socket
    import subprocess

    from conftest import CLI, ROOT
    from test_telegram_e2e import TOKEN
    folder = tmp_path / "index"
    assert run_cli("index", LANSHAN, "--index-dir", folder).returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = f"telegram: {{mode: webhook, webhook: {{url: 'https://example.org/hook', listen: 127.0.0.1, port: {port}}}}}\n"
        (tmp_path / "busy.yaml").write_text(config, encoding="utf-8")
        result = subprocess.run([CLI, "--config", tmp_path / "busy.yaml", "serve", "--index-dir", folder], cwd=ROOT,
                                env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}, capture_output=True, text=True,
                                timeout=60)
    assert result.returncode == 2 and "cannot listen on 127.0.0.1:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = (f"telegram: {{mode: webhook, webhook: {{url: 'http://127.0.0.1:{port}/hook', listen: 127.0.0.1, "
              f"port: {port}}}}}\n")
    bot = Bot(folder, tmp_path, config)
    bot.log_level = "DEBUG"
    try:
        bot.start()
        deadline = time.time() + 30
        while "secret_token" not in bot.api.webhook and time.time() < deadline:
            time.sleep(0.05)
        secret = bot.api.webhook["secret_token"]
        bot.stop()
        log = bot.log.read_text()
        assert "DEBUG" in log and secret not in log and TOKEN not in log
    finally:
        bot.stop()
