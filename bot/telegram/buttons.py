"""Button presses: an example question, the article chosen, another page, a section, more
sentences, a paragraph's context, and a reader's 👍/👎 on an answer.
"""
from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from typing import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat import about
from bot.chat.answer import passage_quote
from bot.telegram import admin
from bot.telegram import html as th
from bot.telegram.button_keys import button_data, is_key, read_press
from bot.telegram.flow import conversation_id
from bot.telegram.keyboards import articles_page, context_buttons
from bot.telegram.questions import answer_question
from bot.telegram.sending import DONE, answerer, reader_key, reply, send_messages, settle

log = logging.getLogger(__name__)


GONE = "这个按钮已经失效，请重新提问。"
ALREADY_DONE = "已经处理过了。"


NO_CHAT = "请在与机器人的对话里使用这个按钮。"


# Buttons whose reply may run to many messages, with how many numbers name what they show
# (a page number may follow); one press sends at most MESSAGES_PER_PRESS messages.
PAGED = {"sec": 2, "ctx": 1}


MESSAGES_PER_PRESS = 3


BUTTON_NUMBER = re.compile(r"[0-9]{1,7}")


_MAX_BUTTON_NUMBERS = 3


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if update.effective_chat is None:   # a button on an inline message: there is no chat to reply in
        with contextlib.suppress(TelegramError):
            await query.answer(NO_CHAT, show_alert=True)
        return
    kind, *numbers = (query.data or "").split(":")
    # Button data comes back from the client and may be forged: a key, then ASCII digits only, a few of them.
    if kind == DONE or (not numbers or not is_key(numbers[0])
                        or len(numbers) > _MAX_BUTTON_NUMBERS + 1 or not all(BUTTON_NUMBER.fullmatch(n) for n in numbers[1:])):
        with contextlib.suppress(TelegramError):   # a toast: nothing is posted to the chat
            await query.answer(ALREADY_DONE if kind == DONE else GONE, show_alert=kind != DONE)
        return
    try:   # everything the press needs is looked up first: a value out of range gets a toast
        act = _action(update, context, kind, read_press(context, kind, numbers[0], [int(n) for n in numbers[1:]]))
    except (ValueError, LookupError):
        with contextlib.suppress(TelegramError):
            await query.answer(GONE, show_alert=True)
        return
    try:
        await query.answer()
    except TelegramError as exc:   # the acknowledgement only stops the button's spinner
        log.warning("Could not acknowledge button press %s: %s", update.update_id, exc)
    await act()


def _action(update: Update, context, kind: str, values: list[int]) -> Callable[[], Awaitable]:
    """What a press does, once its values are known to name what is there (raises ValueError or
    IndexError when they do not)."""
    conversation = conversation_id(update, context.bot_data["threads"])
    index = answerer(context).searcher.index
    if kind == "ex":   # an example question: answered like a typed one, shown above its answer
        number, example = values if len(values) == 2 else (0, values[0])
        question = about.example_questions([index.articles[number]])[example]
        return lambda: answer_question(update, context, question, shown=True)
    if kind == "art":   # a reader chose the article the conversation is about
        article = index.articles[values[0]]

        async def choose():
            context.bot_data["conversations"].choose_article(conversation, article.id)
            await reply(update, context, [html.escape(f"好的，接下来“这篇文章讲了什么”“作者是谁”这类问题都按《{article.title}》回答。")])
        return choose
    if kind == "another":   # the reader leaves the report in discussion: the chooser
        lines, markup = articles_page(context, 0, admin.is_admin(context, update))

        async def another():
            context.bot_data["conversations"].forget(conversation)
            await reply(update, context, ["好的，换一篇。想聊哪篇？点一篇，或者直接说标题里的词、人名、地名。", *lines], markup)
        return another
    if kind == "arts":   # another page of /articles, in place of the page shown
        page = articles_page(context, values[0], admin.is_admin(context, update))
        return lambda: _turn_page(update, context, *page)
    if kind in PAGED:   # a section or a paragraph may be long: a few messages per press, then "继续"
        shown, markup = _page_of(context, kind, values)
        return lambda: send_messages(update, context, shown, markup)
    blocks, markup = _button_reply(context, kind, values)
    return lambda: reply(update, context, blocks, markup)


async def _turn_page(update: Update, context, blocks: list[str], markup) -> None:
    """The list's message edited to show another page (a reply when it can no longer be edited)."""
    try:
        await update.callback_query.edit_message_text(blocks[0], parse_mode=ParseMode.HTML, reply_markup=markup)
    except TelegramError as exc:   # too old, or deleted: the page as a new message
        log.info("Could not turn the list's page in place (%s); sending it", exc)
        await reply(update, context, blocks, markup)


def _page_of(context, kind: str, values: list[int]) -> tuple[list[str], InlineKeyboardMarkup | None]:
    """One page (MESSAGES_PER_PRESS messages) of a section or a paragraph, with a button for the
    next page when there is one. The page number is the last value of the button's data."""
    keys, page = (values, 0) if len(values) == PAGED[kind] else (values[:-1], values[-1])
    messages = th.pack(_button_reply(context, kind, keys)[0])
    shown = messages[page * MESSAGES_PER_PRESS:(page + 1) * MESSAGES_PER_PRESS]
    if not shown:
        raise IndexError(page)
    left = len(messages) - (page + 1) * MESSAGES_PER_PRESS
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(f"继续（还有 {left} 条）",
                                                         callback_data=button_data(context, kind, *keys, page + 1))]]
                                  ) if left > 0 else None
    return shown, markup


def _button_reply(context, kind: str, values: list[int]):
    index = answerer(context).searcher.index
    if kind == "sec":
        article = index.articles[values[0]]
        section = article.sections[values[1]]
        head = f"<b>《{html.escape(article.title)}》· {html.escape(section.heading or '开头')}</b>"
        return [head] + [f"第{n}段：{html.escape(p)}" for n, p in enumerate(section.paragraphs, 1)], None
    if kind == "more":
        quotes = [passage_quote(index, n) for n in values]
        return (["<i>更多相关段落：</i>"] + [th.quote_block(q) for q in quotes]), context_buttons(context, quotes)
    if kind == "ctx":
        quote = passage_quote(index, values[0])
        return th.context_blocks(quote, with_neighbours(index, values[0])), None
    raise ValueError(kind)


def with_neighbours(index, number: int) -> str:
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


async def on_verdict(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reader's 👍/👎 on an answer: recorded with the answer, thanked in a toast, and the vote
    row replaced by the verdict given."""
    query = update.callback_query
    parts = (query.data or "").split(":")
    recorder = context.bot_data["conversations"].recorder
    thanks, given = "这个按钮已经失效。", ""
    if len(parts) == 4 and parts[2] in ("0", "1") and BUTTON_NUMBER.fullmatch(parts[3]) and recorder and update.effective_user:
        # Off the event loop: a busy database must not hold up other readers' answers.
        if await asyncio.to_thread(recorder.verdict, reader_key(update.effective_user), int(parts[3]), parts[2] == "1"):
            thanks = "谢谢，已记下。" if parts[2] == "1" else "谢谢，已记下，编辑会看到这个回答。"
            given = "👍 已记下" if parts[2] == "1" else "👎 已反馈"
        else:
            thanks = "只有提问的人可以评价这个回答。"
    with contextlib.suppress(TelegramError):
        await query.answer(thanks)
    if given:
        await settle(query, given, keep=lambda row: not any((b.callback_data or "").startswith("fb:") for b in row))
