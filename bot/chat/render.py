"""Rendering an Answer for people: terminal text here, Telegram HTML in bot/telegram/html.py."""
from __future__ import annotations

from bot.chat.answer import UNSURE, Answer, citation


def terminal(answer: Answer) -> str:
    """Plain text for the terminal chat: each quote, then where it stands in the article."""
    lines = [f"（按“{answer.understood_as}”理解）"] if answer.understood_as else []
    if answer.kind != "quote":
        # A refusal's message and the sections to look at; one that says what the report lacks
        # shows its closest sentence instead.
        briefly = answer.suggestions and not answer.lacking
        lines.append(headline(answer) if briefly else body(answer))
        if briefly:
            lines.append("可以看看这些部分：")
            lines += [f"  · {citation(s)}" for s in answer.suggestions]
        return "\n".join(lines)
    if not answer.sure:
        lines.append(UNSURE)
    for n, quote in enumerate(answer.quotes):
        if n == 1:
            lines.append("相关段落：")
        lines.append(f"  “{quote.text}”")
        lines.append(f"      —— {citation(quote)}")
    return "\n".join(lines)


def body(answer: Answer) -> str:
    """The reply without the "understood as" line that a rewritten follow-up starts with."""
    lines = answer.reply.splitlines()
    return "\n".join(lines[1:] if answer.understood_as else lines)


def headline(answer: Answer) -> str:
    """The reply's first line after the "understood as" line: a refusal's message."""
    return (body(answer).splitlines() or [""])[0]
