"""How replies reach a chat: HTML messages replying to the reader's, retried through a passing
outage, "typing…" for slow answers, and the small keys every handler reads (the answerer, a
reader's key, a button's data).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError

from bot.chat.answer import Answerer
from bot.telegram import html as th

log = logging.getLogger(__name__)


async def tell(update: Update, context, text: str) -> None:
    """A short notice: an alert on a button press, a reply to a message."""
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_chat:
        await reply(update, context, [text])


async def with_typing(update: Update, context, work, delay: float):
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


def reader_key(user) -> str:
    """Who asked, as the question recorder takes it (it keeps only a keyed hash of this)."""
    return f"tg:{user.id}"


def answerer(context) -> Answerer:
    return context.bot_data["answerer"]


async def reply(update: Update, context, blocks: list[str], markup=None) -> list[Message]:
    """Send the blocks as one or more HTML messages replying to the user's message; the buttons go
    on the last one. Returns the messages sent."""
    return await send_messages(update, context, th.pack(blocks), markup)


async def send_messages(update: Update, context, messages: list[str], markup=None) -> list[Message]:
    message, sent = update.effective_message, []
    for n, text in enumerate(messages):
        sent.append(await send_with_retries(
            context, update.effective_chat.id, text, parse_mode=ParseMode.HTML,
            reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True)
            if message else None,
            reply_markup=markup if n == len(messages) - 1 else None))
    return sent


async def send_with_retries(context, chat_id: int, text: str, **kwargs) -> Message:
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


DONE = "done"   # the callback data of a button that only shows what its press did


async def settle(query, label: str, keep: Callable[[tuple], bool] = lambda row: False) -> None:
    """Replace a pressed message's buttons by one that says what the press did ("✅ 已确认",
    "👎 已反馈"), keeping the rows `keep` accepts: a second press then gets a toast, not a second
    change, and the chat shows what was chosen."""
    message = query.message
    old = message.reply_markup.inline_keyboard if message is not None and message.reply_markup else ()
    rows = [row for row in old if keep(row)] + [[InlineKeyboardButton(label, callback_data=DONE)]]
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))
    except TelegramError as exc:   # the mark is a courtesy: what the press did is done and said
        log.info("Could not mark the pressed buttons: %s", exc)
