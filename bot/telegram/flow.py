"""Flow control: each reader's budget of questions, which conversation a message belongs to (a
private chat, or a reader's thread in a group), answers in the order asked, and an edited
message answered once for its newest edit.
"""
from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import OrderedDict, defaultdict, deque

from telegram import Update
from telegram.constants import ChatType


class RateLimiter:
    """At most `limit` questions per user in any `window` seconds. Memory stays bounded: users with
    nothing left in the window are forgotten whenever the table has grown by `prune_every` users."""

    def __init__(self, limit: int, window: float, prune_every: int = 10_000):
        self.limit, self.window, self.prune_every = limit, window, prune_every
        self._asked: dict[int, deque] = defaultdict(deque)
        self._noticed: dict[int, float] = {}
        self._size_after_prune = 0

    def allow(self, user_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if len(self._asked) >= self._size_after_prune + self.prune_every:
            self._prune(now)
        asked = self._asked[user_id]
        while asked and now - asked[0] > self.window:
            asked.popleft()
        if len(asked) >= self.limit:
            return False
        asked.append(now)
        return True

    def seconds_to_wait(self, user_id: int, now: float | None = None) -> int:
        """Whole seconds until the user may ask again: until their oldest question in the window leaves it."""
        now = time.monotonic() if now is None else now
        asked = self._asked.get(user_id)
        return max(1, math.ceil(self.window - (now - asked[0]))) if asked and len(asked) >= self.limit else 0

    def notice_due(self, user_id: int, now: float | None = None) -> bool:
        """Whether a user over the limit should be told so: once per window, then silence, so that
        a flood does not turn into as many "too fast" replies."""
        now = time.monotonic() if now is None else now
        if now - self._noticed.get(user_id, -self.window - 1) <= self.window:
            return False
        self._noticed[user_id] = now
        return True

    def _prune(self, now: float) -> None:
        for user_id in [u for u, asked in self._asked.items() if not asked or now - asked[-1] > self.window]:
            del self._asked[user_id]
        for user_id in [u for u, at in self._noticed.items() if now - at > self.window]:
            del self._noticed[user_id]
        self._size_after_prune = len(self._asked)


class ThreadMap:
    """Which conversation each of the bot's answers belongs to, for the latest `capacity` answers:
    in a group, replying to the bot's answer continues the thread that answer belongs to."""

    def __init__(self, capacity: int = 50_000):
        self.capacity = capacity
        self._thread_of: OrderedDict[tuple[int, int], str] = OrderedDict()

    def record(self, chat_id: int, message_id: int, conversation: str) -> None:
        self._thread_of[(chat_id, message_id)] = conversation
        while len(self._thread_of) > self.capacity:
            self._thread_of.popitem(last=False)

    def thread_of(self, chat_id: int, message_id: int) -> str | None:
        return self._thread_of.get((chat_id, message_id))


class InOrder:
    """Messages of one conversation are answered one after another, in the order they came: a
    follow-up sent right after a question must see that question's answer. Other conversations
    go on meanwhile. A conversation's lock lives only while someone waits for it."""

    def __init__(self):
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def turn(self, conversation: str):
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        self._users[conversation] = self._users.get(conversation, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[conversation] -= 1
            if not self._users[conversation]:
                del self._users[conversation], self._locks[conversation]


def conversation_id(update: Update, threads: ThreadMap) -> str:
    """A private chat is one conversation; in a group each user has their own, in each thread of
    the group (a post's comments, a forum topic) apart, and a reply to one of the bot's answers
    continues the conversation that answer belongs to."""
    chat, user = update.effective_chat, update.effective_user
    if chat.type == ChatType.PRIVATE:
        return str(chat.id)
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied:
        thread = threads.thread_of(chat.id, replied.message_id)
        if thread:
            return thread
    topic = f"t{message.message_thread_id}:" if message and message.message_thread_id else ""
    return f"{chat.id}:{topic}{user.id if user else 0}"


LATEST_EDITS_KEPT = 10_000   # messages whose latest edit is remembered (the least recent go first)


def _edited(update: Update) -> tuple[int, int] | None:
    """(chat id, message id) of an edited message; None for anything else, or for an update too
    malformed to say (a mutated update must never stop the intake)."""
    try:
        message = update.edited_message
        key = (message.chat.id, message.message_id) if message is not None else None
    except AttributeError:
        return None
    return key if key and all(isinstance(n, int) for n in key) else None


def note_edit(latest: OrderedDict, update: Update) -> None:
    """Remember the newest edit of each message, as updates come in (Intake.take → screen)."""
    key = _edited(update)
    if key is not None:
        latest[key] = update.update_id
        latest.move_to_end(key)
        while len(latest) > LATEST_EDITS_KEPT:
            latest.popitem(last=False)


def superseded(bot_data, update: Update) -> bool:
    """An edit of a message edited again since: only the newest is answered. A reader who fixes a
    typo three times wants one answer, and fifty quick edits must not queue fifty answers ahead
    of everyone else's."""
    key = _edited(update)
    newest = bot_data.get("latest_edits", {}).get(key) if key is not None else None
    return newest is not None and newest > update.update_id
