"""Getting updates in: long polling or a webhook, through the journal, into one queue per user.

Telegram learns that an update was received (the next getUpdates offset, or the webhook's HTTP
200) only once the update is in the journal, and the journal marks it done only once its handling
has finished. Each user has a queue answered in order; at most `seats` users are served at once and
a user gives the seat back after every update, so one user's backlog cannot delay anyone else.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import resource
import sqlite3
import time
from collections import deque
from typing import Callable
from urllib.parse import urlsplit

import tornado.httpserver
import tornado.web
from telegram import Update
from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from bot.telegram.journal import Journal

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 60   # the journal is pruned by age this often, updates or not
# A reply that could not be sent (the Bot API unreachable past telegram.send_retry_seconds) is tried
# again after this pause, its update still pending in the journal.
RETRY_PAUSE_SECONDS = 5
# A second signal still lets the update each worker holds finish for this long (see drain).
HURRIED_FINISH_SECONDS = 0.5


class Intake:
    def __init__(self, app: Application, journal: Journal, screen: Callable[[Update], bool] = lambda u: True,
                 seats: int = 16):
        """`screen` says whether an update is worth queueing at all: an update from outside the
        allow-list is journaled as done at once unless its sender is due a refusal notice, so a
        stranger's flood costs a journal row per update and no queue, handler or model time."""
        self.app, self.journal, self.screen = app, journal, screen
        self._queues: dict[int, deque[Update]] = {}
        self._workers: set[asyncio.Task] = set()
        self._seats = asyncio.Semaphore(seats)
        self._closing = False
        self._postponed: set[int] = set()

    def take(self, updates: list[Update]) -> int:
        """Journal the updates, then queue those not seen before. Returns how many were new."""
        by_id = {u.update_id: u for u in updates}
        bodies = {i: _journalable(u) for i, u in by_id.items()}
        by_id = {i: u for i, u in by_id.items() if bodies[i] is not None}
        new = self.journal.add([(i, bodies[i], _sender(u)) for i, u in by_id.items()])
        screened_out = [i for i in new if not self.screen(by_id[i])]
        if screened_out:
            self.journal.done(*screened_out)
        for update_id in new:
            if update_id not in screened_out:
                self._queue(by_id[update_id])
        return len(new)

    async def prune_journal(self, every: float = PRUNE_EVERY_SECONDS) -> None:
        """Keep the journal to its hours (telegram.journal_keep_hours) while the bot runs: a quiet
        bot too must not keep readers' messages longer than it says. Runs until cancelled."""
        while True:
            try:
                self.journal.prune()
            except sqlite3.Error as exc:   # a busy or damaged journal: said, tried again next time
                log.warning("Could not prune the journal: %s", exc)
            await asyncio.sleep(every)

    def resume(self) -> tuple[int, list[Update]]:
        """Queue what a previous run journaled but did not finish, except updates whose handling
        was already begun twice without finishing: those are set aside (state failed) so that
        they can never block a start again. Returns how many were queued, and those set aside."""
        poison = [u for u in (self._read(body) for _, body in self.journal.set_aside_interrupted()) if u]
        pending = self.journal.pending()
        for update_id, body in pending:
            update = self._read(body)
            if update is None:   # forgotten (/forget) or unreadable: nothing to answer
                self.journal.done(update_id)
            else:
                self._queue(update)
        return len(pending), poison

    def _read(self, body: str) -> Update | None:
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return parse_update(data, self.app.bot) if data != {} else None

    async def drain(self, grace: float, hurry: asyncio.Event) -> int:
        """Start no new update; let those in hand finish for at most `grace` seconds, or until
        `hurry` is set. What is left stays pending in the journal for the next start. Returns
        how many updates are left pending."""
        self._closing = True
        if self._workers:
            finished = asyncio.ensure_future(asyncio.wait(set(self._workers)))
            hurried = asyncio.ensure_future(hurry.wait())
            await asyncio.wait({finished, hurried}, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
            finished.cancel()
            hurried.cancel()
        if self._workers:
            # Even in a hurry, the update each worker holds gets a moment to finish: its reply is
            # usually on the wire already, and cut off before it is marked done it would be sent
            # a second time at the next start. No worker starts another one (closing).
            await asyncio.wait(set(self._workers), timeout=HURRIED_FINISH_SECONDS)
        for worker in set(self._workers):
            worker.cancel()
        return len(self.journal.pending())

    def postpone(self, update_id: int) -> None:
        """The reply to this update could not be sent: keep it pending and handle it again later
        (after a restart too), instead of marking it done."""
        self._postponed.add(update_id)

    def _queue(self, update: Update) -> None:
        key = _sender(update)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            worker = asyncio.create_task(self._serve(key, queue), name=f"article-qa:user-{key}")
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        queue.append(update)

    async def _serve(self, key: int, queue: deque[Update]) -> None:
        """Handle one user's updates in order, taking a seat for each one."""
        try:
            while queue and not self._closing:
                async with self._seats:
                    if self._closing:
                        break
                    update = queue.popleft()
                    self.journal.started(update.update_id)
                    await self.app.process_update(update)   # handler errors go to the error handler
                    if update.update_id not in self._postponed:
                        self.journal.done(update.update_id)
                        continue
                    self._postponed.discard(update.update_id)
                    self.journal.finished_undone(update.update_id)
                    queue.appendleft(update)   # the user's later updates keep waiting behind it
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
        finally:
            if self._queues.get(key) is queue:
                del self._queues[key]


def parse_update(data, bot) -> Update | None:
    """The Update in a JSON value from Telegram (a getUpdates item or a webhook body), or None,
    logged in one line, when it cannot be one. Lone surrogates (invalid UTF-16 a client let
    through) become U+FFFD, so the message can still be journaled and answered."""
    try:
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            raise ValueError("not an object with an integer update_id")
        # json.loads joins surrogate pairs into one character: any surrogate left is a lone one.
        data = json.loads(_SURROGATE.sub("\ufffd", json.dumps(data, ensure_ascii=False)))
        update = Update.de_json(data, bot)
        message = update.effective_message
        if message is not None and message.chat is None:   # PTB lets it through; every handler would fail
            raise ValueError("a message without a chat")
        return update
    except Exception as exc:   # noqa: BLE001 — any shape PTB cannot read is skipped, never fatal
        update_id = data.get("update_id") if isinstance(data, dict) else None
        log.warning("Set aside update %s: it cannot be read (%s)", update_id, one_line(exc))
        return None


_SURROGATE = re.compile("[\ud800-\udfff]")
_USERINFO = re.compile(r"(https?://)[^/@\s\"]+@", re.IGNORECASE)
_NAMES = ("first_name", "last_name", "username")


def _journalable(update: Update) -> str | None:
    """The update's journal body, or None (logged in one line) when it cannot be made one."""
    try:
        return journal_body(update)
    except Exception as exc:   # noqa: BLE001 — an update the journal cannot hold is skipped, never fatal
        log.warning("Set aside update %s: it cannot be journaled (%s)", update.update_id, one_line(exc))
        return None


def journal_body(update: Update) -> str:
    """The update as the journal keeps it: without people's names (the bot answers from the ids
    and the text; a bot's own username stays, to recognise replies to it) and without passwords
    in links."""
    def strip(value):
        if isinstance(value, dict):
            personal = "id" in value and (value.get("is_bot") is False or value.get("type") == "private")
            kept = {k: strip(v) for k, v in value.items() if not (personal and k in _NAMES)}
            if personal and "is_bot" in value:
                kept["first_name"] = ""   # a user must have one to be read back
            return kept
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return _USERINFO.sub(r"\1", json.dumps(strip(update.to_dict()), ensure_ascii=False))


def _sender(update: Update) -> int:
    who = update.effective_user or update.effective_chat
    return who.id if who else 0


class Outage:
    """Logs a Bot API outage as one warning line when it starts, one a minute while it lasts and
    one when it ends, never a traceback per retry."""

    def __init__(self, what: str, every: float = 60):
        self.what, self.every = what, every
        self.since: float | None = None
        self._logged = 0.0

    def failed(self, exc: Exception) -> float:
        """Record a failure; return how long to wait before the next try."""
        now = time.monotonic()
        if self.since is None:
            self.since, self._logged = now, now
            log.warning("%s failed (%s); retrying", self.what, one_line(exc))
        elif now - self._logged >= self.every:
            self._logged = now
            log.warning("%s still failing after %.0f s (%s); retrying", self.what, now - self.since, one_line(exc))
        if isinstance(exc, RetryAfter):
            return float(exc.retry_after if isinstance(exc.retry_after, (int, float))
                         else exc.retry_after.total_seconds())
        return min(2.0 ** min((now - self.since) // 10, 4), 10.0)   # 1 s, 2 s, 4 s, 8 s, then every 10 s

    def recovered(self) -> None:
        if self.since is not None:
            log.warning("%s works again after %.0f s", self.what, time.monotonic() - self.since)
            self.since = None


def one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


async def connect(app: Application) -> None:
    """Initialise the application (getMe), retrying while the Bot API cannot be reached."""
    await _until_done("Connecting to the Telegram Bot API", app.initialize)


async def _until_done(what: str, call) -> None:
    """Await `call()` until it succeeds, retrying Bot API failures with Outage's backoff and log
    lines. A rejected token (InvalidToken) is raised at once: retrying cannot fix it."""
    outage = Outage(what)
    while True:
        try:
            await call()
        except InvalidToken:
            raise
        except TelegramError as exc:
            await asyncio.sleep(outage.failed(exc))
            continue
        outage.recovered()
        return


async def poll(intake: Intake, timeout: float) -> None:
    """Long-poll getUpdates for ever. Each batch is journaled before the next call's offset
    acknowledges it; an update fetched but not yet journaled when the process dies is redelivered."""
    bot = intake.app.bot
    # getUpdates is refused while a webhook is set.
    await _until_done("Removing the webhook (deleteWebhook)", bot.delete_webhook)
    last = intake.journal.last_id()
    offset = last + 1 if last is not None else None
    outage = Outage("Fetching updates (getUpdates)")
    while True:
        try:
            # The raw items, read one by one: Bot.get_updates raises for a whole batch when one
            # update has a shape PTB cannot read, and polling would stop at it for ever.
            items = await bot._post("getUpdates", {"timeout": int(timeout), "offset": offset,
                                                   "allowed_updates": list(Update.ALL_TYPES)},
                                    read_timeout=10 + int(timeout))
        except InvalidToken:
            raise
        except TelegramError as exc:   # network, 5xx, a proxy's page, Conflict (another poller): retry
            await asyncio.sleep(outage.failed(exc))
            continue
        outage.recovered()
        items = [item for item in items or () if isinstance(item, dict) and type(item.get("update_id")) is int]
        updates = [u for u in (parse_update(item, bot) for item in items) if u is not None]
        if updates:
            intake.take(updates)
        if items:
            offset = max(item["update_id"] for item in items) + 1


# The webhook's own guards (put it behind a reverse proxy all the same, see the README): a client
# that sends nothing, or trickles its headers or body, is cut off; connections beyond the bound are
# closed at once, below the file-descriptor limit, so they can never make the process deaf.
WEBHOOK_IDLE_SECONDS = 10
WEBHOOK_MAX_BODY = 1 << 20
WEBHOOK_FD_RESERVE = 200   # descriptors kept for the journal, the index, the Bot API client


class WebhookPortError(Exception):
    """The webhook's port cannot be listened on (in use, or not allowed)."""


async def receive_webhook(intake: Intake, url: str, listen: str, port: int, secret: str) -> None:
    """Serve the webhook until cancelled. Telegram gets its HTTP 200 only after the update is in
    the journal; until then (or on a 5xx) it redelivers. The secret token (made at each start),
    checked on every request, keeps anyone else from posting updates."""
    path = urlsplit(url).path or "/"
    app = tornado.web.Application([(path, _WebhookHandler, {"intake": intake, "secret": secret})])
    server = _BoundedServer(app, max_connections=_raise_fd_limit() - WEBHOOK_FD_RESERVE,
                            idle_connection_timeout=WEBHOOK_IDLE_SECONDS, body_timeout=WEBHOOK_IDLE_SECONDS,
                            max_body_size=WEBHOOK_MAX_BODY, max_header_size=16 << 10)
    try:
        server.listen(port, listen)
    except OSError as exc:
        raise WebhookPortError(f"cannot listen on {listen}:{port} for the webhook ({exc.strerror or exc}): "
                               f"another program uses it, or pick another telegram.webhook.port") from None
    await _until_done("Setting the webhook (setWebhook)",
                      lambda: intake.app.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES))
    try:
        await asyncio.Event().wait()
    finally:
        server.stop()
        await server.close_all_connections()


def _raise_fd_limit() -> int:
    """Raise the soft limit on open files to the hard one (at most 65,536); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard if hard != resource.RLIM_INFINITY else 65536, 65536)
    if wanted > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    return soft


class _BoundedServer(tornado.httpserver.HTTPServer):
    """An HTTPServer that closes connections beyond `max_connections` as they arrive."""

    def initialize(self, *args, max_connections: int = 1000, **kwargs) -> None:
        super().initialize(*args, **kwargs)
        self.max_connections, self._refused_since_log = max(max_connections, 16), 0

    def handle_stream(self, stream, address) -> None:
        if len(self._connections) >= self.max_connections:
            stream.close()
            self._refused_since_log += 1
            if self._refused_since_log in (1, 1000):
                log.warning("Webhook: %d open connections, the bound; closing new ones", self.max_connections)
            return
        self._refused_since_log = 0
        super().handle_stream(stream, address)


class _WebhookHandler(tornado.web.RequestHandler):
    def initialize(self, intake: Intake, secret: str) -> None:
        self.intake, self.secret = intake, secret

    def post(self) -> None:
        given = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.set_status(403)
            return
        update = self._update()
        if update is None:
            self.set_status(400)   # can never be an update: redelivering it would not help
            return
        self.intake.take([update])   # raises (HTTP 500, redelivered) if it cannot be journaled
        self.set_status(200)

    def _update(self) -> Update | None:
        """The request's update, or None (logged in one line) when the body cannot be one."""
        try:
            data = json.loads(self.request.body)
        except (ValueError, RecursionError) as exc:
            log.warning("Webhook request that is not an update: %s", one_line(exc))
            return None
        return parse_update(data, self.intake.app.bot)

    def write_error(self, status_code: int, **kwargs) -> None:
        self.finish()   # no traceback page for the caller; the log has it
