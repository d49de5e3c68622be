"""End-to-end tier: the newsroom's channel through the real bot and the fake Bot API — a post becomes
an article, its comment thread is answered from it, an edited post replaces it."""
import time

import pytest

from test_library_e2e import ADMIN, _library_bot
from test_telegram_e2e import plain

pytestmark = pytest.mark.e2e
CHANNEL = {"id": -1001500, "type": "channel", "title": "清水新闻", "username": "qingshui_news"}
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
        answer = plain(bot.replies(GROUP)[0]["params"]["text"])
        assert "陈建国" in answer   # from the post's article, though the library holds another
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
