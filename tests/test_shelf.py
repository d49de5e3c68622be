"""Texts by key (index/archive/shelf.py): a process that does not load the archive whole reads an
article when it needs it, keeps a bounded number, and searches exactly as if it held them all."""
import dataclasses
import sys

import numpy as np
import pytest

from conftest import LANSHAN, QINGSHUI
from index.archive.base import ArchiveUnavailable
from index.archive.shelf import ArticleShelf, ArticleTexts, Catalogue, PassageShelf
from index.archive.store import Index, _flatten
from index.search.retrieve import Searcher, _HeldTexts, _KeyedTexts
from index.sources.article import parse_article
from index.sources.load import load_source

REPORTS = ["第一篇报道\n\n张三是清水镇的镇长。他说：“今年修了三条路。”\n\n路一共花了两百万元。",
           "第二篇报道\n\n东区\n\n李四在东区开了一家书店。书店有三千本书。\n\n西区\n\n西区没有书店。",
           "第三篇\n\n王五种了一百亩稻子，今年收成很好。"]


def articles():
    return [parse_article(text, article_id=f"r{n}") for n, text in enumerate(REPORTS)]


class Archive:
    """Articles by id, counting how many each read asked for."""

    def __init__(self, articles):
        self.by_id, self.asked = {a.id: a for a in articles}, []

    def fetch(self, ids):
        self.asked.append(list(ids))
        return [self.by_id[i] for i in ids if i in self.by_id]


def shelved(held: Index, archive: Archive, kept: int = 512) -> Index:
    """The same index as a process that reads its articles by key sees it."""
    catalogue = Catalogue([*held.catalogue.entries], ArticleTexts([held.catalogue.texts.text(n) for n in range(len(held.catalogue))]))
    shelf = ArticleShelf(catalogue, archive.fetch, kept)
    return dataclasses.replace(held, articles=shelf, passages=PassageShelf(shelf), catalogue=catalogue, view=held.view)


def held_index(items) -> Index:
    passages, passage_section, _ = _flatten(items)
    return Index(None, {}, items, passages, passage_section, None, None, None, None, None,
                 np.zeros(len(passages), np.uint16), view=object())


def test_a_shelf_reads_only_the_articles_asked_for_and_keeps_a_bounded_number():
    items = articles()
    held = held_index(items)
    archive = Archive(items)
    index = shelved(held, archive, kept=2)
    assert len(index.articles) == 3 and len(index.passages) == len(held.passages)
    assert archive.asked == []                      # loading read nothing
    assert index.passages[3] == held.passages[3] and index.passages[-1] == held.passages[-1]
    assert len(archive.asked) == 2                  # one read per article, not per passage
    index.passages[3]
    assert len(archive.asked) == 2                  # kept
    assert list(index.passages) == held.passages and index.articles[0:2] == items[0:2]
    assert len(index.articles._read) == 2           # no more than it may keep
    assert index.articles.get("r1") == items[1] and index.articles.get("nope") is None
    with pytest.raises(IndexError):
        index.passages[len(held.passages)]
    del archive.by_id["r2"]                         # removed from the archive since the catalogue was loaded
    index.articles._read.clear()
    with pytest.raises(ArchiveUnavailable, match="no longer in the archive"):
        index.articles[2]


def test_passages_and_sections_read_by_key_have_the_texts_held_ones_have():
    items = articles()
    held = held_index(items)
    keyed = _KeyedTexts(shelved(held, Archive(items)).articles)
    every = _HeldTexts(held)
    numbers = list(range(len(held.passages)))
    assert keyed.texts(numbers) == every.texts(numbers) and keyed.text(4) == every.text(4)
    sections = list(range(int(held.catalogue.section_starts[-1])))
    assert keyed.sections(sections) == every.sections(sections)
    runs = [range(1, 5), range(0, 2), range(len(numbers) - 1, len(numbers))]   # across articles, too
    assert keyed.runs(runs).string == every.runs(runs).string
    assert keyed.runs(runs).starts == every.runs(runs).starts


@pytest.mark.e2e
def test_a_searcher_reading_by_key_answers_exactly_as_one_holding_every_article(embedder, tmp_path):
    from index.archive.store import build_index
    items = [load_source(LANSHAN)[0], load_source(QINGSHUI)[0], *articles()]
    held = build_index(items, embedder, tmp_path / "index")
    archive = Archive(items)
    by_key = Searcher(shelved(held, archive, kept=2), embedder)
    every = Searcher(held, embedder)
    for question in ["岚山区委书记是谁？", "清水镇图书馆的馆长叫什么名字？", "书店有多少本书？", "张三说了什么？", "火星上有几颗卫星？"]:
        mine, theirs = by_key.search(question, k=5), every.search(question, k=5)
        assert [(h.number, h.passage) for h in mine.hits] == [(h.number, h.passage) for h in theirs.hits]
        assert [h.score for h in mine.hits] == pytest.approx([h.score for h in theirs.hits])
        assert mine.confidence == pytest.approx(theirs.confidence)
    assert by_key.articles_mentioning("张三") == every.articles_mentioning("张三") == ["r0"]
    assert by_key.passages_containing("书店", "r1") == every.passages_containing("书店", "r1") != []
    assert len(by_key.index.articles._read) <= 2


def test_article_texts_keep_a_wide_character_from_widening_every_other_article():
    texts = [f"第{n}篇讲稻子" if n % 300 else f"第{n}篇讲书店" for n in range(600)] + [""]
    texts[10] += "𠮷"   # beyond the Basic Multilingual Plane: four bytes a character in its string
    joined = ArticleTexts(texts)
    assert len(joined) == 601 and [joined.text(n) for n in range(601)] == texts
    assert joined.holding("书店") == [0, 300] and joined.holding("𠮷") == [10] and joined.holding("稻子书") == []
    assert "𠮷" in joined and "第599篇" in joined and "篇讲稻子第" not in joined   # never across two articles
    narrow, wide = joined._groups
    assert sys.getsizeof(narrow.string) / len(narrow.string) < 2.5 and wide.count == 1
