"""A fake Telegram Bot API server on 127.0.0.1 for tests and the load benchmark.

It speaks real HTTP (aiohttp) and enforces Telegram's rules that matter to the bot: 4,096
characters per message, HTML that must parse (else 400 "can't parse entities"), callback_data of
at most 64 bytes, getUpdates offsets and long-poll timeouts. Faults can be injected per method:
429 with retry_after, 5xx, or slow answers. Tests push updates and read what the bot sent.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from html.parser import HTMLParser

from aiohttp import web

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "blockquote", "tg-spoiler", "span", "tg-emoji"}
BOT = {"id": 4242, "is_bot": True, "first_name": "ArticleQA", "username": "article_qa_bot"}


class _HTMLCheck(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.error, self.text_len = [], None, 0

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.error = f"unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.error = f"unmatched end tag \"{tag}\""

    def handle_data(self, data):
        self.text_len += len(data.encode("utf-16-le")) // 2   # Telegram counts UTF-16 code units


def check_html(text: str) -> tuple[str | None, int]:
    """Return (error or None, length of the visible text) as Telegram would judge it."""
    parser = _HTMLCheck()
    parser.feed(text)
    parser.close()
    if parser.stack and not parser.error:
        parser.error = f"can't find end tag corresponding to start tag \"{parser.stack[-1]}\""
    # Telegram accepts numeric entities and only these named ones: &lt; &gt; &amp; &quot;.
    if "&" in re.sub(r"&(amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);", "", text):
        parser.error = parser.error or "unsupported HTML entity"
    return parser.error, parser.text_len


class FakeBotAPI:
    """Start with .start(); the bot's base_url is .base_url. Thread-safe accessors for tests."""

    def __init__(self, token: str):
        self.token = token
        self.updates: list[dict] = []
        self.sent: list[dict] = []          # every successful send/edit call: {"method", "params", "time"}
        self.calls: list[str] = []
        self.faults: dict[str, list] = {}   # method -> list of ("429", s) / ("500",) / ("html",) / ("slow", s)
        self.commands: list = []
        self.scoped_commands: dict[int, list] = {}   # chat id → the menu set for that chat
        self.group_commands: list = []                # the menu set for every group
        self.description = self.short_description = None
        self.webhook: dict = {}
        self.files: dict[str, bytes] = {}        # file_id -> content, for getFile and downloads
        self.down_until: dict[str, float] = {}   # method -> time until which it answers 500
        self.toasts: dict[str, dict] = {}        # callback query id -> how the bot answered the press
        self.inline_answers: dict[str, dict] = {}   # inline query id -> the bot's answerInlineQuery
        self._next_update = 1
        self._next_message = 1000
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._new_update: asyncio.Event | None = None
        self.port = 0

    # ---- test side ----
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> "FakeBotAPI":
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def push(self, update_kind: str = "message", **fields) -> int:
        """Queue an update (fields form its message or callback_query); returns its update_id."""
        with self._lock:
            update_id = self._next_update
            self._next_update += 1
            self.updates.append({"update_id": update_id, update_kind: fields, "_pushed": time.time()})
        self._loop.call_soon_threadsafe(self._wake)
        return update_id

    def push_raw(self, update: dict) -> None:
        """Queue an update exactly as given (any shape; its update_id is the next one)."""
        with self._lock:
            update = {**update, "update_id": self._next_update, "_pushed": time.time()}
            self._next_update += 1
            self.updates.append(update)
        self._loop.call_soon_threadsafe(self._wake)

    def message(self, text: str | None, user_id: int = 1, chat_id: int | None = None, chat_type="private",
                message_id: int | None = None, **extra) -> int:
        with self._lock:
            self._next_message += 1
            message_id = message_id or self._next_message
        fields = {"message_id": message_id, "date": int(time.time()),
                  "chat": {"id": chat_id or user_id, "type": chat_type, **({"title": "g"} if chat_type != "private" else {})},
                  "from": {"id": user_id, "is_bot": False, "first_name": f"u{user_id}"}, **extra}
        if text is not None:
            fields["text"] = text
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16(text.split()[0])}] if text.startswith("/") else []
            # As Telegram does: a mention is @ and 5–32 word characters, not inside a word or an address.
            entities += [{"type": "mention", "offset": _utf16(text[:m.start()]), "length": _utf16(m.group())}
                         for m in re.finditer(r"(?<![\w@.])@[A-Za-z0-9_]{5,32}(?![A-Za-z0-9_@])", text)]
            if entities:
                fields["entities"] = entities
        return self.push("message", **fields)

    def fault(self, method: str, *faults) -> None:
        with self._lock:
            self.faults.setdefault(method, []).extend(faults)

    def outage(self, method: str, seconds: float) -> None:
        """Answer `method` with 500 for the next `seconds` seconds."""
        with self._lock:
            self.down_until[method] = time.time() + seconds

    def sent_to(self, chat_id: int) -> list[dict]:
        with self._lock:
            return [s for s in self.sent if s["params"].get("chat_id") == chat_id]

    def wait_for(self, predicate, timeout: float = 30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                found = [s for s in self.sent if predicate(s)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError("the bot did not send the expected message in time")

    def pending(self) -> int:
        with self._lock:
            return len(self.updates)

    # ---- server side ----
    def _wake(self):
        if self._new_update:
            self._new_update.set()

    def _run(self, ready: threading.Event):
        asyncio.set_event_loop(self._loop)
        self._new_update = asyncio.Event()
        app = web.Application()
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)   # a killed bot resets connections
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        with self._lock:
            self.calls.append(method)
            fault = self.faults.get(method, [None]).pop(0) if self.faults.get(method) else None
            if time.time() < self.down_until.get(method, 0):
                fault = ("500",)
        if fault and fault[0] == "429":
            return _error(429, f"Too Many Requests: retry after {fault[1]}", {"retry_after": fault[1]})
        if fault and fault[0] == "401":
            return _error(401, "Unauthorized")
        if fault and fault[0] == "500":
            return _error(500, "Internal Server Error")
        if fault and fault[0] == "html":   # a proxy's error page instead of the Bot API
            return web.Response(status=502, text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                                content_type="text/html")
        if fault and fault[0] == "slow":
            await asyncio.sleep(fault[1])
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _ok(True)
        return await handler(params)

    async def _m_getMe(self, params):
        return _ok(BOT)

    async def _m_setMyCommands(self, params):
        scope = params.get("scope")
        scope = json.loads(scope) if isinstance(scope, str) else scope
        if scope and scope.get("type") == "chat":
            self.scoped_commands[int(scope["chat_id"])] = params.get("commands")
        elif scope and scope.get("type") == "all_group_chats":
            self.group_commands = params.get("commands")
        else:
            self.commands = params.get("commands")
        return _ok(True)

    async def _m_setMyDescription(self, params):
        self.description = params.get("description")
        return _ok(True)

    async def _m_setMyShortDescription(self, params):
        self.short_description = params.get("short_description")
        return _ok(True)

    def document(self, name: str, content: bytes, user_id: int) -> int:
        """Push a private message carrying a file (as a user sending a document)."""
        file_id = f"file{len(self.files) + 1}"
        with self._lock:
            self.files[file_id] = content
        return self.message(None, user_id=user_id, document={"file_id": file_id, "file_unique_id": file_id,
                                                              "file_name": name, "file_size": len(content)})

    async def _m_getFile(self, params):
        file_id = params.get("file_id")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return _ok({"file_id": file_id, "file_unique_id": file_id, "file_size": len(self.files[file_id]),
                    "file_path": f"documents/{file_id}"})

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    async def _m_setWebhook(self, params):
        self.webhook = params
        return _ok(True)

    async def _m_getUpdates(self, params):
        offset, timeout = int(params.get("offset") or 0), float(params.get("timeout") or 0)
        deadline = time.time() + timeout
        while True:
            with self._lock:
                if offset:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = [{k: v for k, v in u.items() if k != "_pushed"} for u in self.updates[:100]]
                if ready or time.time() >= deadline:
                    return _ok(ready)
                self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), max(deadline - time.time(), 0.01))
            except asyncio.TimeoutError:
                pass

    async def _m_sendMessage(self, params, method: str = "sendMessage"):
        text = params.get("text", "")
        if params.get("parse_mode") == "HTML":
            error, length = check_html(text)
            if error:
                return _error(400, f"Bad Request: can't parse entities: {error}")
        else:
            length = len(text)
        if not length:
            return _error(400, "Bad Request: message text is empty")
        if length > 4096:
            return _error(400, "Bad Request: message is too long")
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        with self._lock:
            self._next_message += 1
            message = {"message_id": self._next_message, "date": int(time.time()), "text": text,
                       "chat": {"id": params["chat_id"], "type": "private"}, "from": BOT}
            self.sent.append({"method": method, "params": params, "time": time.time(),
                              "message_id": self._next_message})
        return _ok(message)

    async def _m_sendPhoto(self, params):
        photo = params.get("photo")
        size = len(photo.file.read()) if hasattr(photo, "file") else 0
        with self._lock:
            self._next_message += 1
            self.sent.append({"method": "sendPhoto", "params": {"chat_id": params["chat_id"],
                                                                "caption": params.get("caption", "")},
                              "photo_bytes": size, "time": time.time(), "message_id": self._next_message})
        return _ok({"message_id": self._next_message, "date": int(time.time()),
                    "chat": {"id": params["chat_id"], "type": "private"}, "from": BOT,
                    "photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]})

    async def _m_answerCallbackQuery(self, params):
        with self._lock:
            self.toasts[str(params.get("callback_query_id"))] = params
        return _ok(True)

    def toast(self, press_id: str, timeout: float = 30.0) -> dict:
        """How the bot answered the press with this id: {"text", "show_alert"} (empty when silent)."""
        return self._answer_to(self.toasts, press_id, timeout)

    def _answer_to(self, answers: dict, key: str, timeout: float) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                if key in answers:
                    return answers[key]
            time.sleep(0.05)
        raise AssertionError(f"{key} was not answered")

    async def _m_answerInlineQuery(self, params):
        parsed = {key: json.loads(params[key]) if isinstance(params.get(key), str) else params.get(key)
                  for key in ("results", "button")}
        with self._lock:
            self.inline_answers[str(params.get("inline_query_id"))] = {**params, **parsed}
        return _ok(True)

    def inline(self, query: str, user_id: int, query_id: str, timeout: float = 30.0) -> dict:
        """Type "@bot query" in a chat as this user; the bot's answer (its "results" and "button")."""
        self.push("inline_query", id=query_id, query=query, offset="",
                  **{"from": {"id": user_id, "is_bot": False, "first_name": f"u{user_id}"}})
        return self._answer_to(self.inline_answers, query_id, timeout)

    async def _m_editMessageReplyMarkup(self, params):
        with self._lock:
            self.sent.append({"method": "editMessageReplyMarkup", "params": params, "time": time.time()})
        return _ok({"message_id": int(params.get("message_id") or 0), "date": int(time.time()), "from": BOT,
                    "chat": {"id": params.get("chat_id"), "type": "private"}})

    async def _m_editMessageText(self, params):
        return await self._m_sendMessage(params, "editMessageText")

    async def _m_sendChatAction(self, params):
        with self._lock:
            self.sent.append({"method": "sendChatAction", "params": params, "time": time.time()})
        return _ok(True)


async def _params(request: web.Request) -> dict:
    if request.content_type == "application/json":
        return await request.json()
    data = dict(await request.post()) if request.can_read_body else dict(request.query)
    for key in ("reply_markup", "commands", "reply_parameters"):
        if isinstance(data.get(key), str):
            data[key] = json.loads(data[key])
    if "chat_id" in data:
        data["chat_id"] = int(data["chat_id"])
    return data


def _utf16(text: str) -> int:
    """Telegram counts entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _ok(result) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict | None = None) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
