"""What the bot shows beside its answers: the example questions, the article lists a page at a
time, the table of contents, and the buttons under an answer (more, context, 阅读原文, 换一篇, 👍/👎).

What a button's callback_data holds, and why it outlives other articles' changes, is in
bot/telegram/button_keys.py.
"""
from __future__ import annotations

import html
import math
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat import about
from bot.chat.answer import Answer, Quote
from bot.telegram.button_keys import button_data
from bot.telegram.sending import answerer
from index.language.text import normalise

# /articles lists a newsroom's archive a page at a time: one message, a "就这篇" button per article.
ARTICLES_PER_PAGE = 10
OPENING_CHARS = 150   # /articles 词 finds the words in a title or this far into the text: what a reader remembers
_SOURCE_LABEL = re.compile(r"^(?:来源|出处)\s*[:：]\s*")


def example_buttons(context, article=None) -> InlineKeyboardMarkup:
    """Example questions: about `article` when the conversation has one, else the first article.
    The button names the article by its number, so its question is found again when pressed."""
    index = answerer(context).searcher.index
    number = index.catalogue.number.get(article.id, 0) if article is not None else 0
    examples = about.example_questions([index.articles[number]]) if len(index.articles) else []
    return InlineKeyboardMarkup([[InlineKeyboardButton(q[:30], callback_data=button_data(context, "ex", number, i))]
                                 for i, q in enumerate(examples)])


def article_buttons(context, numbers) -> list[list[InlineKeyboardButton]]:
    """A "就这篇" button for each of these articles: pressing one makes it the conversation's article."""
    entries = answerer(context).searcher.index.catalogue.entries
    return [[InlineKeyboardButton(f"就这篇：{entries[n].title}"[:40], callback_data=button_data(context, "art", n))]
            for n in numbers]


def articles_page(context, page: int, for_admin: bool = False) -> tuple[list[str], InlineKeyboardMarkup | None]:
    """One page of the archive's articles (ARTICLES_PER_PAGE), newest first, with their source and
    date, their buttons and the way to the pages before and after; an admin sees each id too.
    Raises IndexError for a page past the end (a button pressed after articles were removed)."""
    index = answerer(context).searcher.index
    entries = index.catalogue.entries
    pages = page_count(entries)
    if not 0 <= page < pages:
        raise IndexError(page)
    newest = len(entries) - 1 - page * ARTICLES_PER_PAGE
    shown = range(newest, max(newest - ARTICLES_PER_PAGE, -1), -1)
    head = "我读过的文章，最新的在前：" if pages == 1 else f"我读过的文章，最新的在前（共 {len(entries)} 篇，第 {page + 1}/{pages} 页）："
    lines = _article_lines(index, shown, page * ARTICLES_PER_PAGE + 1, for_admin)
    buttons = article_buttons(context, shown) if len(entries) > 1 else []
    turn = [InlineKeyboardButton(label, callback_data=button_data(context, "arts", to))
            for label, to in (("« 上一页", page - 1), ("下一页 »", page + 1)) if 0 <= to < pages]
    if turn:
        buttons.append(turn)
    return ["\n".join([html.escape(head), *lines])], InlineKeyboardMarkup(buttons) if buttons else None


def articles_titled(context, words: str, for_admin: bool = False) -> tuple[list[str], InlineKeyboardMarkup | None]:
    """The articles whose title or opening (or id) holds these words, newest first, the first
    ARTICLES_PER_PAGE of them."""
    index = answerer(context).searcher.index
    entries, texts = index.catalogue.entries, index.catalogue.texts
    wanted = normalise(words)
    in_title = {n for n, e in enumerate(entries) if wanted in normalise(e.title) or words == e.id}
    in_opening = {n for n in texts.holding(wanted) if texts.text(n).find(wanted) < OPENING_CHARS} if wanted else set()
    found = sorted(in_title | in_opening, reverse=True)
    if not found:
        return [html.escape(f"没有标题或开头含“{words}”的文章。发 /articles 看全部。")], None
    shown = found[:ARTICLES_PER_PAGE]
    more = [f"还有 {len(found) - len(shown)} 篇，换个更具体的词试试。"] if len(found) > len(shown) else []
    head = f"标题或开头含“{words}”的文章（{len(found)} 篇），最新的在前："
    lines = [html.escape(head), *_article_lines(index, shown, 1, for_admin), *map(html.escape, more)]
    return ["\n".join(lines)], InlineKeyboardMarkup(article_buttons(context, shown))


def _article_lines(index, numbers, first: int, for_admin: bool) -> list[str]:
    """HTML: these articles as /articles lists them — title, source and date as the article gives
    them; for an admin, the id (what /remove takes) in a tap-to-copy <code>."""
    lines = []
    for shown, number in enumerate(numbers, start=first):
        article = index.articles[number]
        said = [_SOURCE_LABEL.sub("", value) for kind, value in article.metadata if kind == "source"][:1]
        said += [value.split()[0] for kind, value in article.metadata if kind == "date"][:1]
        line = f"{shown}. 《{html.escape(article.title)}》" + (f"（{html.escape('，'.join(said))}）" if said else "")
        lines.append(line + (f" <code>{html.escape(article.id)}</code>" if for_admin else ""))
    return lines


def page_count(entries) -> int:
    return max(math.ceil(len(entries) / ARTICLES_PER_PAGE), 1)


def sections_reply(context, article_id: str | None = None):
    """The table of contents, with one button per section: of the article in discussion, else of
    the first articles."""
    index = answerer(context).searcher.index
    number = index.catalogue.number.get(article_id) if article_id else None
    shown = [(number, index.articles[number])] if number is not None else list(enumerate(index.articles[:20]))
    rows, names = [], []
    for a_no, article in shown:
        for s_no, section in enumerate(article.sections):
            name = section.heading or f"《{article.title}》开头"
            names.append(f"{len(names) + 1}. {name}")
            rows.append([InlineKeyboardButton(name[:40], callback_data=button_data(context, "sec", a_no, s_no))])
    return [html.escape("目录：\n" + "\n".join(names))], InlineKeyboardMarkup(rows[:90])


def with_verdict_buttons(context, markup: InlineKeyboardMarkup | None, feedback: int) -> InlineKeyboardMarkup:
    """The answer's buttons and a row for the reader's verdict (bot/insights: the answers to look at)."""
    rows = list(markup.inline_keyboard) if markup else []
    rows.append([InlineKeyboardButton("👍", callback_data=button_data(context, "fb", 1, feedback)),
                 InlineKeyboardButton("👎 没答对", callback_data=button_data(context, "fb", 0, feedback))])
    return InlineKeyboardMarkup(rows)


def answer_buttons(context, answer: Answer) -> InlineKeyboardMarkup | None:
    row = []
    more = [q.number for q in answer.more if q.number >= 0][:3]
    if more:
        row.append(InlineKeyboardButton("更多相关段落", callback_data=button_data(context, "more", *more)))
    first = answer.quotes[0]
    if first.number >= 0:
        row.append(InlineKeyboardButton("查看上下文", callback_data=button_data(context, "ctx", first.number)))
    rows = [row] if row else []
    source = source_page(context, first.article_id)
    if source:   # the page the article came from: the reader can read the whole report there
        rows.append([InlineKeyboardButton("阅读原文", url=source)])
    if first.article_id and len(answerer(context).searcher.index.articles) > 1:   # leave this report
        rows.append([InlineKeyboardButton("换一篇", callback_data=button_data(context, "another"))])
    return InlineKeyboardMarkup(rows) if rows else None


def source_page(context, article_id: str) -> str:
    """Where the reader can read the whole article: the web address it was fetched from, else the
    channel post it came from (bot/telegram/channel.py), else "" (a file)."""
    article = answerer(context).searcher.index.catalogue.get(article_id)
    if article and re.match(r"https?://", article.path):
        return article.path
    posts = context.bot_data.get("posts")
    return posts.link_of(article_id) if posts is not None and article else ""


def context_buttons(context, quotes: list[Quote]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"查看上下文 {n + 1}", callback_data=button_data(context, "ctx", q.number))
                                  for n, q in enumerate(quotes)]])


def suggestion_buttons(context, answer: Answer) -> InlineKeyboardMarkup | None:
    index = answerer(context).searcher.index
    article_no = index.catalogue.number
    rows = [[InlineKeyboardButton(("看看：" + (s.section or f"《{s.article}》"))[:40],
                                  callback_data=button_data(context, "sec", article_no[s.article_id], s.section_no))]
            for s in answer.suggestions if s.article_id in article_no]
    return InlineKeyboardMarkup(rows) if rows else None
