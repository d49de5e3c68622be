"""Fast tier: which chat is the newsroom's channel, which comments ask, and the post → article →
thread map that outlives a restart."""
from types import SimpleNamespace

from bot.telegram.channel import PostArticles, asks, is_the_channel


def test_the_channel_is_known_by_its_name_or_its_id():
    chat = SimpleNamespace(id=-1001500, username="Qingshui_News")
    assert is_the_channel(chat, "@qingshui_news") and is_the_channel(chat, "-1001500")
    assert not is_the_channel(chat, "@other_news") and not is_the_channel(chat, "") and not is_the_channel(None, "@a")


def test_a_comment_that_asks_is_told_from_readers_talking():
    assert all(asks(t) for t in ["馆长叫什么名字", "几点开门？", "有没有停车位", "这是真的吗", "谁说的"])
    assert not any(asks(t) for t in ["哈哈 我周末去看看", "支持！", "说得好", ""])


def test_which_article_a_post_became_and_which_thread_it_opened_outlive_a_restart(tmp_path):
    posts = PostArticles(tmp_path / "channel.sqlite3")
    posts.remember_post(-1001500, 31, "post-1001500-31")
    posts.remember_thread(-1001600, 900, "post-1001500-31")
    again = PostArticles(tmp_path / "channel.sqlite3")
    assert again.article_of_post(-1001500, 31) == "post-1001500-31" and again.article_of_post(-1001500, 32) is None
    assert again.article_of_thread(-1001600, 900) == "post-1001500-31"
    assert (tmp_path / "channel.sqlite3").stat().st_mode & 0o777 == 0o600


def test_a_text_posts_own_address_is_kept_for_its_article(tmp_path):
    posts = PostArticles(tmp_path / "channel.sqlite3")
    posts.remember_post(-1001234567890, 31, "post-31", "https://t.me/qingshui_news/31")
    posts.remember_post(-1001234567890, 32, "xinhua")   # a linked page: its own address is the page's
    assert posts.link_of("post-31") == "https://t.me/qingshui_news/31" and posts.link_of("xinhua") == ""
