"""Sending within Telegram's bot-wide limit without letting one busy chat hold everyone up.

Telegram asks a bot to stay under about 30 messages a second overall. python-telegram-bot's
AIORateLimiter keeps to that with one first-come-first-served limiter: when a few readers flood the
bot (a message edited fifty times, each edit answered), everyone else's answer waits behind
theirs. Here the bot-wide limit is kept by handing out turns instead: each turn goes to the chat
that was last served longest ago, so a reader who has been quiet is answered next, whatever the
busy chats still have waiting. AIORateLimiter still does the rest (per-group limits, 429 retries).
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from telegram.ext import AIORateLimiter


class FairRateLimiter(AIORateLimiter):
    """AIORateLimiter with its overall limit applied per turn, quiet chats first (module docstring)."""

    def __init__(self, overall_max_rate: float, max_retries: int = 0):
        super().__init__(overall_max_rate=0, max_retries=max_retries)   # the overall limit is ours
        self._interval = 1 / overall_max_rate if overall_max_rate else 0.0
        self._waiting: dict[Any, deque[asyncio.Future]] = {}
        self._last_served: dict[Any, float] = {}
        self._dispatcher: asyncio.Task | None = None

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        chat = data.get("chat_id")
        if self._interval and chat is not None:
            await self._turn(chat)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)

    async def _turn(self, chat: Any) -> None:
        """Wait for this chat's turn to send one request."""
        turn = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(chat, deque()).append(turn)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())
        await turn

    async def _dispatch(self) -> None:
        """Hand out turns at the overall rate, each to the waiting chat served longest ago."""
        while self._waiting:
            chat = min(self._waiting, key=lambda c: self._last_served.get(c, float("-inf")))
            queue = self._waiting[chat]
            turn = queue.popleft()
            if not queue:
                del self._waiting[chat]
            if turn.cancelled():   # its sender gave up (shutting down): the turn goes to the next
                continue
            self._last_served[chat] = time.monotonic()
            turn.set_result(None)
            await asyncio.sleep(self._interval)
        self._forget_quiet_chats()

    def _forget_quiet_chats(self) -> None:
        """Chats served more than a minute ago are as quiet as new ones: their times need not be kept."""
        cutoff = time.monotonic() - 60
        self._last_served = {chat: at for chat, at in self._last_served.items() if at >= cutoff}
