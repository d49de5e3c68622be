"""The newsroom's channel (telegram.channel, with the bot one of its admins): every post becomes an
article, and a question in a post's comment thread is answered from that post's article.

- A post with a link adds the page (as an admin's link does, with the same checks and limits); a
  post whose text is itself a report (telegram.channel_post_min_chars or longer) is added as a text
  article, its first line the title, the channel and the post's date as its source and date. An
  edited post replaces its article (same id). The admins hear of each, in private. Nothing else
  from the channel is read.
- In the channel's discussion group each post arrives as an automatic forward, the root of its
  comment thread. A comment there that asks something is answered from the post's article, as a
  conversation about that one report, in the thread; other comments are left alone.

Which article each post became, and which thread each post opened, is kept in SQLite beside the
update journal (`PostArticles`), so threads keep their article across restarts.
"""
from __future__ import annotations

import html
import logging
import re
import secrets
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Chat, Message, MessageEntity, MessageOriginChannel, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.errors import UserError
from bot.storage import private_database
from bot.telegram.admin import Library, link_in
from bot.telegram.failures import in_chinese

log = logging.getLogger(__name__)

# A comment that asks: a question mark, or a question word ("几点开始", "谁说的", "有没有").
_ASKS = re.compile(r"[?？]|吗|呢|什么|啥|谁|哪|几|多少|多大|多久|怎么|怎样|咋|为什么|为啥|是否|有没有|是不是|能不能")


class PostArticles:
    """(channel, post) → the article it became; (group, thread root) → the post's article."""

    def __init__(self, path: Path):
        self._lock = threading.Lock()
        self._db = private_database(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS posts (channel INTEGER, post INTEGER, article TEXT NOT NULL, "
                         "link TEXT, PRIMARY KEY (channel, post))")
        self._db.execute("CREATE TABLE IF NOT EXISTS threads (chat INTEGER, root INTEGER, article TEXT NOT NULL, "
                         "PRIMARY KEY (chat, root))")

    def remember_post(self, channel: int, post: int, article: str, link: str = "") -> None:
        """`link`: the post's own t.me address, 阅读原文 for an article that has no web page."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO posts VALUES (?, ?, ?, ?)", (channel, post, article, link or None))

    def link_of(self, article: str) -> str:
        """The t.me address of the post an article came from, or ""."""
        with self._lock:
            row = self._db.execute("SELECT link FROM posts WHERE article = ? AND link IS NOT NULL "
                                   "ORDER BY post DESC LIMIT 1", (article,)).fetchone()
        return row[0] if row else ""

    def article_of_post(self, channel: int, post: int) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT article FROM posts WHERE channel = ? AND post = ?", (channel, post)).fetchone()
        return row[0] if row else None

    def remember_thread(self, chat: int, root: int, article: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO threads VALUES (?, ?, ?)", (chat, root, article))

    def article_of_thread(self, chat: int, root: int) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT article FROM threads WHERE chat = ? AND root = ?", (chat, root)).fetchone()
        return row[0] if row else None


def is_the_channel(chat: Chat | None, channel: str) -> bool:
    """Whether a chat is the configured channel (by @name or by id)."""
    if chat is None or not channel:
        return False
    return str(chat.id) == channel or (chat.username or "").lower() == channel.lstrip("@").lower()


async def on_channel_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A post (or an edit of one) in the newsroom's channel: its link or its text, added."""
    post = update.channel_post or update.edited_channel_post
    settings, library = context.bot_data["settings"], context.bot_data.get("library")
    if post is None or library is None or not is_the_channel(post.chat, settings.channel):
        return
    text = post.text or post.caption or ""
    link = _link_of(post)
    if link:
        change, argument, what = library.add, link, link
    elif len(text.strip()) >= settings.channel_post_min_chars:
        change, argument = library.add_upload, str(_post_as_file(library, post, text, context.bot_data["report_timezone"]))
        what = f"频道帖子 {post.message_id}"
    else:
        return
    try:
        report, ids = await library.run(what, lambda source: (change(source), list(library.last_added)), argument)
    except UserError as exc:
        await _tell_admins(context, html.escape(f"频道帖子 {post.message_id} 没有添加成文章：{in_chinese(str(exc), what)}"))
        return
    for article_id in ids:   # a text post's own address is its 阅读原文 (a linked page is its own)
        context.bot_data["posts"].remember_post(post.chat.id, post.message_id, article_id, "" if link else post.link or "")
    log.info("Channel post %s: %s", post.message_id, re.sub(r"<[^>]+>", "", report.splitlines()[0]))
    await _tell_admins(context, f"频道帖子 {post.message_id} 已{'更新' if update.edited_channel_post else '添加'}成文章：\n{report}")


def commented_article(context, message: Message) -> str | None:
    """The article of the post whose comment thread holds this message, if any. The thread's root,
    the post's automatic forward, is remembered when it arrives (it is no question itself)."""
    posts: PostArticles | None = context.bot_data.get("posts")
    if posts is None or message.chat.type == "private":
        return None
    origin = message.forward_origin
    if message.is_automatic_forward and isinstance(origin, MessageOriginChannel):
        article = posts.article_of_post(origin.chat.id, origin.message_id)
        if article:
            posts.remember_thread(message.chat.id, message.message_id, article)
        return None
    root = message.message_thread_id or (message.reply_to_message.message_id if message.reply_to_message else None)
    return posts.article_of_thread(message.chat.id, root) if root else None


def asks(text: str) -> bool:
    """Whether a comment asks something (the rest of a thread is readers talking to each other)."""
    return bool(_ASKS.search(text or ""))


def _link_of(post: Message) -> str:
    """The post's link: a link in its text, or a word the post links (a text link)."""
    links = [*post.parse_entities([MessageEntity.URL]).values(),
             *(entity.url for entity in post.entities or () if entity.type == MessageEntity.TEXT_LINK and entity.url)]
    return links[0] if links else link_in(post.text or post.caption)


def _post_as_file(library: Library, post: Message, text: str, timezone: str) -> Path:
    """The post as a text article to add: its first line the title, then the channel as its
    source and the post's date (lines the article reader takes as metadata), then the text."""
    lines = text.strip().splitlines()
    when = post.date.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    head = [lines[0], f"来源：{post.chat.title or post.chat.username or post.chat.id}", f"发布时间：{when}"]
    folder = library.uploads / ".incoming" / secrets.token_hex(8)
    folder.mkdir(parents=True)
    path = folder / f"post-{abs(post.chat.id)}-{post.message_id}.txt"
    path.write_text("\n".join(head + lines[1:]) + "\n", encoding="utf-8")
    return path


async def _tell_admins(context, text: str) -> None:
    for admin_id in context.bot_data["settings"].admin_ids:
        try:
            await context.bot.send_message(admin_id, text[:4000], parse_mode="HTML")
        except TelegramError as exc:
            log.warning("Could not tell admin %s about a channel post: %s", admin_id, exc)
