"""The bot's application (python-telegram-bot v22): every handler registered, what is worth
queueing, the gatekeeper that runs before each handler (allow-list, rate limit, late messages),
the errors, and what the admins are told. Running it — start-up, the update journal, index
reloads, shutdown — is bot/telegram/serve.py.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import sys
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from telegram import Update
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (Application, ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, ContextTypes,
                          InlineQueryHandler, MessageHandler, TypeHandler, filters)

from bot.chat.answer import Answerer
from bot.chat.conversation import Conversations
from bot.config import InsightsSettings
from bot.config import Telegram as TelegramSettings
from bot.telegram import admin, editor_report, first_contact
from bot.telegram.buttons import on_button, on_verdict
from bot.telegram.channel import PostArticles, is_the_channel, on_channel_post
from bot.telegram.commands import (on_added_to_group, on_articles, on_forget, on_help, on_id, on_latest, on_sections,
                                   on_source, on_start, on_unknown_command)
from bot.telegram.fair_sending import FairRateLimiter
from bot.telegram.flow import InOrder, RateLimiter, ThreadMap, note_edit, superseded
from bot.telegram.inline import on_inline_query
from bot.telegram.intake import Outage, one_line
from bot.telegram.questions import addresses_bot, on_ask, on_edited, on_not_text, on_text
from bot.telegram.sending import reply, tell
from index.archive.base import ArchiveUnavailable

log = logging.getLogger(__name__)


SORRY = "抱歉，出了点问题，请稍后再试。"


LATE = "抱歉，服务中断了一段时间，没能及时回答这条消息。请再问一次。"


NOT_ALLOWED = "抱歉，这个机器人目前只对受邀用户开放。"


SLOW_DOWN = "提问有点太快了，这条没有回答。请 {seconds} 秒后再问（每 {window} 秒最多 {limit} 个问题）。"


STRANGER_NOTICES = 10   # refusals a minute across all strangers: a flood of new accounts costs no more


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
                        answering=ThreadPoolExecutor(max_workers=2, thread_name_prefix="answer"), library=library,
                        posts=PostArticles(settings.journal.with_name(f"{settings.journal.stem}-channel.sqlite3"))
                        if settings.channel else None)
    app.add_handler(TypeHandler(Update, gatekeeper), group=-1)
    # The newsroom's channel: its posts are articles (an edited post too, before the edits below).
    app.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POSTS, on_channel_post))
    # First: an edited message is a question asked again, never a command or a file run again.
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, on_edited))
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("help", on_help))
    app.add_handler(CommandHandler("sections", on_sections))
    app.add_handler(CommandHandler("source", on_source))
    app.add_handler(CommandHandler("ask", on_ask))
    app.add_handler(CommandHandler("articles", on_articles))
    app.add_handler(CommandHandler("latest", on_latest))
    app.add_handler(CommandHandler("remove", lambda u, c: admin.on_remove(u, c, reply)))
    app.add_handler(CommandHandler("report", lambda u, c: editor_report.on_report(u, c, reply)))
    app.add_handler(CommandHandler("pins", lambda u, c: editor_report.on_pins(u, c, reply)))
    app.add_handler(CommandHandler("forget", on_forget))
    app.add_handler(CommandHandler("id", on_id))
    app.add_handler(MessageHandler(filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE,
                                   lambda u, c: admin.on_document(u, c, reply)))
    app.add_handler(CallbackQueryHandler(lambda u, c: admin.on_confirm_button(u, c, reply), pattern=r"^(replace|keep):"))
    app.add_handler(CallbackQueryHandler(on_verdict, pattern=r"^fb:"))
    app.add_handler(CallbackQueryHandler(lambda u, c: editor_report.on_pin(u, c, reply), pattern=r"^pin:"))
    app.add_handler(CallbackQueryHandler(lambda u, c: editor_report.on_unpin(u, c, reply), pattern=r"^unpin:"))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & filters.ChatType.PRIVATE,
                                   on_not_text))
    app.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, on_added_to_group))
    app.add_handler(InlineQueryHandler(on_inline_query))
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


def screen(app: Application) -> Callable[[Update], bool]:
    """Whether an update is worth queueing (bot/telegram/intake.py): everything from an allowed
    sender; from a stranger only a message or press that addresses the bot, when that stranger
    has not been told in this rate window and strangers as a whole are within STRANGER_NOTICES a
    minute. The rest is dropped before it costs a queue, a handler or a send."""
    bot_data = app.bot_data
    latest_edits = bot_data.setdefault("latest_edits", OrderedDict())

    def worth_queueing(update: Update) -> bool:
        note_edit(latest_edits, update)
        if _allowed(bot_data, update):
            return True
        user = update.effective_user
        return bool(user and _addressed(update, app.bot.username) and bot_data["strangers"].allow(user.id)
                    and bot_data["stranger_notices"].allow(0))
    return worth_queueing


async def gatekeeper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every other handler. With an allow-list, a stranger that screen() let through
    gets one polite refusal, and nothing else happens. Every input that addresses the bot —
    question, command, button — counts against its user's budget; over it, one notice per window,
    then silence: one user cannot spend everyone's sending budget."""
    if superseded(context.bot_data, update):
        raise ApplicationHandlerStop
    addressed = _addressed(update, context.bot.username)
    user = update.effective_user
    if not _allowed(context.bot_data, update):
        if addressed and (update.effective_chat or update.callback_query):
            # The id is what the editor needs to let them in.
            await tell(update, context, NOT_ALLOWED + (f"（你的 Telegram id：{user.id}）" if user else ""))
        raise ApplicationHandlerStop
    if addressed and user and not context.bot_data["rate"].allow(user.id):
        rate = context.bot_data["rate"]
        if rate.notice_due(user.id):
            await tell(update, context, SLOW_DOWN.format(seconds=rate.seconds_to_wait(user.id), window=f"{rate.window:g}",
                                                         limit=rate.limit))
        raise ApplicationHandlerStop
    message = update.message   # a button press carries its old message's date: not a late question
    late = context.bot_data["settings"].apologise_after_minutes * 60
    if addressed and message and message.date and time.time() - message.date.timestamp() > late:
        # Held up by a long Bot API outage (or a long stop): an apology, not an answer out of the blue.
        await reply(update, context, [LATE])
        raise ApplicationHandlerStop


def _addressed(update: Update, username: str | None) -> bool:
    """A press, or a message (new or edited: an edit asks again) meant for the bot."""
    message = update.message or update.edited_message
    return bool(update.callback_query) or bool(message and addresses_bot(message, username))


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


def _allowed(bot_data, update: Update) -> bool:
    allowed = bot_data["settings"].allowed_ids
    if not allowed or is_the_channel(update.effective_chat, bot_data["settings"].channel):
        return True
    # Fails closed: an update without a user or chat (an inline callback) matches no allowed id.
    ids = {who.id for who in (update.effective_user, update.effective_chat) if who}
    return bool(ids & set(allowed))
