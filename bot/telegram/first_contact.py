"""First contact: what the bot says about itself before anyone asks, and the ways in.

- Its description (the empty chat's "What can this bot do?") and short description (shown with a
  shared link), set from the article list at start-up and after the library changes.
- A link per article, `https://t.me/<bot>?start=<key>`: /start with that key makes the article the
  conversation's own (bot/telegram/commands.py, on_start).
- The command menus: readers see theirs (in a group, /ask first); each admin sees /report, /remove
  and /id too, in a menu scoped to their chat.
"""
from __future__ import annotations

import hashlib
import logging
import re

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

log = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 512         # the Bot API's limits, in characters
SHORT_DESCRIPTION_LIMIT = 120
TITLES_NAMED = 5
# Each menu holds what its readers use: /ask only where a plain message is not read (a group),
# /id for the editor who adds admins (it works for anyone who types it).
READER_COMMANDS = [("start", "介绍与示例问题"), ("help", "怎么提问"), ("articles", "文章列表"), ("latest", "最新的一篇"),
                   ("sections", "文章目录"),
                   ("source", "文章来源与作者"), ("forget", "删除我的提问记录")]
GROUP_COMMANDS = [("ask", "提问：/ask 问题"), ("help", "怎么提问"), ("articles", "文章列表"), ("sections", "文章目录"),
                  ("source", "文章来源与作者")]
ADMIN_COMMANDS = READER_COMMANDS + [("report", "读者提问报告：/report 7d"), ("pins", "更正：以后先引用的句子"),
                                    ("remove", "删除文章：/remove 编号或标题"),
                                    ("id", "Telegram id（给新管理员）")]
# A /start parameter may hold only these, at most 64 of them.
_START_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HASHED = re.compile(r"a[0-9a-f]{16}")   # the shape of a hashed key


def description(titles: list[str], welcome: str = "") -> str:
    """The newsroom's line, what the bot does and what it has read, for its empty chat."""
    named = "、".join(f"《{t}》" for t in titles[-TITLES_NAMED:][::-1])   # the newest
    more = f"等 {len(titles)} 篇文章" if len(titles) > TITLES_NAMED else ""
    text = ((f"{welcome}\n" if welcome else "") + f"我用文章里的原句回答问题，并注明出处（章节、段落）；文章里没有的，我会直说。\n"
            f"我读过：{named}{more}。\n直接发中文问题即可；在群里请 @我 或用 /ask 问题。")
    return text[:DESCRIPTION_LIMIT]


def short_description(titles: list[str]) -> str:
    """One line for a shared link."""
    if not titles:
        return "引用文章原句回答问题，注明出处。"
    more = f"等 {len(titles)} 篇文章" if len(titles) > 1 else ""
    line = f"引用原句回答关于《{titles[0]}》{more}的问题，注明出处。"
    if len(line) > SHORT_DESCRIPTION_LIMIT:
        line = f"引用原句回答关于{len(titles)} 篇文章的问题，注明出处。"
    return line[:SHORT_DESCRIPTION_LIMIT]


def start_key(article_id: str) -> str:
    """The /start parameter that names an article: its id when Telegram allows it, else a short
    hash of it (ids made from Chinese file names are not allowed). An id that looks like a hash
    is hashed too, so that no article's id is another's key."""
    if _START_KEY.fullmatch(article_id) and not _HASHED.fullmatch(article_id):
        return article_id
    return "a" + hashlib.sha256(article_id.encode()).hexdigest()[:16]


def article_for_key(key: str, catalogue, articles):
    """The article a /start parameter names, or None (found by the catalogue's ids, read alone)."""
    number = next((n for n, entry in enumerate(catalogue.entries) if start_key(entry.id) == key), None)
    return None if number is None else articles[number]


def deep_link(username: str, article_id: str) -> str:
    return f"https://t.me/{username}?start={start_key(article_id)}"


async def introduce(app: Application, titles: list[str], admin_ids: list[int]) -> None:
    """Set the command menus, the description and the short description."""
    bot = app.bot
    await _each(("the command menu", lambda: bot.set_my_commands([BotCommand(c, d) for c, d in READER_COMMANDS])),
                ("the groups' command menu", lambda: bot.set_my_commands([BotCommand(c, d) for c, d in GROUP_COMMANDS],
                                                                        scope=BotCommandScopeAllGroupChats())))
    await _each(*[(f"admin {admin_id}'s command menu",
                   lambda admin_id=admin_id: bot.set_my_commands([BotCommand(c, d) for c, d in ADMIN_COMMANDS],
                                                                 scope=BotCommandScopeChat(admin_id)))
                  for admin_id in admin_ids])
    await describe(app, titles)


async def describe(app: Application, titles: list[str]) -> None:
    """Set the description and the short description from the article list (at start-up, and
    whenever the library changes)."""
    welcome = app.bot_data["settings"].welcome
    await _each(("the description", lambda: app.bot.set_my_description(description(titles, welcome))),
                ("the short description", lambda: app.bot.set_my_short_description(short_description(titles))))


async def _each(*calls) -> None:
    """Each call is a convenience: a failure is one warning and the bot answers anyway (a bad
    token still stops it)."""
    for what, call in calls:
        try:
            await call()
        except InvalidToken:
            raise
        except TelegramError as exc:   # an admin who never opened a chat with the bot: "chat not found"
            log.warning("Could not set %s: %s", what, exc)
