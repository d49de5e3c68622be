"""The editor's report in Telegram: /report [7d] [article id] gives admins, in a private chat, what
readers asked (bot/insights/report.py), as text and as a chart."""
from __future__ import annotations

import asyncio
import html
import logging
import tempfile
from pathlib import Path

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.insights import report
from bot.telegram.admin import is_admin

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
            context.bot_data["report_timezone"])
    except report.ReportError as exc:
        await reply(update, context, [html.escape(f"用法：/report [7d] [文章编号]（{exc}）")])
        return
    await reply(update, context, [html.escape(report.text(made))])
    if png:
        try:
            with open(png, "rb") as photo:
                await context.bot.send_photo(update.effective_chat.id, photo, caption="读者提问报告")
        except TelegramError as exc:
            log.warning("Could not send the report's chart: %s", exc)
        finally:
            Path(png).unlink(missing_ok=True)


def _report(path: Path, period: str, article: str | None, timezone: str):
    made = report.build(path, report.parse_period(period), article, timezone=timezone)
    if not made.questions:
        return made, None
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as out:
        return made, report.chart(made, Path(out.name))
