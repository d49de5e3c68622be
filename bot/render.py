"""Rendering an Answer for people: terminal text here, Telegram HTML in bot/telegram_html.py."""
from __future__ import annotations

from bot.answer import Answer, citation


def terminal(answer: Answer) -> str:
    """Plain text for the terminal chat: each quote, then where it stands in the article."""
    if not answer.answered:
        lines = [answer.reply.splitlines()[0]]
        if answer.suggestions:
            lines.append("可以看看这些部分：")
            lines += [f"  · {citation(s)}" for s in answer.suggestions]
        return "\n".join(lines)
    lines = []
    for n, quote in enumerate(answer.quotes):
        if n == 1:
            lines.append("相关段落：")
        lines.append(f"  “{quote.text}”")
        lines.append(f"      —— {citation(quote)}")
    return "\n".join(lines)
