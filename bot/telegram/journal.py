"""The intake journal: every update the bot accepts is written here (SQLite, WAL) before Telegram is
told it was received, and marked done once its reply has been sent. A crash, SIGKILL or a second
SIGTERM then loses nothing: on start the bot answers what is still pending. Update ids make
redeliveries harmless: an id already journaled is never taken in twice.

Commits use synchronous=NORMAL: durable when the process dies, not necessarily when the machine
loses power (the last few commits may be lost then, and Telegram redelivers what was not
acknowledged).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from pathlib import Path

from bot.storage import forget_in_files, private_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    id INTEGER PRIMARY KEY,     -- Telegram's update_id
    body TEXT NOT NULL,         -- the update as Telegram sent it (JSON)
    received REAL NOT NULL,     -- unix time it was journaled
    done REAL                   -- unix time its handling finished; NULL while pending
);
CREATE INDEX IF NOT EXISTS pending ON updates (id) WHERE done IS NULL;
"""
# Added later: a journal from an older version gains the columns on open.
_COLUMNS = {"attempts": "INTEGER NOT NULL DEFAULT 0",   # handlings started; a crash mid-way leaves it counted
            "failed": "INTEGER NOT NULL DEFAULT 0",     # set aside: its handling was cut short twice
            "sender": "INTEGER"}                        # who sent it, for /forget
# Telegram keeps an unacknowledged update for 24 hours; a done update is kept a little longer by
# default (telegram.journal_keep_hours) so that a late redelivery of it is still recognised.
KEEP_DONE_SECONDS = 48 * 3600
EMPTY = "{}"   # the body of an update whose content was forgotten


class JournalError(Exception):
    """The journal file cannot be opened or is not a journal."""


class Journal:
    def __init__(self, path: Path, keep_seconds: float = KEEP_DONE_SECONDS):
        path = Path(path)
        self.keep_seconds = keep_seconds
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _hold_lock(path.with_name(path.name + ".lock"))
            self._db = private_database(path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            present = {row[1] for row in self._db.execute("PRAGMA table_info(updates)")}
            for name, kind in _COLUMNS.items():
                if name not in present:
                    self._db.execute(f"ALTER TABLE updates ADD COLUMN {name} {kind}")
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the update journal {path}: {exc}") from None

    def add(self, updates: list[tuple]) -> list[int]:
        """Journal (update_id, JSON[, sender id]) in one transaction; return the ids not seen before."""
        now, new = time.time(), []
        with self._transaction():
            for update_id, body, *sender in updates:
                cursor = self._db.execute("INSERT OR IGNORE INTO updates (id, body, received, sender) "
                                          "VALUES (?, ?, ?, ?)", (update_id, body, now, sender[0] if sender else None))
                if cursor.rowcount:
                    new.append(update_id)
        return new

    def done(self, *update_ids: int) -> None:
        with self._transaction():
            self._db.executemany("UPDATE updates SET done = ? WHERE id = ?", [(time.time(), i) for i in update_ids])

    def started(self, update_id: int) -> None:
        """Count a handling of the update as begun (see set_aside_interrupted)."""
        self._db.execute("UPDATE updates SET attempts = attempts + 1 WHERE id = ?", (update_id,))

    def finished_undone(self, update_id: int) -> None:
        """A handling that ended without being cut short but left the update pending (its reply
        could not be sent): it does not count towards setting the update aside."""
        self._db.execute("UPDATE updates SET attempts = MAX(attempts - 1, 0) WHERE id = ?", (update_id,))

    def set_aside_interrupted(self, times: int = 2) -> list[tuple[int, str]]:
        """Mark failed (and done) the pending updates whose handling was begun `times` times and
        never finished — an upload that kills the process, say — so that they never again block a
        start. Returns them, (id, JSON), for the log and the admins."""
        with self._transaction():
            poison = self._db.execute("SELECT id, body FROM updates WHERE done IS NULL AND attempts >= ?",
                                      (times,)).fetchall()
            self._db.executemany("UPDATE updates SET done = ?, failed = 1 WHERE id = ?",
                                 [(time.time(), i) for i, _ in poison])
        return poison

    def pending(self) -> list[tuple[int, str]]:
        """Updates journaled but not done, oldest first."""
        return self._db.execute("SELECT id, body FROM updates WHERE done IS NULL ORDER BY id").fetchall()

    def last_id(self) -> int | None:
        """The highest update id ever journaled: polling resumes after it."""
        return self._db.execute("SELECT MAX(id) FROM updates").fetchone()[0]

    def prune(self, now: float | None = None) -> int:
        """Forget done updates older than the journal keeps them. The latest one stays, as it holds
        the polling offset, but its content goes. Returns how many were removed."""
        cutoff = (time.time() if now is None else now) - self.keep_seconds
        with self._transaction():
            cursor = self._db.execute("DELETE FROM updates WHERE done IS NOT NULL AND done < ? "
                                      "AND id < (SELECT MAX(id) FROM updates)", (cutoff,))
            self._db.execute("UPDATE updates SET body = ?, sender = NULL WHERE done IS NOT NULL AND done < ?",
                             (EMPTY, cutoff))
        return cursor.rowcount

    def forget(self, sender: int, up_to: int) -> int:
        """/forget: delete what the journal holds of a sender's updates up to `up_to` (later ones,
        still waiting to be answered, keep theirs). Returns how many updates lost their content."""
        with self._transaction():
            cursor = self._db.execute("UPDATE updates SET body = ?, sender = NULL WHERE sender = ? AND id <= ?",
                                      (EMPTY, sender, up_to))
        forget_in_files(self._db)
        return cursor.rowcount

    def close(self) -> None:
        self._db.close()
        self._lock.close()

    @contextlib.contextmanager
    def _transaction(self):
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _hold_lock(path: Path):
    """Hold an exclusive lock on `path` for as long as the returned file is open: one bot process
    per journal, since two would answer the same backlog twice. The kernel lets go of it when the
    process dies, however it dies."""
    lock = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = _lock_holder(path) or lock.read().strip() or "?"
        lock.close()
        raise JournalError(f"another article-qa serve (pid {holder}) is using the journal {path.with_suffix('')}: "
                           f"stop it first, or give this one its own telegram.journal") from None
    lock.truncate(0)
    lock.write(str(os.getpid()))
    lock.flush()
    return lock


def _lock_holder(path: Path) -> str:
    """The pid holding the lock, as the kernel knows it (Linux: /proc/locks). The pid written in
    the file is the process that took the lock, which may be gone while a child of it that
    inherited the descriptor still holds it."""
    try:
        inode = os.stat(path).st_ino
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
                return fields[4]
    except (OSError, ValueError):
        pass
    return ""
