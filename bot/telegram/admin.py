"""Managing articles from Telegram: admins (telegram.admin_ids) send a file or a link to add an
article, /remove ID to take one out (everyone can list them with /articles, in bot/telegram/commands.py).

The work itself is `Library`: `article-qa index --add/--remove` in a child process, one at a time;
the running bot then picks up the rebuilt index (bot/telegram/index_watch.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.errors import UserError
from bot.telegram.failures import in_chinese
from bot.telegram.sending import settle
from index.language.text import normalise
from index.sources.article import ArticleError
from index.sources.load import SUFFIXES, checked_url, is_url, url_id

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 2**20   # the Bot API's own limit for files a bot downloads
MAX_NAME_BYTES = 120
ADMINS_ONLY = "只有管理员可以添加或删除文章。请用文字提问。"
TOO_BIG = f"文件太大（超过 {MAX_UPLOAD_BYTES // 2**20} MB），没有处理。"
_URL_ONLY = re.compile(r"^\s*https?://\S+\s*$")
# A link inside a message ("看看这篇 https://…"), as phones share them; it ends at a space, a
# Chinese character or Chinese punctuation.
_URL_IN = re.compile(r"https?://[^\s\u3000-\u303f\u4e00-\u9fff\uff00-\uffef<>\"']+")


_PREVIOUS = ".previous"   # the suffix of an uploaded file put aside while its replacement is added


class Library:
    """Adds and removes articles of the bot's index, one change at a time, in its own lane: each
    change is `article-qa index --add/--remove --json` in a child process, waited for by a thread
    of its own. The bot keeps its memory (the model is loaded, and the article embedded, in the
    child), readers' answers and the event loop's own needs never wait for it, and a stop signal
    ends it cleanly (the child removes its half-built folder; the old index stays)."""

    STOP_SECONDS = 3   # a child still embedding gets this long to clean up after SIGTERM

    def __init__(self, index_command: list[str], uploads: Path, configured_ids: frozenset[str] = frozenset()):
        self.index_command, self.uploads = index_command, Path(uploads)
        self.configured_ids = configured_ids   # articles of config.yaml: replaced only when an admin confirms
        self.link_for: Callable[[str], str] | None = None   # an article's t.me link, once the bot knows its name
        self._lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix="admin")
        self._queued: list[str] = []   # what the lane holds, the one in progress first
        self._child: subprocess.Popen | None = None
        self._stopping = threading.Event()
        # Articles this run added, by id: the bot answers from the new index a second after the
        # add's report, and an admin who reads the report and sends /remove at once is understood.
        self.added: dict[str, SimpleNamespace] = {}
        self.last_added: list[str] = []
        self.on_removed: Callable[[str], None] | None = None   # told each article id removed
        # Uploads a previous run downloaded and never confirmed or indexed.
        shutil.rmtree(self.uploads / ".incoming", ignore_errors=True)
        self._restore_interrupted()

    def waiting_behind(self) -> list[str]:
        """What a new change would wait for, the one in progress first."""
        return list(self._queued)

    async def run(self, what: str, change: Callable[[str], str], argument: str) -> str:
        """Run an add or remove in the lane; return its report for the admin."""
        self._queued.append(what)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._lane, change, argument)
        finally:
            self._queued.remove(what)

    def add(self, source: str) -> str:
        """Index a file or URL; return what was found, for the admin."""
        change = self._index("--add", source)
        self.added.update({a["id"]: SimpleNamespace(id=a["id"], title=a["title"]) for a in change["added"]})
        self.last_added = [a["id"] for a in change["added"]]   # read in the lane, by the change that ran it
        lines, e = [], html.escape
        for a in change["added"]:   # HTML: the id in <code>, copied with a tap for /remove
            lines.append(f"已添加《{e(a['title'])}》（编号 <code>{e(a['id'])}</code>）：{a['sections']} 个部分，{a['passages']} 句。")
            if a.get("title_from_text"):   # no title line: named by its file, or by its first news clause
                lines.append("· 文中没有标题行，标题取自文件名或正文第一句。")
            if self.link_for:
                lines.append(f"· 读者链接（打开即就这篇提问）：{e(self.link_for(a['id']))}")
            lines += [f"· {e(line)}" for line in a["metadata"]]
            if a["dropped"]:   # site debris, cut at the start or the end of the text
                lines.append(f"· 去掉了 {len(a['dropped'])} 行网页杂项（不是正文）：" + e(" | ".join(d[:20] for d in a["dropped"][:5])))
        for old in change["replaced"]:
            lines.append(f"· 它替换了原有的《{e(old['title'])}》（编号 <code>{e(old['id'])}</code>，来自 {e(Path(old['path']).name)}）。")
        return "\n".join(lines + [f"现在共有 {change['articles']} 篇文章，一两秒后即可就新文章提问。"])

    def add_upload(self, incoming: str) -> str:
        """Index an uploaded file, downloaded to a name of its own under uploads/.incoming/: it takes
        its place in uploads/ only while the add runs, and the file it replaces comes back if the
        add fails — a refused upload never overwrites the source of an article the index holds."""
        incoming = Path(incoming)
        target = self.uploads / incoming.name
        backup = target.with_name(f".{target.name}{_PREVIOUS}")
        had_one = target.exists()
        if had_one:
            os.replace(target, backup)
        os.replace(incoming, target)
        shutil.rmtree(incoming.parent, ignore_errors=True)
        try:
            report = self.add(str(target))
        except BaseException:
            if had_one:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
            raise
        backup.unlink(missing_ok=True)
        return report

    def _restore_interrupted(self) -> None:
        """A re-upload whose add never finished (the process was killed while it ran) left the
        file it replaced aside: the index still holds that version, so it goes back in place, and a
        retry cannot later take the new file for the one to keep."""
        for backup in self.uploads.glob(".*" + _PREVIOUS) if self.uploads.is_dir() else ():
            target = backup.with_name(backup.name[1:-len(_PREVIOUS)])
            os.replace(backup, target)
            log.warning("A re-upload of %s did not finish before the last stop: its previous version is back", target.name)

    def discard_upload(self, incoming: str) -> None:
        """An upload the admin chose not to add."""
        shutil.rmtree(Path(incoming).parent, ignore_errors=True)

    def remove(self, article_id: str) -> str:
        """Take an article out; return a line for the admin."""
        change = self._index("--remove", article_id)
        self.added.pop(article_id, None)
        if self.on_removed:
            self.on_removed(article_id)
        return f"已删除 <code>{html.escape(article_id)}</code>。现在共有 {change['articles']} 篇文章。"

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """End the change in progress (the old index stays) and start no other."""
        self._stopping.set()
        self._lane.shutdown(wait=False, cancel_futures=True)
        child = self._child
        if child and child.poll() is None:
            child.terminate()
            try:
                child.wait(self.STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()

    def _index(self, option: str, argument: str) -> dict:
        """Run `article-qa index OPTION ARGUMENT --json`; its JSON, or UserError with its message."""
        if self._stopping.is_set():
            raise UserError("the bot is stopping")
        # OPTION=ARGUMENT: an id or file name that starts with "-" is still read as the argument.
        self._child = subprocess.Popen([*self.index_command, f"{option}={argument}", "--json"], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
        out, err = self._child.communicate()
        if self._child.returncode != 0:
            lines = [line for line in err.splitlines() if line.startswith("article-qa: ")] or err.splitlines()[-1:]
            raise UserError((lines[-1] if lines else f"exit status {self._child.returncode}")
                            .removeprefix("article-qa: "), self._child.returncode)
        return json.loads(out.strip().splitlines()[-1])


def is_admin(context, update: Update) -> bool:
    user = update.effective_user
    return bool(user and user.id in context.bot_data["settings"].admin_ids)


def is_link(text: str | None) -> bool:
    return bool(text and _URL_ONLY.match(text) and is_url(text.strip()))


def link_in(text: str | None) -> str:
    """The first web link in a message, or ""."""
    found = _URL_IN.search(text or "")
    return found.group() if found and is_url(found.group()) else ""


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    """A file sent in a private chat: an admin's new article. One that would replace an article
    of config.yaml waits for the admin to confirm it with a button."""
    document = update.effective_message.document
    if not is_admin(context, update):
        await reply(update, context, [_admins_only(update)])
        return
    name = Path(document.file_name or "article.txt").name
    if Path(name).suffix.lower() not in SUFFIXES:
        await reply(update, context, [html.escape(f"不支持这种文件：{name}。请发送 .txt、.md、.html、.docx 或 .pdf 文件，或文章链接。")])
        return
    if (document.file_size or 0) > MAX_UPLOAD_BYTES:
        await reply(update, context, [TOO_BIG])
        return
    library: Library = context.bot_data["library"]
    target = await _download(update, context, reply, library.uploads / ".incoming" / secrets.token_hex(8) / _safe(name))
    if target is None:
        return
    if target.stem in library.configured_ids:
        await _ask_to_confirm(update, context, reply, (library.add_upload, str(target), name),
                              f"文件 {name} 会替换配置文件里的文章 {target.stem}。确定替换吗？")
        return
    await _change(update, context, reply, library.add_upload, str(target), name)


async def _ask_to_confirm(update, context, reply, pending: tuple, question: str, yes: str = "替换") -> None:
    """Keep a change — (change, argument, what) — that replaces an article of config.yaml, adds a
    link found inside a message or removes an article, until the admin presses `yes` or 取消
    (on_confirm_button)."""
    token = secrets.token_hex(4)
    context.bot_data.setdefault("confirmations", {})[token] = pending
    buttons = InlineKeyboardMarkup([[InlineKeyboardButton(yes, callback_data=f"replace:{token}"),
                                     InlineKeyboardButton("取消", callback_data=f"keep:{token}")]])
    await reply(update, context, [html.escape(question)], buttons)


async def _download(update, context, reply, target: Path) -> Path | None:
    """Download the upload to `target`, within MAX_UPLOAD_BYTES; None (the admin told why) if not."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        telegram_file = await update.effective_message.document.get_file()
        if (telegram_file.file_size or 0) > MAX_UPLOAD_BYTES:
            await reply(update, context, [TOO_BIG])
            return None
        await telegram_file.download_to_drive(target)
    except TelegramError as exc:
        shutil.rmtree(target.parent, ignore_errors=True)
        log.warning("Could not download the upload of update %s: %s", update.update_id, exc)
        await reply(update, context, [html.escape(f"文件下载失败（{exc}），请稍后再发一次。")])
        return None
    if target.stat().st_size > MAX_UPLOAD_BYTES:   # larger than it said it was
        shutil.rmtree(target.parent, ignore_errors=True)
        await reply(update, context, [TOO_BIG])
        return None
    return target


async def on_confirm_button(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    """The admin's answer to a change that waits for confirmation (_ask_to_confirm)."""
    query = update.callback_query
    kind, _, token = (query.data or "").partition(":")
    # Only an admin's press takes the change off the list: a reader's press in a group cancels nothing.
    pending = context.bot_data.get("confirmations", {}).pop(token, None) if is_admin(context, update) else None
    with contextlib.suppress(TelegramError):   # a stale press gets a toast, never a message in the chat
        await query.answer(None if pending else "这个按钮已经失效，请重新发送文件或链接。", show_alert=pending is None)
    if pending is None:
        return
    change, argument, what = pending
    await settle(query, "✅ 已确认" if kind == "replace" else "已取消")
    if kind != "replace":
        if change == context.bot_data["library"].add_upload:
            context.bot_data["library"].discard_upload(argument)
        await reply(update, context, ["好的，没有改动。"])
        return
    await _change(update, context, reply, change, argument, what)


async def on_link(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    """An admin's message with a link: a message that is only the link indexes the page; a link
    inside other words ("看看这篇 https://…", as phones share) is added once the admin confirms,
    as is one that would replace an article of config.yaml. A link with a password is refused."""
    text = update.effective_message.text
    bare = is_link(text)
    try:   # a bare link is taken whole (a Chinese path included), percent-encoded
        link = checked_url(text.strip() if bare else link_in(text))
    except ArticleError:
        await reply(update, context, ["链接里带有用户名或密码，没有处理：请发送公开的链接。"])
        return
    library: Library = context.bot_data["library"]
    replaces = url_id(link) in library.configured_ids
    if replaces:
        await _ask_to_confirm(update, context, reply, (library.add, link, link),
                              f"这个链接会替换配置文件里的文章 {url_id(link)}。确定替换吗？\n{link}")
    elif not bare:
        await _ask_to_confirm(update, context, reply, (library.add, link, link), f"要添加这个链接吗？\n{link}", yes="添加")
    else:
        await _change(update, context, reply, library.add, link, link)


async def on_remove(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    """/remove ID or /remove 标题里的词: the article found first, then confirmed with its title."""
    if not is_admin(context, update):
        await reply(update, context, [_admins_only(update)])
        return
    wanted = "".join(ch for ch in " ".join(context.args or []) if ch.isprintable()).strip()
    if not wanted:
        await reply(update, context, ["用法：/remove 文章编号或标题里的词（/articles 列出编号）"])
        return
    catalogue = context.bot_data["answerer"].searcher.index.catalogue
    known = catalogue.get(wanted) or context.bot_data["library"].added.get(wanted)
    found = [known] if known else _titled(catalogue.entries, wanted)
    if len(found) != 1:
        await reply(update, context, [_not_one_article(wanted, found)])
        return
    article = found[0]
    await _ask_to_confirm(update, context, reply, (context.bot_data["library"].remove, article.id, f"删除 {article.id}"),
                          f"确定删除《{article.title}》（编号 {article.id}）吗？读者将不能再就它提问。", yes="删除")


def _titled(entries, words: str) -> list:
    wanted = normalise(words)
    return [e for e in entries if wanted and wanted in normalise(e.title)]


def _not_one_article(wanted: str, found: list) -> str:
    """HTML: no article by that id or title, or several to choose from by their ids."""
    if not found:
        return html.escape(f"没有编号或标题为“{wanted}”的文章，什么也没有删除。发 /articles 查看编号。")
    listed = "\n".join(f"· 《{html.escape(e.title)}》 <code>{html.escape(e.id)}</code>" for e in found[:10])
    more = f"\n……还有 {len(found) - 10} 篇" if len(found) > 10 else ""
    return (html.escape(f"有 {len(found)} 篇文章的标题含“{wanted}”，请用编号删除，例如 /remove {found[0].id}：")
            + "\n" + listed + more)


async def _change(update, context, reply, change: Callable[[str], str], argument: str, what: str) -> None:
    """Run an add or remove in the library's lane and reply with its report, or with what was
    wrong. The admin hears at once what the change waits for, if anything."""
    library: Library = context.bot_data["library"]
    ahead = library.waiting_behind()
    if ahead:
        await reply(update, context, [html.escape(f"已收到，排在 {len(ahead)} 项之后（正在处理：{ahead[0]}），完成后告诉你。")])
    else:
        await reply(update, context, ["正在处理，请稍候……"])
    try:
        report = await library.run(what, change, argument)
        # The audit trail: who changed the library, and how (the journal keeps it).
        log.info("Admin %s: %s — %s", update.effective_user.id if update.effective_user else "?", what,
                 re.sub(r"<[^>]+>", "", report.splitlines()[0]))
    except Exception as exc:   # noqa: BLE001 — the admin must hear that it failed, whatever the cause
        if library.stopping:
            # Cancelled, the update is not marked done: the next start takes it up again.
            raise asyncio.CancelledError("the bot is stopping") from None
        if not isinstance(exc, UserError):
            log.exception("Index change %r failed", what)
        report = html.escape(in_chinese(str(exc), what) if isinstance(exc, UserError) else "没有完成：出了意外错误，详情见日志。")
    await reply(update, context, [report])


def _admins_only(update: Update) -> str:
    """The refusal, with the id the editor needs to make this user an admin."""
    user = update.effective_user
    return ADMINS_ONLY + (f"（你的 Telegram id：{user.id}；编辑把它加进 telegram.admin_ids 后即可。）" if user else "")


def _safe(name: str) -> str:
    """A file name for an upload: word characters only, and short enough in bytes for any file
    system (255 bytes; a CJK extension character takes 4), keeping the suffix."""
    name = re.sub(r"[^\w.\u4e00-\u9fff-]+", "_", name).lstrip(".") or "article"
    stem, suffix = Path(name).stem, Path(name).suffix[:10]
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem or "article") + suffix
