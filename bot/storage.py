"""Owner-only SQLite files: the update journal, the conversation store and the insights database
hold what readers wrote, so no other account on the machine may read them, and what is deleted
from them is overwritten, not left in free pages."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def private_database(path: Path, **options) -> sqlite3.Connection:
    """Open an SQLite database readable by its owner only (the file and, as SQLite gives them the
    database's mode, its -wal and -shm files), with deleted content overwritten (secure_delete).
    Autocommit; callers make their own transactions."""
    path = Path(path)
    _create_private(path)
    os.chmod(path, 0o600)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            os.chmod(companion, 0o600)
    db = sqlite3.connect(path, isolation_level=None, **options)
    db.execute("PRAGMA secure_delete=ON")
    return db


def _create_private(path: Path) -> None:
    """Make the file owner-only before SQLite first writes it. Only a file that does not exist yet
    is opened here: closing a descriptor of a database file drops every POSIX lock this process
    holds on it, and another process (`article-qa report` beside the bot) would then take itself
    for the last connection and delete the write-ahead log under the bot's feet."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    except FileExistsError:
        pass


def read_only_database(path: Path) -> sqlite3.Connection:
    """Open an SQLite database to read only (the editor's report): such a connection never
    checkpoints or deletes the write-ahead log a writer in another process is using."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)


def forget_in_files(db: sqlite3.Connection) -> None:
    """After a deletion that must leave no trace: the write-ahead log, which still holds the pages
    as they were, is written back and emptied."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
