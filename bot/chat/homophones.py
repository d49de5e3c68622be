"""Names typed by pinyin with the wrong character: "王建果" for 王建国, "张维明" for 张伟明, "黄导" for 黄岛.

A reader types a name they heard, and the input method offers characters that sound the same. In a
conversation about one report, a run of two or three characters of the question that the report
never writes, that starts with a common surname and is no common word, is read as the report's own name that sounds the same
(tones aside) and starts with the same character, when the report has exactly one such name. The
conversation then says how it read the question ("（按“王建国…”理解）"), so a wrong guess is seen.
"""
from __future__ import annotations

import functools
import re

import jieba

from index.language.answer_types import SURNAMES

# A run of the question this common in jieba's dictionary is a word of its own ("时候"), not a name.
COMMON_WORD_FREQ = 50
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
MAX_CORRECTIONS = 3


def corrected(question: str, article: str) -> str:
    """The question (normal form) with each name the article (normal form) does not write replaced
    by the one it writes that sounds the same; the question itself when there is none."""
    for _ in range(MAX_CORRECTIONS):
        found = _first_correction(question, article)
        if found is None:
            return question
        typed, written = found
        question = question.replace(typed, written)
    return question


def _first_correction(question: str, article: str) -> tuple[str, str] | None:
    for run in _HAN_RUN.findall(question):
        for length in (3, 2):
            for start in range(len(run) - length + 1):
                typed = run[start:start + length]
                if typed[0] not in SURNAMES or typed in article or jieba.dt.FREQ.get(typed, 0) >= COMMON_WORD_FREQ:
                    continue
                sounds_alike = [w for w in _sounds(article).get(_sound(typed), ()) if w[0] == typed[0] and w != typed]
                if len(sounds_alike) == 1:
                    return typed, sounds_alike[0]
    return None


@functools.lru_cache(maxsize=8)
def _sounds(article: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Every run of two or three Han characters of the article, by how it sounds."""
    by_sound: dict[tuple[str, ...], set[str]] = {}
    for run in _HAN_RUN.findall(article):
        readings = [_reading(c) for c in run]
        for length in (2, 3):
            for start in range(len(run) - length + 1):
                by_sound.setdefault(tuple(readings[start:start + length]), set()).add(run[start:start + length])
    return {sound: tuple(sorted(words)) for sound, words in by_sound.items()}


def _sound(word: str) -> tuple[str, ...]:
    return tuple(_reading(c) for c in word)


def warm_up() -> None:
    """Load the pinyin tables now (a bot, a chat) rather than on the first misspelt name."""
    _reading("王")


@functools.lru_cache(maxsize=20_000)
def _reading(character: str) -> str:
    """A character's most common reading, without its tone (input methods take no tones)."""
    from pypinyin import Style, lazy_pinyin   # imported when a question first needs it (0.2 s)
    return lazy_pinyin(character, style=Style.NORMAL)[0]
