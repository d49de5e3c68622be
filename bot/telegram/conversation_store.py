"""Conversation context that outlives a restart: each conversation's last turn, kept in SQLite, so
that a follow-up ("他说了什么") answered after a restart — or left pending in the update journal —
still knows who "他" is. The bot keeps it in a file beside the update journal.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from bot.storage import forget_in_files, private_database
from bot.telegram.journal import JournalError

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,    -- the conversation (a chat, or a user's thread in a group)
    turn TEXT NOT NULL,     -- its last turn (JSON, written by bot/chat/conversation.py)
    at REAL NOT NULL        -- unix time of that turn
);
CREATE INDEX IF NOT EXISTS conversations_at ON conversations (at);
"""


class ConversationStore:
    """Writes are gathered and made by a background thread twice a second, in one transaction:
    answering never waits for the disk, and a process killed outright loses at most the last half
    second of context (never an answer)."""

    FLUSH_EVERY = 0.5

    def __init__(self, path: Path):
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = private_database(Path(path), check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the update journal {path}: {exc}") from None
        self._lock = threading.Lock()          # guards the connection and the pending writes
        self._pending: dict[str, tuple[str, float] | None] = {}   # None: delete
        self._wake = threading.Event()
        threading.Thread(target=self._write_behind, name="conversation-store", daemon=True).start()

    def save(self, conversation: str, turn: str, at: float) -> None:
        with self._lock:
            self._pending[conversation] = (turn, at)

    def delete(self, conversation: str) -> None:
        with self._lock:
            self._pending[conversation] = None

    def forget_reader(self, user_id: int) -> int:
        """/forget: delete the reader's conversations (their private chat, their threads in groups)
        now, overwriting them on disk. Returns how many."""
        self.flush()
        with self._lock:
            cursor = self._db.execute("DELETE FROM conversations WHERE id = ? OR id LIKE ?",
                                      (str(user_id), f"%:{user_id}"))   # a private chat's id is the user's
            forget_in_files(self._db)
        return cursor.rowcount

    def flush(self) -> None:
        """Write what is pending now (before the process ends)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            if not pending:
                return
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO conversations (id, turn, at) VALUES (?, ?, ?)",
                                 [(c, t[0], t[1]) for c, t in pending.items() if t is not None])
            self._db.executemany("DELETE FROM conversations WHERE id = ?", [(c,) for c, t in pending.items() if t is None])
            self._db.execute("COMMIT")

    def recent(self, since: float, limit: int) -> list[tuple[str, str, float]]:
        """(conversation, turn, at) of the turns since `since`, oldest first, at most `limit`; older
        ones are deleted, so the table stays as small as the memory it restores."""
        self.flush()
        with self._lock:
            self._db.execute("DELETE FROM conversations WHERE at < ?", (since,))
            rows = self._db.execute("SELECT id, turn, at FROM conversations ORDER BY at DESC LIMIT ?",
                                    (limit,)).fetchall()
        return rows[::-1]

    def _write_behind(self) -> None:
        while True:
            self._wake.wait(self.FLUSH_EVERY)
            try:
                self.flush()
            except sqlite3.Error as exc:   # a full disk: the context is a convenience, answers go on
                log.warning("Could not keep conversation context: %s", exc)
