"""End-to-end tier: a newsroom's bot — what it says about itself, the ways in (an article's own
link, /id), messages as people send them (edits, captions, links, unknown commands) and the
admin's menu and confirmations — through the real bot and the fake Bot API."""
import time

import pytest

from conftest import DATA
from test_library_e2e import ADMIN, _library_bot
from test_telegram_e2e import bot, plain, press  # noqa: F401 — bot: the module's running bot (a fixture)

pytestmark = pytest.mark.e2e


def _introduced(api) -> None:
    """Wait until the bot has set its menus and descriptions (the short description comes last;
    the bot's start is counted from its first menu)."""
    deadline = time.time() + 10
    while api.short_description is None and time.time() < deadline:
        time.sleep(0.05)


def _button(reply: dict, text: str) -> dict:
    return next(b for row in reply["params"]["reply_markup"]["inline_keyboard"] for b in row if text in b["text"])


def _marked(api, chat_id: int) -> str:
    """The label the last edit of a message's buttons in this chat left on them."""
    edit = api.wait_for(lambda s: s["method"] == "editMessageReplyMarkup" and s["params"].get("chat_id") == chat_id)[-1]
    return edit["params"]["reply_markup"]["inline_keyboard"][-1][0]["text"]


def test_what_the_bot_says_about_itself_and_the_ways_in(bot):
    api = bot.api
    _introduced(api)
    assert "日照岚山区" in api.description and "清水镇" in api.description   # from the article list
    assert len(api.short_description) <= 120 and "注明出处" in api.short_description
    readers, groups = [c["command"] for c in api.commands], [c["command"] for c in api.group_commands]
    assert "remove" not in readers and "id" not in readers and "ask" not in readers   # /id and /ask still work
    assert groups[0] == "ask" and "forget" not in groups
    api.message("/id", user_id=601)
    assert "你的 Telegram 数字 id：601" in plain(bot.replies(601)[0]["params"]["text"])
    api.message("/frobnicate", user_id=602)
    assert plain(bot.replies(602)[0]["params"]["text"]) == "没有这个命令，发 /help 看用法。"
    # An article's own link: /start with its key makes it the conversation's article.
    api.message("/start qingshui_library", user_id=603)
    start = bot.replies(603)[0]
    assert "我们聊《清水镇" in plain(start["params"]["text"])
    api.message("这篇文章讲了什么？", user_id=603)
    overview = plain(bot.replies(603, 2)[1]["params"]["text"])
    assert "清水镇图书馆" in overview and "日照岚山区" not in overview
    # Its example questions are about that article, and the answer shows the question pressed.
    example = start["params"]["reply_markup"]["inline_keyboard"][0][0]
    press(bot, 603, example["callback_data"], "1")
    answered = plain(bot.replies(603, 3)[2]["params"]["text"])
    assert answered.startswith(f"问：{example['text']}") and "清水镇" in answered
    # Without a key, /start with several articles offers to choose one.
    api.message("/start", user_id=604)
    assert _button(bot.replies(604)[0], "就这篇")


def test_messages_as_people_send_them(bot):
    api = bot.api
    api.message("岚山区委书记是谁", user_id=611, message_id=9001)
    bot.replies(611)
    api.push("edited_message", message_id=9001, date=int(time.time()), edit_date=int(time.time()),
             chat={"id": 611, "type": "private"}, text="虎山镇副镇长是谁？",
             **{"from": {"id": 611, "is_bot": False, "first_name": "u"}})
    edited = plain(bot.replies(611, 2)[1]["params"]["text"])
    assert edited.startswith("（按修改后的问题回答）") and "副镇长" in edited
    api.message(None, user_id=612, caption="岚山区委书记是谁？",
                photo=[{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}])
    photo_answer = plain(bot.replies(612)[0]["params"]["text"])
    assert photo_answer.startswith("（我看不到图片，只按文字回答）") and "焦春锋" in photo_answer
    api.message(None, user_id=612, voice={"file_id": "v", "file_unique_id": "v", "duration": 3})
    assert plain(bot.replies(612, 2)[1]["params"]["text"]) == "我听不了语音，请打字提问。"
    api.message("看看这篇 https://example.com/news/1.html", user_id=613)   # a reader, not an admin
    assert "编辑" in plain(bot.replies(613)[0]["params"]["text"])
    # An emoji or a laugh is no question: a short reply, no greeting, no buttons.
    for n, text in enumerate(["👍", "哈哈哈 说得好"]):
        api.message(text, user_id=614)
        said = bot.replies(614, n + 1)[n]["params"]
        assert plain(said["text"]) == "😊" and "reply_markup" not in said
    api.message("？", user_id=614)
    assert plain(bot.replies(614, 3)[2]["params"]["text"]).startswith("想问什么？")
    # Added to a group: one line on how to ask there; another member joining: nothing.
    someone = {"id": 615, "is_bot": False, "first_name": "m"}
    api.message(None, user_id=615, chat_id=-615, chat_type="group", new_chat_members=[someone])
    api.message(None, user_id=615, chat_id=-615, chat_type="group",
                new_chat_members=[{"id": 4242, "is_bot": True, "first_name": "ArticleQA", "username": "article_qa_bot"}])
    greeting = bot.replies(-615)
    time.sleep(1)
    assert len(bot.replies(-615)) == 1 and "@我" in plain(greeting[0]["params"]["text"])


def test_an_admins_menu_link_and_removal_wait_for_confirmation(tmp_path):
    bot = _library_bot(tmp_path, ", welcome: 岚山日报读者助手").start()
    try:
        api = bot.api
        _introduced(api)
        assert api.description.startswith("岚山日报读者助手\n")   # the newsroom's own line, first
        api.message("/start", user_id=702)
        assert plain(bot.replies(702)[0]["params"]["text"]).startswith("岚山日报读者助手\n")
        assert {"remove", "report", "id"} <= {c["command"] for c in api.scoped_commands[ADMIN]}
        api.message("/help", user_id=ADMIN)
        assert "发来文件" in plain(bot.replies(ADMIN)[0]["params"]["text"])
        api.message("看看这篇 https://example.com/a.html 写得不错", user_id=ADMIN)
        ask = bot.replies(ADMIN, 2)[1]
        assert plain(ask["params"]["text"]) == "要添加这个链接吗？\nhttps://example.com/a.html"
        press(bot, ADMIN, _button(ask, "取消")["callback_data"], "1")
        assert "没有改动" in plain(bot.replies(ADMIN, 3)[2]["params"]["text"])
        assert _marked(api, ADMIN) == "已取消"   # the question's buttons now say what was chosen
        press(bot, ADMIN, _button(ask, "添加")["callback_data"], "1-again")   # a second press: a toast, no change
        assert "失效" in api.toast("press{}-1-again".format(ADMIN))["text"] and len(bot.replies(ADMIN, 3)) == 3
        api.document("paris.txt", (DATA / "paris_ai_summit.txt").read_bytes(), user_id=ADMIN)
        added = plain(bot.replies(ADMIN, 5, timeout=90)[4]["params"]["text"])
        assert "已添加" in added and "https://t.me/article_qa_bot?start=paris" in added
        assert "标题取自文件名或正文第一句" in added   # a wire report without a title line
        api.message("/remove paris", user_id=ADMIN)
        confirm = bot.replies(ADMIN, 6)[5]
        assert "确定删除" in plain(confirm["params"]["text"])
        press(bot, ADMIN, _button(confirm, "删除")["callback_data"], "2")
        assert "已删除" in plain(bot.replies(ADMIN, 8, timeout=90)[7]["params"]["text"])
        api.document("x.txt", b"text", user_id=701)   # not an admin: told the id the editor needs
        assert "你的 Telegram id：701" in plain(bot.replies(701)[0]["params"]["text"])
        # A reader's 👎 reaches the editor's report; a period the report does not know gets a hint.
        api.message("岚山区委书记是谁？", user_id=720)
        acknowledged = api.calls.count("answerCallbackQuery")
        press(bot, 720, _button(bot.replies(720)[0], "没答对")["callback_data"], "v")
        deadline = time.time() + 10   # the verdict is written before the press is acknowledged
        while api.calls.count("answerCallbackQuery") == acknowledged and time.time() < deadline:
            time.sleep(0.05)
        assert _marked(api, 720) == "👎 已反馈"   # the vote row shows the verdict given
        api.message("/report", user_id=ADMIN)
        assert "读者点了“没答对”的回答" in plain(bot.replies(ADMIN, 9, timeout=30)[8]["params"]["text"])
        assert plain(bot.replies(ADMIN, 10)[9]["params"]["text"]).startswith("读者说没答对：")   # offered for correction
        api.message("/report 本周", user_id=ADMIN)
        assert "没有编号为 本周 的文章" in plain(bot.replies(ADMIN, 11)[10]["params"]["text"])
    finally:
        bot.stop()


def test_inline_mode_offers_the_answering_sentences_with_their_citation_and_a_way_in(bot):
    offered = bot.api.inline("岚山区委书记是谁", user_id=640, query_id="iq1")
    first = offered["results"][0]
    posted = first["input_message_content"]["message_text"]
    assert "焦春锋" in first["title"] and "第" in first["description"]
    assert posted.startswith("<b>问：</b>岚山区委书记是谁") and "<blockquote>" in posted
    assert "https://t.me/article_qa_bot?start=lanshan" in posted
    assert offered["button"]["start_parameter"] == "inline"
    assert bot.api.inline("岚", user_id=640, query_id="iq2")["results"] == []   # still typing
    assert bot.api.inline("火星上的天气怎么样", user_id=640, query_id="iq3")["results"] == []   # not in any article
