"""The Telegram bot's handlers (python-telegram-bot v22): the same answers as the CLI, as HTML
replies. Running it — start-up, the update journal, index reloads, shutdown — is bot/telegram/serve.py.

Buttons carry passage numbers plus a fingerprint of the index in their callback_data, never a
key into memory, so they keep working after a restart and say "请重新提问" once the index changes.
Messages are taken as people send them: an edited question is answered again (said so above the
answer), a photo's caption is a question, an unknown /command gets a hint, a reader's link is
pointed to the editor and an admin's "看看这篇 https://…" asks whether to add the page.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import html
import logging
import math
import re
import secrets
import sqlite3
import sys
import time
from collections import OrderedDict, defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from telegram import (InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity,
                      ReplyParameters, Update)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (Application, ApplicationHandlerStop, CallbackQueryHandler,
                          CommandHandler, ContextTypes, MessageHandler, TypeHandler, filters)

from bot.chat import about
from bot.telegram import admin, first_contact
from bot.telegram import html as th
from bot.chat.answer import Answer, Answerer, Quote
from bot.config import InsightsSettings, Telegram as TelegramSettings
from bot.insights.record import InsightsError
from bot.chat.conversation import Conversations
from bot.telegram.fair_sending import FairRateLimiter
from bot.telegram.intake import Outage, one_line
from bot.chat.render import body, headline
from index.archive.base import ArchiveUnavailable
from index.language.text import normalise

log = logging.getLogger(__name__)

SORRY = "抱歉，出了点问题，请稍后再试。"
LATE = "抱歉，服务中断了一段时间，没能及时回答这条消息。请再问一次。"
TEXT_ONLY = "请用文字提问。"
NOT_ALLOWED = "抱歉，这个机器人目前只对受邀用户开放。"
UNKNOWN_COMMAND = "没有这个命令，发 /help 看用法。"
EDITED = "（按修改后的问题回答）"
READERS_LINK = ("我只回答关于已读文章的问题，读不了链接里的网页。想让我读这篇，请把链接发给编辑（管理员）；"
                "我读过哪些文章，发 /articles 看。")
SLOW_DOWN = "提问有点太快了，请稍等片刻再问。"
GONE = "这个按钮已经失效，请重新提问。"
NO_CHAT = "请在与机器人的对话里使用这个按钮。"
# Buttons whose reply may run to many messages, with how many numbers name what they show
# (a page number may follow); one press sends at most MESSAGES_PER_PRESS messages.
PAGED = {"sec": 2, "ctx": 1}
MESSAGES_PER_PRESS = 3
# /articles lists a newsroom's archive a page at a time: one message, a "就这篇" button per article.
ARTICLES_PER_PAGE = 10
# /start names a few articles, with a button to the whole list when there are more.
ARTICLES_AT_START = 5
STRANGER_NOTICES = 10   # refusals a minute across all strangers: a flood of new accounts costs no more


class RateLimiter:
    """At most `limit` questions per user in any `window` seconds. Memory stays bounded: users with
    nothing left in the window are forgotten whenever the table has grown by `prune_every` users."""

    def __init__(self, limit: int, window: float, prune_every: int = 10_000):
        self.limit, self.window, self.prune_every = limit, window, prune_every
        self._asked: dict[int, deque] = defaultdict(deque)
        self._noticed: dict[int, float] = {}
        self._size_after_prune = 0

    def allow(self, user_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if len(self._asked) >= self._size_after_prune + self.prune_every:
            self._prune(now)
        asked = self._asked[user_id]
        while asked and now - asked[0] > self.window:
            asked.popleft()
        if len(asked) >= self.limit:
            return False
        asked.append(now)
        return True

    def notice_due(self, user_id: int, now: float | None = None) -> bool:
        """Whether a user over the limit should be told so: once per window, then silence, so that
        a flood does not turn into as many "too fast" replies."""
        now = time.monotonic() if now is None else now
        if now - self._noticed.get(user_id, -self.window - 1) <= self.window:
            return False
        self._noticed[user_id] = now
        return True

    def _prune(self, now: float) -> None:
        for user_id in [u for u, asked in self._asked.items() if not asked or now - asked[-1] > self.window]:
            del self._asked[user_id]
        for user_id in [u for u, at in self._noticed.items() if now - at > self.window]:
            del self._noticed[user_id]
        self._size_after_prune = len(self._asked)


class ThreadMap:
    """Which conversation each of the bot's answers belongs to, for the latest `capacity` answers:
    in a group, replying to the bot's answer continues the thread that answer belongs to."""

    def __init__(self, capacity: int = 50_000):
        self.capacity = capacity
        self._thread_of: OrderedDict[tuple[int, int], str] = OrderedDict()

    def record(self, chat_id: int, message_id: int, conversation: str) -> None:
        self._thread_of[(chat_id, message_id)] = conversation
        while len(self._thread_of) > self.capacity:
            self._thread_of.popitem(last=False)

    def thread_of(self, chat_id: int, message_id: int) -> str | None:
        return self._thread_of.get((chat_id, message_id))


class InOrder:
    """Messages of one conversation are answered one after another, in the order they came: a
    follow-up sent right after a question must see that question's answer. Other conversations
    go on meanwhile. A conversation's lock lives only while someone waits for it."""

    def __init__(self):
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def turn(self, conversation: str):
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        self._users[conversation] = self._users.get(conversation, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[conversation] -= 1
            if not self._users[conversation]:
                del self._users[conversation], self._locks[conversation]


def conversation_id(update: Update, threads: ThreadMap) -> str:
    """A private chat is one conversation; in a group each user has their own thread, and a reply
    to one of the bot's answers continues the thread that answer belongs to."""
    chat, user = update.effective_chat, update.effective_user
    if chat.type == ChatType.PRIVATE:
        return str(chat.id)
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied:
        thread = threads.thread_of(chat.id, replied.message_id)
        if thread:
            return thread
    return f"{chat.id}:{user.id if user else 0}"


_BUTTON_NUMBER = re.compile(r"[0-9]{1,7}")
_MAX_BUTTON_NUMBERS = 3
def build_application(conversations: Conversations, settings: TelegramSettings, token: str,
                      library: admin.Library | None = None, insights: InsightsSettings | None = None) -> Application:
    """The PTB Application with every handler registered; heavy objects live in bot_data."""
    app = (Application.builder().token(token).base_url(settings.base_url)
           .base_file_url(settings.base_url.replace("/bot", "/file/bot"))
           .rate_limiter(FairRateLimiter(settings.max_messages_per_second, max_retries=5))
           .updater(None).read_timeout(settings.read_timeout).write_timeout(settings.read_timeout).build())
    app.bot_data.update(conversations=conversations, answerer=conversations.answerer, settings=settings,
                        insights_path=insights.path if insights else None,
                        report_timezone=insights.timezone if insights else "Asia/Shanghai",
                        fingerprint=fingerprint(conversations.answerer), threads=ThreadMap(), in_order=InOrder(),
                        rate=RateLimiter(settings.rate_limit.questions, settings.rate_limit.per_seconds),
                        strangers=RateLimiter(1, settings.rate_limit.per_seconds),
                        stranger_notices=RateLimiter(STRANGER_NOTICES, 60),
                        send_outage=Outage("Sending messages (sendMessage)"),
                        # Answering is CPU work under the GIL: threads beyond the cores add only memory
                        # (each thread gets its own malloc arena), not answers per second.
                        answering=ThreadPoolExecutor(max_workers=2, thread_name_prefix="answer"), library=library)
    app.add_handler(TypeHandler(Update, gatekeeper), group=-1)
    # First: an edited message is a question asked again, never a command or a file run again.
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, on_edited))
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("help", on_help))
    app.add_handler(CommandHandler("sections", on_sections))
    app.add_handler(CommandHandler("source", on_source))
    app.add_handler(CommandHandler("ask", on_ask))
    app.add_handler(CommandHandler("articles", on_articles))
    app.add_handler(CommandHandler("remove", lambda u, c: admin.on_remove(u, c, _reply)))
    app.add_handler(CommandHandler("report", lambda u, c: admin.on_report(u, c, _reply)))
    app.add_handler(CommandHandler("forget", on_forget))
    app.add_handler(CommandHandler("id", on_id))
    app.add_handler(MessageHandler(filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE,
                                   lambda u, c: admin.on_document(u, c, _reply)))
    app.add_handler(CallbackQueryHandler(lambda u, c: admin.on_confirm_button(u, c, _reply), pattern=r"^(replace|keep):"))
    app.add_handler(CallbackQueryHandler(on_verdict, pattern=r"^fb:"))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & filters.ChatType.PRIVATE,
                                   on_not_text))
    app.add_error_handler(on_error)
    return app


async def set_commands(app: Application) -> None:
    """The command menus, the description and the short description (bot/telegram/first_contact.py)."""
    titles = app.bot_data["answerer"].searcher.index.catalogue.titles()
    await first_contact.introduce(app, titles, app.bot_data["settings"].admin_ids)
    if app.bot_data.get("library"):
        app.bot_data["library"].link_for = functools.partial(first_contact.deep_link, app.bot.username)
    print(f"article-qa: @{app.bot.username} is answering (Ctrl-C to stop)", file=sys.stderr, flush=True)


async def tell_admins_set_aside(app: Application, updates: list[Update]) -> None:
    """Log, and tell each admin, the updates set aside because their handling was cut short twice."""
    for update in updates:
        what = _describe(update)
        log.warning("Update %s set aside: its handling was cut short twice (%s)", update.update_id, what)
        for admin_id in app.bot_data["settings"].admin_ids:
            try:
                await app.bot.send_message(admin_id, f"有一条消息两次处理中断，已搁置，不再重试：{what}")
            except TelegramError as exc:
                log.warning("Could not tell admin %s about update %s: %s", admin_id, update.update_id, exc)


async def tell_admins_skipped(app: Application, skipped: list[str]) -> None:
    """Tell each admin which articles the last rebuild of the library could not read."""
    text = f"重建文章库时有 {len(skipped)} 篇文章读不了，已跳过，其余照常回答：\n" + "\n".join(skipped[:20])
    for admin_id in app.bot_data["settings"].admin_ids:
        try:
            await app.bot.send_message(admin_id, text[:4000])
        except TelegramError as exc:
            log.warning("Could not tell admin %s about the skipped articles: %s", admin_id, exc)


def _describe(update: Update) -> str:
    message = update.effective_message
    who = update.effective_user.id if update.effective_user else "?"
    if message and message.document:
        return f"用户 {who} 上传的文件 {message.document.file_name}"
    if message and message.text:
        return f"用户 {who} 的消息“{message.text[:40]}”"
    return f"用户 {who} 的更新 {update.update_id}"


def fingerprint(answerer: Answerer) -> str:
    """Four hex digits that change whenever the index is rebuilt (passage numbers may change)."""
    manifest = answerer.searcher.index.manifest
    return hashlib.sha256(f"{manifest['built']}{manifest['passages']}".encode()).hexdigest()[:4]


# ---- handlers ------------------------------------------------------------------------------------

def screen(app: Application) -> Callable[[Update], bool]:
    """Whether an update is worth queueing (bot/telegram/intake.py): everything from an allowed
    sender; from a stranger only a message or press that addresses the bot, when that stranger
    has not been told in this rate window and strangers as a whole are within STRANGER_NOTICES a
    minute. The rest is dropped before it costs a queue, a handler or a send."""
    bot_data = app.bot_data
    latest_edits = bot_data.setdefault("latest_edits", OrderedDict())

    def worth_queueing(update: Update) -> bool:
        _note_edit(latest_edits, update)
        if _allowed(bot_data, update):
            return True
        user = update.effective_user
        return bool(user and _addressed(update, app.bot.username) and bot_data["strangers"].allow(user.id)
                    and bot_data["stranger_notices"].allow(0))
    return worth_queueing


LATEST_EDITS_KEPT = 10_000   # messages whose latest edit is remembered (the least recent go first)


def _edited(update: Update) -> tuple[int, int] | None:
    """(chat id, message id) of an edited message; None for anything else, or for an update too
    malformed to say (a mutated update must never stop the intake)."""
    try:
        message = update.edited_message
        key = (message.chat.id, message.message_id) if message is not None else None
    except AttributeError:
        return None
    return key if key and all(isinstance(n, int) for n in key) else None


def _note_edit(latest: OrderedDict, update: Update) -> None:
    """Remember the newest edit of each message, as updates come in (Intake.take → screen)."""
    key = _edited(update)
    if key is not None:
        latest[key] = update.update_id
        latest.move_to_end(key)
        while len(latest) > LATEST_EDITS_KEPT:
            latest.popitem(last=False)


def _superseded(bot_data, update: Update) -> bool:
    """An edit of a message edited again since: only the newest is answered. A reader who fixes a
    typo three times wants one answer, and fifty quick edits must not queue fifty answers ahead
    of everyone else's."""
    key = _edited(update)
    newest = bot_data.get("latest_edits", {}).get(key) if key is not None else None
    return newest is not None and newest > update.update_id


async def gatekeeper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every other handler. With an allow-list, a stranger that screen() let through
    gets one polite refusal, and nothing else happens. Every input that addresses the bot —
    question, command, button — counts against its user's budget; over it, one notice per window,
    then silence: one user cannot spend everyone's sending budget."""
    if _superseded(context.bot_data, update):
        raise ApplicationHandlerStop
    addressed = _addressed(update, context.bot.username)
    user = update.effective_user
    if not _allowed(context.bot_data, update):
        if addressed and (update.effective_chat or update.callback_query):
            # The id is what the editor needs to let them in.
            await _tell(update, context, NOT_ALLOWED + (f"（你的 Telegram id：{user.id}）" if user else ""))
        raise ApplicationHandlerStop
    if addressed and user and not context.bot_data["rate"].allow(user.id):
        if context.bot_data["rate"].notice_due(user.id):
            await _tell(update, context, SLOW_DOWN)
        raise ApplicationHandlerStop
    message = update.message   # a button press carries its old message's date: not a late question
    late = context.bot_data["settings"].apologise_after_minutes * 60
    if addressed and message and message.date and time.time() - message.date.timestamp() > late:
        # Held up by a long Bot API outage (or a long stop): an apology, not an answer out of the blue.
        await _reply(update, context, [LATE])
        raise ApplicationHandlerStop


def _addressed(update: Update, username: str | None) -> bool:
    """A press, or a message (new or edited: an edit asks again) meant for the bot."""
    message = update.message or update.edited_message
    return bool(update.callback_query) or bool(message and _addresses_bot(message, username))


async def _tell(update: Update, context, text: str) -> None:
    """A short notice: an alert on a button press, a reply to a message."""
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_chat:
        await _reply(update, context, [text])


def _addresses_bot(message: Message, username: str | None) -> bool:
    """A private message, a command for this bot (not "/start@otherbot"), or a mention of it."""
    text = message.text or ""
    if text.startswith("/"):
        target = text.split()[0].partition("@")[2]
        return not target or target.lower() == (username or "").lower()
    return message.chat.type == ChatType.PRIVATE or _addressed_question(message, username) is not None


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Introduce the bot and start the conversation afresh. "/start KEY" (an article's link,
    bot/telegram/first_contact.py) makes that article the conversation's own."""
    conversation = conversation_id(update, context.bot_data["threads"])
    context.bot_data["conversations"].forget(conversation)
    index = _answerer(context).searcher.index
    articles = index.articles
    key = (context.args or [""])[0]
    chosen = first_contact.article_for_key(key, index.catalogue, articles) if key else None
    lines = ["我只用文章里的原句回答问题，并注明出处（章节、段落）。文章里没有的，我会直说。", ""]
    if chosen:
        context.bot_data["conversations"].choose_article(conversation, chosen.id)
        lines += [f"我们聊《{chosen.title}》" + "".join(f"（{m}）" for k, m in chosen.metadata if k == "source") + "。"]
    else:
        if key:
            lines += ["这个链接指向的文章已经不在了。", ""]
        lines += [f"我读过 {len(articles)} 篇文章：" if len(articles) > ARTICLES_AT_START else "我读过："]
        lines += [f"· 《{a.title}》" + "".join(f"（{m}）" for k, m in a.metadata if k == "source")
                  for a in articles[:ARTICLES_AT_START]]
    lines += ["", "直接发中文问题即可；在群里请 @我、回复我，或用 /ask 问题。"]
    if not chosen and len(articles) > 1:
        lines += ["想只问其中一篇，点下面的“就这篇”。"]
    if context.bot_data["conversations"].recorder:
        keep = context.bot_data["settings"].journal_keep_hours
        lines += ["", "为了让编辑知道读者想了解什么，我会记录提问，但不记录你是谁（只存一个无法还原的编号）；"
                      f"你发来的消息本身（不含名字）在服务器上最多保留 {keep:g} 小时。发 /forget 可立即删除这些记录。"]
    buttons = list(_example_buttons(context, chosen).inline_keyboard)
    if not chosen and len(articles) > 1:
        buttons += _article_buttons(context, range(min(len(articles), ARTICLES_AT_START)))
        if len(articles) > ARTICLES_AT_START:
            buttons += [[InlineKeyboardButton(f"全部 {len(articles)} 篇文章", callback_data=_data(context, "arts", 0))]]
    await _reply(update, context, [html.escape("\n".join(lines))], InlineKeyboardMarkup(buttons))


def _example_buttons(context, article=None) -> InlineKeyboardMarkup:
    """Example questions: about `article` when the conversation has one, else the first article.
    The button names the article by its number, so its question is found again when pressed."""
    index = _answerer(context).searcher.index
    number = index.catalogue.number.get(article.id, 0) if article is not None else 0
    examples = about.example_questions([index.articles[number]]) if len(index.articles) else []
    return InlineKeyboardMarkup([[InlineKeyboardButton(q[:30], callback_data=_data(context, "ex", number, i))]
                                 for i, q in enumerate(examples)])


def _article_buttons(context, numbers) -> list[list[InlineKeyboardButton]]:
    """A "就这篇" button for each of these articles: pressing one makes it the conversation's article."""
    entries = _answerer(context).searcher.index.catalogue.entries
    return [[InlineKeyboardButton(f"就这篇：{entries[n].title}"[:40], callback_data=_data(context, "art", n))]
            for n in numbers]


def _articles_page(context, page: int) -> tuple[list[str], InlineKeyboardMarkup | None]:
    """One page of the archive's articles (ARTICLES_PER_PAGE), numbered, with their buttons and
    the way to the pages before and after. Raises IndexError for a page past the end (a button
    pressed after articles were removed)."""
    entries = _answerer(context).searcher.index.catalogue.entries
    pages = _pages(entries)
    if not 0 <= page < pages:
        raise IndexError(page)
    shown = range(page * ARTICLES_PER_PAGE, min((page + 1) * ARTICLES_PER_PAGE, len(entries)))
    head = "我读过的文章：" if pages == 1 else f"我读过的文章（共 {len(entries)} 篇，第 {page + 1}/{pages} 页）："
    lines = _article_lines(entries, shown)
    buttons = _article_buttons(context, shown) if len(entries) > 1 else []
    turn = [InlineKeyboardButton(label, callback_data=_data(context, "arts", to))
            for label, to in (("« 上一页", page - 1), ("下一页 »", page + 1)) if 0 <= to < pages]
    if turn:
        buttons.append(turn)
    return [html.escape("\n".join([head, *lines]))], InlineKeyboardMarkup(buttons) if buttons else None


def _articles_titled(context, words: str) -> tuple[list[str], InlineKeyboardMarkup | None]:
    """The articles whose title (or id) holds these words, the first ARTICLES_PER_PAGE of them."""
    entries = _answerer(context).searcher.index.catalogue.entries
    wanted = normalise(words)
    found = [n for n, e in enumerate(entries) if wanted in normalise(e.title) or words == e.id]
    if not found:
        return [html.escape(f"没有标题含“{words}”的文章。发 /articles 看全部。")], None
    shown = found[:ARTICLES_PER_PAGE]
    lines = _article_lines(entries, shown)
    more = [f"还有 {len(found) - len(shown)} 篇，换个更具体的词试试。"] if len(found) > len(shown) else []
    head = f"标题含“{words}”的文章（{len(found)} 篇）："
    return [html.escape("\n".join([head, *lines, *more]))], InlineKeyboardMarkup(_article_buttons(context, shown))


def _article_lines(entries, numbers) -> list[str]:
    """These articles as /articles lists them: number, title, id (what /remove takes), parts."""
    return [f"{n + 1}. 《{entries[n].title}》（编号 {entries[n].id}，{len(entries[n].headings)} 部分）" for n in numbers]


def _pages(entries) -> int:
    return max(math.ceil(len(entries) / ARTICLES_PER_PAGE), 1)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = ("用中文提问，例如“这篇文章讲了什么？”“文章有哪些部分？”“作者是谁？”。我会引用文章原句作答，"
            "并注明《标题》· 章节 · 第N段；文章里没有的，我会直说。\n"
            "可以接着上一个问题追问，例如先问“某某是谁”，再问“他做了什么”“那某某呢”；/start 重新开始。\n"
            "/articles 文章列表（/articles 关键词：按标题找）　/sections 文章目录　/source 来源与作者　/ask 问题（群聊中使用）\n"
            "“更多相关段落”显示其他可能相关的句子，“查看上下文”显示整段原文。/id 查看你的 Telegram id。")
    if admin.is_admin(context, update):
        text += ("\n\n管理员：在私聊里发来文件（.txt .md .html .docx .pdf）或链接即可添加文章，回复里有这篇文章的专属链接；"
                 "/remove 编号 删除文章（/articles 列出编号）；/report 7d 查看读者提问报告。")
    await _reply(update, context, [html.escape(text)])


async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete what the bot keeps of this reader: recorded questions, the conversations' context,
    the journal's copies of their messages. Says what was deleted, or that it could not."""
    user = update.effective_user
    if user is None:
        return
    recorder = context.bot_data["conversations"].recorder
    intake = context.bot_data.get("intake")

    def forget() -> list[str]:
        done = []
        if recorder is not None:
            done.append(f"{recorder.forget(_reader(user))} 条提问记录"
                        + ("（更早的记录因密钥重建无法对应到你，会在保存期满后自动删除）" if recorder.older_rows_unmatched else ""))
        done.append(f"{context.bot_data['conversations'].forget_reader(user.id)} 段对话上下文")
        return done
    try:
        done = await asyncio.get_running_loop().run_in_executor(context.bot_data["answering"], forget)
        if intake is not None:   # the journal belongs to the event loop's thread
            done.append(f"{intake.journal.forget(user.id, update.update_id)} 条消息副本")
    except (InsightsError, sqlite3.Error) as exc:
        log.warning("/forget could not delete everything: %s", exc)
        await _reply(update, context, ["现在没能删除你的记录（数据库正忙），什么也没有删。请稍后再发一次 /forget。"])
        return
    await _reply(update, context, [html.escape("已删除你的记录：" + "、".join(done) + "。")])


async def on_sections(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    blocks, markup = _sections_reply(context, _article_in_discussion(update, context))
    await _reply(update, context, blocks, markup)


def _article_in_discussion(update: Update, context) -> str | None:
    """The article the conversation is about (chosen, or the report in discussion), if any."""
    return context.bot_data["conversations"].article_of(conversation_id(update, context.bot_data["threads"]))


def _sections_reply(context, article_id: str | None = None):
    """The table of contents, with one button per section: of the article in discussion, else of
    the first articles."""
    index = _answerer(context).searcher.index
    number = index.catalogue.number.get(article_id) if article_id else None
    shown = [(number, index.articles[number])] if number is not None else list(enumerate(index.articles[:20]))
    rows, names = [], []
    for a_no, article in shown:
        for s_no, section in enumerate(article.sections):
            name = section.heading or f"《{article.title}》开头"
            names.append(f"{len(names) + 1}. {name}")
            rows.append([InlineKeyboardButton(name[:40], callback_data=_data(context, "sec", a_no, s_no))])
    return [html.escape("目录：\n" + "\n".join(names))], InlineKeyboardMarkup(rows[:90])


async def on_source(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    blocks, index = [], _answerer(context).searcher.index
    number = index.catalogue.number.get(_article_in_discussion(update, context) or "")
    for article in [index.articles[number]] if number is not None else index.articles[:20]:
        meta = "\n".join(about.metadata_lines(article)) or "（文章没有注明来源或作者）"
        blocks.append(f"<b>《{html.escape(article.title)}》</b>\n{html.escape(meta)}")
    await _reply(update, context, blocks)


async def on_articles(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The indexed articles a page at a time, each with a button that makes it the conversation's
    article. "/articles 3" opens page 3; "/articles 南京" (or a number past the last page, a year)
    lists those whose title holds it."""
    words = " ".join(context.args or []).strip()
    pages = _pages(_answerer(context).searcher.index.catalogue.entries)
    if not words or (words.isdigit() and words.isascii() and 1 <= int(words) <= pages):
        await _reply(update, context, *_articles_page(context, int(words or 1) - 1))
        return
    # Off the event loop: matching the words against an archive's titles takes a while.
    found = await asyncio.to_thread(_articles_titled, context, words)   # "2023" past the last page too
    await _reply(update, context, *found)


async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    question = " ".join(context.args or [])
    if not question.strip():
        await _reply(update, context, ["用法：/ask 问题，例如 /ask 文章的来源是哪里？"])
        return
    await _answer_question(update, context, question)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message.chat.type != ChatType.PRIVATE:
        question = _addressed_question(message, context.bot.username)
        if question is None:
            return   # group chatter not meant for the bot
    else:
        question = message.text
        if admin.is_admin(context, update) and context.bot_data["library"] and admin.link_in(question):
            await admin.on_link(update, context, _reply)   # an admin's link is an article to add
            return
        if admin.link_in(question) and not admin.is_admin(context, update):
            await _reply(update, context, [html.escape(READERS_LINK)])
            return
    await _answer_question(update, context, question)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited question is answered again, said so above the answer: a reader who fixed a typo
    wants the answer to what they meant. Edited commands, files and group chatter are left alone."""
    message = update.edited_message
    # A photo's caption is its question; a file's caption is not (an upload is not indexed again).
    text = message and (message.text or (None if message.document else message.caption))
    if not text or text.startswith("/"):
        return
    question = text if message.chat.type == ChatType.PRIVATE else _addressed_question(message, context.bot.username)
    if question is not None:
        await _answer_question(update, context, question, note=EDITED)


async def on_not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo or a file with a caption: the caption is the question. Anything else: text, please."""
    caption = update.effective_message.caption
    if caption and caption.strip():
        await _answer_question(update, context, caption)
        return
    await _reply(update, context, [TEXT_ONLY])


async def on_id(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anyone's numeric Telegram id (and the group's), for telegram.admin_ids / allowed_ids."""
    user, chat = update.effective_user, update.effective_chat
    lines = [f"你的 Telegram 数字 id：{user.id}" if user else "看不到你的 id。"]
    if chat and chat.type != ChatType.PRIVATE:
        lines.append(f"这个群的 id：{chat.id}")
    lines.append("（编辑把它写进 config.yaml 的 telegram.admin_ids，你就能上传和删除文章。）")
    await _reply(update, context, [html.escape("\n".join(lines))])


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /command this bot does not have. In a group, a bare "/cmd" may be any bot's, and one
    "/cmd@otherbot" is another's: only "/cmd@thisbot" is told there is no such command."""
    message = update.effective_message
    named = message.text.split()[0].partition("@")[2] if message.text else ""
    if message.chat.type != ChatType.PRIVATE and named.lower() != (context.bot.username or "").lower():
        return
    if _addresses_bot(message, context.bot.username):
        await _reply(update, context, [UNKNOWN_COMMAND])


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if update.effective_chat is None:   # a button on an inline message: there is no chat to reply in
        with contextlib.suppress(TelegramError):
            await query.answer(NO_CHAT, show_alert=True)
        return
    try:
        await query.answer()
    except TelegramError as exc:   # the acknowledgement only stops the button's spinner
        log.warning("Could not acknowledge button press %s: %s", update.update_id, exc)
    kind, *numbers = (query.data or "").split(":")
    # Button data comes back from the client and may be forged: ASCII digits only, a few of them.
    if (not numbers or numbers[0] != context.bot_data["fingerprint"] or len(numbers) > _MAX_BUTTON_NUMBERS + 1
            or not all(_BUTTON_NUMBER.fullmatch(n) for n in numbers[1:])):
        await _reply(update, context, [GONE])
        return
    try:
        values = [int(n) for n in numbers[1:]]
        if kind == "ex":   # an example question: answered like a typed one, shown above its answer
            number, example = values if len(values) == 2 else (0, values[0])
            examples = about.example_questions([_answerer(context).searcher.index.articles[number]])
            await _answer_question(update, context, examples[example], shown=True)
            return
        if kind == "art":   # a reader chose the article the conversation is about
            article = _answerer(context).searcher.index.articles[values[0]]
            context.bot_data["conversations"].choose_article(conversation_id(update, context.bot_data["threads"]),
                                                             article.id)
            await _reply(update, context, [html.escape(f"好的，接下来“这篇文章讲了什么”“作者是谁”这类问题都按《{article.title}》回答。")])
            return
        if kind == "another":   # the reader leaves the report in discussion: the chooser
            context.bot_data["conversations"].forget(conversation_id(update, context.bot_data["threads"]))
            lines, markup = _articles_page(context, 0)
            await _reply(update, context, ["好的，换一篇。想聊哪篇？点一篇，或者直接说标题里的词、人名、地名。", *lines], markup)
            return
        if kind == "arts":   # another page of /articles
            await _reply(update, context, *_articles_page(context, values[0]))
            return
        if kind in PAGED:   # a section or a paragraph may be long: a few messages per press, then "继续"
            await _reply_page(update, context, kind, values)
            return
        blocks, markup = _button_reply(context, kind, values)
    except (ValueError, IndexError):
        blocks, markup = [GONE], None
    await _reply(update, context, blocks, markup)


async def _reply_page(update: Update, context, kind: str, values: list[int]) -> None:
    """One page (MESSAGES_PER_PRESS messages) of a section or a paragraph, with a button for the
    next page when there is one. The page number is the last value of the button's data."""
    keys, page = (values, 0) if len(values) == PAGED[kind] else (values[:-1], values[-1])
    messages = th.pack(_button_reply(context, kind, keys)[0])
    shown = messages[page * MESSAGES_PER_PRESS:(page + 1) * MESSAGES_PER_PRESS]
    if not shown:
        raise IndexError(page)
    left = len(messages) - (page + 1) * MESSAGES_PER_PRESS
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(f"继续（还有 {left} 条）",
                                                         callback_data=_data(context, kind, *keys, page + 1))]]
                                  ) if left > 0 else None
    await _send_messages(update, context, shown, markup)


def _button_reply(context, kind: str, values: list[int]):
    index = _answerer(context).searcher.index
    if kind == "sec":
        article = index.articles[values[0]]
        section = article.sections[values[1]]
        head = f"<b>《{html.escape(article.title)}》· {html.escape(section.heading or '开头')}</b>"
        return [head] + [f"第{n}段：{html.escape(p)}" for n, p in enumerate(section.paragraphs, 1)], None
    if kind == "more":
        quotes = [_passage_quote(index, n) for n in values]
        return (["<i>更多相关段落：</i>"] + [th.quote_block(q) for q in quotes]), _context_buttons(context, quotes)
    if kind == "ctx":
        quote = _passage_quote(index, values[0])
        return th.context_blocks(quote, _with_neighbours(index, values[0])), None
    raise ValueError(kind)


def _with_neighbours(index, number: int) -> str:
    """The paragraph a passage stands in, between the paragraphs before and after it in its
    section: a one-sentence paragraph alone would only repeat the quote."""
    passages, here = index.passages, index.passages[number]

    def near(n: int) -> bool:   # a section's passages are stored in order: its neighbours are adjacent
        p = passages[n]
        return p.article == here.article and p.section_no == here.section_no and abs(p.paragraph - here.paragraph) <= 1
    first, last = number, number
    while first > 0 and near(first - 1):
        first -= 1
    while last + 1 < len(passages) and near(last + 1):
        last += 1
    around = {p.paragraph: p.context for p in passages[first:last + 1]}
    return "\n\n".join(around[n] for n in sorted(around))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if isinstance(error, ArchiveUnavailable) and "intake" in context.bot_data:
        # The Milvus archive is away: like Telegram being down, the question waits and is answered
        # when it is back (or, past telegram.apologise_after_minutes, apologised for).
        log.warning("Update %s: %s; it stays pending and will be tried again", getattr(update, "update_id", "?"), error)
        context.bot_data["intake"].postpone(update.update_id)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest) and "intake" in context.bot_data:
        # The Bot API stayed unreachable past telegram.send_retry_seconds: the update stays pending
        # and is handled again, here or after a restart (gatekeeper() apologises once it is old).
        log.warning("Update %s: the reply could not be sent (%s); it stays pending and will be tried again",
                    getattr(update, "update_id", "?"), one_line(error))
        context.bot_data["intake"].postpone(update.update_id)
        return
    failed = context.bot_data.setdefault("failed_updates", OrderedDict())
    update_id = getattr(update, "update_id", None)
    if update_id in failed:   # a second handler failing on the same update: logged and told once
        return
    failed[update_id] = True
    while len(failed) > 1000:
        failed.popitem(last=False)
    log.error("Error while handling update %s: %s", update_id, context.error, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat and not isinstance(context.error, NetworkError):
        try:
            await context.bot.send_message(update.effective_chat.id, SORRY)
        except TelegramError:
            log.warning("Could not tell the user about the error")


# ---- answering ------------------------------------------------------------------------------------

async def _answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str,
                           shown: bool = False, note: str = "") -> None:
    """Answer a question in its conversation. `shown`: the question is written above the answer
    (a button's question, which nobody typed: in a group no one would see what was asked);
    `note`: a line above the answer ("按修改后的问题回答")."""
    conversation = conversation_id(update, context.bot_data["threads"])
    async with context.bot_data["in_order"].turn(conversation):
        index_used = context.bot_data["fingerprint"]
        user = update.effective_user
        # The key the answer's 👍/👎 buttons carry, recorded with it (never the reader's id).
        feedback = secrets.randbelow(9_999_999) + 1 if context.bot_data["conversations"].recorder else None
        reply = functools.partial(context.bot_data["conversations"].reply, conversation, question,
                                  who=_reader(user) if user else conversation, feedback=feedback)
        work = asyncio.get_running_loop().run_in_executor(context.bot_data["answering"], reply)
        answer = await _with_typing(update, context, work, context.bot_data["settings"].typing_after)
        blocks, markup = _answer_reply(context, answer)
        above = ([f"<b>问：</b>{html.escape(question)}"] if shown else []) + ([html.escape(note)] if note else [])
        blocks = ["\n".join(above + blocks[:1])] + blocks[1:] if above else blocks
        if context.bot_data["fingerprint"] != index_used:
            markup = None   # the index was swapped meanwhile: buttons would point into the new one
        if feedback and answer.kind in ("quote", "refusal", "metadata"):   # these point at the answer itself
            markup = _with_verdict_buttons(context, markup, feedback)
        sent = await _reply(update, context, blocks, markup)
    for message in sent:
        context.bot_data["threads"].record(message.chat_id, message.message_id, conversation)


def _with_verdict_buttons(context, markup: InlineKeyboardMarkup | None, feedback: int) -> InlineKeyboardMarkup:
    """The answer's buttons and a row for the reader's verdict (bot/insights: the answers to look at)."""
    rows = list(markup.inline_keyboard) if markup else []
    rows.append([InlineKeyboardButton("👍", callback_data=_data(context, "fb", 1, feedback)),
                 InlineKeyboardButton("👎 没答对", callback_data=_data(context, "fb", 0, feedback))])
    return InlineKeyboardMarkup(rows)


async def on_verdict(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reader's 👍/👎 on an answer: recorded with the answer, thanked in a toast."""
    query = update.callback_query
    parts = (query.data or "").split(":")
    recorder = context.bot_data["conversations"].recorder
    thanks = "这个按钮已经失效。"
    if len(parts) == 4 and parts[2] in ("0", "1") and _BUTTON_NUMBER.fullmatch(parts[3]) and recorder and update.effective_user:
        # Off the event loop: a busy database must not hold up other readers' answers.
        if await asyncio.to_thread(recorder.verdict, _reader(update.effective_user), int(parts[3]), parts[2] == "1"):
            thanks = "谢谢，已记下。" if parts[2] == "1" else "谢谢，已记下，编辑会看到这个回答。"
        else:
            thanks = "只有提问的人可以评价这个回答。"
    with contextlib.suppress(TelegramError):
        await query.answer(thanks)


def _answer_reply(context, answer: Answer):
    """HTML blocks and buttons for any kind of answer."""
    understood = [f"<i>{html.escape(f'（按“{answer.understood_as}”理解）')}</i>"] if answer.understood_as else []
    if answer.kind == "quote":
        titled = len(_answerer(context).searcher.index.articles) > 1
        story = [f"<i>{html.escape(f'（说的是《{answer.story}》）')}</i>"] if answer.story else []
        offer = [f"<i>{html.escape(answer.offer)}</i>"] if answer.offer else []
        return understood + story + th.answer_blocks(answer, titled) + offer, _answer_buttons(context, answer)
    if answer.lacking:   # what the report lacks, and the closest sentence to read for oneself
        return understood + [html.escape(body(answer))], _suggestion_buttons(context, answer)
    if answer.suggestions:
        return understood + [html.escape(headline(answer))], _suggestion_buttons(context, answer)
    if answer.kind == "metadata":
        return understood + [th.metadata_block(answer, body(answer))], None
    text = html.escape(body(answer))
    if answer.kind in ("sections", "overview"):
        return understood + [text], _sections_reply(context, answer.article_id or None)[1]
    if answer.kind == "smalltalk":
        return [text], _example_buttons(context)
    return understood + [text], None


async def _with_typing(update: Update, context, work, delay: float):
    """Await the work; if it takes longer than `delay`, show "typing…" meanwhile. Most answers take
    a few milliseconds, and a chat action for each would double the requests to the Bot API."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=delay) if delay else (set(), set())
    if not done:
        try:
            await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
        except TelegramError as exc:   # "typing…" is a courtesy: never lose the answer over it
            log.warning("Could not show typing for update %s: %s", update.update_id, exc)
    return await task


def _answer_buttons(context, answer: Answer) -> InlineKeyboardMarkup | None:
    row = []
    more = [q.number for q in answer.more if q.number >= 0][:3]
    if more:
        row.append(InlineKeyboardButton("更多相关段落", callback_data=_data(context, "more", *more)))
    first = answer.quotes[0]
    if first.number >= 0:
        row.append(InlineKeyboardButton("查看上下文", callback_data=_data(context, "ctx", first.number)))
    rows = [row] if row else []
    source = _source_page(context, first.article_id)
    if source:   # the page the article came from: the reader can read the whole report there
        rows.append([InlineKeyboardButton("阅读原文", url=source)])
    if first.article_id and len(_answerer(context).searcher.index.articles) > 1:   # leave this report
        rows.append([InlineKeyboardButton("换一篇", callback_data=_data(context, "another"))])
    return InlineKeyboardMarkup(rows) if rows else None


def _source_page(context, article_id: str) -> str:
    """The web address an article was fetched from, or "" (a file)."""
    article = _answerer(context).searcher.index.catalogue.get(article_id)
    return article.path if article and re.match(r"https?://", article.path) else ""


def _context_buttons(context, quotes: list[Quote]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"查看上下文 {n + 1}", callback_data=_data(context, "ctx", q.number))
                                  for n, q in enumerate(quotes)]])


def _suggestion_buttons(context, answer: Answer) -> InlineKeyboardMarkup | None:
    index = _answerer(context).searcher.index
    article_no = index.catalogue.number
    rows = [[InlineKeyboardButton(("看看：" + (s.section or f"《{s.article}》"))[:40],
                                  callback_data=_data(context, "sec", article_no[s.article_id], s.section_no))]
            for s in answer.suggestions if s.article_id in article_no]
    return InlineKeyboardMarkup(rows) if rows else None


def _passage_quote(index, number: int) -> Quote:
    p = index.passages[number]
    return Quote(p.text, p.title, p.section, p.paragraph, 0.0, p.context, (), p.article, p.section_no, number)


def _addressed_question(message: Message, username: str | None) -> str | None:
    """In a group: the question when the bot is mentioned or replied to, else None. A mention is
    Telegram's own mention entity naming exactly this bot ("@botnet…" or "admin@bot.com" is not)."""
    text = message.text or ""
    if username:
        for entity, mention in message.parse_entities([MessageEntity.MENTION]).items():
            if mention.lower() == f"@{username}".lower():
                return text.replace(mention, " ", 1).strip()
    reply = message.reply_to_message
    if reply and reply.from_user and reply.from_user.username == username:
        return text
    return None


def _reader(user) -> str:
    """Who asked, as the question recorder takes it (it keeps only a keyed hash of this)."""
    return f"tg:{user.id}"


def _allowed(bot_data, update: Update) -> bool:
    allowed = bot_data["settings"].allowed_ids
    if not allowed:
        return True
    # Fails closed: an update without a user or chat (an inline callback) matches no allowed id.
    ids = {who.id for who in (update.effective_user, update.effective_chat) if who}
    return bool(ids & set(allowed))


def _answerer(context) -> Answerer:
    return context.bot_data["answerer"]


def _data(context, kind: str, *numbers: int) -> str:
    data = ":".join([kind, context.bot_data["fingerprint"], *map(str, numbers)])
    assert len(data.encode()) <= 64, data
    return data


async def _reply(update: Update, context, blocks: list[str], markup=None) -> list[Message]:
    """Send the blocks as one or more HTML messages replying to the user's message; the buttons go
    on the last one. Returns the messages sent."""
    return await _send_messages(update, context, th.pack(blocks), markup)


async def _send_messages(update: Update, context, messages: list[str], markup=None) -> list[Message]:
    message, sent = update.effective_message, []
    for n, text in enumerate(messages):
        sent.append(await _send_with_retries(
            context, update.effective_chat.id, text, parse_mode=ParseMode.HTML,
            reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True)
            if message else None,
            reply_markup=markup if n == len(messages) - 1 else None))
    return sent


async def _send_with_retries(context, chat_id: int, text: str, **kwargs) -> Message:
    """send_message, retried with backoff on network errors and 5xx for telegram.send_retry_seconds:
    an answer already computed should not be lost to a passing fault (429 is retried by
    AIORateLimiter; 4xx are our bugs, never retried). An outage is logged once a minute, not per
    retry. Raises the last error when time runs out."""
    deadline = time.monotonic() + context.bot_data["settings"].send_retry_seconds
    outage = context.bot_data["send_outage"]
    while True:
        try:
            message = await context.bot.send_message(chat_id, text, **kwargs)
            outage.recovered()
            return message
        except BadRequest:
            raise
        except NetworkError as exc:
            delay = outage.failed(exc)
            if time.monotonic() + delay > deadline:
                raise
            await asyncio.sleep(delay)
