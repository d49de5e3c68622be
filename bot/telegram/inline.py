"""Inline mode: "@bot 问题" typed in any chat offers the sentences that answer it, each with its
citation and a link that opens a conversation about its article; the reader picks one and it is
posted in that chat. Asked outside any conversation, never recorded (bot/chat/conversation.py,
answer_once). BotFather's /setinline turns the mode on for the bot."""
from __future__ import annotations

import asyncio
import html

from telegram import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.chat.answer import Answer, Quote, citation
from bot.telegram import first_contact
from bot.telegram import html as th

MIN_CHARS = 2          # fewer is no question yet: the reader is still typing
RESULTS = 3            # the answering sentence and the next ones that may answer
CACHE_SECONDS = 60     # Telegram keeps the results this long for the same words
ASK_IN_PRIVATE = InlineQueryResultsButton(text="在私聊里问我", start_parameter="inline")


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    asked = " ".join(query.query.split())
    results = []
    if len(asked) >= MIN_CHARS:
        conversations = context.bot_data["conversations"]
        answer = await asyncio.get_running_loop().run_in_executor(context.bot_data["answering"],
                                                                  conversations.answer_once, asked)
        results = _results(answer, asked, context.bot.username)
    await query.answer(results, cache_time=CACHE_SECONDS, button=ASK_IN_PRIVATE)


def _results(answer: Answer, asked: str, username: str | None) -> list[InlineQueryResultArticle]:
    """One result per quote of an answer (none for a refusal: the button asks in private)."""
    if not answer.answered or answer.kind not in ("quote", "metadata"):
        return []
    unsure = "" if answer.sure else "（没有把握）"
    return [InlineQueryResultArticle(id=str(n), title=unsure + quote.text[:60], description=citation(quote)[:100],
                                     input_message_content=InputTextMessageContent(
                                         _posted(quote, asked, username), parse_mode=ParseMode.HTML))
            for n, quote in enumerate(answer.quotes[:RESULTS])]


def _posted(quote: Quote, asked: str, username: str | None) -> str:
    """What is posted in the chat: the question, the quote with its citation, the way to ask more."""
    more = (f'\n<a href="{html.escape(first_contact.deep_link(username, quote.article_id))}">接着问这篇</a>'
            if username and quote.article_id else "")
    return f"<b>问：</b>{html.escape(asked)}\n{th.quote_block(quote)}{more}"
