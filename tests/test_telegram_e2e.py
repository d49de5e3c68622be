"""End-to-end tier: the real `article-qa serve` process against the fake Bot API over HTTP."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import CLI, ROOT
from fake_bot_api import FakeBotAPI

pytestmark = pytest.mark.e2e
TOKEN = "123456:TEST-token-secret"


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


class Bot:
    def __init__(self, index_dir, tmp_path, config_text=""):
        self.api = FakeBotAPI(TOKEN).start()
        self.index_dir, self.log = index_dir, tmp_path / "bot.log"
        self.config = tmp_path / "config.yaml"
        self.config.write_text(config_text or "telegram: {poll_timeout: 1, typing_after: 0}\n", encoding="utf-8")
        self.process, self.log_level, self.cwd = None, "INFO", ROOT

    def start(self):
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": self.api.base_url,
               "LOG_LEVEL": self.log_level}
        self.process = subprocess.Popen([CLI, "--config", self.config, "serve", "--index-dir", self.index_dir],
                                        cwd=self.cwd, env=env, stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while "setMyCommands" not in self.api.calls:
            assert time.time() < deadline and self.process.poll() is None, self.log.read_text()
            time.sleep(0.1)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)

    def replies(self, chat_id, count=1, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            sent = [s for s in self.api.sent_to(chat_id) if s["method"] == "sendMessage"]
            if len(sent) >= count:
                return sent
            time.sleep(0.05)
        raise AssertionError(f"expected {count} replies to {chat_id}, got {self.api.sent_to(chat_id)}")


def press(bot, user_id: int, data: str, tag: str) -> None:
    """The user presses a button with this callback data, in their private chat."""
    bot.api.push("callback_query", id=f"press{user_id}-{tag}", data=data, chat_instance="x",
                 **{"from": {"id": user_id, "is_bot": False, "first_name": "u"}},
                 message={"message_id": 5, "date": 0, "chat": {"id": user_id, "type": "private"}})


def confirm(bot, user_id: int, count: int) -> None:
    """Press the first button (添加, 删除, 替换) of the `count`-th reply to the user, after it came."""
    reply = bot.replies(user_id, count, timeout=90)[count - 1]
    press(bot, user_id, reply["params"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"], f"c{count}")


@pytest.fixture(scope="module")
def bot(index_dir, tmp_path_factory):
    b = Bot(index_dir, tmp_path_factory.mktemp("bot")).start()
    yield b
    b.stop()
    assert TOKEN not in b.log.read_text()


def test_private_question_gets_quoted_answer_with_citation(bot):
    bot.api.message("岚山区委书记是谁？", user_id=11)
    reply = bot.replies(11)[0]["params"]
    assert "焦春锋" in plain(reply["text"]) and "<blockquote>" in reply["text"] and "第" in reply["text"]
    assert reply["reply_parameters"]["message_id"]
    buttons = [b["text"] for row in reply["reply_markup"]["inline_keyboard"] for b in row]
    assert "查看上下文" in buttons
    assert any(s["method"] == "sendChatAction" for s in bot.api.sent_to(11))


def test_follow_up_in_a_private_chat_and_start_clears_it(bot):
    bot.api.message("岚山区委书记是谁？", user_id=19)
    bot.api.message("他表示了什么", user_id=19)
    follow_up = plain(bot.replies(19, 2)[1]["params"]["text"])
    assert "按“" in follow_up and "焦春锋" in follow_up
    bot.api.message("/start", user_id=19)
    bot.replies(19, 3)
    bot.api.message("他表示了什么", user_id=19)
    assert "按“" not in plain(bot.replies(19, 4)[3]["params"]["text"])


def test_two_users_in_a_group_keep_their_own_context(bot):
    group = -300
    bot.api.message("/ask 岚山区委书记是谁？", user_id=21, chat_id=group, chat_type="group")
    bot.replies(group, 1)
    bot.api.message("/ask 虎山镇副镇长叫什么名字？", user_id=22, chat_id=group, chat_type="group")
    bot.replies(group, 2)
    bot.api.message("/ask 他表示了什么", user_id=21, chat_id=group, chat_type="group")
    bot.api.message("/ask 她说这是第几次当众立军令状", user_id=22, chat_id=group, chat_type="group")
    texts = [plain(s["params"]["text"]) for s in bot.replies(group, 4)[2:]]
    first_user = next(t for t in texts if "焦春锋" in t)
    second_user = next(t for t in texts if "吴湖莲" in t)
    assert "吴湖莲" not in first_user and "焦春锋" not in second_user


def test_a_reply_to_an_answer_continues_that_answers_thread(bot):
    group = -301
    bot.api.message("/ask 岚山区委书记是谁？", user_id=26, chat_id=group, chat_type="group")
    answer = bot.replies(group, 1)[0]
    replied = {"message_id": answer["message_id"], "date": 0, "chat": {"id": group, "type": "group"},
               "from": {"id": 4242, "is_bot": True, "first_name": "ArticleQA", "username": "article_qa_bot"},
               "text": "…"}
    bot.api.message("他表示了什么", user_id=27, chat_id=group, chat_type="group", reply_to_message=replied)
    assert "焦春锋" in plain(bot.replies(group, 2)[1]["params"]["text"]).split("\n")[0]


def test_greeting_overview_and_sections_are_valid_html_with_buttons(bot):
    for n, message in enumerate(["你好", "这篇文章讲了什么？", "文章有哪些部分"], start=1):
        bot.api.message(message, user_id=23)
        reply = bot.replies(23, n)[-1]["params"]
        assert "没有找到" not in plain(reply["text"]) and reply["reply_markup"]["inline_keyboard"]
    overview, sections = [plain(s["params"]["text"]) for s in bot.replies(23, 3)[1:]]
    assert "日照岚山区" in overview and "清水镇" in overview and "“" in overview and "向优" in sections


def test_buttons_context_and_more(bot):
    bot.api.message("招商小分队考察项目多少次？", user_id=12)
    markup = bot.replies(12)[0]["params"]["reply_markup"]["inline_keyboard"][0]
    for n, button in enumerate(markup, start=2):
        bot.api.push("callback_query", id=f"cb{n}", data=button["callback_data"], chat_instance="x",
                     **{"from": {"id": 12, "is_bot": False, "first_name": "u"}},
                     message={"message_id": 5, "date": 0, "chat": {"id": 12, "type": "private"}})
        assert bot.replies(12, n)[-1]["params"]["text"]


def test_commands(bot):
    for n, command in enumerate(["/start", "/help", "/sections", "/source"], start=1):
        bot.api.message(command, user_id=13)
        bot.replies(13, n)
    texts = [s["params"]["text"] for s in bot.api.sent_to(13) if s["method"] == "sendMessage"]
    assert "日照岚山区" in texts[0] and "向稳" in texts[2] and "人民网" in texts[3]
    assert bot.api.commands


def test_group_only_answers_when_addressed(bot):
    bot.api.message("大家好，今天开会", user_id=14, chat_id=-100, chat_type="group")
    bot.api.message("@article_qa_bot 岚山区委书记是谁？", user_id=14, chat_id=-100, chat_type="group")
    bot.api.message("/ask 虎山镇副镇长叫什么名字？", user_id=14, chat_id=-100, chat_type="group")
    sent = bot.replies(-100, 2)
    time.sleep(1)
    assert len([s for s in bot.api.sent_to(-100) if s["method"] == "sendMessage"]) == 2
    assert "焦春锋" in sent[0]["params"]["text"] + sent[1]["params"]["text"]


def test_a_group_command_for_another_bot_or_for_any_is_not_answered_as_unknown(bot):
    for command in ("/weather@other_bot", "/weather", "/help@other_bot"):
        bot.api.message(command, user_id=15, chat_id=-102, chat_type="group")
    bot.api.message("/weather@article_qa_bot", user_id=15, chat_id=-102, chat_type="group")
    assert "没有这个命令" in bot.replies(-102, 1)[0]["params"]["text"]
    time.sleep(1)
    assert len([s for s in bot.api.sent_to(-102) if s["method"] == "sendMessage"]) == 1


def test_only_an_exact_mention_of_the_bot_addresses_it(bot):
    group = -400
    for text in ["@article_qa_botnet 岚山区委书记是谁？", "@article_qa_bot_helper 岚山区委书记是谁？",
                 "写信给 admin@article_qa_bot.com 问问", "İİİ @article_qa_bot 岚山区委书记是谁？"]:
        bot.api.message(text, user_id=28, chat_id=group, chat_type="group")
    reply = plain(bot.replies(group, 1)[0]["params"]["text"])
    time.sleep(1)
    assert len([s for s in bot.api.sent_to(group) if s["method"] == "sendMessage"]) == 1
    assert "焦春锋" in reply


def test_forged_button_payloads_are_refused(bot):
    bot.api.message("岚山区委书记是谁？", user_id=29)
    markup = bot.replies(29)[0]["params"]["reply_markup"]["inline_keyboard"][0]
    fingerprint = markup[0]["callback_data"].split(":")[1]
    forged = [f"ctx:{fingerprint}:-1", f"ctx:{fingerprint}:٣", f"ctx:{fingerprint}:1_0", f"ctx:{fingerprint}: +3 ",
              f"more:{fingerprint}:" + ":".join(["1"] * 30), f"ctx:{fingerprint}:99999"]
    for n, data in enumerate(forged, start=2):
        bot.api.push("callback_query", id=f"forged{n}", data=data, chat_instance="x",
                     **{"from": {"id": 29, "is_bot": False, "first_name": "u"}},
                     message={"message_id": 5, "date": 0, "chat": {"id": 29, "type": "private"}})
        assert "失效" in bot.api.toast(f"forged{n}")["text"]   # a toast on the button, nothing posted
    assert len(bot.replies(29)) == 1


def test_unanswerable_non_text_and_html_input(bot):
    bot.api.message("日照明天天气怎么样？", user_id=15)
    assert "没有找到" in bot.replies(15)[0]["params"]["text"]
    bot.api.message(None, user_id=16, sticker={"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1,
                                               "is_animated": False, "is_video": False, "type": "regular"})
    assert "请用文字提问" in bot.replies(16)[0]["params"]["text"]
    bot.api.message("<b>岚山</b> & 钢铁？", user_id=17)
    assert bot.replies(17)[0]["params"]["text"]


def test_429_and_5xx_then_recovery(bot):
    bot.api.fault("sendMessage", ("429", 1), ("500",), ("500",))
    bot.api.message("有多少个项目通过了评审？", user_id=18)
    assert "12个" in plain(bot.replies(18, timeout=40)[0]["params"]["text"])
    bot.api.fault("getUpdates", ("500",), ("500",), ("500",))
    time.sleep(0.5)
    bot.api.message("对多少名干部进行了适应性调整？", user_id=18)
    assert "92名" in plain(bot.replies(18, 2, timeout=40)[-1]["params"]["text"])


def test_slow_send_is_not_doubled_and_courtesies_never_cost_the_answer(bot):
    bot.api.fault("sendMessage", ("slow", 6))
    bot.api.message("岚山区委书记是谁？", user_id=34)
    bot.replies(34, timeout=40)
    time.sleep(3)
    assert len([s for s in bot.api.sent_to(34) if s["method"] == "sendMessage"]) == 1
    bot.api.fault("sendChatAction", ("500",))
    bot.api.message("有多少个项目通过了评审？", user_id=35)
    assert "12个" in plain(bot.replies(35, timeout=40)[0]["params"]["text"])
    markup = bot.replies(35)[0]["params"]["reply_markup"]["inline_keyboard"][0]
    bot.api.fault("answerCallbackQuery", ("500",))
    bot.api.push("callback_query", id="cb-ack-fails", data=markup[-1]["callback_data"], chat_instance="x",
                 **{"from": {"id": 35, "is_bot": False, "first_name": "u"}},
                 message={"message_id": 5, "date": 0, "chat": {"id": 35, "type": "private"}})
    assert bot.replies(35, 2, timeout=40)[-1]["params"]["text"]


def test_a_long_5xx_spell_is_outlasted(bot):
    bot.api.fault("sendMessage", *[("500",)] * 5)
    bot.api.message("对多少名干部进行了适应性调整？", user_id=36)
    assert "92名" in plain(bot.replies(36, timeout=60)[0]["params"]["text"])


def test_restart_with_pending_questions_answers_each_once(index_dir, tmp_path):
    bot = Bot(index_dir, tmp_path).start()
    try:
        questions = ["岚山区委书记是谁？", "招商小分队考察项目多少次？", "有多少个项目通过了评审？"]
        for n, q in enumerate(questions):
            bot.api.message(q, user_id=30 + n)
        bot.stop()
        for n, q in enumerate(["虎山镇副镇长叫什么名字？", "哪个社区是样板社区创建的试点？"]):
            bot.api.message(q, user_id=40 + n)
        bot.start()
        for user in (30, 31, 32, 40, 41):
            bot.replies(user)
        time.sleep(1.5)
        for user in (30, 31, 32, 40, 41):
            assert len([s for s in bot.api.sent_to(user) if s["method"] == "sendMessage"]) == 1
    finally:
        bot.stop()
    assert TOKEN not in bot.log.read_text()


def test_allow_list_and_rate_limit(index_dir, tmp_path):
    config = "telegram: {poll_timeout: 1, allowed_ids: [50], rate_limit: {questions: 2, per_seconds: 60}}\n"
    bot = Bot(index_dir, tmp_path, config).start()
    try:
        for text in ["岚山区委书记是谁？", "/sections", "/start", "你好"]:
            bot.api.message(text, user_id=51)
        assert "受邀用户" in bot.replies(51)[0]["params"]["text"]
        bot.api.message("大家好", user_id=51, chat_id=-200, chat_type="group")
        for text in ["岚山区委书记是谁？", "/sections", "岚山区委书记是谁？", "/help", "岚山区委书记是谁？"]:
            bot.api.message(text, user_id=50)
        texts = [s["params"]["text"] for s in bot.replies(50, 3)]
        time.sleep(1.5)
        texts = [s["params"]["text"] for s in bot.api.sent_to(50) if s["method"] == "sendMessage"]
        assert len(texts) == 3 and sum("太快" in t for t in texts) == 1   # two answers, one notice, silence
        assert re.search(r"请 \d+ 秒后再问（每 60 秒最多 2 个问题）", next(t for t in texts if "太快" in t))
        # one refusal per window for a stranger, however much they send
        assert len([s for s in bot.api.sent_to(51) if s["method"] == "sendMessage"]) == 1
        assert not bot.api.sent_to(-200)   # group chatter from others is not answered, not even refused
        sent_before = len(bot.api.sent)
        bot.api.push("callback_query", id="inline-stranger", data="ex:0000:0", chat_instance="x",
                     inline_message_id="inline-1", **{"from": {"id": 51, "is_bot": False, "first_name": "u"}})
        deadline = time.time() + 20
        while "answerCallbackQuery" not in bot.api.calls and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        assert len(bot.api.sent) == sent_before and "Error while handling" not in bot.log.read_text()
    finally:
        bot.stop()


def test_long_paragraph_context_is_split_into_valid_messages(tmp_path):
    from conftest import LANSHAN, run_cli
    lines = LANSHAN.read_text(encoding="utf-8").splitlines()
    body = "".join(line for line in lines[4:] if line.endswith("。"))   # every sentence-final line
    article = tmp_path / "long.txt"
    article.write_text(f"长段落测试\n\n{body * 3}\n", encoding="utf-8")
    assert len(body) * 3 > 4096
    assert run_cli("index", article, "--index-dir", tmp_path / "idx").returncode == 0
    bot = Bot(tmp_path / "idx", tmp_path).start()
    try:
        bot.api.message("岚山区委书记是谁？", user_id=60)
        markup = bot.replies(60)[0]["params"]["reply_markup"]["inline_keyboard"][0]
        context_button = next(b for b in markup if b["text"] == "查看上下文")
        bot.api.push("callback_query", id="cb-long", data=context_button["callback_data"], chat_instance="x",
                     **{"from": {"id": 60, "is_bot": False, "first_name": "u"}},
                     message={"message_id": 5, "date": 0, "chat": {"id": 60, "type": "private"}})
        sent = bot.replies(60, 3)
        assert all(len(plain(s["params"]["text"])) <= 4096 for s in sent)
    finally:
        bot.stop()


def test_rejected_token_at_start_is_one_line_without_the_token(index_dir, tmp_path):
    api = FakeBotAPI("999:another-token").start()   # the server knows another token: 401
    config = tmp_path / "config.yaml"
    config.write_text("telegram: {poll_timeout: 1}\n", encoding="utf-8")
    result = subprocess.run([CLI, "--config", config, "serve", "--index-dir", index_dir], cwd=ROOT,
                            env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Telegram rejected the token (401/404)" in result.stderr
    assert TOKEN not in result.stderr + result.stdout and "Traceback" not in result.stderr


def test_token_rejected_while_running_stops_the_process(index_dir, tmp_path):
    bot = Bot(index_dir, tmp_path).start()
    try:
        bot.api.fault("getUpdates", ("401",))
        assert bot.process.wait(30) == 1
        log = bot.log.read_text()
        assert "Telegram rejected the token (401/404)" in log and TOKEN not in log
    finally:
        bot.stop()


def test_html_from_a_proxy_is_one_warning_line_then_polling_goes_on(bot):
    bot.api.fault("getUpdates", ("html",), ("html",), ("html",))
    deadline = time.time() + 30
    while bot.api.faults["getUpdates"] and time.time() < deadline:   # the bot met all three
        time.sleep(0.1)
    bot.api.message("岚山区委书记是谁？", user_id=37)
    assert "焦春锋" in plain(bot.replies(37, timeout=40)[0]["params"]["text"])
    log = bot.log.read_text()
    assert "Fetching updates (getUpdates) failed (NetworkError: Bad Gateway (502)" in log
    assert "Traceback" not in log and "works again" in log


def _burst(bot, users: int, per_user: int) -> dict[int, int]:
    """Questions from several users at once; returns message id → user."""
    questions = (ROOT / "tests" / "data" / "lanshan_questions.txt").read_text(encoding="utf-8").split()
    asked = {}
    for n in range(users * per_user):
        user = 700 + n % users
        bot.api.message(questions[n % len(questions)], user_id=user, message_id=90_000 + n)
        asked[90_000 + n] = user
    return asked


def _answer_counts(bot, asked: dict[int, int], timeout: float = 90) -> dict[int, int]:
    """Message id → how many times its answer's first message was sent, once all are answered."""
    deadline = time.time() + timeout
    while True:
        firsts = {}
        for s in bot.api.sent:
            params = s["params"]
            if s["method"] == "sendMessage" and params.get("reply_parameters", {}).get("message_id") in asked:
                key = (params["reply_parameters"]["message_id"], params["text"])
                firsts[key] = firsts.get(key, 0) + 1
        counts = {}
        for (message_id, _), n in firsts.items():
            counts[message_id] = max(counts.get(message_id, 0), n)
        if len(counts) == len(asked) or time.time() > deadline:
            return counts
        time.sleep(0.1)


def _answered_count(bot, asked) -> int:
    return len({s["params"].get("reply_parameters", {}).get("message_id") for s in list(bot.api.sent)} & set(asked))


def _burst_partly_answered(bot, users: int, per_user: int, answered: int) -> dict[int, int]:
    """A burst of questions; returns once `answered` of them have their answer."""
    asked = _burst(bot, users, per_user)
    deadline = time.time() + 60
    while _answered_count(bot, asked) < answered and time.time() < deadline:
        time.sleep(0.01)
    return asked


def test_sigkill_mid_burst_loses_nothing_after_a_restart(index_dir, tmp_path):
    bot = Bot(index_dir, tmp_path).start()
    try:
        asked = _burst_partly_answered(bot, users=10, per_user=12, answered=30)
        bot.process.kill()
        bot.process.wait(10)
        assert _answered_count(bot, asked) < len(asked)   # the kill did interrupt the burst
        bot.start()
        counts = _answer_counts(bot, asked)
        assert len(counts) == len(asked)                                  # none lost
        assert sum(1 for n in counts.values() if n > 1) <= 2              # at most those in flight doubled
    finally:
        bot.stop()


def test_two_sigterms_stop_at_once_and_the_rest_is_answered_after_a_restart(index_dir, tmp_path):
    bot = Bot(index_dir, tmp_path).start()
    try:
        asked = _burst_partly_answered(bot, users=10, per_user=12, answered=30)
        signalled = time.time()
        bot.process.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(10) == 0 and time.time() - signalled < 5
        assert "left for the next start" in bot.log.read_text()
        bot.start()
        counts = _answer_counts(bot, asked)
        assert len(counts) == len(asked) and max(counts.values()) == 1
    finally:
        bot.stop()


def test_webhook_acknowledges_only_journaled_updates_from_telegram(index_dir, tmp_path):
    import json
    import socket
    import urllib.error
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/telegram-hook"
    config = ("telegram: {mode: webhook, typing_after: 0, "
              f"webhook: {{url: '{url}', listen: 127.0.0.1, port: {port}}}}}\n")
    bot = Bot(index_dir, tmp_path, config).start()

    def post(update: dict, secret: str) -> int:
        request = urllib.request.Request(url, json.dumps(update).encode(), method="POST", headers={
            "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret})
        try:
            return urllib.request.urlopen(request, timeout=10).status
        except urllib.error.HTTPError as exc:
            return exc.code

    def post_raw(body: bytes, secret: str) -> int:
        request = urllib.request.Request(url, body, method="POST", headers={
            "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret})
        try:
            return urllib.request.urlopen(request, timeout=10).status
        except urllib.error.HTTPError as exc:
            return exc.code

    def question(update_id: int, user_id: int, text: str) -> dict:
        return {"update_id": update_id, "message": {
            "message_id": update_id, "date": int(time.time()), "text": text, "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "u"}}}
    try:
        deadline = time.time() + 30
        while "secret_token" not in bot.api.webhook and time.time() < deadline:   # set just after the commands
            time.sleep(0.05)
        secret = bot.api.webhook["secret_token"]
        assert bot.api.webhook["url"] == url and len(secret) >= 32
        assert post(question(1, 81, "岚山区委书记是谁？"), "forged") == 403
        assert post(question(2, 82, "岚山区委书记是谁？"), secret) == 200
        assert "焦春锋" in plain(bot.replies(82)[0]["params"]["text"])
        assert not bot.api.sent_to(81)
        assert post(question(2, 82, "岚山区委书记是谁？"), secret) == 200   # a redelivery is not answered again
        for body in (b"[1, 2]", b'{"update_id": "7"}', b'{"update_id": 8, "message": {"text": "\\ud800"}}',
                     b"[" * 100_000 + b"]" * 100_000, b"not json"):   # never an update: 400, not 500
            assert post_raw(body, secret) == 400
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]   # send nothing
        asked = time.time()
        assert post(question(4, 84, "岚山区委书记是谁？"), secret) == 200
        while not bot.api.sent_to(84) and time.time() < asked + 10:
            time.sleep(0.05)
        assert bot.api.sent_to(84) and time.time() - asked < 2
        for connection in idle:
            connection.close()
        assert post(question(3, 83, "有多少个项目通过了评审？"), secret) == 200
        bot.process.kill()   # right after the 200: the journal has the update
        bot.process.wait(10)
        bot.start()
        deadline = time.time() + 60
        while not bot.api.sent_to(83) and time.time() < deadline:
            time.sleep(0.1)
        assert "12个" in plain(bot.replies(83)[0]["params"]["text"])
        assert len([s for s in bot.api.sent_to(82) if s["method"] == "sendMessage"]) == 1
        assert "Traceback" not in bot.log.read_text()
    finally:
        bot.stop()


def test_an_article_added_while_the_bot_runs_is_answered_within_seconds(tmp_path):
    from conftest import LANSHAN, QINGSHUI, run_cli
    folder = tmp_path / "index"
    assert run_cli("index", LANSHAN, "--index-dir", folder).returncode == 0
    bot = Bot(folder, tmp_path).start()
    try:
        bot.api.message("岚山区委书记是谁？", user_id=90)
        old_buttons = bot.replies(90)[0]["params"]["reply_markup"]["inline_keyboard"][0]
        for n in range(5):   # readers keep asking while the article is added
            bot.api.message("有多少个项目通过了评审？", user_id=91 + n)
        added = time.time()
        result = run_cli("index", "--add", QINGSHUI, "--index-dir", folder)
        assert result.returncode == 0, result.stderr
        asked = 0
        while time.time() - added < 30:
            asked += 1
            bot.api.message("清水镇图书馆的馆长叫什么名字？", user_id=100 + asked)
            reply = plain(bot.replies(100 + asked)[0]["params"]["text"])
            if "陈建国" in reply:
                break
        answerable_after = time.time() - added
        print(f"new article answerable {answerable_after:.1f} s after the add began")
        assert "陈建国" in reply and answerable_after < 10, answerable_after
        for n in range(5):
            assert "12个" in plain(bot.replies(91 + n)[0]["params"]["text"])   # none lost meanwhile
        bot.api.push("callback_query", id="old-button", data=old_buttons[-1]["callback_data"], chat_instance="x",
                     **{"from": {"id": 90, "is_bot": False, "first_name": "u"}},
                     message={"message_id": 5, "date": 0, "chat": {"id": 90, "type": "private"}})
        # Another article added: a button about this one still works (buttons name their article).
        assert "焦春锋" in plain(bot.replies(90, 2)[-1]["params"]["text"])
        assert "Now answering from the rebuilt index" in bot.log.read_text()
    finally:
        bot.stop()


def test_an_admin_uploads_an_article_while_readers_ask(tmp_path):
    from conftest import LANSHAN, QINGSHUI, run_cli
    folder = tmp_path / "index"
    assert run_cli("index", LANSHAN, "--index-dir", folder).returncode == 0
    bot = Bot(folder, tmp_path, "telegram: {poll_timeout: 1, typing_after: 0, admin_ids: [77]}\n").start()
    try:
        bot.api.document("qingshui_library.md", QINGSHUI.read_bytes(), user_id=78)   # not an admin
        assert "只有管理员" in bot.replies(78)[0]["params"]["text"]
        readers = range(200, 220)
        for user in readers:   # 20 readers ask while the admin uploads
            bot.api.message("有多少个项目通过了评审？", user_id=user)
        uploaded = time.time()
        bot.api.document("qingshui_library.md", QINGSHUI.read_bytes(), user_id=77)
        report = plain(bot.replies(77, 2, timeout=60)[1]["params"]["text"])
        assert "qingshui_library" in report and "清水镇图书馆" in report
        for n in range(60):
            bot.api.message("清水镇图书馆的馆长叫什么名字？", user_id=300 + n)
            if "陈建国" in plain(bot.replies(300 + n)[0]["params"]["text"]):
                break
        print(f"uploaded article answerable {time.time() - uploaded:.1f} s after the upload")
        assert time.time() - uploaded < 10
        assert all("12个" in plain(bot.replies(user)[0]["params"]["text"]) for user in readers)
        bot.api.message("/articles", user_id=79)
        assert "清水镇图书馆" in plain(bot.replies(79)[0]["params"]["text"])
        bot.api.message("/remove qingshui_library", user_id=77)
        confirm(bot, 77, 3)   # "确定删除《清水镇…》吗？"
        assert "现在共有 1 篇文章" in plain(bot.replies(77, 5, timeout=60)[4]["params"]["text"])
        bot.api.message("/remove nothing_here", user_id=77)   # checked before anything is asked
        said = bot.replies(77, 6, timeout=60)[5]["params"]
        assert "没有编号或标题为“nothing_here”的文章" in plain(said["text"]) and "reply_markup" not in said
    finally:
        bot.stop()


def test_a_reader_chooses_the_article_with_a_button(bot):
    bot.api.message("/articles", user_id=95)
    listing = bot.replies(95)[0]["params"]
    assert "日照岚山区" in plain(listing["text"]) and "清水镇图书馆" in plain(listing["text"])
    assert plain(listing["text"]).index("清水镇") < plain(listing["text"]).index("日照")   # newest first
    assert "lanshan" not in listing["text"]   # ids are for admins
    choose = next(b for row in listing["reply_markup"]["inline_keyboard"] for b in row if "清水镇" in b["text"])
    bot.api.push("callback_query", id="choose", data=choose["callback_data"], chat_instance="x",
                 **{"from": {"id": 95, "is_bot": False, "first_name": "u"}},
                 message={"message_id": 5, "date": 0, "chat": {"id": 95, "type": "private"}})
    assert "清水镇图书馆" in plain(bot.replies(95, 2)[1]["params"]["text"])
    bot.api.message("这篇文章讲了什么？", user_id=95)
    overview = plain(bot.replies(95, 3)[2]["params"]["text"])
    assert "清水镇图书馆" in overview and "日照岚山区" not in overview
    bot.api.message("有多少个项目通过了评审？", user_id=95)   # answered by the other article alone
    assert "12个" not in plain(bot.replies(95, 4)[3]["params"]["text"])
    bot.api.message("/articles 图书馆", user_id=95)   # found by a word of its title
    found = bot.replies(95, 5)[4]["params"]
    assert "（1 篇）" in plain(found["text"]) and "清水镇" in plain(found["text"]) and "日照" not in found["text"]
    assert [b["text"] for row in found["reply_markup"]["inline_keyboard"] for b in row] == [choose["text"]]
    bot.api.message("/articles 2023", user_id=95)   # no such page: a year, looked for in titles and openings
    assert "日照岚山区" in plain(bot.replies(95, 6)[5]["params"]["text"])   # "…2023年1—2月份经济工作考核…"
    bot.api.message("/articles 1", user_id=95)
    assert "我读过的文章，最新的在前：" in plain(bot.replies(95, 7)[6]["params"]["text"])


def test_a_follow_up_after_a_restart_keeps_its_context(index_dir, tmp_path):
    bot = Bot(index_dir, tmp_path).start()
    try:
        bot.api.message("岚山区委书记是谁？", user_id=120)
        bot.replies(120)
        bot.stop()
        bot.api.message("他表示了什么", user_id=120)   # waits in Telegram while the bot is down
        bot.start()
        follow_up = plain(bot.replies(120, 2)[1]["params"]["text"])
        assert "按“焦春锋表示了什么”理解" in follow_up
    finally:
        bot.stop()


def test_a_failing_delete_webhook_at_start_is_retried(index_dir, tmp_path):
    bot = Bot(index_dir, tmp_path)
    bot.api.fault("deleteWebhook", ("500",), ("html",))
    bot.start()
    try:
        bot.api.message("岚山区委书记是谁？", user_id=130)
        assert "焦春锋" in plain(bot.replies(130, timeout=40)[0]["params"]["text"])
        assert bot.api.calls.count("deleteWebhook") == 3 and "Traceback" not in bot.log.read_text()
    finally:
        bot.stop()


def test_edits_count_against_the_rate_and_never_run_commands(index_dir, tmp_path):
    bot = Bot(index_dir, tmp_path, "telegram: {poll_timeout: 1, rate_limit: {questions: 3, per_seconds: 60}}\n").start()

    def edit(user_id: int, text: str, message_id: int = 77) -> None:
        bot.api.push("edited_message", message_id=message_id, date=int(time.time()), edit_date=int(time.time()),
                     chat={"id": user_id, "type": "private"}, text=text,
                     **{"from": {"id": user_id, "is_bot": False, "first_name": "u"}})
    try:
        bot.api.message("岚山区委书记是谁", user_id=70, message_id=77)
        bot.replies(70)
        edit(70, "/forget")   # a question edited into a command: the command is not run
        time.sleep(1)
        for n in range(10):   # ten messages edited: each counts against the reader's budget
            edit(70, f"岚山区委书记是谁{'？' * (n + 1)}", message_id=100 + n)
        bot.replies(70, 3)
        time.sleep(3)
        texts = [plain(s["params"]["text"]) for s in bot.api.sent_to(70) if s["method"] == "sendMessage"]
        assert not any("已删除" in t for t in texts)
        # the question, the edit into /forget (counted, not run), one edit answered, a notice, silence
        assert len(texts) == 3 and texts[1].startswith("（按修改后的问题回答）") and "太快" in texts[2], texts
    finally:
        bot.stop()


def test_a_library_names_the_report_once_and_offers_another(bot):
    bot.api.message("清水镇图书馆那个，晚上开到几点", user_id=81)
    first = bot.replies(81)[0]
    assert "（说的是《清水镇图书馆" in plain(first["params"]["text"]) and "九点" in plain(first["params"]["text"])
    buttons = [b for row in first["params"]["reply_markup"]["inline_keyboard"] for b in row]
    another = next(b for b in buttons if b["text"] == "换一篇")
    bot.api.message("馆长叫啥", user_id=81)
    second = plain(bot.replies(81, 2)[1]["params"]["text"])
    assert "陈建国" in second and "说的是" not in second
    bot.api.message("/sections", user_id=81)   # the report in discussion's parts alone
    contents = plain(bot.replies(81, 3)[2]["params"]["text"])
    assert "夜间开放" in contents and "向稳" not in contents
    press(bot, 81, another["callback_data"], "another")
    assert "想聊哪篇" in plain(bot.replies(81, 4)[3]["params"]["text"])


def test_quick_edits_of_one_message_get_one_answer(index_dir, tmp_path):
    bot = Bot(index_dir, tmp_path).start()
    try:
        bot.api.message("岚山区委书记是谁", user_id=71, message_id=5)
        bot.replies(71)
        for text in ("虎山镇", "虎山镇副", "虎山镇副镇长是谁？"):   # typed on, fixed twice
            bot.api.push("edited_message", message_id=5, date=int(time.time()), edit_date=int(time.time()),
                         chat={"id": 71, "type": "private"}, text=text,
                         **{"from": {"id": 71, "is_bot": False, "first_name": "u"}})
        bot.replies(71, 2)
        time.sleep(3)
        texts = [plain(s["params"]["text"]) for s in bot.api.sent_to(71) if s["method"] == "sendMessage"]
        # Edits taken in one batch get one answer; one that came alone before the rest, its own.
        assert 2 <= len(texts) <= 3 and "副镇长" in texts[-1], texts
    finally:
        bot.stop()
