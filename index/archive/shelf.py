"""What a process holds of the archive's articles, and how it reads the rest by key.

An index folder loads every article: Index.articles is a list. An archive in Milvus is meant to
grow beyond what every bot process should hold, so a process loads its Catalogue — each article's
id, title, section headings and number of passages, and its text in the normal form that
"does this word occur anywhere" searches — and reads an article's sentences from the archive when
a question or a reply needs them, keeping the last ones read. ArticleShelf and PassageShelf look
like the lists they stand in for (len, [n], slices, iteration), so quoting and conversing do not
change; code that would read every article reads the catalogue instead.
"""
from __future__ import annotations

import bisect
import itertools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable

import numpy as np

from index.archive.base import ArchiveUnavailable
from index.language import text
from index.sources.article import Article, Passage

# Articles a shelf keeps after reading them: a question reads its candidates' articles (tens),
# a conversation returns to the same few.
KEPT_ARTICLES = 512
# Articles read in one call when a shelf is read from start to end.
PAGE = 200


class Recent:
    """A map that keeps the `size` entries used last, forgetting the oldest first. Safe to use
    from several threads."""

    def __init__(self, size: int = KEPT_ARTICLES):
        self._items: OrderedDict = OrderedDict()
        self._size, self._lock = size, threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def update(self, items: dict) -> None:
        with self._lock:
            self._items.update(items)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class Entry:
    """One article as the catalogue lists it."""
    id: str
    title: str
    path: str
    sha256: str
    headings: tuple[str, ...]       # one per section, "" for text before the first heading
    passages: int
    title_from_text: bool = False   # the title is the first sentence: it names no subject

    @classmethod
    def of(cls, article: Article, passages: int) -> "Entry":
        return cls(article.id, article.title, article.path, article.sha256, tuple(s.heading for s in article.sections),
                   passages, article.title_from_text)


def searchable_text(article: Article) -> str:
    """An article's title and body in normal form, one line (headings left out): what a question's
    words are looked for in when judging whether the article mentions them at all."""
    return text.normalise(" ".join([article.title, *[" ".join(s.paragraphs) for s in article.sections]]))


class JoinedTexts:
    """Texts joined into one string, with where each one starts; text(k) is the k-th again. The
    separator is a character the texts never hold (normalised texts hold no NUL; an article's
    searchable text no newline), so a match never spans two texts."""

    def __init__(self, texts: list[str], separator: str = "\x00"):
        self.string, self.count, self.separator = separator.join(texts), len(texts), separator
        self.starts = list(itertools.accumulate((len(t) + 1 for t in texts[:-1]), initial=0)) if texts else []

    def text(self, k: int) -> str:
        return self.string[self.starts[k]:self._end(k)]

    def holding(self, term: str) -> list[int]:
        """Numbers of the texts that contain the term, in order."""
        found, at = [], self.string.find(term)
        while at >= 0:   # one find per text that holds the term: after a hit, go on from the next text
            k = bisect.bisect_right(self.starts, at) - 1
            found.append(k)
            at = self.string.find(term, self.starts[k + 1]) if k + 1 < self.count else -1
        return found

    def _end(self, k: int) -> int:
        return self.starts[k + 1] - 1 if k + 1 < self.count else len(self.string)

    def runs(self, runs: list[range]) -> "JoinedTexts":
        """The texts of these runs of consecutive numbers, joined again: one slice a run."""
        return JoinedTexts.of_parts([(self, run) for run in runs], self.separator)

    @staticmethod
    def of_parts(parts: list[tuple["JoinedTexts", range]], separator: str = "\x00") -> "JoinedTexts":
        """The texts of runs of several JoinedTexts, one after another, as one."""
        joined = JoinedTexts([], separator)
        pieces, at = [], 0
        for source, run in parts:
            if not run:
                continue
            start, end = source.starts[run.start], source._end(run.stop - 1)
            pieces.append(source.string[start:end])
            joined.starts += [at + s - start for s in source.starts[run.start:run.stop]]
            at += end - start + 1
        joined.string, joined.count = separator.join(pieces), len(joined.starts)
        return joined


class ArticleTexts:
    """Every article's searchable text, joined. Python stores a string at the width of its widest
    character, so one character beyond the Basic Multilingual Plane (a rare ideograph of
    Traditional text, an emoji) would make the whole joined string four bytes a character instead
    of two: the articles that have one are joined apart from the others."""

    def __init__(self, texts: list[str]):
        self.count = len(texts)
        wide = np.array([bool(t) and max(t) > "\uffff" for t in texts], dtype=bool)
        self._numbers = [np.flatnonzero(~wide), np.flatnonzero(wide)]   # the article of each text of a group
        self._groups = [JoinedTexts([texts[n] for n in numbers], "\n") for numbers in self._numbers]
        self._group = wide.astype(np.int8)
        self._within = np.empty(len(texts), dtype=np.int64)
        for numbers in self._numbers:
            self._within[numbers] = np.arange(len(numbers))

    def __len__(self) -> int:
        return self.count

    def text(self, k: int) -> str:
        return self._groups[self._group[k]].text(int(self._within[k]))

    def __contains__(self, phrase: str) -> bool:
        """Whether any article's text holds the phrase (what jieba's cuts are checked against)."""
        return any(phrase in group.string for group in self._groups)

    def holding(self, phrase: str) -> list[int]:
        """Numbers of the articles whose text holds the phrase, in order."""
        return sorted(int(numbers[k]) for numbers, group in zip(self._numbers, self._groups) for k in group.holding(phrase))


class Catalogue:
    """Every article of a loaded archive, in order, and its searchable text; passages and sections
    are numbered article after article."""

    def __init__(self, entries: list[Entry], texts: ArticleTexts | Callable[[], ArticleTexts]):
        """`texts`: the articles' searchable texts, or what makes them when first needed (a build
        or a change never needs them, and normalising every article takes seconds at 100,000
        passages)."""
        self.entries, self._texts = entries, texts
        self.number = {e.id: n for n, e in enumerate(entries)}
        self.passage_starts = np.cumsum([0] + [e.passages for e in entries], dtype=np.int64)
        self.section_starts = np.cumsum([0] + [len(e.headings) for e in entries], dtype=np.int64)

    @classmethod
    def of(cls, articles: list[Article], passages: list[Passage], texts=None) -> "Catalogue":
        """`texts`: how to get the articles' ArticleTexts when first needed (an index stores them),
        else they are made from the articles."""
        counts = dict.fromkeys((a.id for a in articles), 0)
        for p in passages:
            counts[p.article] += 1
        return cls([Entry.of(a, counts[a.id]) for a in articles],
                   texts or (lambda: ArticleTexts([searchable_text(a) for a in articles])))

    @property
    def texts(self) -> ArticleTexts:
        if callable(self._texts):
            self._texts = self._texts()
        return self._texts

    def __len__(self) -> int:
        return len(self.entries)

    def titles(self) -> list[str]:
        return [e.title for e in self.entries]

    def get(self, article_id: str) -> Entry | None:
        number = self.number.get(article_id)
        return None if number is None else self.entries[number]

    def passages_of(self, article_id: str) -> range:
        number = self.number.get(article_id)
        return range(0) if number is None else range(int(self.passage_starts[number]), int(self.passage_starts[number + 1]))

    def article_of_passage(self, number: int) -> int:
        return int(np.searchsorted(self.passage_starts, number, side="right")) - 1

    def article_ids_of(self, passages) -> list[str]:
        numbers = np.searchsorted(self.passage_starts, np.asarray(passages, dtype=np.int64), side="right") - 1
        return [self.entries[n].id for n in numbers.tolist()]

    def article_of_section(self, number: int) -> int:
        return int(np.searchsorted(self.section_starts, number, side="right")) - 1

    def searchable_text(self, article_id: str) -> str:
        number = self.number.get(article_id)
        return "" if number is None else self.texts.text(number)


class ArticleShelf(Sequence):
    """The archive's articles in catalogue order, read by key when asked for and the last
    KEPT_ARTICLES kept. `fetch` reads articles by id (in any order; those no longer there left out).
    Safe to use from several threads."""

    def __init__(self, catalogue: Catalogue, fetch: Callable[[list[str]], list[Article]], kept: int = KEPT_ARTICLES):
        self.catalogue, self._fetch = catalogue, fetch
        self._read = Recent(kept)   # article number → (article, passages)

    def __len__(self) -> int:
        return len(self.catalogue)

    def __getitem__(self, number):
        if isinstance(number, slice):
            return [article for article, _ in self.read(range(len(self))[number])]
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError("article number out of range")
        return self.read([number])[0][0]

    def __iter__(self):
        for start in range(0, len(self), PAGE):
            yield from self[start:start + PAGE]

    def get(self, article_id: str) -> Article | None:
        number = self.catalogue.number.get(article_id)
        return None if number is None else self[number]

    def passages(self, number: int) -> list[Passage]:
        """The passages of the article with this number."""
        return self.read([number])[0][1]

    def read(self, numbers) -> list[tuple[Article, list[Passage]]]:
        """These articles with their passages: those not kept read in one call."""
        numbers = list(numbers)
        found = {n: read for n in numbers if (read := self._read.get(n)) is not None}
        missing = [n for n in dict.fromkeys(numbers) if n not in found]
        if missing:
            fetched = {a.id: a for a in self._fetch([self.catalogue.entries[n].id for n in missing])}
            for n in missing:
                article = fetched.get(self.catalogue.entries[n].id)
                if article is None:   # removed by another process: the catalogue is reloaded soon
                    raise ArchiveUnavailable(f"the article {self.catalogue.entries[n].id} is no longer in the archive "
                                             f"(it changed since it was loaded)")
                found[n] = (article, article.passages())
            self._read.update({n: found[n] for n in missing})
        return [found[n] for n in numbers]


class PassageShelf(Sequence):
    """Every passage of the archive, numbered as in the index, read with its article."""

    def __init__(self, articles: ArticleShelf):
        self.articles, self.catalogue = articles, articles.catalogue

    def __len__(self) -> int:
        return int(self.catalogue.passage_starts[-1])

    def __getitem__(self, number):
        if isinstance(number, slice):
            return [self[n] for n in range(len(self))[number]]
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError("passage number out of range")
        article = self.catalogue.article_of_passage(number)
        return self.articles.passages(article)[number - int(self.catalogue.passage_starts[article])]

    def __iter__(self):
        for start in range(0, len(self.catalogue), PAGE):
            for _, passages in self.articles.read(range(start, min(start + PAGE, len(self.catalogue)))):
                yield from passages
