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
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            os.chmod(companion, 0o600)
    db = sqlite3.connect(path, isolation_level=None, **options)
    db.execute("PRAGMA secure_delete=ON")
    return db


def forget_in_files(db: sqlite3.Connection) -> None:
    """After a deletion that must leave no trace: the write-ahead log, which still holds the pages
    as they were, is written back and emptied."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
