"""End-to-end tier: the library is never wedged or lost (uploads, rebuilds, stale sources, a bot
started from any folder), no update stops the bot, and /forget leaves nothing of the reader."""
import json
import shutil
import time
from pathlib import Path

import pytest

from conftest import DATA, LANSHAN, QINGSHUI, run_cli
from test_telegram_e2e import Bot, confirm, plain

pytestmark = pytest.mark.e2e
ADMIN = 77
PARIS, HERITAGE = DATA / "paris_ai_summit.txt", DATA / "xinhua_heritage_law.txt"


def _library_bot(tmp_path, extra: str = "") -> Bot:
    """A bot whose config.yaml lists the Lanshan article (index built), its data in tmp_path/data
    and the insights key in tmp_path/keys."""
    article = tmp_path / "articles" / "lanshan.txt"
    article.parent.mkdir()
    shutil.copy(LANSHAN, article)
    config = (f"articles: ['{article}']\nindex_dir: data/index\n"
              f"insights: {{key: keys/insights.key}}\n"
              f"telegram: {{poll_timeout: 1, typing_after: 0, admin_ids: [{ADMIN}]{extra}}}\n")
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    assert run_cli("--config", tmp_path / "config.yaml", "index").returncode == 0
    return Bot(tmp_path / "data" / "index", tmp_path, config)


def _manifest_ids(folder: Path) -> list[str]:
    return [a["id"] for a in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["articles"]]


def test_a_refused_reupload_keeps_the_library_and_a_rebuild_keeps_every_added_article(tmp_path):
    bot = _library_bot(tmp_path).start()
    try:
        bot.api.document("foo.txt", PARIS.read_bytes(), user_id=ADMIN)
        bot.replies(ADMIN, 2, timeout=90)
        bot.api.document("foo.txt", b"\x00\x01\x02" * 1000, user_id=ADMIN)   # refused: not text
        assert "foo.txt 不是文字文件（读不出文字），没有添加" in plain(bot.replies(ADMIN, 4, timeout=90)[3]["params"]["text"])
        bot.api.document("bar.md", QINGSHUI.read_bytes(), user_id=ADMIN)
        assert "已添加" in plain(bot.replies(ADMIN, 6, timeout=90)[5]["params"]["text"])
        time.sleep(3)   # the bot picks the new index up
        bot.api.message("清水镇图书馆的馆长叫什么名字？", user_id=501)
        assert "陈建国" in plain(bot.replies(501)[0]["params"]["text"])
        bot.api.message("法国将在哪里举办人工智能峰会？", user_id=502)
        assert "大皇宫" in plain(bot.replies(502)[0]["params"]["text"])
        assert (tmp_path / "data" / "uploads" / "foo.txt").read_bytes() == PARIS.read_bytes()
        bot.api.document("heritage.txt", HERITAGE.read_bytes(), user_id=ADMIN)
        bot.replies(ADMIN, 8, timeout=90)
    finally:
        bot.stop()
    folder = tmp_path / "data" / "index"
    assert sorted(_manifest_ids(folder)) == ["bar", "foo", "heritage", "lanshan"]
    (tmp_path / "data" / "uploads" / "heritage.txt").unlink()   # a source that vanished
    rebuilt = run_cli("--config", tmp_path / "config.yaml", "index")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert sorted(_manifest_ids(folder)) == ["bar", "foo", "heritage", "lanshan"]   # 3 added → 3 kept
    assert "heritage: its source" in rebuilt.stdout and "text kept in the index" in rebuilt.stdout
    asked = run_cli("--config", tmp_path / "config.yaml", "ask", "文物保护法共有多少条？")
    assert "一百零三条" in asked.stdout
    only = run_cli("--config", tmp_path / "config.yaml", "index", LANSHAN, "--index-dir", folder)
    assert only.returncode == 2 and "would drop" in only.stderr and "bar" in only.stderr
    assert sorted(_manifest_ids(folder)) == ["bar", "foo", "heritage", "lanshan"]


def test_a_stale_or_removed_configured_article_never_stops_the_bot(tmp_path):
    bot = _library_bot(tmp_path)
    article = tmp_path / "articles" / "lanshan.txt"
    article.write_bytes(b"\x00\x01" * 500)   # the configured article's file broken after the build
    bot.start()
    try:
        bot.api.message("岚山区委书记是谁？", user_id=601)
        assert "焦春锋" in plain(bot.replies(601)[0]["params"]["text"])
        assert "older than lanshan.txt" in bot.log.read_text()
        bot.api.document("bar.md", QINGSHUI.read_bytes(), user_id=ADMIN)
        assert "已添加" in plain(bot.replies(ADMIN, 2, timeout=90)[1]["params"]["text"])
        bot.api.message("/remove lanshan", user_id=ADMIN)
        confirm(bot, ADMIN, 3)
        assert "已删除 lanshan" in plain(bot.replies(ADMIN, 5, timeout=90)[4]["params"]["text"])
    finally:
        bot.stop()
    bot.start()   # a removed configured article does not make the next start fail either
    try:
        bot.api.message("清水镇图书馆的馆长叫什么名字？", user_id=602)
        assert "陈建国" in plain(bot.replies(602)[0]["params"]["text"])
    finally:
        bot.stop()
    assert _manifest_ids(tmp_path / "data" / "index") == ["bar"]
    shutil.copy(LANSHAN, article)
    assert run_cli("--config", tmp_path / "config.yaml", "index").returncode == 0
    assert _manifest_ids(tmp_path / "data" / "index") == ["bar"]   # what the admin removed stays removed


def test_uploads_work_from_a_folder_that_holds_an_index_package(tmp_path):
    bot = _library_bot(tmp_path)
    shadow = tmp_path / "service"
    (shadow / "index").mkdir(parents=True)
    (shadow / "index" / "__init__.py").write_text("", encoding="utf-8")
    (shadow / "index" / "sources.py").write_text("# a data folder's own module\n", encoding="utf-8")
    bot.cwd = shadow
    bot.start()
    try:
        bot.api.document("-h.txt", PARIS.read_bytes(), user_id=ADMIN)   # an id that reads like an option
        assert "已添加" in plain(bot.replies(ADMIN, 2, timeout=90)[1]["params"]["text"])
        bot.api.message("/remove -h", user_id=ADMIN)
        confirm(bot, ADMIN, 3)
        assert "已删除 -h" in plain(bot.replies(ADMIN, 5, timeout=90)[4]["params"]["text"])
        for name in ("/remove id\x00", "/report 99999999999999999d"):
            bot.api.message(name, user_id=ADMIN)
        texts = [plain(r["params"]["text"]) for r in bot.replies(ADMIN, 7, timeout=30)[5:]]
        assert "没有编号或标题为“id”的文章" in texts[0] and "用法" in texts[1]
        assert "Traceback" not in bot.log.read_text()
    finally:
        bot.stop()


def test_poison_updates_in_polling_mode_are_set_aside_and_the_bot_answers_on(tmp_path):
    bot = _library_bot(tmp_path).start()
    try:
        bot.api.message("岚山区委书记是谁\ud800？", user_id=701)   # a lone surrogate
        bot.api.push("poll_answer", poll_id="p", user={"id": 702, "is_bot": False, "first_name": "a"}, option_ids=[0])
        bot.api.push("message", message_id=5, date=0)   # no chat: no handler could use it
        bot.api.message("有多少个项目通过了评审？", user_id=703)
        assert "12个" in plain(bot.replies(703)[0]["params"]["text"])
        assert "焦春锋" in plain(bot.replies(701)[0]["params"]["text"])
        assert bot.process.poll() is None
        log = bot.log.read_text()
        assert log.count("Set aside update") == 2 and "Traceback" not in log
    finally:
        bot.stop()


def test_forget_leaves_no_byte_of_the_reader_in_any_file_the_bot_writes(tmp_path):
    bot = _library_bot(tmp_path)
    bot.log_level = "WARNING"
    bot.start()
    reader = 918273645
    questions = ["岚山区委书记是谁？", "他说了什么", "岚山的海岸线有多长"]
    try:
        for n, question in enumerate(questions):
            bot.api.message(question, user_id=reader)
            bot.replies(reader, n + 1)
        time.sleep(1.5)   # the recorder and the context store write within half a second
        bot.api.message("/forget", user_id=reader)
        said = plain(bot.replies(reader, len(questions) + 1)[-1]["params"]["text"])
        assert "已删除你的" in said and "条提问记录" in said and "条消息副本" in said
        time.sleep(1.5)
    finally:
        bot.stop()
    written = [p for p in (tmp_path / "data").rglob("*") if p.is_file() and "index" not in p.parts]
    assert any("insights" in p.name for p in written) and any("journal" in p.name for p in written)
    raw = b"".join(p.read_bytes() for p in written)
    for trace in [str(reader), f"u{reader}", *questions]:
        assert trace.encode() not in raw, trace
    assert all(p.stat().st_mode & 0o077 == 0 for p in written if ".sqlite3" in p.name)
    assert (tmp_path / "keys" / "insights.key").stat().st_mode & 0o077 == 0


def test_a_thousand_mutated_updates_stop_nothing(tmp_path):
    from test_privacy_and_poison import _mutations
    bot = _library_bot(tmp_path, ", rate_limit: {questions: 5}").start()
    try:
        for update in _mutations(seed=2024, count=1000):
            bot.api.push_raw(update if isinstance(update, dict) else {"odd": update})
        bot.api.message("岚山区委书记是谁？", user_id=999)
        assert "焦春锋" in plain(bot.replies(999, timeout=120)[0]["params"]["text"])
        assert bot.process.poll() is None
    finally:
        bot.stop()
    assert bot.process.returncode == 0


def test_report_stays_out_of_groups_and_a_bad_key_does_not_stop_answering(tmp_path):
    bot = _library_bot(tmp_path).start()
    try:
        bot.api.message("/report", user_id=ADMIN, chat_id=-100777, chat_type="group")
        assert "私聊" in plain(bot.replies(-100777)[0]["params"]["text"])
    finally:
        bot.stop()
    (tmp_path / "keys" / "insights.key").write_text("not hex", encoding="utf-8")
    asked = run_cli("--config", tmp_path / "config.yaml", "ask", "岚山区委书记是谁？")
    assert asked.returncode == 0 and "焦春锋" in asked.stdout and "not a usable key" in asked.stderr


def test_a_library_conversation_follows_the_story_the_reader_names(tmp_path):
    """Six turns over a library of five reports, none chosen: the first names its story and asks;
    follow-ups stay in it; a switch names another; "换一篇" lets go. The report is named once per change."""
    config = tmp_path / "config.yaml"
    articles = [LANSHAN, QINGSHUI, PARIS, HERITAGE, DATA / "wire_smart_campus.txt"]
    config.write_text(f"articles: {[str(a) for a in articles]}\nindex_dir: {tmp_path / 'idx'}\n"
                      "insights: {enabled: false}\n", encoding="utf-8")
    assert run_cli("--config", config, "index").returncode == 0
    turns = ["清水镇图书馆那个，晚上开到几点", "馆长叫啥", "面积多大",
             "对了，巴黎办人工智能峰会那个，在哪儿办", "预计多少人参加", "换一篇",
             "AI那个，马克龙说了啥"]   # a reference in words no report uses; the question names the report
    asked = "".join(json.dumps({"conversation": "c", "question": q}, ensure_ascii=False) + "\n" for q in turns)
    done = run_cli("--config", config, "ask", "--jsonl", stdin=asked)
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    first, keeper, area, switch, count, another, named_by_question = (r["reply"] for r in replies)
    assert "九点" in first and "（说的是《清水镇图书馆" in first
    assert "陈建国" in keeper and "说的是" not in keeper
    assert "3200平方米" in area and "说的是" not in area
    assert "大皇宫" in switch and "（说的是《" in switch and "清水" not in switch
    assert "1000名代表" in count and "说的是" not in count
    assert replies[5]["kind"] == "overview" and "最近的报道" in another
    assert "（说的是《" in named_by_question and "马克龙" in named_by_question and "没有找到" not in named_by_question


def test_an_archive_of_eleven_is_paged_in_place_and_the_newest_is_a_tap_away(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(11):   # eleven short reports, added one after another
        (folder / f"town{n:02d}.txt").write_text(f"第{n}镇新闻\n\n第{n}镇的图书馆改造完成，每天开放到晚上{n % 3 + 8}点。\n",
                                                 encoding="utf-8")
    config = (f"articles_dir: {folder}\nindex_dir: {tmp_path / 'idx'}\ninsights: {{enabled: false}}\n"
              "telegram: {poll_timeout: 1, typing_after: 0}\n")
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    assert run_cli("--config", tmp_path / "config.yaml", "index").returncode == 0
    bot = Bot(tmp_path / "idx", tmp_path, config).start()
    try:
        bot.api.message("/articles", user_id=81)
        listing = bot.replies(81)[0]["params"]
        assert "第 1/2 页" in plain(listing["text"]) and "1. 《第10镇新闻》" in plain(listing["text"])
        turn = next(b for row in listing["reply_markup"]["inline_keyboard"] for b in row if b["text"].startswith("下一页"))
        bot.api.push("callback_query", id="page2", data=turn["callback_data"], chat_instance="x",
                     **{"from": {"id": 81, "is_bot": False, "first_name": "u"}},
                     message={"message_id": listing.get("message_id", 5), "date": 0, "chat": {"id": 81, "type": "private"}})
        edited = bot.api.wait_for(lambda s: s["method"] == "editMessageText" and s["params"].get("chat_id") == 81)[0]
        assert "第 2/2 页" in plain(edited["params"]["text"]) and "11. 《第0镇新闻》" in plain(edited["params"]["text"])
        assert len(bot.replies(81)) == 1   # the page turned in place: no second message
        bot.api.message("/latest", user_id=81)
        assert "最新的一篇：《第10镇新闻》" in plain(bot.replies(81, 2)[1]["params"]["text"])
        bot.api.message("晚上开到几点", user_id=81)   # asked of the newest report
        assert "晚上9点" in plain(bot.replies(81, 3)[2]["params"]["text"])
    finally:
        bot.stop()
