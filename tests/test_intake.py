"""Fast tier: the update journal, the per-user queues and outage logging."""
import asyncio
import logging
import time
import types

import pytest
from telegram import Update

from bot.telegram import intake as intake_module
from bot.telegram.intake import Intake, Outage
from bot.telegram.journal import KEEP_DONE_SECONDS, Journal, JournalError


def test_journal_takes_each_update_once_and_keeps_pending_across_reopening(tmp_path):
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    assert journal.add([(1, "{}"), (2, "{}")]) == [1, 2]
    assert journal.add([(2, "{}"), (3, "{}")]) == [3]   # a redelivery of 2 is not new
    journal.done(1)
    journal.close()   # as if the process had died here
    reopened = Journal(path)
    assert [i for i, _ in reopened.pending()] == [2, 3]
    assert reopened.add([(1, "{}")]) == []   # done updates are recognised too
    assert reopened.last_id() == 3


def test_pruning_forgets_old_done_updates_but_not_the_polling_offset(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.add([(1, "{}"), (2, "{}"), (3, "{}")])
    for update_id in (1, 2, 3):
        journal.done(update_id)
    journal.add([(4, "{}")])
    assert journal.prune(now=time.time() + KEEP_DONE_SECONDS + 1) == 3
    assert journal.last_id() == 4 and [i for i, _ in journal.pending()] == [4]


def test_a_journal_that_is_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_text("not a database", encoding="utf-8")
    with pytest.raises(JournalError, match="cannot open the update journal"):
        Journal(path)


def _update(update_id: int, user_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": "问题", "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "u"}}}, None)


class _SlowApp:
    """Stands in for the PTB Application: each update takes `seconds` to handle."""

    def __init__(self, seconds: float):
        self.seconds, self.handled, self.bot = seconds, [], None

    async def process_update(self, update: Update) -> None:
        await asyncio.sleep(self.seconds)
        self.handled.append(update.update_id)


def test_one_users_backlog_does_not_delay_another_user(tmp_path):
    async def scenario():
        app = _SlowApp(0.01)
        intake = Intake(app, Journal(tmp_path / "journal.sqlite3"), seats=2)
        intake.take([_update(n, user_id=1) for n in range(1, 101)])   # a flood from user 1
        intake.take([_update(1000, user_id=2)])
        while 1000 not in app.handled:
            await asyncio.sleep(0.005)
        return app.handled.index(1000), app.handled[:5], intake.journal.pending()
    position, first, pending = asyncio.run(scenario())
    assert position <= 2                   # served right away, not after the flood
    assert first == sorted(first)          # each user's updates in order
    assert 1000 not in [i for i, _ in pending] and len(pending) > 50   # done only once handled


def test_drain_stops_promptly_and_leaves_the_rest_pending(tmp_path):
    async def scenario():
        app = _SlowApp(0.05)
        intake = Intake(app, Journal(tmp_path / "journal.sqlite3"), seats=4)
        intake.take([_update(n, user_id=n % 10) for n in range(1, 201)])
        await asyncio.sleep(0.12)
        left = await intake.drain(grace=5, hurry=asyncio.Event())
        return len(app.handled), left
    handled, left = asyncio.run(scenario())
    assert handled + left == 200 and left > 150


def test_an_outage_is_one_warning_a_minute_not_one_per_retry(monkeypatch, caplog):
    clock = [1000.0]
    monkeypatch.setattr(intake_module.time, "monotonic", lambda: clock[0])
    outage = Outage("Fetching updates")
    with caplog.at_level(logging.WARNING, logger="bot.telegram.intake"):
        for _ in range(130):   # two minutes of failures, one a second
            outage.failed(ConnectionError("refused"))
            clock[0] += 1
        outage.recovered()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4 and "failed" in lines[0] and "still failing after 60 s" in lines[1]
    assert "works again after 130 s" in lines[-1] and all("\n" not in line for line in lines)


def test_a_conversation_turn_survives_the_store(tmp_path):
    from bot.chat.answer import Answer, Quote
    from bot.chat.conversation import _Memory, _memory_from_json, _memory_to_json
    from bot.telegram.conversation_store import ConversationStore
    quote = Quote("岚山区委书记焦春锋表示……", "标题", "向稳", 7, 0.9, "整段", ("焦春锋",), "lanshan", 1, 12)
    memory = _Memory("岚山区委书记是谁", Answer("岚山区委书记是谁", True, (quote,), "……", more=(quote,),
                                               article_id="lanshan"), "lanshan", 5.0)
    store = ConversationStore(tmp_path / "journal.sqlite3")
    store.save("chat-1", _memory_to_json(memory), time.time())
    store.save("chat-old", _memory_to_json(memory), time.time() - 7200)
    store.flush()   # writes are made behind; flush is what the bot calls before it ends
    rows = ConversationStore(tmp_path / "journal.sqlite3").recent(time.time() - 1800, 100)
    assert [r[0] for r in rows] == ["chat-1"]   # the turn older than the time-to-live is dropped
    assert _memory_from_json(rows[0][1], 5.0) == memory


def test_an_update_cut_short_twice_is_set_aside_and_others_are_resumed(tmp_path):
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    journal.add([(1, "{}"), (2, "{}"), (3, "{}")])
    for _ in range(2):   # two starts that each died while handling update 1
        journal.started(1)
    journal.started(2)   # died once while handling 2: it gets another chance
    journal.close()
    reopened = Journal(path)
    assert [i for i, _ in reopened.set_aside_interrupted()] == [1]
    assert [i for i, _ in reopened.pending()] == [2, 3]
    assert reopened.set_aside_interrupted() == []
    assert reopened.add([(1, "{}")]) == []   # and a redelivery of it is not taken in again


def test_screened_out_updates_are_journaled_done_and_never_queued(tmp_path):
    async def scenario():
        app = _SlowApp(0)
        journal = Journal(tmp_path / "journal.sqlite3")
        intake = Intake(app, journal, screen=lambda u: u.effective_user.id != 666)
        intake.take([_update(i, 666) for i in range(1, 201)] + [_update(201, 7)])
        await asyncio.sleep(0.05)
        return app.handled, journal.pending()
    handled, pending = asyncio.run(scenario())
    assert handled == [201] and pending == []


def test_the_webhook_server_closes_connections_beyond_its_bound():
    import socket

    import tornado.netutil
    import tornado.web

    async def scenario():
        server = intake_module._BoundedServer(tornado.web.Application([]), max_connections=16,
                                              idle_connection_timeout=30)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        server.add_sockets(sockets)
        port = sockets[0].getsockname()[1]
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
        await asyncio.sleep(0.2)
        extra = socket.create_connection(("127.0.0.1", port))
        extra.settimeout(2)
        await asyncio.sleep(0.2)
        closed = await asyncio.get_running_loop().run_in_executor(None, extra.recv, 1) == b""
        for s in held + [extra]:
            s.close()
        server.stop()
        return closed
    assert asyncio.run(scenario())


def test_the_index_watch_retries_an_index_that_is_still_arriving(tmp_path, monkeypatch, caplog):
    """A new index copied into the live folder file by file, manifest first: the first attempts to
    load it fail; it is loaded once complete, with one warning meanwhile."""
    from bot.errors import UserError
    from bot.telegram import index_watch
    monkeypatch.setattr(index_watch, "RETRY_SECONDS", 0.05)
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    attempts, used = [], []
    new_index = types.SimpleNamespace(articles=[])

    def load():
        attempts.append(1)
        if len(attempts) < 4:
            raise UserError("Index at x is corrupt (passages.json missing)")
        return new_index

    async def scenario():
        watch = index_watch.IndexWatch(tmp_path, load, every=0.01)
        time.sleep(0.01)
        (tmp_path / "manifest.json").write_text('{"new": 1}', encoding="utf-8")   # the copy begins
        task = asyncio.ensure_future(watch.run(used.append, None))
        await asyncio.sleep(1)
        task.cancel()
    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert used == [new_index] and len(attempts) == 4
    assert sum("cannot be used yet" in r.message for r in caplog.records) == 1


def test_a_quiet_bot_still_prunes_its_journal_on_time(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3", keep_seconds=0.05)
    journal.add([(1, "{}"), (2, "{}"), (3, "{}")])
    journal.done(1, 2)

    async def quietly():
        pruning = asyncio.ensure_future(Intake(None, journal).prune_journal(every=0.05))
        await asyncio.sleep(0.3)   # no update arrives meanwhile
        pruning.cancel()
    asyncio.run(quietly())
    assert [i for i, _ in journal.pending()] == [3] and journal.last_id() == 3
    assert journal._db.execute("SELECT COUNT(*) FROM updates").fetchone()[0] == 1   # 1 and 2 forgotten


def test_sending_serves_a_quiet_chat_before_a_busy_one_s_backlog():
    from bot.telegram.fair_sending import FairRateLimiter
    order = []

    async def send(chat):
        order.append(chat)
        return True

    async def flood():
        limiter = FairRateLimiter(100)   # one turn every 10 ms
        busy = [asyncio.ensure_future(limiter.process_request(send, ("busy",), {}, "sendMessage",
                                                              {"chat_id": 1}, None)) for _ in range(30)]
        await asyncio.sleep(0.05)   # the busy chat has been sending for a while
        quiet = asyncio.ensure_future(limiter.process_request(send, ("quiet",), {}, "sendMessage", {"chat_id": 2}, None))
        await asyncio.gather(quiet, *busy)
    asyncio.run(flood())
    assert len(order) == 31 and order.index("quiet") <= 7   # next turn or so, not behind the 30
