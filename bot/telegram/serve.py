"""Running the bot: start-up, taking updates in (bot/telegram/intake.py), following the index folder
(bot/telegram/index_watch.py), and stopping on SIGINT/SIGTERM without losing what was accepted.

The handlers and the PTB Application they live in are in bot/telegram/application.py.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import sys

from telegram.error import InvalidToken
from telegram.ext import Application

from bot.chat.conversation import Conversations
from bot.config import InsightsSettings
from bot.config import Telegram as TelegramSettings
from bot.errors import UserError
from bot.telegram import first_contact
from bot.telegram.admin import Library
from bot.telegram.application import (build_application, fingerprint, screen, set_commands, tell_admins_set_aside,
                                      tell_admins_skipped)
from bot.telegram.index_watch import IndexWatch
from bot.telegram.intake import Intake, WebhookPortError, poll, receive_webhook
from bot.telegram.intake import connect as intake_connect
from bot.telegram.journal import Journal

log = logging.getLogger(__name__)


class TokenFilter(logging.Filter):
    """Replace the bot token (and the webhook's secret) wherever it appears in a log record: the
    HTTP client logs request URLs, the Bot API puts the token in the URL, and at DEBUG PTB logs
    the parameters of setWebhook, the secret among them."""

    def __init__(self, token: str, *others: str):
        super().__init__()
        self.replacements = [(token, "<token>")] + [(other, "<secret>") for other in others]
        self.secrets = [secret for secret, _ in self.replacements if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            record.msg, record.args = self._hide(message), ()
        if record.exc_info:   # a traceback can quote the token too ("The token `…` was rejected")
            record.exc_text = self._hide(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True

    def _hide(self, text: str) -> str:
        for secret, mark in self.replacements:
            text = text.replace(secret, mark) if secret else text
        return text


TOKEN_REJECTED = ("Telegram rejected the token (401/404): check TELEGRAM_BOT_TOKEN and telegram.base_url")


class TokenRejected(Exception):
    """Telegram answered 401/404: the token was revoked or the Bot API address is wrong."""


def serve(conversations: Conversations, settings: TelegramSettings, token: str, journal: Journal,
          watch: IndexWatch | None = None, library: Library | None = None, insights: InsightsSettings | None = None) -> None:
    """Run the bot until SIGINT/SIGTERM. Every accepted update goes through the journal (see
    bot/telegram/intake.py): the first signal lets the answers in hand finish for a few seconds, a second one
    stops within half a second; what is left is answered at the next start. Raises TokenRejected when Telegram
    rejects the token, at start-up or while running, so that the process never lives on deaf. The
    journal is opened (and locked) by the caller before the model loads, so a second bot on it
    is refused at once; it is closed here."""
    webhook_secret = secrets.token_urlsafe(32)   # Telegram sends it back with every webhook request
    _protect_logs(token, webhook_secret)
    app = build_application(conversations, settings, token, library, insights)
    if watch:   # what the last rebuild of the library could not read, for the admins
        from bot.runtime import skipped_at_last_rebuild
        app.bot_data["skipped_articles"] = skipped_at_last_rebuild(watch.folder)
    try:
        asyncio.run(_run(app, settings, journal, watch, webhook_secret))
    except InvalidToken:
        raise TokenRejected(TOKEN_REJECTED) from None
    except WebhookPortError as exc:
        raise UserError(str(exc), 2) from None
    finally:
        journal.close()


async def _run(app: Application, settings: TelegramSettings, journal: Journal, watch: IndexWatch | None,
               webhook_secret: str) -> None:
    stopping, hurry = asyncio.Event(), asyncio.Event()
    _on_signals(stopping, hurry)
    print(f"article-qa: connecting to {settings.base_url}…", file=sys.stderr, flush=True)
    receiving = asyncio.ensure_future(_receive(app, settings, journal, webhook_secret))
    stopped = asyncio.ensure_future(stopping.wait())
    watching = asyncio.ensure_future(watch.run(lambda c: use_index(app, c), app.bot_data["answering"])) if watch else None
    try:
        await asyncio.wait({receiving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        receiving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await receiving   # re-raises InvalidToken
    finally:
        stopped.cancel()
        if watching:
            watching.cancel()
        if app.bot_data.get("pruning"):
            app.bot_data["pruning"].cancel()
        if app.bot_data.get("library"):
            app.bot_data["library"].stop()   # an index change in progress is given up; its update stays pending
        if "intake" in app.bot_data:
            left = await app.bot_data["intake"].drain(settings.shutdown_grace_seconds, hurry)
            print(f"article-qa: stopped; {left} update(s) left for the next start", file=sys.stderr, flush=True)
        if app.running:
            await app.stop()
        await app.shutdown()
        _exit_on_further_signals()


def _exit_on_further_signals() -> None:
    """Past this point a repeated signal would meet the default handler (asyncio restores it when
    the loop closes) and end the process with a misleading status; everything is journaled by
    now, so it simply ends the process."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)   # so that closing the loop leaves the handler below in place
        signal.signal(sig, lambda *_: os._exit(0))


async def _receive(app: Application, settings: TelegramSettings, journal: Journal, webhook_secret: str) -> None:
    """Connect, answer what a previous run left pending, then take updates in until cancelled."""
    await intake_connect(app)
    await app.start()
    await set_commands(app)
    intake = app.bot_data["intake"] = Intake(app, journal, screen(app))
    resumed, set_aside = intake.resume()
    app.bot_data["pruning"] = asyncio.get_running_loop().create_task(intake.prune_journal())   # held: not collected
    if resumed:
        log.info("Answering %d update(s) left pending by the previous run", resumed)
    if set_aside:
        await tell_admins_set_aside(app, set_aside)
    if app.bot_data.get("skipped_articles"):
        await tell_admins_skipped(app, app.bot_data["skipped_articles"])
    if settings.mode == "webhook":
        await receive_webhook(intake, settings.webhook.url, settings.webhook.listen, settings.webhook.port,
                              webhook_secret)
    else:
        await poll(intake, settings.poll_timeout)


def use_index(app: Application, conversations: Conversations) -> None:
    """Answer from now on from a newly loaded index; conversations keep their context."""
    conversations.adopt(app.bot_data["conversations"])
    app.bot_data.update(conversations=conversations, answerer=conversations.answerer,
                        fingerprint=fingerprint(conversations.answerer))
    titles = conversations.answerer.searcher.index.catalogue.titles()
    # Kept in bot_data: a task nobody holds may be collected before it runs.
    app.bot_data["describing"] = asyncio.get_running_loop().create_task(first_contact.describe(app, titles))


def _on_signals(stopping: asyncio.Event, hurry: asyncio.Event) -> None:
    """The first SIGINT/SIGTERM stops taking updates and lets those in hand finish; a second one
    stops within half a second (the journal keeps what was not finished)."""
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        (hurry if stopping.is_set() else stopping).set()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)


def check_webhook_port(settings: TelegramSettings) -> None:
    """Refuse at start-up (before the model loads), in one line, a webhook port this process
    cannot listen on."""
    if settings.mode != "webhook":
        return
    listen, port = settings.webhook.listen, settings.webhook.port
    try:
        with socket.socket(socket.AF_INET6 if ":" in listen else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((listen, port))
    except OSError as exc:
        raise UserError(f"cannot listen on {listen}:{port} for the webhook ({exc.strerror or exc}): another "
                        f"program uses it, or pick another telegram.webhook.port", 2) from None


def _protect_logs(token: str, webhook_secret: str) -> None:
    token_filter = TokenFilter(token, webhook_secret)
    for handler in logging.getLogger().handlers:
        handler.addFilter(token_filter)
    logging.getLogger("httpx").setLevel(logging.WARNING)   # a line per request to the Bot API
    logging.getLogger("matplotlib").setLevel(logging.WARNING)   # the chart's font cache, made once
    # Its only error log is a traceback for a response that is not JSON (a proxy's HTML error page),
    # on every retry; the NetworkError raised next is reported once a minute by intake.Outage.
    logging.getLogger("telegram.request").setLevel(logging.CRITICAL)
