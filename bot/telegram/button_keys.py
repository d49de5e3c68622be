"""What a button's callback_data holds, and how a press is read back.

A button about an article carries a key of that article's version (its id and text, hashed) and
numbers within it — a section, a sentence, an example question — never numbers of the whole index
or a key into memory. So it keeps working after a restart and after other articles are added or
removed (a newsroom adds reports daily), and says "请重新提问" only when its own article was
replaced or removed. A button about the index as a whole (a page of /articles, "换一篇") carries
no key; one whose sentences come from several articles carries the index's fingerprint.

    "ctx:3fa9c1:12"      the 12th sentence of article 3fa9c1 (and, after it, a page number)
    "sec:3fa9c1:2"       its third section
    "ex:3fa9c1:0"        its first example question; "art:3fa9c1" the article itself
    "more:9b2e:40:7:88"  sentences of several articles, by their numbers in index 9b2e
    "arts:-:2"           the third page of /articles
"""
from __future__ import annotations

import hashlib
import re

NO_KEY = "-"
_KEY = re.compile(r"-|[0-9a-f]{4}|[0-9a-f]{6}")   # none, an index's fingerprint, an article's key
_BY_ARTICLE = ("ex", "art", "sec")     # their first number is the article's
_BY_PASSAGE = {"ctx": 1, "more": 3}    # how many of their numbers are sentences (a page may follow)


def article_key(entry) -> str:
    """Six hex digits naming one version of an article: its id and its text."""
    return hashlib.sha256(f"{entry.id}\n{entry.sha256}".encode()).hexdigest()[:6]


def button_data(context, kind: str, *numbers: int) -> str:
    """callback_data for a button whose numbers are the index's (article, section, passage…)."""
    catalogue = context.bot_data["answerer"].searcher.index.catalogue
    key, numbers = context.bot_data["fingerprint"], list(numbers)
    if kind in _BY_ARTICLE and numbers:
        key, numbers = article_key(catalogue.entries[numbers[0]]), numbers[1:]
    elif kind in _BY_PASSAGE and numbers:
        sentences = numbers[:_BY_PASSAGE[kind]]
        articles = {catalogue.article_of_passage(n) for n in sentences}
        if len(articles) == 1:
            article = articles.pop()
            start = int(catalogue.passage_starts[article])
            key, numbers = article_key(catalogue.entries[article]), [n - start for n in sentences] + numbers[len(sentences):]
    elif kind not in _BY_PASSAGE:
        key = NO_KEY
    data = ":".join([kind, key, *map(str, numbers)])
    assert len(data.encode()) <= 64, data
    return data


def is_key(part: str) -> bool:
    return bool(_KEY.fullmatch(part))


def read_press(context, kind: str, key: str, numbers: list[int]) -> list[int]:
    """A press's numbers as the index numbers them now. Raises LookupError when the article or
    index it was made for is no longer the one answered from."""
    if key == NO_KEY or key == context.bot_data["fingerprint"]:
        return numbers
    if len(key) != 6:
        raise LookupError(key)   # another index's numbers
    catalogue = context.bot_data["answerer"].searcher.index.catalogue
    article = _articles_by_key(context).get(key)
    if article is None:
        raise LookupError(key)
    if kind in _BY_ARTICLE:
        return [article, *numbers]
    start, count = int(catalogue.passage_starts[article]), catalogue.entries[article].passages
    sentences = numbers[:_BY_PASSAGE.get(kind, 0)]
    if any(not 0 <= n < count for n in sentences):
        raise LookupError(key)
    return [start + n for n in sentences] + numbers[len(sentences):]


def _articles_by_key(context) -> dict[str, int]:
    """Article number by key, made once per index the bot answers from."""
    fingerprint = context.bot_data["fingerprint"]
    made = context.bot_data.get("articles_by_key")
    if made is None or made[0] != fingerprint:
        entries = context.bot_data["answerer"].searcher.index.catalogue.entries
        made = (fingerprint, {article_key(entry): n for n, entry in enumerate(entries)})
        context.bot_data["articles_by_key"] = made
    return made[1]
