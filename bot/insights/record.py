"""Recording each question the bot handles, for the editor's report (bot/insights/report.py).

A row per message: when, which article, the question as understood (a follow-up as rewritten),
the kind of reply, answered or refused, the passages quoted, how long it took. The reader is kept
only as a keyed hash (HMAC-SHA256 with a secret made at the first start and kept beside the
database, readable by its owner only): rows of one reader can be counted and deleted (/forget),
never traced back to an id without the secret. Refused questions also keep their vector
(float16), so that the report can group them by meaning without embedding them again.

Writing is behind the answers: record() only queues the row (microseconds); a thread writes the
queue in batches, embeds the refused questions and deletes rows older than `keep_days` once a day.
A killed process loses at most the last half second of rows.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
import os
import queue
import re
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from bot.chat.answer import Answer
from bot.storage import forget_in_files, private_database
from index.language import text
from index.language.files import NotRegularFile, read_regular_file

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.5
PRUNE_EVERY = 24 * 3600
QUESTION_KINDS = ("quote", "refusal", "overview", "sections", "metadata")   # not greetings, not invalid input

SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,            -- unix time
    reader TEXT NOT NULL,        -- keyed hash of who asked (never the id itself)
    article TEXT NOT NULL,       -- the article answered from ("" when none)
    question TEXT NOT NULL,      -- as understood: a follow-up as rewritten
    kind TEXT NOT NULL,          -- quote, refusal, overview, sections, metadata, smalltalk, invalid
    answered INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    vector BLOB,                 -- float16 question vector, for refused questions only
    feedback INTEGER,            -- the key of its 👍/👎 buttons (random, not the reader)
    verdict INTEGER,             -- 1 👍, 0 👎 (没答对), NULL when the reader said nothing
    typed TEXT,                  -- the question in the reader's own words
    sure INTEGER                 -- 0: answered by the closest sentence, said to be only that
);
CREATE INDEX IF NOT EXISTS questions_at ON questions (at);
CREATE INDEX IF NOT EXISTS questions_reader ON questions (reader);
CREATE TABLE IF NOT EXISTS quoted (
    question INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    article TEXT NOT NULL,       -- its title, as the report shows it
    section TEXT NOT NULL,
    passage TEXT NOT NULL        -- the quoted sentence (numbers change when the index is rebuilt)
);
CREATE INDEX IF NOT EXISTS quoted_question ON quoted (question);
"""


class InsightsError(Exception):
    """The insights database or its secret cannot be opened."""


def connect(path: Path) -> sqlite3.Connection:
    db = private_database(Path(path), check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(questions)")}
    for column, kind in (("feedback", "INTEGER"), ("verdict", "INTEGER"), ("typed", "TEXT"), ("sure", "INTEGER")):
        if column not in columns:   # a database from before the readers' verdict, or their own words
            db.execute(f"ALTER TABLE questions ADD COLUMN {column} {kind}")
    db.execute("CREATE INDEX IF NOT EXISTS questions_feedback ON questions (feedback)")
    return db


MAX_RETRY_ROWS = 10_000   # rows kept for another try while the database cannot be written
MAX_RETRY_SECONDS = 30    # the longest wait between two tries while it cannot


class Insights:
    def __init__(self, path: Path, keep_days: float = 90, embed: Callable[[str], np.ndarray] | None = None,
                 key_path: Path | None = None):
        """`key_path`: the secret key of the readers' hashes, kept away from the database it protects
        (a copy of the data folder alone cannot tell who asked); default beside it, for tests."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._key, key_is_new = _secret(Path(key_path) if key_path else path.with_name(path.name + ".key"),
                                            path.with_name(path.name + ".key"))
            self._db = connect(path)
            # Rows hashed with a lost key can no longer be found by their reader: /forget says so.
            self.older_rows_unmatched = key_is_new and bool(self._db.execute("SELECT 1 FROM questions LIMIT 1").fetchone())
            if self.older_rows_unmatched:
                log.warning("A new readers' key was made beside %s, which already holds questions: /forget "
                            "cannot find a reader's earlier rows (they expire after %s days)", path, keep_days)
        except (OSError, sqlite3.Error) as exc:
            raise InsightsError(f"cannot open the insights database {path}: {exc}") from None
        self._retry: list = []   # rows whose write failed, written first at the next try
        self._late_verdicts: list = []   # (reader, feedback, good) that found the database busy
        self.path, self.keep_days, self._embed = path, keep_days, embed
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._db_lock = threading.Lock()   # the writer thread and forget()/prune() from others
        self._flush_lock = threading.RLock()   # one flush at a time: it owns the rows kept for retry
        self._closed = threading.Event()
        self._writer = threading.Thread(target=self._write_behind, name="insights", daemon=True)
        self._writer.start()

    def reader(self, who: str) -> str:
        """The stored form of a reader: a keyed hash, the same for the same reader on this install."""
        return hmac.new(self._key, who.encode(), hashlib.sha256).hexdigest()[:32]

    def record(self, who: str, answer: Answer, seconds: float, feedback: int | None = None) -> None:
        """Queue one handled message (returns at once; written within half a second). `feedback`:
        the key its 👍/👎 buttons carry (verdict())."""
        self._queue.put((time.time(), self.reader(who), answer, seconds, feedback))

    def verdict(self, who: str, feedback: int, good: bool) -> bool:
        """A reader's 👍 (good) or 👎 on an answer they were given, found by its buttons' key; the
        last press counts. False when there is no such answer of theirs (expired, or another
        reader's in a group). While the database cannot be written the press is kept and written
        by the writer thread later (True: it will count if the answer is theirs). Blocks up to
        SQLite's busy timeout: call it off the event loop."""
        reader = self.reader(who)
        try:
            self.flush()   # the answer may have been recorded a moment ago
            return self._apply_verdict(reader, feedback, good)
        except sqlite3.Error as exc:
            with self._flush_lock:
                self._late_verdicts = (self._late_verdicts + [(reader, feedback, good)])[-MAX_RETRY_ROWS:]
            log.warning("Could not write a verdict now (%s); kept for the next try", exc)
            return True

    def _apply_verdict(self, reader: str, feedback: int, good: bool) -> bool:
        with self._db_lock, _transaction(self._db):
            return bool(self._db.execute("UPDATE questions SET verdict = ? WHERE feedback = ? AND reader = ?",
                                         (int(good), feedback, reader)).rowcount)

    def _apply_late_verdicts(self) -> None:
        with self._flush_lock:
            while self._late_verdicts:
                self._apply_verdict(*self._late_verdicts[0])
                self._late_verdicts.pop(0)

    def forget(self, who: str) -> int:
        """Delete every row of a reader (Telegram's /forget), overwritten on disk. Returns how many
        questions; raises InsightsError when the database cannot be written now."""
        reader = self.reader(who)
        try:
            self.flush()
            with self._db_lock:
                deleted = self._db.execute("DELETE FROM questions WHERE reader = ?", (reader,)).rowcount
                forget_in_files(self._db)
        except sqlite3.Error as exc:
            raise InsightsError(f"cannot delete from {self.path} now: {exc}") from None
        return deleted

    def prune(self, now: float | None = None) -> int:
        """Delete rows older than keep_days. Returns how many."""
        cutoff = (time.time() if now is None else now) - self.keep_days * 86400
        with self._db_lock:
            return self._db.execute("DELETE FROM questions WHERE at < ?", (cutoff,)).rowcount

    def flush(self) -> None:
        """Write what is queued now (the report and /forget see every row recorded before).
        Raises sqlite3.Error when the database cannot be written; the rows are kept for the next
        try (up to MAX_RETRY_ROWS, the oldest dropped first)."""
        with self._flush_lock:
            rows, self._retry = self._retry + self._drain(), []
            try:
                self._write(rows)
            except sqlite3.Error:
                self._retry = rows[-MAX_RETRY_ROWS:]
                raise

    def close(self) -> None:
        self._closed.set()
        self._writer.join(5)
        try:
            self.flush()
            self._apply_late_verdicts()
        except sqlite3.Error as exc:
            log.warning("Could not write the last %d insight row(s) and %d verdict(s): %s",
                        len(self._retry), len(self._late_verdicts), exc)
        self._db.close()

    # ---- the writer thread ------------------------------------------------------------------------

    def _write_behind(self) -> None:
        pruned, wait = 0.0, FLUSH_SECONDS
        while not self._closed.wait(wait):
            try:
                self.flush()
                self._apply_late_verdicts()
                if time.time() - pruned > PRUNE_EVERY:
                    pruned = time.time()
                    self.prune()
                wait = FLUSH_SECONDS
            except sqlite3.Error as exc:   # busy or full: the rows wait for the next try, a little later each time
                wait = min(wait * 2, MAX_RETRY_SECONDS)
                log.warning("Could not write the insights (%s); %d row(s) and %d verdict(s) kept, next try in %.0f s",
                            exc, len(self._retry), len(self._late_verdicts), wait)
            except Exception:   # noqa: BLE001 — recording must never take the bot down
                log.exception("Could not write the insights")

    def _drain(self) -> list:
        rows = []
        with contextlib.suppress(queue.Empty):
            while True:
                rows.append(self._queue.get_nowait())
        return rows

    def _write(self, rows: list) -> None:
        if not rows:
            return
        prepared = [(at, reader, answer, seconds, feedback, self._vector(answer))
                    for at, reader, answer, seconds, feedback in rows]
        with self._db_lock, _transaction(self._db):
            for at, reader, answer, seconds, feedback, vector in prepared:
                cursor = self._db.execute(
                    "INSERT INTO questions (at, reader, article, question, kind, answered, latency_ms, vector, feedback, "
                    "typed, sure) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (at, reader, _article(answer), answer.understood_as or answer.question, answer.kind,
                     int(_answered(answer)), seconds * 1000, vector, feedback, answer.question, int(answer.sure)))
                self._db.executemany("INSERT INTO quoted (question, article, section, passage) VALUES (?, ?, ?, ?)",
                                     [(cursor.lastrowid, q.article, q.section, q.text) for q in answer.quotes
                                      if q.number >= 0])

    def _vector(self, answer: Answer) -> bytes | None:
        if _answered(answer) or self._embed is None or not _asks_something(answer.understood_as or answer.question):
            return None
        try:
            return np.asarray(self._embed(answer.understood_as or answer.question), dtype=np.float16).tobytes()
        except Exception:   # noqa: BLE001 — the row is kept; the report groups only rows with a vector
            log.warning("Could not embed a refused question for the report", exc_info=True)
            return None


def _article(answer: Answer) -> str:
    return answer.article_id or next((q.article_id for q in answer.quotes if q.article_id), "")


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection):
    """BEGIN … COMMIT, rolled back on any failure: a failed write never leaves the connection
    inside its transaction (every later write would fail with it)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


MIN_KEY_BYTES = 16


def _secret(path: Path, former: Path | None = None) -> tuple[bytes, bool]:
    """The install's secret key, made on first use, readable by its owner only, and whether it was
    made now. A key left at its `former` place (beside the database) is moved to `path`, so
    earlier rows stay forgettable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if former and former != path and former.is_file() and not path.exists():
        os.replace(former, path)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return _read_key(path), False
    key = secrets.token_bytes(32)
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(key.hex())
    return key, True


def _read_key(path: Path) -> bytes:
    """The key in `path`: a regular file only (a link's target is neither read nor chmod-ed, a
    FIFO does not hang the start)."""
    try:
        key = bytes.fromhex(read_regular_file(path).decode("ascii").strip())
    except NotRegularFile as exc:
        raise InsightsError(f"{exc}: the readers' key must be a plain file") from None
    except (ValueError, UnicodeDecodeError):
        key = b""
    if len(key) < MIN_KEY_BYTES:
        raise InsightsError(f"{path} is not a usable key (it must hold at least {MIN_KEY_BYTES} random bytes "
                            f"as hex): delete it and a new one is made (rows recorded before can then no "
                            f"longer be deleted by /forget)")
    os.chmod(path, 0o600)
    return key


def _answered(answer: Answer) -> bool:
    """Refusals and the closest sentence quoted without being sure are what readers did not find."""
    return answer.kind != "refusal" and answer.sure


def _asks_something(question: str) -> bool:
    """Whether a refused message can tell the editor what readers wanted: not a link, not
    laughter or a few characters ("哈哈", "？"); only those are grouped in the report."""
    han = re.findall(r"[\u4e00-\u9fff]", question)
    return "://" not in question and len(han) >= 4 and len(set(han)) >= 3


# Where a name stands before one of these in the articles, it names a place ("日照市委" → 日照).
_PLACE_SUFFIX = re.compile(r"([\u4e00-\u9fff]{2,4}?)(?=省|市|区|县|镇|乡|村|街道|自治州)")
MAX_PLACE_TEXT = 5 * 2**20   # characters of the articles read for place names (the start of each)


def without_places(texts: Callable[[], list[str]]) -> Callable[[str], str]:
    """A function that drops the places a question names, as the articles name them (a name
    before 市/区/县/镇… in `texts()`, their titles and texts) or as jieba tags them: "岚山明天会下雨吗"
    and "日照明天会下雨吗" then read alike, and the report groups refused questions by what was
    asked, not by the place it was asked about. The articles are read for places at the first
    question embedded (in the writer thread), not at start-up."""
    @functools.cache
    def places() -> frozenset[str]:
        read = texts()
        budget = max(MAX_PLACE_TEXT // max(len(read), 1), 200)
        # The name is the end of what comes before the suffix ("…要求日照" before 市): every tail of two or more.
        found = (m.group(1) for t in read for m in _PLACE_SUFFIX.finditer(t[:budget]))
        return frozenset(name[i:] for name in found for i in range(len(name) - 1))

    def drop(question: str) -> str:
        kept = [w.word for w in text.tagged(question)
                if not (len(w.word) >= 2 and (w.flag == "ns" or w.word in places()))]
        return "".join(kept) or question
    return drop
