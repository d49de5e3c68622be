"""Readers' messages: a question typed, edited, sent as a caption or with /ask, answered in its
conversation as HTML with its buttons. Messages are taken as people send them: an edited question
is answered again (said so above the answer), a photo's caption is a question, a reader's link is
pointed to the editor and an admin's "看看这篇 https://…" asks whether to add the page.
"""
from __future__ import annotations

import asyncio
import functools
import html
import secrets

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.chat import about
from bot.chat.answer import Answer
from bot.chat.conversation import ASK_IN_CHINESE
from bot.chat.render import body, headline
from bot.telegram import admin, channel
from bot.telegram import html as th
from bot.telegram.channel import commented_article
from bot.telegram.flow import conversation_id
from bot.telegram.keyboards import (answer_buttons, example_buttons, sections_reply, suggestion_buttons,
                                    with_verdict_buttons)
from bot.telegram.sending import answerer, reader_key, reply, with_typing

TEXT_ONLY = "请用文字提问。"
PHOTO_UNSEEN = "（我看不到图片，只按文字回答）"
VOICE_UNHEARD = "我听不了语音，请打字提问。"


EDITED = "（按修改后的问题回答）"


READERS_LINK = ("我只回答关于已读文章的问题，读不了链接里的网页。想让我读这篇，请把链接发给编辑（管理员）；"
                "我读过哪些文章，发 /articles 看。")


def addresses_bot(message: Message, username: str | None) -> bool:
    """A private message, a command for this bot (not "/start@otherbot"), or a mention of it."""
    text = message.text or ""
    if text.startswith("/"):
        target = text.split()[0].partition("@")[2]
        return not target or target.lower() == (username or "").lower()
    return message.chat.type == ChatType.PRIVATE or addressed_question(message, username) is not None


async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    question = " ".join(context.args or [])
    if not question.strip():
        await reply(update, context, ["用法：/ask 问题，例如 /ask 文章的来源是哪里？"])
        return
    await answer_question(update, context, question)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message.chat.type != ChatType.PRIVATE:
        question = addressed_question(message, context.bot.username)
        article = commented_article(context, message)   # a comment under one of the channel's posts
        if question is None and article and channel.asks(message.text):
            question = message.text   # a thread's question needs no @mention: the post is its subject
        if question is None:
            return   # group chatter not meant for the bot
        if article:
            context.bot_data["conversations"].choose_article(conversation_id(update, context.bot_data["threads"]), article)
    else:
        question = message.text
        if admin.is_admin(context, update) and context.bot_data["library"] and admin.link_in(question):
            await admin.on_link(update, context, reply)   # an admin's link is an article to add
            return
        if admin.link_in(question) and not admin.is_admin(context, update):
            await reply(update, context, [html.escape(READERS_LINK)])
            return
    await answer_question(update, context, question)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited question is answered again, said so above the answer: a reader who fixed a typo
    wants the answer to what they meant. Edited commands, files and group chatter are left alone."""
    message = update.edited_message
    # A photo's caption is its question; a file's caption is not (an upload is not indexed again).
    text = message and (message.text or (None if message.document else message.caption))
    if not text or text.startswith("/"):
        return
    question = text if message.chat.type == ChatType.PRIVATE else addressed_question(message, context.bot.username)
    if question is not None:
        await answer_question(update, context, question, note=EDITED)


async def on_not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo or a file with a caption: the caption is the question (a photo's reader is told the
    picture was not looked at). A voice message: typed words, please. Anything else: text, please."""
    message = update.effective_message
    caption = message.caption
    if caption and caption.strip():
        await answer_question(update, context, caption, note=PHOTO_UNSEEN if message.photo else "")
        return
    await reply(update, context, [VOICE_UNHEARD if message.voice or message.audio or message.video_note else TEXT_ONLY])


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str,
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
        answering = functools.partial(context.bot_data["conversations"].reply, conversation, question,
                                      who=reader_key(user) if user else conversation, feedback=feedback)
        work = asyncio.get_running_loop().run_in_executor(context.bot_data["answering"], answering)
        answer = await with_typing(update, context, work, context.bot_data["settings"].typing_after)
        blocks, markup = _answer_reply(context, answer)
        above = ([f"<b>问：</b>{html.escape(question)}"] if shown else []) + ([html.escape(note)] if note else [])
        blocks = ["\n".join(above + blocks[:1])] + blocks[1:] if above else blocks
        if context.bot_data["fingerprint"] != index_used:
            markup = None   # the index was swapped meanwhile: buttons would point into the new one
        if feedback and answer.kind in ("quote", "refusal", "metadata") and answer.reply != ASK_IN_CHINESE:
            # these point at the answer itself; "请用中文提问" is no answer to judge
            markup = with_verdict_buttons(context, markup, feedback)
        sent = await reply(update, context, blocks, markup)
    for message in sent:
        context.bot_data["threads"].record(message.chat_id, message.message_id, conversation)


def _answer_reply(context, answer: Answer):
    """HTML blocks and buttons for any kind of answer."""
    understood = [f"<i>{html.escape(f'（按“{answer.understood_as}”理解）')}</i>"] if answer.understood_as else []
    if answer.kind == "quote":
        titled = len(answerer(context).searcher.index.articles) > 1
        story = [f"<i>{html.escape(f'（说的是《{answer.story}》）')}</i>"] if answer.story else []
        offer = [f"<i>{html.escape(answer.offer)}</i>"] if answer.offer else []
        return understood + story + th.answer_blocks(answer, titled) + offer, answer_buttons(context, answer)
    if answer.lacking:   # what the report lacks, and the closest sentence to read for oneself
        return understood + [html.escape(body(answer))], suggestion_buttons(context, answer)
    if answer.suggestions:
        return understood + [html.escape(headline(answer))], suggestion_buttons(context, answer)
    if answer.kind == "metadata":
        return understood + [th.metadata_block(answer, body(answer))], None
    text = html.escape(body(answer))
    if answer.kind in ("sections", "overview"):
        return understood + [text], sections_reply(context, answer.article_id or None)[1]
    if answer.kind == "smalltalk":
        return [text], None if answer.reply == about.REACTION else example_buttons(context)
    return understood + [text], None


def addressed_question(message: Message, username: str | None) -> str | None:
    """In a group: the question when the bot is mentioned or replied to, else None. A mention is
    Telegram's own mention entity naming exactly this bot ("@botnet…" or "admin@bot.com" is not)."""
    text = message.text or ""
    if username:
        for entity, mention in message.parse_entities([MessageEntity.MENTION]).items():
            if mention.lower() == f"@{username}".lower():
                return text.replace(mention, " ", 1).strip()
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.username == username:
        return text
    return None
