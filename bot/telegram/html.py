"""Rendering for Telegram: HTML-escaped quotes as blockquotes, the words that answer in bold and the
question's words underlined, citations,
and splitting into messages that each stay within Telegram's 4,096 characters with tags balanced."""
from __future__ import annotations

import html

from bot.chat.answer import Answer, Quote, citation

LIMIT = 4096


def answer_blocks(answer: Answer) -> list[str]:
    """HTML blocks (each well-formed on its own) for an answered question."""
    blocks = []
    for n, quote in enumerate(answer.quotes):
        if n == 1:
            blocks.append("<i>相关段落：</i>")
        blocks.append(quote_block(quote))
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


def quote_block(quote: Quote) -> str:
    return f"<blockquote>{highlight(quote.text, quote.matched, quote.answer)}</blockquote>\n— {html.escape(citation(quote))}"


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
    """Join blocks into as few messages as fit within the limit. A block is cut only when it alone
    is over the limit (a table of contents of 150 headings, a very long paragraph): at line ends,
    else between characters outside tags and entities."""
    return _join([piece for block in blocks for piece in _cut(block, limit)], "\n\n", limit)


def _cut(block: str, limit: int) -> list[str]:
    """The block in pieces of at most `limit` characters, each well-formed when the block's tags
    do not span lines (true of every block this module and the bot make)."""
    if len(block) <= limit:
        return [block]
    return _join([part for line in block.split("\n") for part in _cut_line(line, limit)], "\n", limit)


def _join(pieces: list[str], separator: str, limit: int) -> list[str]:
    """Consecutive pieces joined by the separator into as few chunks as stay within the limit."""
    chunks, current = [], ""
    for piece in pieces:
        if current and len(current) + len(separator) + len(piece) > limit:
            chunks.append(current)
            current = ""
        current = f"{current}{separator}{piece}" if current else piece
    return chunks + ([current] if current else [])


def _cut_line(line: str, limit: int) -> list[str]:
    """A line longer than the limit, cut where no tag or entity is open (plain text, escaped)."""
    parts = []
    while len(line) > limit:
        cut = limit
        while cut > 0 and (line.rfind("<", 0, cut) > line.rfind(">", 0, cut)
                           or line.rfind("&", 0, cut) > line.rfind(";", 0, cut)):
            cut -= 1
        cut = cut or limit
        parts.append(line[:cut])
        line = line[cut:]
    return parts + ([line] if line else [])
