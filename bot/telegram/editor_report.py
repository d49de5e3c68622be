"""The editor's report in Telegram: /report [7d] [article id] gives admins, in a private chat, what
readers asked (bot/insights/report.py), as text and as a chart; under it each answer readers
marked 👎 comes with its article's closest sentences as buttons, and one tap pins the right one to
the question ("以后类似的问题先引用这句") or marks it "报道里确实没有" (bot/insights/pins.py).
/pins lists the corrections, each with a button that undoes it."""
from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import secrets
import tempfile
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.insights import report
from bot.telegram.admin import is_admin
from bot.telegram.sending import settle
from index.language import text

log = logging.getLogger(__name__)


async def on_report(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    """/report [7d] [article id]: the editor's report, as text and as a chart, for admins."""
    if not is_admin(context, update):
        await reply(update, context, ["只有管理员可以查看读者提问报告。"])
        return
    if update.effective_chat.type != "private":   # readers' questions, private ones included: never to a group
        await reply(update, context, ["读者提问报告只在与我的私聊中发送，请私聊我 /report。"])
        return
    args = list(context.args or [])
    period = args.pop(0) if args and args[0][:1].isdigit() else "7d"
    article = args[0] if args else None
    known = context.bot_data["answerer"].searcher.index.catalogue.number
    if article is not None and article not in known:   # "/report 本周": not an article, say how to ask
        await reply(update, context, [html.escape(f"没有编号为 {article} 的文章。用法：/report [时段] [文章编号]，"
                                                  f"时段如 24h、7d、2w（默认 7d）；/articles 列出编号。")])
        return
    try:
        made, png = await asyncio.get_running_loop().run_in_executor(
            context.bot_data["answering"], _report, context.bot_data["insights_path"], period, article,
            context.bot_data["report_timezone"], context.bot_data["conversations"].corrections)
    except report.ReportError as exc:
        await reply(update, context, [html.escape(f"用法：/report [7d] [文章编号]（{exc}）")])
        return
    await reply(update, context, [html.escape(report.text(made))])
    for question, _, _, title, article_id in made.marked_wrong[:CORRECTIONS_OFFERED]:
        if article_id in known and context.bot_data["conversations"].corrections is not None:
            await _offer_correction(update, context, reply, question, title, article_id)
    if png:
        try:
            with open(png, "rb") as photo:
                await context.bot.send_photo(update.effective_chat.id, photo, caption="读者提问报告")
        except TelegramError as exc:
            log.warning("Could not send the report's chart: %s", exc)
        finally:
            Path(png).unlink(missing_ok=True)


def _report(path: Path, period: str, article: str | None, timezone: str, corrections):
    made = report.build(path, report.parse_period(period), article, timezone=timezone,
                        pins=corrections.path if corrections is not None else None)
    if not made.questions:
        return made, None
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as out:
        return made, report.chart(made, Path(out.name))


CORRECTIONS_OFFERED = 3   # the most marked 👎 answers, each offered for correction
CANDIDATES = 3            # the article's closest sentences offered for each


async def _offer_correction(update: Update, context, reply, question: str, title: str, article_id: str) -> None:
    """The 👎 question with its article's closest sentences as buttons, and "报道里确实没有"."""
    searcher = context.bot_data["answerer"].searcher
    hits = searcher.search(text.Message.of(question), k=CANDIDATES, article_id=article_id).hits
    sentences = [searcher.passage_text(h.number) for h in hits[:CANDIDATES]]
    token = secrets.token_hex(4)
    context.bot_data.setdefault("pin_offers", {})[token] = (article_id, question, sentences)
    lines = [f"读者说没答对：“{question}”（《{title}》）。哪一句是答案？以后类似的问题先引用它："]
    lines += [f"{n}. {sentence}" for n, sentence in enumerate(sentences, 1)]
    buttons = [[InlineKeyboardButton(f"第 {n} 句", callback_data=f"pin:{token}:{n - 1}") for n in range(1, len(sentences) + 1)],
               [InlineKeyboardButton("报道里确实没有", callback_data=f"pin:{token}:x")]]
    await reply(update, context, [html.escape("\n".join(lines))], InlineKeyboardMarkup(buttons))


async def on_pin(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    """An admin's choice under a 👎 question: the sentence pinned to it, or "not in the article"."""
    query = update.callback_query
    _, token, choice = ((query.data or "").split(":") + ["", ""])[:3]
    offer = context.bot_data.get("pin_offers", {}).pop(token, None) if is_admin(context, update) else None
    pins = context.bot_data["conversations"].corrections
    if offer is None or pins is None or not (choice == "x" or (choice.isdigit() and int(choice) < len(offer[2]))):
        with contextlib.suppress(TelegramError):
            await query.answer("这个按钮已经失效，请重新发 /report。", show_alert=True)
        return
    with contextlib.suppress(TelegramError):
        await query.answer()
    article_id, question, sentences = offer
    sentence = None if choice == "x" else sentences[int(choice)]
    embedder = context.bot_data["answerer"].searcher.embedder
    vector = await asyncio.get_running_loop().run_in_executor(context.bot_data["answering"], embedder.encode_question, question)
    pin_id = await asyncio.to_thread(pins.add, article_id, question, vector[0], sentence)
    log.info("Admin %s pinned #%d to %r in %s", update.effective_user.id, pin_id, question, article_id)
    await settle(query, "✅ 已标为报道里没有" if sentence is None else f"✅ 已指定第 {int(choice) + 1} 句")
    said = ("以后类似的问题都回答“报道里没有”。" if sentence is None else f"以后类似的问题先引用：“{sentence}”")
    await reply(update, context, [html.escape(f"好了（更正 #{pin_id}）：{said}发 /pins 查看或撤销。")])


async def on_pins(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    """/pins: the editor's corrections, each with a button that undoes it."""
    pins = context.bot_data["conversations"].corrections
    if not is_admin(context, update) or pins is None:
        await reply(update, context, ["只有管理员可以查看更正。"])
        return
    listed = pins.listed()
    if not listed:
        await reply(update, context, ["还没有更正。在 /report 里读者说没答对的问题下面，点正确的句子即可更正。"])
        return
    catalogue = context.bot_data["answerer"].searcher.index.catalogue
    lines = [f"#{p.id} 《{(catalogue.get(p.article).title if catalogue.get(p.article) else p.article)}》“{p.question}” → "
             + ("报道里没有" if p.sentence is None else f"“{p.sentence[:40]}”") for p in listed[-20:]]
    buttons = [[InlineKeyboardButton(f"撤销 #{p.id}", callback_data=f"unpin:{p.id}")] for p in listed[-20:]]
    await reply(update, context, [html.escape("\n".join(["更正（最近的 20 条）：", *lines]))], InlineKeyboardMarkup(buttons))


async def on_unpin(update: Update, context: ContextTypes.DEFAULT_TYPE, reply) -> None:
    query = update.callback_query
    pins = context.bot_data["conversations"].corrections
    pin_id = (query.data or "").partition(":")[2]
    done = is_admin(context, update) and pins is not None and pin_id.isdigit() and await asyncio.to_thread(pins.remove, int(pin_id))
    with contextlib.suppress(TelegramError):
        await query.answer(f"已撤销 #{pin_id}" if done else "这条更正已经不在了。", show_alert=not done)
    if done:
        await settle(query, f"已撤销 #{pin_id}")
