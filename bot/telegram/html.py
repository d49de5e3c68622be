"""Rendering for Telegram: HTML-escaped quotes as blockquotes, the words that answer in bold and the
question's words underlined, citations,
and splitting into messages that each stay within Telegram's 4,096 characters with tags balanced."""
from __future__ import annotations

import html
import re

from bot.chat.answer import UNSURE, Answer, Quote, citation

LIMIT = 4096   # Telegram's limit, in UTF-16 units of the parsed text (visible_length)


def answer_blocks(answer: Answer, titled: bool = True) -> list[str]:
    """HTML blocks (each well-formed on its own) for an answered question. `titled`: citations
    name the article (when the bot has several); else only where in it."""
    blocks = [] if answer.sure else [f"<i>{html.escape(UNSURE)}</i>"]
    for n, quote in enumerate(answer.quotes):
        if n == 1:
            blocks.append("<i>相关段落：</i>")
        blocks.append(quote_block(quote, titled))
    return blocks


def metadata_block(answer: Answer, reply: str) -> str:
    """A metadata reply (one line per quote, as bot/chat/about.py writes it) with each quote's
    value in bold: "发稿地：“中新社<b>南京</b>8月9日电”"."""
    lines = reply.splitlines()
    out = []
    for n, line in enumerate(lines):
        escaped = html.escape(line)
        if n < len(answer.quotes) and answer.quotes[n].answer:
            quote = answer.quotes[n]
            escaped = escaped.replace(html.escape(quote.text), highlight(quote.text, (), quote.answer), 1)
        out.append(escaped)
    return "\n".join(out)


def quote_block(quote: Quote, titled: bool = True) -> str:
    return (f"<blockquote>{highlight(quote.text, quote.matched, quote.answer)}</blockquote>\n"
            f"— {html.escape(citation(quote) if titled else short_citation(quote))}")


def short_citation(quote: Quote) -> str:
    """Where a quote stands within its article, for a phone: "向稳·… · 第2段" (the title only
    when the bot has several articles: citation())."""
    parts = [quote.section] if quote.section else []
    parts.append(f"第{quote.paragraph}段" if quote.paragraph else "文章信息")
    return " · ".join(parts)


def context_blocks(quote: Quote, paragraph: str) -> list[str]:
    """The whole paragraph as an expandable blockquote (split if it is very long)."""
    head = f"<b>上下文</b> — {html.escape(citation(quote))}"
    return [head] + [f"<blockquote expandable>{html.escape(part)}</blockquote>" for part in plain_parts(paragraph)]


def highlight(text: str, words: tuple[str, ...], answer: tuple[str, ...] = ()) -> str:
    """Escape text for HTML, put the words that answer in bold and, when there are any, the
    question's words underlined (without answer words, the question's words are bold)."""
    style = [""] * len(text)
    for found, tag in ((words, "u" if answer else "b"), (answer, "b")):
        for word in found:
            start = text.find(word)
            while word and start >= 0:
                style[start:start + len(word)] = [tag] * len(word)
                start = text.find(word, start + len(word))
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and style[j] == style[i]:
            j += 1
        piece = html.escape(text[i:j])
        out.append(f"<{style[i]}>{piece}</{style[i]}>" if style[i] else piece)
        i = j
    return "".join(out)


def plain_parts(text: str, size: int = 3000) -> list[str]:
    """Cut plain text into parts of at most `size` characters, at sentence ends where possible
    (escaping can lengthen text, so parts stay well under the limit)."""
    parts = []
    while len(text) > size:
        cut = max(text.rfind(p, 0, size) for p in "。！？!?\n")
        cut = cut + 1 if cut > size // 2 else size
        parts.append(text[:cut])
        text = text[cut:]
    return parts + ([text] if text else [])


def pack(blocks: list[str], limit: int = LIMIT) -> list[str]:
    """Join blocks into as few messages as fit within the limit, measured as Telegram measures it:
    UTF-16 units of the text after tags and entities are parsed (so "&amp;" is one character). A
    block is cut only when it alone is over the limit (a table of contents of 150 headings, a
    paragraph of 5,000 characters): at a line end, else a sentence end, else between characters;
    tags open at a cut are closed there and opened again in the next piece."""
    return _join([piece for block in blocks for piece in _cut(block, limit)], "\n\n", limit)


def visible_length(markup: str) -> int:
    """The length Telegram counts for an HTML message: UTF-16 units of the parsed text."""
    text = html.unescape(_TAG.sub("", markup))
    return len(text.encode("utf-16-le")) // 2


_TAG = re.compile(r"<[^>]*>")
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|.", re.S)   # a tag, an entity, or one character
_SENTENCE_END = set("。！？；!?;")


def _cut(block: str, limit: int) -> list[str]:
    if visible_length(block) <= limit:
        return [block]
    pieces = [piece for line in block.split("\n") for piece in _cut_line(line, limit)]
    return _join(pieces, "\n", limit)


def _join(pieces: list[str], separator: str, limit: int) -> list[str]:
    """Consecutive pieces joined by the separator into as few chunks as stay within the limit."""
    chunks, current, size = [], "", 0
    for piece in pieces:
        length = visible_length(piece)
        if current and size + len(separator) + length > limit:
            chunks.append(current)
            current, size = "", 0
        current, size = (f"{current}{separator}{piece}", size + len(separator) + length) if current else (piece, length)
    return chunks + ([current] if current else [])


def _cut_line(line: str, limit: int) -> list[str]:
    """A line in pieces of at most `limit` visible units, each well-formed: cut after the last
    sentence end of the second half of a piece when there is one, else where the limit falls."""
    tokens = _TOKEN.findall(line)
    pieces, start, reopen = [], 0, []
    i, size, stack, best = 0, 0, [], None
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("<") and len(token) > 1:
            if token.startswith("</"):
                stack.pop()
            else:
                stack.append(token)
            i += 1
            continue
        units = len(html.unescape(token).encode("utf-16-le")) // 2
        if size + units > limit and i > start:
            end, open_then = best if best else (i, list(stack))
            pieces.append("".join(reopen + tokens[start:end] + [_closing(t) for t in reversed(open_then)]))
            start, reopen = end, list(open_then)
            i, size, stack, best = end, 0, list(open_then), None
            continue
        size += units
        i += 1
        if token in _SENTENCE_END and size >= limit // 2:
            best = (i, list(stack))
    return pieces + ["".join(reopen + tokens[start:])]


_TAG_NAME = re.compile(r"<([\w-]+)")


def _closing(opening: str) -> str:
    return f"</{_TAG_NAME.match(opening).group(1)}>"
