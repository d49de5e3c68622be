"""End-to-end tier: the newsroom's loop through the real bot and the fake Bot API — a channel post
becomes an article, its comment thread is answered from it, an edited post replaces it; a 👎 shows
in /report, the editor pins the right sentence, a reworded question gets it, /pins undoes it."""
import time

import pytest

from test_library_e2e import ADMIN, _library_bot
from test_sources import site  # noqa: F401 — a local web server (a fixture)
from test_telegram_e2e import plain

pytestmark = pytest.mark.e2e
CHANNEL = {"id": -1001234567890, "type": "channel", "title": "清水新闻", "username": "qingshui_news"}
GROUP = -1001600
POST = 31
REPORT = ("清水镇图书馆改造完成 夜间开放受欢迎\n"
          "经过八个月的施工，清水镇图书馆改造工程于5月10日全部完成，并重新向公众开放。"
          "改造后的图书馆建筑面积达到3200平方米，比改造前扩大了一倍。馆内新增藏书4.5万册，总藏书量超过12万册。"
          "新馆设有儿童阅览区、老年阅览区和数字阅读区三个功能区。数字阅读区配备了40台电脑，读者可以免费查阅电子期刊。"
          "图书馆馆长陈建国介绍，夜间开放时间延长到晚上九点，方便上班族借阅。")


def _post(api, text: str, edited: bool = False) -> None:
    api.push("edited_channel_post" if edited else "channel_post", message_id=POST, date=int(time.time()),
             chat=CHANNEL, text=text, **({"edit_date": int(time.time())} if edited else {}))


def _admin_heard(bot, count: int) -> str:
    return plain(bot.replies(ADMIN, count, timeout=90)[count - 1]["params"]["text"])


def test_a_post_becomes_an_article_and_its_comment_thread_is_answered_from_it(tmp_path):
    bot = _library_bot(tmp_path, ", channel: '@qingshui_news', channel_post_min_chars: 100").start()
    try:
        api = bot.api
        _post(api, "今天天气不错")   # too short to be a report, no link: nothing
        _post(api, REPORT)
        heard = _admin_heard(bot, 1)
        assert heard.startswith(f"频道帖子 {POST} 已添加成文章") and "清水镇图书馆改造完成" in heard and "清水新闻" in heard
        # The post's automatic forward opens its comment thread in the discussion group.
        forward = {"message_id": 900, "date": int(time.time()), "chat": {"id": GROUP, "type": "supergroup", "title": "讨论"},
                   "text": REPORT, "is_automatic_forward": True, "sender_chat": CHANNEL,
                   "forward_origin": {"type": "channel", "chat": CHANNEL, "message_id": POST, "date": int(time.time())}}
        api.message(REPORT, user_id=777000, chat_id=GROUP, chat_type="supergroup", message_id=900,
                    is_automatic_forward=True, sender_chat=CHANNEL, forward_origin=forward["forward_origin"])
        time.sleep(1)
        api.message("馆长叫什么名字？", user_id=55, chat_id=GROUP, chat_type="supergroup",
                    message_thread_id=900, reply_to_message=forward)
        answered = bot.replies(GROUP)[0]["params"]
        assert "陈建国" in plain(answered["text"])   # from the post's article, though the library holds another
        assert "https://t.me/qingshui_news/31" in str(answered["reply_markup"])   # 阅读原文: the post itself
        api.message("哈哈 我周末去看看", user_id=56, chat_id=GROUP, chat_type="supergroup",
                    message_thread_id=900, reply_to_message=forward)   # readers talking: left alone
        api.message("晚上开到几点", user_id=55, chat_id=GROUP, chat_type="supergroup", message_thread_id=900,
                    reply_to_message=forward)   # a follow-up in the thread, no @mention
        assert "九点" in plain(bot.replies(GROUP, 2)[1]["params"]["text"])
        time.sleep(1)
        assert len(bot.replies(GROUP)) == 2
        # An edited post replaces its article.
        _post(api, REPORT.replace("晚上九点", "晚上十点"), edited=True)
        assert _admin_heard(bot, 2).startswith(f"频道帖子 {POST} 已更新成文章")
        time.sleep(3)   # the bot picks the new index up
        api.message("夜里开到几点？", user_id=57, chat_id=GROUP, chat_type="supergroup", message_thread_id=900,
                    reply_to_message=forward)
        assert "十点" in plain(bot.replies(GROUP, 3)[2]["params"]["text"])
    finally:
        bot.stop()


def test_the_editor_pins_the_right_sentence_to_a_wrong_answer_and_undoes_it(tmp_path):
    from test_newsroom_e2e import _button, _marked
    from test_telegram_e2e import press
    bot = _library_bot(tmp_path).start()
    try:
        api = bot.api
        api.message("岚山区委书记是谁？", user_id=730)
        answered = bot.replies(730)[0]
        first = plain(answered["params"]["text"])
        press(bot, 730, _button(answered, "没答对")["callback_data"], "wrong")
        api.toast("press730-wrong")
        time.sleep(1)   # the recorder writes within half a second
        api.message("/report", user_id=ADMIN)
        offer = bot.replies(ADMIN, 2, timeout=60)[1]
        offered = plain(offer["params"]["text"])
        assert offered.startswith("读者说没答对：“岚山区委书记是谁？”（《日照岚山区")
        second = offered.splitlines()[2].partition(". ")[2]   # the article's second closest sentence
        press(bot, ADMIN, _button(offer, "第 2 句")["callback_data"], "pin")
        assert "以后类似的问题先引用" in plain(bot.replies(ADMIN, 3)[2]["params"]["text"])
        assert _marked(api, ADMIN) == "✅ 已指定第 2 句"
        api.message("岚山的区委书记是谁", user_id=731)   # reworded: the pinned sentence first
        pinned = plain(bot.replies(731)[0]["params"]["text"])
        assert pinned.index(second[:20]) < 40 and "第" in pinned   # quoted and cited like any answer
        api.message("/report", user_id=ADMIN)   # the correction counted (and the 👎 offered again)
        assert "编辑更正了 1 个问题的回答" in plain(bot.replies(ADMIN, 5, timeout=60)[3]["params"]["text"])
        api.message("/pins", user_id=ADMIN)
        listing = bot.replies(ADMIN, 6)[5]
        assert "#1" in plain(listing["params"]["text"]) and "岚山区委书记是谁" in plain(listing["params"]["text"])
        press(bot, ADMIN, _button(listing, "撤销 #1")["callback_data"], "unpin")
        assert "已撤销 #1" in api.toast(f"press{ADMIN}-unpin")["text"]
        api.message("岚山的区委书记是谁", user_id=732)
        assert plain(bot.replies(732)[0]["params"]["text"])[:30] == first[:30]   # as before the correction
    finally:
        bot.stop()


def test_a_post_with_a_link_adds_the_page_within_seconds_and_cites_it(tmp_path, site):  # noqa: F811
    bot = _library_bot(tmp_path, ", channel: '-1001234567890'")   # the channel by its id
    config = tmp_path / "config.yaml"
    config.write_text("sources: {allow_private_urls: true}\n" + config.read_text(encoding="utf-8"), encoding="utf-8")
    bot.start()
    try:
        posted = time.time()
        bot.api.push("channel_post", message_id=41, date=int(time.time()), chat=CHANNEL,
                     text=f"清水镇图书馆夜间开放 {site}/xinhua.html")
        assert _admin_heard(bot, 1).startswith("频道帖子 41 已添加成文章")
        for n in range(40):
            bot.api.message("清水镇图书馆晚上开到几点？", user_id=800 + n)
            answer = bot.replies(800 + n)[0]["params"]
            if "清水镇图书馆" in plain(answer["text"]) and "阅读原文" in str(answer.get("reply_markup")):
                break
            time.sleep(0.25)
        print(f"a linked post answerable {time.time() - posted:.1f} s after it was posted")
        assert time.time() - posted < 15 and "阅读原文" in str(answer.get("reply_markup"))
    finally:
        bot.stop()
