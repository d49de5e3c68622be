"""Readers' commands: /start (an article's link starts a conversation about it), /help,
/articles, /sections, /source, /id, /forget, and a hint for a command the bot does not have.
"""
from __future__ import annotations

import asyncio
import html
import logging
import sqlite3

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.chat import about
from bot.insights.record import InsightsError
from bot.telegram import admin, first_contact
from bot.telegram.button_keys import button_data
from bot.telegram.flow import conversation_id
from bot.telegram.keyboards import (article_buttons, articles_page, articles_titled, example_buttons, page_count,
                                    sections_reply)
from bot.telegram.questions import addresses_bot
from bot.telegram.sending import answerer, reader_key, reply

log = logging.getLogger(__name__)


UNKNOWN_COMMAND = "没有这个命令，发 /help 看用法。"


# /start names a few articles, with a button to the whole list when there are more.
ARTICLES_AT_START = 5


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Introduce the bot and start the conversation afresh. "/start KEY" (an article's link,
    bot/telegram/first_contact.py) makes that article the conversation's own."""
    conversation = conversation_id(update, context.bot_data["threads"])
    context.bot_data["conversations"].forget(conversation)
    index = answerer(context).searcher.index
    articles = index.articles
    newest = range(len(articles) - 1, max(len(articles) - 1 - ARTICLES_AT_START, -1), -1)
    key = (context.args or [""])[0]
    chosen = first_contact.article_for_key(key, index.catalogue, articles) if key else None
    welcome = context.bot_data["settings"].welcome
    lines = [*([welcome] if welcome else []), "我只用文章里的原句回答问题，并注明出处（章节、段落）。文章里没有的，我会直说。", ""]
    if chosen:
        context.bot_data["conversations"].choose_article(conversation, chosen.id)
        lines += [f"我们聊《{chosen.title}》" + "".join(f"（{m}）" for k, m in chosen.metadata if k == "source") + "。"]
    else:
        if key:
            lines += ["这个链接指向的文章已经不在了。", ""]
        lines += [f"我读过 {len(articles)} 篇文章，最新的几篇：" if len(articles) > ARTICLES_AT_START else "我读过："]
        lines += [f"· 《{articles[n].title}》" + "".join(f"（{m}）" for k, m in articles[n].metadata if k == "source")
                  for n in newest]
    lines += ["", "直接发中文问题即可；在群里请 @我、回复我，或用 /ask 问题。"]
    if not chosen and len(articles) > 1:
        lines += ["想只问其中一篇，点下面的“就这篇”。"]
    if context.bot_data["conversations"].recorder:
        keep = context.bot_data["settings"].journal_keep_hours
        lines += ["", "为了让编辑知道读者想了解什么，我会记录提问，但不记录你是谁（只存一个无法还原的编号）；"
                      f"你发来的消息本身（不含名字）在服务器上最多保留 {keep:g} 小时。发 /forget 可立即删除这些记录。"]
    buttons = list(example_buttons(context, chosen).inline_keyboard)
    if not chosen and len(articles) > 1:
        buttons += article_buttons(context, newest)
        if len(articles) > ARTICLES_AT_START:
            buttons += [[InlineKeyboardButton(f"全部 {len(articles)} 篇文章", callback_data=button_data(context, "arts", 0))]]
    await reply(update, context, [html.escape("\n".join(lines))], InlineKeyboardMarkup(buttons))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = ("用中文提问，例如“这篇文章讲了什么？”“文章有哪些部分？”“作者是谁？”。我会引用文章原句作答，"
            "并注明《标题》· 章节 · 第N段；文章里没有的，我会直说。\n"
            "可以接着上一个问题追问，例如先问“某某是谁”，再问“他做了什么”“那某某呢”；/start 重新开始。\n"
            "/articles 文章列表（/articles 关键词：按标题或开头找）　/latest 最新的一篇　/sections 文章目录　/source 来源与作者　/ask 问题（群聊中使用）\n"
            "“更多相关段落”显示其他可能相关的句子，“查看上下文”显示整段原文。/id 查看你的 Telegram id。")
    if admin.is_admin(context, update):
        text += ("\n\n管理员：在私聊里发来文件（.txt .md .html .docx .pdf）或链接即可添加文章，回复里有这篇文章的专属链接；"
                 "/remove 编号 删除文章（/articles 列出编号）；/report 7d 查看读者提问报告。")
    await reply(update, context, [html.escape(text)])


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
            done.append(f"{recorder.forget(reader_key(user))} 条提问记录"
                        + ("（更早的记录因密钥重建无法对应到你，会在保存期满后自动删除）" if recorder.older_rows_unmatched else ""))
        done.append(f"{context.bot_data['conversations'].forget_reader(user.id)} 段对话上下文")
        return done
    try:
        done = await asyncio.get_running_loop().run_in_executor(context.bot_data["answering"], forget)
        if intake is not None:   # the journal belongs to the event loop's thread
            done.append(f"{intake.journal.forget(user.id, update.update_id)} 条消息副本")
    except (InsightsError, sqlite3.Error) as exc:
        log.warning("/forget could not delete everything: %s", exc)
        await reply(update, context, ["现在没能删除你的记录（数据库正忙），什么也没有删。请稍后再发一次 /forget。"])
        return
    await reply(update, context, [html.escape("已删除你的记录：" + "、".join(done) + "。")])


async def on_sections(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    blocks, markup = sections_reply(context, _article_in_discussion(update, context))
    await reply(update, context, blocks, markup)


def _article_in_discussion(update: Update, context) -> str | None:
    """The article the conversation is about (chosen, or the report in discussion), if any."""
    return context.bot_data["conversations"].article_of(conversation_id(update, context.bot_data["threads"]))


async def on_source(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    blocks, index = [], answerer(context).searcher.index
    number = index.catalogue.number.get(_article_in_discussion(update, context) or "")
    for article in [index.articles[number]] if number is not None else index.articles[:20]:
        meta = "\n".join(about.metadata_lines(article)) or "（文章没有注明来源或作者）"
        blocks.append(f"<b>《{html.escape(article.title)}》</b>\n{html.escape(meta)}")
    await reply(update, context, blocks)


async def on_articles(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The indexed articles a page at a time, each with a button that makes it the conversation's
    article. "/articles 3" opens page 3; "/articles 南京" (or a number past the last page, a year)
    lists those whose title holds it."""
    words = " ".join(context.args or []).strip()
    pages = page_count(answerer(context).searcher.index.catalogue.entries)
    if not words or (words.isdigit() and words.isascii() and 1 <= int(words) <= pages):
        await reply(update, context, *articles_page(context, int(words or 1) - 1, admin.is_admin(context, update)))
        return
    # Off the event loop: matching the words against an archive's titles takes a while.
    found = await asyncio.to_thread(articles_titled, context, words, admin.is_admin(context, update))   # "2023" too
    await reply(update, context, *found)


async def on_id(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anyone's numeric Telegram id (and the group's), for telegram.admin_ids / allowed_ids."""
    user, chat = update.effective_user, update.effective_chat
    lines = [f"你的 Telegram 数字 id：{user.id}" if user else "看不到你的 id。"]
    if chat and chat.type != ChatType.PRIVATE:
        lines.append(f"这个群的 id：{chat.id}")
    lines.append("（编辑把它写进 config.yaml 的 telegram.admin_ids，你就能上传和删除文章。）")
    await reply(update, context, [html.escape("\n".join(lines))])


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /command this bot does not have. In a group, a bare "/cmd" may be any bot's, and one
    "/cmd@otherbot" is another's: only "/cmd@thisbot" is told there is no such command."""
    message = update.effective_message
    named = message.text.split()[0].partition("@")[2] if message.text else ""
    if message.chat.type != ChatType.PRIVATE and named.lower() != (context.bot.username or "").lower():
        return
    if addresses_bot(message, context.bot.username):
        await reply(update, context, [UNKNOWN_COMMAND])


GROUP_GREETING = "大家好！我只用文章里的原句回答问题，并注明出处。在群里请 @我 提问、回复我的消息，或用 /ask 问题。"


async def on_added_to_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One line when the bot joins a group (privacy mode shows it only what is meant for it, so
    the group must know how to ask); other members joining are none of its business."""
    if any(member.id == context.bot.id for member in update.effective_message.new_chat_members):
        await reply(update, context, [GROUP_GREETING])


async def on_latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The newest article becomes the conversation's own, with example questions about it."""
    articles = answerer(context).searcher.index.articles
    newest = articles[len(articles) - 1]
    context.bot_data["conversations"].choose_article(conversation_id(update, context.bot_data["threads"]), newest.id)
    said = [m for k, m in newest.metadata if k in ("source", "date")][:2]
    line = f"最新的一篇：《{newest.title}》" + (f"（{'，'.join(said)}）" if said else "") + \
        "。接下来的问题都按这篇回答；发 /articles 看更多。"
    await reply(update, context, [html.escape(line)], example_buttons(context, newest))
