"""Fast tier: a button names its article's version and numbers within it, so it survives other
articles being added or removed, and only its own article's change makes it stale."""
from types import SimpleNamespace

import pytest

from bot.telegram.button_keys import button_data, is_key, read_press
from index.archive.shelf import Catalogue, Entry


def _context(entries, fingerprint):
    catalogue = Catalogue(entries, texts=lambda: None)
    index = SimpleNamespace(catalogue=catalogue)
    return SimpleNamespace(bot_data={"fingerprint": fingerprint, "answerer": SimpleNamespace(searcher=SimpleNamespace(index=index))})


def _entry(article_id, sha, passages=5, sections=2):
    return Entry(article_id, article_id, "", sha, ("",) * sections, passages)


A, B, C = _entry("a", "1"), _entry("b", "2"), _entry("c", "3")


def _pressed(context, data):
    kind, key, *numbers = data.split(":")
    assert is_key(key)
    return read_press(context, kind, key, [int(n) for n in numbers])


def test_a_button_survives_articles_added_before_and_after_it_and_removed_beside_it():
    before = _context([A, B], "aaaa")
    context_of_b, section_of_b, example_of_b = (button_data(before, "ctx", 7, 0), button_data(before, "sec", 1, 1),
                                                 button_data(before, "ex", 1, 2))   # b's 3rd sentence (7 = 5 + 2)
    after = _context([B, C], "bbbb")   # a removed, c added: b's sentences are numbered 0–4 now
    assert _pressed(after, context_of_b) == [2, 0] and _pressed(after, section_of_b) == [0, 1]
    assert _pressed(after, example_of_b) == [0, 2]


def test_a_button_of_a_replaced_or_removed_article_is_stale_and_so_is_one_across_articles():
    before = _context([A, B], "aaaa")
    of_b, across = button_data(before, "ctx", 7), button_data(before, "more", 1, 7)
    assert across.split(":")[1] == "aaaa"   # sentences of two articles: by the index's numbers
    assert _pressed(before, across) == [1, 7]
    for later in (_context([A, _entry("b", "2-edited")], "cccc"), _context([A], "dddd")):
        with pytest.raises(LookupError):
            _pressed(later, of_b)
        with pytest.raises(LookupError):
            _pressed(later, across)


def test_a_number_past_its_article_or_a_forged_key_is_refused():
    context = _context([A, B], "aaaa")
    key = button_data(context, "ctx", 7).split(":")[1]
    with pytest.raises(LookupError):
        read_press(context, "ctx", key, [5])   # b has five sentences: 0–4
    assert not is_key("ABCDEF") and not is_key("1234567") and is_key("-")
    assert button_data(context, "arts", 2) == "arts:-:2" and button_data(context, "fb", 0, 99) == "fb:-:0:99"
