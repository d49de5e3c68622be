"""Which report of a library a reader means, from the way readers name a story on a phone.

A reader of a newsroom's bot does not pick an article first: the first message names the story and
asks in one breath ("孙海宁那个画展，在哪儿办的", "关于台风的新闻，停课了吗", "那篇讲法院的，判了几年"),
the next ones lean on it, and "对了，春节消费那个…" moves to another. Here a message is split into the
reference and the question (split), and a reference is resolved to reports by the words it shares
with them (StoryFinder): a word held by few reports of the library says much more of which one is
meant than a word every report uses, and a run of a title's characters more still. Nothing reads
every article: the words are looked up in the catalogue's joined texts.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from index.language import text

# What opens a change of subject ("对了，…", "还有个事，…"): not part of the reference.
_OPENER = re.compile(r"^(?:对了|还有个事|还有|另外|再问一下|再问个事|顺便问一下|顺便问下|换个话题|话说|我想问问?|请问)"
                     r"[，,。！!、：:\s]*")
_KIND = r"(?:新闻|报道|消息|文章|稿子|事儿?|那篇|那条|那则|那个)"
# "X那个，Y" / "X的新闻，Y" / "关于X的报道，Y" / "X那个新闻里Y" / "那篇讲X的，Y" / "讲X的那篇，Y".
_SPLITS = (
    re.compile(r"^(?:那篇|那个|那条)(?:讲|说|写|报道)(?P<ref>.{2,40}?)的(?:新闻|报道|文章|那篇|那个)?"
               r"(?:[，,。：:？?！!\s]+|里|中)(?P<q>.*)$"),
    re.compile(r"^(?:讲|说|写)(?P<ref>.{2,40}?)的那(?:篇|个|条)(?:新闻|报道|文章)?[，,。：:？?！!\s]*(?P<q>.*)$"),
    re.compile(r"^(?:关于|有关)(?P<ref>.{2,40}?)的(?:新闻|报道|消息|文章)(?:里|中|上)?(?:说|讲|提到)?"
               r"[，,。：:？?！!\s]*(?P<q>.*)$"),
    re.compile(r"^(?P<ref>.{2,40}?)(?:的)?(?:那个|那篇|那条|那则)(?:新闻|报道|消息|文章|事儿?)?"
               r"(?:里|中|上)?(?:说|讲|提到)?[，,。：:？?！!\s]*(?P<q>.*)$"),
    re.compile(r"^(?P<ref>.{2,40}?)的(?:新闻|报道|消息|文章)(?:里|中|上)(?:说|讲|提到)?[，,。：:？?！!\s]*(?P<q>.*)$"),
    re.compile(r"^(?P<ref>.{2,40}?)的(?:新闻|报道|消息|文章)[，,。：:？?！!\s]+(?P<q>.+)$"),
)
# "有没有X的新闻，Y": the reference is X.
_ASKS_FOR_ONE = re.compile(r"^(?:有没有|有没|还有没有|有)?(?:关于|讲|说|聊聊|说说|讲讲|有关)?")
# A message that only asks to leave the report in discussion.
_ANOTHER = re.compile(r"^(?:换一篇|换篇|换个|换一个|说说别的|聊点别的|聊聊别的|看看别的|别的新闻|下一篇)(?:吧|呢|新闻|文章|报道)?[。！!？?]*$")
# Words of a reference that name no story: the kind of text, its being news.
_NOT_A_SUBJECT = frozenset("新闻 报道 消息 文章 稿子 事 事儿 那个 那篇 这个 这篇 一下 有关 关于 最近 今天 昨天 之前 那条".split())
# A report is chosen when the words it shares with the reference weigh this share of the words any
# report shares with it, and this much more than the next report's.
MIN_SHARE = 0.5
MIN_LEAD = 1.25
# A word held by more than this share of the reports tells nothing of which one is meant.
COMMON_SHARE = 0.2
# A message without a reference leaves the report in discussion for another only when its telling
# words weigh this much there (a word held by one report in a few hundred weighs about 6 a
# character, up to four characters: a name, or two rare words).
SWITCH_WEIGHT = 20.0
LISTED = 5   # reports listed for a question about the library


@dataclass(frozen=True)
class Split:
    reference: str   # how the message names its story ("" when it does not)
    question: str    # what it asks ("" when it only names the story)


def split(normal: str) -> Split:
    """The reference and the question of a message in normal form (index.language.text.normalise)."""
    message = _OPENER.sub("", normal).strip()
    for pattern in _SPLITS:
        found = pattern.match(message)
        if found and _names_something(found.group("ref")):
            reference = _ASKS_FOR_ONE.sub("", found.group("ref")).strip(" ，,、")
            return Split(reference, found.group("q").strip())
    return Split("", message)


def wants_another(normal: str) -> bool:
    """"换一篇", "说说别的": the reader leaves the report in discussion."""
    return bool(_ANOTHER.match(normal.strip()))


# "有没有关于台风的报道", "还有哪些讲法院的新闻", "最近有啥新闻": a question about the library itself.
_ABOUT_LIBRARY = re.compile(r"^(?:有没有|有没|还有没有|还有哪些|还有什么|有哪些|有什么|有啥|还有啥)(?:关于|讲|说|有关|写)?"
                            r"(?P<topic>.{0,20}?)的?(?:新闻|报道|文章|消息|稿子)[吗呢啊？?。]*$")
_RECENT = re.compile(r"^(?:最近|今天|这几天|近来)?(?:有|都有)?(?:啥|什么|哪些)(?:新|好)?(?:新闻|报道|文章|消息)[吗呢啊？?。]*$")


def library_topic(normal: str) -> str | None:
    """What a question about the library asks for: a topic ("台风"), "" for the latest reports, or
    None when the message is not about the library."""
    message = _OPENER.sub("", normal).strip()
    if _RECENT.match(message):
        return ""
    found = _ABOUT_LIBRARY.match(message)
    return found.group("topic").strip() if found else None


# "12岁的那个男孩叫啥", "第一个": a number describes someone in the story, it names no story.
_COUNTED = re.compile(r"第?[\d一二三四五六七八九十两百千几]+\s*[\u4e00-\u9fff]?的?$")


def _names_something(reference: str) -> bool:
    """A reference with a word of its own: not "那个" or "这篇" alone, not a question ("怎么回事")."""
    words = [w for w in text.content_words(reference) if w not in _NOT_A_SUBJECT and len(w) >= 2
             and not _COUNTED.fullmatch(w)]
    return bool(words) and not _COUNTED.match(reference) and not re.search(r"[吗么呢？?]$", reference)


@dataclass(frozen=True)
class Match:
    article: int       # the report's number in the catalogue
    score: float       # the weight of the reference's words it holds
    share: float       # that weight over the weight of the words any report holds


class StoryFinder:
    """Reports ranked by how well they match a reference, from the catalogue's texts and titles."""

    def __init__(self, catalogue, titles):
        """`titles`: what tells which articles a message names by their titles (a run of four
        characters at least: bot/chat/conversation.py's _Titles)."""
        self._catalogue, self._titles = catalogue, titles
        self._reports = len(catalogue.entries)

    def ranked(self, reference: str) -> list[Match]:
        """Reports holding the reference's telling words, best first."""
        weights: dict[int, float] = {}
        total = 0.0
        for word in self._telling_words(reference):
            holders = self._catalogue.texts.holding(word)
            if len(holders) > max(2, COMMON_SHARE * self._reports):
                continue
            # A word no report holds counts against every report: "杭州亚运会" is not a story
            # about 杭州 that the library happens to have.
            weight = math.log((self._reports + 1) / max(len(holders), 1)) * min(len(word), 4)
            total += weight
            for number in holders:
                weights[number] = weights.get(number, 0.0) + weight
        for number in self._titles.named(reference):   # a run of the title's own characters
            weights[number] = weights.get(number, 0.0) + total / 2
        total = total or 1.0
        ranked = sorted(weights.items(), key=lambda item: -item[1])
        return [Match(number, score, min(score / total, 1.0)) for number, score in ranked]

    def chosen(self, reference: str) -> tuple[Match | None, Match | None]:
        """The report the reference means, and the runner-up (choose())."""
        return choose(self.ranked(reference))

    def unknown(self, reference: str) -> list[str]:
        """The reference's telling words that no report holds."""
        return [w for w in self._telling_words(reference) if len(w) >= 2 and not self._catalogue.texts.holding(w)]

    def _telling_words(self, reference: str) -> list[str]:
        """The reference's content words as the library writes them (a name jieba does not know is
        extended as far as the texts go), without the words that name no story."""
        words = text.content_words(reference, self._catalogue.texts)
        return [w for w in words if w not in _NOT_A_SUBJECT and (len(w) >= 2 or w.isascii() and w.isalnum())]


def choose(ranked: list[Match]) -> tuple[Match | None, Match | None]:
    """Of reports ranked for a reference, the one it means when one stands out, and the runner-up
    when it is nearly as good (offered beside the answer); (None, best) when none stands out."""
    if not ranked:
        return None, None
    best, second = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    if best.share < MIN_SHARE:
        return None, best
    if second and best.score < MIN_LEAD * second.score:
        return best, second
    return best, None
