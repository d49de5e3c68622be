"""The editor's corrections: a sentence of an article pinned to a question readers asked (or the
question marked as one the article truly does not answer), so that later questions about that
article that mean the same get the pinned sentence first — still verbatim, still cited — or the
refusal. Made from the 👎 lines of /report (bot/telegram/editor_report.py), listed and undone
with /pins.

Kept in SQLite beside the index (not inside it: a rebuild swaps that folder), so they survive
rebuilds and restarts; a pin names its sentence by its text, not its number, and a pin whose
article was removed, or whose sentence the article no longer holds, is not applied.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.storage import private_database

# How alike (cosine of the question vectors, multilingual-e5-small) a question must be to a
# corrected one: the lowest value at which at most 2% of pairs of standalone questions about one
# article that expect different answers match (625 pairs of the shared evaluation sets;
# scripts/fit_pin_threshold.py). The public sets hold too few pairs that mean the same to measure
# how many rewordings it catches.
PIN_SIMILARITY = 0.91


@dataclass(frozen=True)
class Pin:
    id: int
    article: str
    question: str
    sentence: str | None    # None: the article truly does not answer it
    at: float


class Pins:
    def __init__(self, path: Path, similarity: float = PIN_SIMILARITY):
        self.path, self.similarity = Path(path), similarity
        self._lock = threading.Lock()
        self._db = private_database(Path(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS pins (id INTEGER PRIMARY KEY, article TEXT NOT NULL, "
                         "question TEXT NOT NULL, vector BLOB NOT NULL, sentence TEXT, at REAL NOT NULL)")
        self._load()

    def add(self, article: str, question: str, vector: np.ndarray, sentence: str | None) -> int:
        """Pin a sentence (None: "the article truly does not say") to a question; its id."""
        with self._lock:
            cursor = self._db.execute("INSERT INTO pins (article, question, vector, sentence, at) VALUES (?, ?, ?, ?, ?)",
                                      (article, question, _unit(vector).tobytes(), sentence, time.time()))
        self._load()
        return int(cursor.lastrowid)

    def remove(self, pin_id: int) -> bool:
        with self._lock:
            removed = self._db.execute("DELETE FROM pins WHERE id = ?", (pin_id,)).rowcount
        self._load()
        return bool(removed)

    def forget_article(self, article: str) -> None:
        """An article removed from the library takes its pins with it."""
        with self._lock:
            self._db.execute("DELETE FROM pins WHERE article = ?", (article,))
        self._load()

    def listed(self) -> list[Pin]:
        return [pin for pins in self._by_article.values() for pin, _ in pins]

    def holds(self, article: str) -> bool:
        """Whether any question about this article was corrected (cheap: checked before a vector is made)."""
        return article in self._by_article

    def match(self, article: str, vector: np.ndarray) -> Pin | None:
        """The pin of this article whose question is most like this one, if alike enough."""
        pins = self._by_article.get(article, [])
        if not pins:
            return None
        vector = _unit(vector)
        score, pin = max(((float(v @ vector), pin) for pin, v in pins), key=lambda scored: scored[0])
        return pin if score >= self.similarity else None

    def _load(self) -> None:
        with self._lock:
            rows = self._db.execute("SELECT id, article, question, sentence, at, vector FROM pins ORDER BY id").fetchall()
        by_article: dict[str, list] = {}
        for pin_id, article, question, sentence, at, vector in rows:
            by_article.setdefault(article, []).append((Pin(pin_id, article, question, sentence, at),
                                                       np.frombuffer(vector, dtype=np.float32)))
        self._by_article = by_article


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32).ravel()
    return vector / (np.linalg.norm(vector) or 1.0)
