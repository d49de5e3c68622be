"""The Telegram service, in rooms along an update's way: application (the handlers registered,
the gatekeeper, errors), flow (rate limits, threads, order, edits), commands (readers' /commands),
questions (messages answered), buttons (presses), inline (@bot 问题 in any chat), keyboards (lists
and the buttons under replies), sending (replies sent, retried), html (rendering within Telegram's
limits), admin, failures and editor_report (articles from Telegram, what failed in Chinese, the
editor's /report), first_contact (the bot's introduction), intake and journal (updates taken in durably),
conversation_store (context that outlives a restart), index_watch (a rebuilt index swapped in) and
serve (start-up and shutdown). It uses bot.chat; bot.chat never uses it.

`serve.serve` is the entry point (bot/cli.py)."""
