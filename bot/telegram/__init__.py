"""The Telegram service: handlers (replies as HTML, buttons, commands), admin (articles from
Telegram), html (rendering within Telegram's limits), intake and journal (updates taken in
durably), conversation_store (context that outlives a restart), index_watch (a rebuilt index
swapped in) and serve (start-up and shutdown). It uses bot.chat; bot.chat never uses it.

`serve.serve` is the entry point (bot/cli.py)."""
