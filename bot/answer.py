"""Answering: a question → an Answer made only of the article's own sentences, or an honest refusal."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.article import Article
from index.search import Hit, Searcher

NOT_FOUND = "文章中没有找到与这个问题相关的内容。"
EMPTY_QUESTION = "请输入一个问题。"

# Questions about the article itself (who wrote it, where it comes from) are answered from its
# metadata lines, which are not body text and so are never retrieved as passages.
_ABOUT_ARTICLE = re.compile(r"(这篇|本篇|此篇|该篇|本|这|该)?(文章|报道|新闻|稿件|文)")
_META_ASKED = {
    "source": re.compile(r"来源|出处|出自|哪个?(网站|媒体|报纸|网)|发表在|刊登在|刊发"),
    "author": re.compile(r"作者|记者|谁写|撰写|执笔|撰稿"),
    "date": re.compile(r"(什么时候|哪天|何时|日期|时间).*(发布|发表|刊登)|(发布|发表|刊登).*(什么时候|哪天|何时|日期|时间)"),
}


class QuestionError(ValueError):
    """The question cannot be asked (empty, too long); the message is for the user."""


@dataclass(frozen=True)
class Quote:
    text: str
    article: str        # article title
    section: str
    paragraph: int      # 0 for a metadata line
    score: float
    context: str = ""   # the whole paragraph
    matched: tuple[str, ...] = ()
    article_id: str = ""
    section_no: int = -1
    number: int = -1    # passage number in the index, -1 for a metadata line


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    quotes: tuple[Quote, ...]
    reply: str          # plain text; for a refusal, its first line is the message
    suggestions: tuple[Quote, ...] = field(default=())   # closest sections when abstaining
    more: tuple[Quote, ...] = field(default=())          # next-best passages, shown on request

    def to_json(self) -> dict:
        """The `article-qa ask --json/--jsonl` object."""
        return {"question": self.question, "answered": self.answered,
                "quotes": [{"text": q.text, "article": q.article, "section": q.section,
                            "paragraph": q.paragraph, "score": round(q.score, 4)} for q in self.quotes],
                "reply": self.reply}


class Answerer:
    def __init__(self, searcher: Searcher, max_quotes: int = 3, threshold: float | None = None,
                 max_question_chars: int = 500):
        self.searcher = searcher
        self.max_quotes = max_quotes
        self.threshold = searcher.threshold if threshold is None else threshold
        self.max_question_chars = max_question_chars

    def ask(self, question: str) -> Answer:
        """Answer one question. Raises QuestionError for an empty or over-long question."""
        question = self._check(question)
        result = self.searcher.search(question, k=self.max_quotes + 3)
        hits = result.hits
        about = self._metadata_answer(question, hits)
        if about:
            return about
        if not hits or result.confidence < self.threshold:
            return self._refusal(question, hits)
        # Supporting quotes must be plausible answers themselves, not just the next-best sentences:
        # at least a third as likely as the best one (on CMRC this keeps hit@3 where showing every
        # next-best sentence puts it, 0.84, with fewer unrelated quotes).
        quotes = [_quote(h) for h in hits[: self.max_quotes] if h.score >= hits[0].score / 3]
        more = tuple(_quote(h) for h in hits[len(quotes):])
        return Answer(question, True, tuple(quotes), _reply_text(quotes), more=more)

    def _check(self, question: str) -> str:
        question = " ".join((question or "").split())
        if not question:
            raise QuestionError(EMPTY_QUESTION)
        if len(question) > self.max_question_chars:
            raise QuestionError(f"问题太长了（{len(question)} 字），请控制在 {self.max_question_chars} 字以内。")
        return question

    def _metadata_answer(self, question: str, hits: list[Hit]) -> Answer | None:
        if not _ABOUT_ARTICLE.search(question):
            return None
        for kind, pattern in _META_ASKED.items():
            if pattern.search(question):
                article = self._article_for(hits)
                lines = [line for k, line in article.metadata if k == kind]
                if not lines:
                    return None
                quotes = [Quote(line, article.title, "文章信息", 0, 1.0, line, article_id=article.id)
                          for line in lines]
                return Answer(question, True, tuple(quotes), _reply_text(quotes))
        return None

    def _article_for(self, hits: list[Hit]) -> Article:
        """With several articles, the one the question's other words point to."""
        articles = {a.id: a for a in self.searcher.index.articles}
        return articles[hits[0].passage.article] if hits else self.searcher.index.articles[0]

    def _refusal(self, question: str, hits: list[Hit]) -> Answer:
        seen, suggestions = set(), []
        for h in hits:
            key = (h.passage.article, h.passage.section_no)
            if key not in seen:
                seen.add(key)
                suggestions.append(_quote(h))
        suggestions = suggestions[:3]
        reply = NOT_FOUND
        if suggestions:
            reply += "\n可以看看这些部分：" + "；".join(citation(q) for q in suggestions)
        return Answer(question, False, (), reply, tuple(suggestions))


def _quote(hit: Hit) -> Quote:
    p = hit.passage
    return Quote(p.text, p.title, p.section, p.paragraph, hit.score, p.context, hit.matched,
                 p.article, p.section_no, hit.number)


def citation(quote: Quote) -> str:
    """Citation: 《title》· section · 第N段."""
    parts = [f"《{quote.article}》"]
    if quote.section:
        parts.append(quote.section)
    if quote.paragraph:
        parts.append(f"第{quote.paragraph}段")
    return " · ".join(parts)


def _reply_text(quotes: list[Quote]) -> str:
    return "\n".join(f"“{q.text}”——{citation(q)}" for q in quotes)

