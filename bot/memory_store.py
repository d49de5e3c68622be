"""Conversation context that outlives a restart: each conversation's last turn, kept in SQLite, so
that a follow-up ("他说了什么") answered after a restart — or left pending in the update journal —
still knows who "他" is. The bot keeps it in the journal's database file.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bot.journal import JournalError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,    -- the conversation (a chat, or a user's thread in a group)
    turn TEXT NOT NULL,     -- its last turn (JSON, written by bot/conversation.py)
    at REAL NOT NULL        -- unix time of that turn
);
CREATE INDEX IF NOT EXISTS conversations_at ON conversations (at);
"""


class ConversationStore:
    def __init__(self, path: Path):
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Replies are computed in worker threads: one connection, used under a lock.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the update journal {path}: {exc}") from None
        self._lock = threading.Lock()

    def save(self, conversation: str, turn: str, at: float) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO conversations (id, turn, at) VALUES (?, ?, ?)",
                             (conversation, turn, at))

    def delete(self, conversation: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))

    def recent(self, since: float, limit: int) -> list[tuple[str, str, float]]:
        """(conversation, turn, at) of the turns since `since`, oldest first, at most `limit`; older
        ones are deleted, so the table stays as small as the memory it restores."""
        with self._lock:
            self._db.execute("DELETE FROM conversations WHERE at < ?", (since,))
            rows = self._db.execute("SELECT id, turn, at FROM conversations ORDER BY at DESC LIMIT ?",
                                    (limit,)).fetchall()
        return rows[::-1]
