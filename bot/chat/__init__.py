"""The conversation: a message → what it asks for (intent), its follow-up context put back
(followup), the reply about the article itself (about) or quoted from retrieval (answer), and
plain-text rendering (render). Nothing here knows about Telegram.

What the rest of the bot uses:"""
from bot.chat.answer import Answer, Answerer, Quote, citation
from bot.chat.conversation import Conversations, TurnStore

__all__ = ["Answer", "Answerer", "Conversations", "Quote", "TurnStore", "citation"]
