"""Managing articles from Telegram: admins (telegram.admin_ids) send a file or a link to add an
article, /remove ID to take one out (everyone can list them with /articles, in bot/telegram/handlers.py).

The work itself is `Library` (the same add/remove as `article-qa index --add/--remove`), run in a
worker thread; the running bot then picks up the rebuilt index (bot/telegram/index_watch.py).
"""
from __future__ import annotations

import asyncio
import html
import logging
import re
import threading
from pathlib import Path
from typing import Callable

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.errors import UserError
from bot.runtime import Change
from index.sources import SUFFIXES, is_url

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 2**20   # the Bot API's own limit for files a bot downloads
ADMINS_ONLY = "只有管理员可以添加或删除文章。请用文字提问。"
_URL_ONLY = re.compile(r"^\s*https?://\S+\s*$")


class Library:
    """Adds and removes articles of the bot's index, one change at a time."""

    def __init__(self, add: Callable[[list[str]], Change], remove: Callable[[list[str]], Change], uploads: Path):
        self._add, self._remove, self.uploads = add, remove, Path(uploads)
        self._lock = threading.Lock()   # two uploads at once must not build from the same old index

    def add(self, source: str) -> str:
        """Index a file or URL; return what was found, for the admin."""
        with self._lock:
            change = self._add([source])
        lines = []
        for a in change.added:
            lines.append(f"已添加《{a.title}》（编号 {a.id}）：{len(a.sections)} 个部分，{len(a.passages())} 句。")
            lines += [f"· {line}" for _, line in a.metadata]
            if a.dropped:
                lines.append(f"· 去掉了文末 {len(a.dropped)} 行网页杂项：" + " | ".join(d[:20] for d in a.dropped[:5]))
        return "\n".join(lines + [f"现在共有 {change.articles} 篇文章，一两秒后即可就新文章提问。"])

    def remove(self, article_id: str) -> str:
        """Take an article out; return a line for the admin."""
        with self._lock:
            change = self._remove([article_id])
        return f"已删除 {article_id}。现在共有 {change.articles} 篇文章。"


def is_admin(context, update: Update) -> bool:
    user = update.effective_user
    return bool(user and user.id in context.bot_data["settings"].admin_ids)


def is_link(text: str | None) -> bool:
    return bool(text and _URL_ONLY.match(text) and is_url(text.strip()))


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    """A file sent in a private chat: an admin's new article."""
    document = update.effective_message.document
    if not is_admin(context, update):
        await reply(update, context, [ADMINS_ONLY])
        return
    name = Path(document.file_name or "article.txt").name
    if Path(name).suffix.lower() not in SUFFIXES:
        await reply(update, context, [html.escape(f"不支持这种文件：{name}。请发送 .txt、.md、.html、.docx 或 .pdf 文件，或文章链接。")])
        return
    if (document.file_size or 0) > MAX_UPLOAD_BYTES:
        await reply(update, context, [f"文件太大（超过 {MAX_UPLOAD_BYTES // 2**20} MB）。"])
        return
    library: Library = context.bot_data["library"]
    library.uploads.mkdir(parents=True, exist_ok=True)
    target = library.uploads / _safe(name)   # the same file name again replaces that article
    try:
        telegram_file = await document.get_file()
        await telegram_file.download_to_drive(target)
    except TelegramError as exc:
        log.warning("Could not download the upload of update %s: %s", update.update_id, exc)
        await reply(update, context, ["文件下载失败，请稍后再发一次。"])
        return
    await _change(update, context, reply, library.add, str(target))


async def on_link(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    """An admin's message that is only a link: index the page."""
    await _change(update, context, reply, context.bot_data["library"].add, update.effective_message.text.strip())


async def on_remove(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    if not is_admin(context, update):
        await reply(update, context, [ADMINS_ONLY])
        return
    if len(context.args or []) != 1:
        await reply(update, context, ["用法：/remove 文章编号（/articles 列出编号）"])
        return
    await _change(update, context, reply, context.bot_data["library"].remove, context.args[0])


async def _change(update, context, reply, change: Callable[[str], str], argument: str) -> None:
    """Run an add or remove in a worker thread and reply with its report, or with what was wrong."""
    await reply(update, context, ["正在处理，请稍候……"])
    try:
        report = await asyncio.get_running_loop().run_in_executor(None, change, argument)
    except UserError as exc:
        await reply(update, context, [html.escape(f"没有完成：{exc}")])
        return
    await reply(update, context, [html.escape(report)])


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\u4e00-\u9fff-]+", "_", name)[-80:]
