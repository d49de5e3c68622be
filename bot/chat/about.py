"""Replies about the articles themselves rather than about something in them: what an article is
about, its parts, its author, source and date, and the bot's small talk. Every quote is still the
article's own text."""
from __future__ import annotations

import functools
import re

from bot.chat.answer import Answer, Quote, citation
from bot.chat.followup import person_names
from index.sources.article import Article

# Lead sentences quoted in an overview: enough to say what the article reports, short enough to read.
LEAD_CHARS = 160
MAX_ARTICLES_LISTED = 5
# "据美国媒体《华尔街日报》报道", "据新华社消息", "援引路透社报道": another outlet's report passed on.
_CITES = re.compile(r"(?:据|援引)[^，,。；;]{0,12}?(?P<outlet>《[^》]{2,20}》|[\u4e00-\u9fffA-Za-z]{2,12}?"
                    r"(?:通讯社|社|日报|晚报|时报|报|电视台|广播电台|网))(?:的)?(?:报道|消息|称|援引)")
_METADATA_LABEL = {"author": "作者", "source": "来源", "date": "发布时间", "place": "发稿地", "editor": "编辑",
                   "photo": "图片来源"}
REACTION = "😊"   # the whole reply to laughter, praise or an emoji: no list, no buttons
_SMALLTALK = {
    "greeting": "你好！",
    "thanks": "不客气！还想了解什么，随时问我。",
    "goodbye": "再见！有问题随时再来问。",
    "about": "我是文章问答机器人：只用文章里的原句回答，并注明出处（章节、段落）；文章里没有的，我会直说。",
    "reaction": REACTION,
    "prompt": "想问什么？直接发问题就行，例如“这篇文章讲了什么？”",
}


def smalltalk(detail: str, articles: list[Article]) -> Answer:
    """A friendly reply that names what the bot has read and offers example questions."""
    lines = [_SMALLTALK[detail]]
    if detail in ("greeting", "about"):
        lines += ["我读过：" + "、".join(f"《{a.title}》" for a in articles[:MAX_ARTICLES_LISTED]),
                  "你可以用中文问我文章里的内容，例如："]
        lines += [f"· {q}" for q in example_questions(articles)]
    return Answer("", False, (), "\n".join(lines), kind="smalltalk")


def example_questions(articles: list[Article]) -> list[str]:
    """Questions a reader could start with, made from the article itself: its overview, its first
    section, and the first person it names."""
    article = articles[0]
    questions = ["这篇文章讲了什么？"]
    headed = [s.heading for s in article.sections if s.heading]
    # A heading's first phrase names it well enough: "向稳·一线蹲苗…" → "向稳讲了什么？"
    short = re.split(r"[·:：,，、\s]", headed[0])[0] if headed else ""
    questions.append(f"{short if len(short) >= 2 else headed[0]}讲了什么？" if headed else "文章有哪些部分？")
    names = _people(article)
    if names:
        questions.append(f"{names[0]}是谁？")
    return questions


@functools.lru_cache(maxsize=64)
def _people(article: Article) -> tuple[str, ...]:
    """People the article names, in order; not its reporters, who are not what it is about."""
    byline = " ".join(line for _, line in article.metadata)
    names = (n for s in article.sections for p in s.paragraphs for n in person_names(p))
    return tuple(dict.fromkeys(n for n in names if n not in byline))


def overview(articles: list[Article]) -> Answer:
    """What the article is about: title, source, its lead sentences quoted, and its parts. With
    several articles, each one's title and first sentence, and a question which one to read."""
    if len(articles) > 1:
        quotes = [_lead(a)[0] for a in articles[:MAX_ARTICLES_LISTED] if _lead(a)]
        lines = [f"我读过 {len(articles)} 篇文章："] + [f"《{q.article}》：“{q.text}”" for q in quotes]
        lines.append("想了解哪一篇？提问时带上标题里的词即可。")
        return Answer("", True, tuple(quotes), "\n".join(lines), kind="overview")
    article = articles[0]
    lead = _lead(article)
    lines = [f"《{article.title}》" + "".join(f"（{line}）" for kind, line in article.metadata if kind == "source")]
    if lead:
        lines.append("开头写道：" + "".join(f"“{q.text}”" for q in lead) + f"——{citation(lead[0])}")
    lines += _section_lines(article)
    return Answer("", True, tuple(lead), "\n".join(lines), kind="overview", article_id=article.id)


def section_overview(article: Article, section_no: int) -> Answer:
    """One section: its heading and its first sentences, quoted."""
    section = article.sections[section_no]
    quotes = _lead(article, section_no)
    lines = [f"《{article.title}》· {section.heading or '开头'}"]
    lines += [f"“{q.text}”——{citation(q)}" for q in quotes]
    return Answer("", True, tuple(quotes), "\n".join(lines), kind="overview", article_id=article.id)


def sections(articles: list[Article]) -> Answer:
    """The parts (section headings) of each article."""
    lines = []
    for article in articles[:MAX_ARTICLES_LISTED]:
        lines.append(f"《{article.title}》")
        lines += _section_lines(article)
    return Answer("", True, (), "\n".join(lines), kind="sections",
                  article_id=articles[0].id if len(articles) == 1 else "")


def metadata(articles: list[Article], kind: str) -> Answer:
    """The article's author, source or date, quoted from its metadata (a byline, a "来源：" line,
    a news report's dateline); an honest "not given" when the article does not say."""
    quotes, missing = [], []
    for article in articles[:MAX_ARTICLES_LISTED]:
        found = _metadata_quotes(article, kind)
        quotes += found
        if not found:
            missing.append(article)
    if not quotes:
        given = [line for a in missing for line in metadata_lines(a)]
        reply = "、".join(f"《{a.title}》" for a in missing) + f"没有注明{_METADATA_LABEL[kind]}。"
        return Answer("", False, (), reply + ("\n文章注明的信息：" + "；".join(given) if given else ""),
                      kind="refusal", article_id=missing[0].id)
    lines = [f"{_METADATA_LABEL[kind]}：“{q.text}”——{citation(q)}" for q in quotes]
    if kind == "source":   # a report that passes on another outlet's news says whose it was first
        cited = [q for a in articles[:MAX_ARTICLES_LISTED] for q in _citing(a)]
        quotes += cited
        lines += [f"报道援引：“{q.text}”——{citation(q)}" for q in cited]
    return Answer("", True, tuple(quotes), "\n".join(lines), kind="metadata", article_id=quotes[0].article_id)


def metadata_lines(article: Article) -> list[str]:
    """Everything the article says about itself, one labelled line each ("发稿地：南京")."""
    return [line if re.match(r"\S{1,6}[:：]", line) else f"{_METADATA_LABEL.get(k, k)}：{line}"
            for k, line in article.metadata]


def _metadata_quotes(article: Article, kind: str) -> list[Quote]:
    """The article's metadata of one kind. A place or date read from a dateline is quoted in its
    dateline, the value in bold ("中新社**南京**8月9日电"): the reader sees where it comes from."""
    quotes = []
    for value in dict.fromkeys(line for k, line in article.metadata if k == kind):
        whole = next((line for k, line in article.metadata if k == "source" and value in line and value != line), value)
        quotes.append(Quote(whole, article.title, "文章信息", 0, 1.0, whole, article_id=article.id,
                            answer=(value,) if whole != value else ()))
    return quotes


def _citing(article: Article) -> list[Quote]:
    """The first sentence of the article that cites another outlet's report ("据美国媒体《华尔街日报》
    报道，…"), with the outlet in bold; [] when it cites none."""
    for p in article.passages():
        cited = _CITES.search(p.text)
        if cited:
            return [Quote(p.text, p.title, p.section, p.paragraph, 1.0, p.context, (), p.article, p.section_no,
                          answer=(cited.group("outlet"),))]
    return []


def _section_lines(article: Article) -> list[str]:
    headed = [s.heading for s in article.sections if s.heading]
    if not headed:
        paragraphs = sum(len(s.paragraphs) for s in article.sections)
        return [f"这篇文章没有分小节，共 {paragraphs} 段。"]
    return [f"文章分为 {len(headed)} 个部分："] + [f"{n}. {h}" for n, h in enumerate(headed, 1)]


def _lead(article: Article, section_no: int | None = None) -> list[Quote]:
    """The first sentences of the article's (or one section's) first paragraph, up to LEAD_CHARS."""
    scope = [p for p in article.passages() if section_no is None or p.section_no == section_no]
    quotes = []
    for p in scope:
        if (p.section_no, p.paragraph) != (scope[0].section_no, scope[0].paragraph):
            break
        if quotes and sum(len(q.text) for q in quotes) + len(p.text) > LEAD_CHARS:
            break
        quotes.append(Quote(p.text, p.title, p.section, p.paragraph, 1.0, p.context, (), p.article, p.section_no))
    return quotes
