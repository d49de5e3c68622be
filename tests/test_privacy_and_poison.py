"""Fast tier: what the bot keeps of readers and for how long, and updates of any shape never
stopping it — the journal's age limit and /forget, owner-only files, the insights key, a
recorder that survives a locked database, and a fuzz of the Update JSON."""
import copy
import json
import os
import random
import sqlite3
import stat
import threading
import time
from types import SimpleNamespace

import pytest

from bot.chat.answer import Answer
from bot.insights import report
from bot.insights.record import Insights, InsightsError
from bot.telegram.conversation_store import ConversationStore
from bot.telegram.intake import journal_body, parse_update
from bot.telegram.journal import Journal
from bot.telegram import admin


def _message(update_id: int, user_id: int, text: str, **extra) -> dict:
    person = {"id": user_id, "is_bot": False, "first_name": "Wang", "last_name": "Xiaoming", "username": "wxm2024"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": text, "from": person,
        "chat": {"id": user_id, "type": "private", "first_name": "Wang", "username": "wxm2024"}, **extra}}


def _owner_only(path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


def test_the_journal_keeps_no_names_and_no_passwords_in_links():
    update = parse_update(_message(1, 4242, "看看 https://editor:hunter2@example.com/a.html"), None)
    body = journal_body(update)
    assert "4242" in body and "Wang" not in body and "wxm2024" not in body and "Xiaoming" not in body
    assert "hunter2" not in body and "https://example.com/a.html" in body
    bot_reply = _message(2, 4242, "他是谁", reply_to_message={
        "message_id": 1, "date": 0, "chat": {"id": 4242, "type": "private"},
        "from": {"id": 99, "is_bot": True, "first_name": "Bot", "username": "article_qa_bot"}})
    assert "article_qa_bot" in journal_body(parse_update(bot_reply, None))   # replies to the bot still recognised


def test_the_journal_forgets_answered_updates_by_age_and_a_readers_on_request(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3", keep_seconds=48 * 3600)
    journal.add([(n, json.dumps(_message(n, 4242 if n % 2 else 7, f"问题{n}号"), ensure_ascii=False), 4242 if n % 2 else 7)
                 for n in range(1, 7)])
    journal.done(1, 2, 3, 4, 5)
    assert journal.prune(now=time.time() + 47 * 3600) == 0
    assert journal.prune(now=time.time() + 49 * 3600) == 5
    bodies = dict(journal._db.execute("SELECT id, body FROM updates").fetchall())
    assert list(bodies) == [6] and "问题6号" in bodies[6]   # still waiting for its answer: kept

    journal.add([(10, json.dumps(_message(10, 4242, "岚山在哪里"), ensure_ascii=False), 4242),
                 (11, json.dumps(_message(11, 7, "别人的问题"), ensure_ascii=False), 7),
                 (12, json.dumps(_message(12, 4242, "/forget"), ensure_ascii=False), 4242),
                 (13, json.dumps(_message(13, 4242, "之后的问题"), ensure_ascii=False), 4242)])
    assert journal.forget(4242, up_to=12) == 2
    journal.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("journal.sqlite3*") if p.is_file())
    assert "岚山在哪里".encode() not in raw and "别人的问题".encode() in raw and "之后的问题".encode() in raw
    assert all(_owner_only(p) for p in tmp_path.glob("journal.sqlite3*"))


def test_conversation_context_of_a_reader_is_deleted_everywhere(tmp_path):
    store = ConversationStore(tmp_path / "conversations.sqlite3")
    for conversation in ("4242", "-100123:4242", "-100123:7", "7"):
        store.save(conversation, json.dumps({"question": f"秘密问题{conversation}"}, ensure_ascii=False), time.time())
    store.flush()
    assert store.forget_reader(4242) == 2
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("conversations.sqlite3*"))
    assert "秘密问题4242".encode() not in raw and "秘密问题-100123:4242".encode() not in raw
    assert "秘密问题7".encode() in raw and _owner_only(tmp_path / "conversations.sqlite3")


def test_the_insights_key_lives_where_it_is_told_and_must_be_a_real_key(tmp_path):
    data, keys = tmp_path / "data", tmp_path / "keys"
    Insights(data / "i.sqlite3", key_path=keys / "insights.key").close()
    assert (keys / "insights.key").is_file() and not list(data.glob("*.key"))
    assert _owner_only(keys / "insights.key") and _owner_only(data / "i.sqlite3")
    for bad in ("", "ab", "not hex at all", "00" * 8 + "zz"):
        (keys / "bad.key").write_text(bad)
        with pytest.raises(InsightsError, match="not a usable key"):
            Insights(data / "j.sqlite3", key_path=keys / "bad.key")
    # A key left beside the database by an older version moves out, so earlier rows stay forgettable.
    old = Insights(tmp_path / "old" / "i.sqlite3")
    hashed = old.reader("tg:1")
    old.close()
    moved = Insights(tmp_path / "old" / "i.sqlite3", key_path=keys / "moved.key")
    assert moved.reader("tg:1") == hashed and not (tmp_path / "old" / "i.sqlite3.key").exists()
    moved.close()


def test_a_locked_insights_database_loses_no_rows_and_forget_says_it_could_not(tmp_path):
    path = tmp_path / "i.sqlite3"
    insights = Insights(path, key_path=tmp_path / "k")
    answer = Answer("岚山区委书记是谁", True, (), "…", kind="quote")
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN EXCLUSIVE")   # another process holds the database
    for n in range(25):
        insights.record("tg:5", answer, 0.001)
    with pytest.raises(InsightsError):
        insights.forget("tg:5")
    time.sleep(1.2)   # the writer tries, fails and keeps the rows
    other.execute("ROLLBACK")
    other.close()
    deadline = time.time() + 10
    while report.build(path, 3600).questions < 25 and time.time() < deadline:
        time.sleep(0.1)
    assert report.build(path, 3600).questions == 25
    insights.record("tg:5", answer, 0.001)   # recording goes on after the lock
    assert insights.forget("tg:5") == 26
    insights.close()
    assert report.build(path, 3600).questions == 0


def test_readers_questions_leave_no_bytes_after_forget(tmp_path):
    insights = Insights(tmp_path / "i.sqlite3", key_path=tmp_path / "k")
    for question in ("我家住在岚山区哪条街", "岚山区委书记是谁"):
        insights.record("tg:4242", Answer(question, False, (), "…", kind="refusal"), 0.001)
    insights.record("tg:7", Answer("别人问的问题", False, (), "…", kind="refusal"), 0.001)
    insights.flush()
    assert insights.forget("tg:4242") == 2
    insights.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("i.sqlite3*"))
    assert "我家住在岚山区哪条街".encode() not in raw and "别人问的问题".encode() in raw


def _mutations(seed: int, count: int):
    """Update JSON bent the ways a careless client or a newer Bot API bends it."""
    rng = random.Random(seed)
    shapes = [_message(1, 5, "岚山区委书记是谁？"),
              {"update_id": 1, "poll_answer": {"poll_id": "p", "user": {"id": 5, "is_bot": False, "first_name": "a"},
                                               "option_ids": [0]}},
              {"update_id": 1, "callback_query": {"id": "c", "from": {"id": 5, "is_bot": False, "first_name": "a"},
                                                  "chat_instance": "x", "data": "ex:0"}},
              {"update_id": 1, "edited_message": _message(1, 5, "改过的问题")["message"]}]
    odd = [None, "", "\ud800", "\udfff半个", 0, -1, 2**70, 1.5, [], {}, [1, {"a": None}], True, "x" * 5000]

    def bend(value, depth=0):
        if isinstance(value, dict) and value:
            key = rng.choice(list(value))
            roll = rng.random()
            if roll < 0.3:
                del value[key]
            elif roll < 0.6 or depth > 4:
                value[key] = copy.deepcopy(rng.choice(odd))
            else:
                bend(value[key], depth + 1)
        return value
    for n in range(count):
        update = bend(copy.deepcopy(rng.choice(shapes)))
        for _ in range(rng.randint(0, 3)):
            bend(update)
        if isinstance(update, dict):
            update["update_id"] = n if rng.random() < 0.95 else rng.choice(odd)
        yield update


def test_a_thousand_mutated_updates_are_read_or_set_aside_never_raised(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    read = 0
    for data in _mutations(seed=24, count=1000):
        update = parse_update(data, None)   # raises nothing, whatever the shape
        if update is not None:
            read += 1
            journal.add([(update.update_id, journal_body(update), 0)])
    assert 100 < read < 1000   # most shapes still read, some cannot be
    lone = parse_update(_message(5000, 5, "岚山\ud800区委书记是谁"), None)
    assert lone.message.text == "岚山\ufffd区委书记是谁"
    parse_update({"update_id": 1, "poll_answer": {"poll_id": "p", "option_ids": [0]}}, None)   # no exception


def test_small_inputs_that_used_to_end_in_a_traceback():
    name = admin._safe("𠀀" * 100 + ".txt")
    assert name.endswith(".txt") and len(name.encode()) <= 255
    assert not admin._safe("../../.hidden.md").startswith(".") and "/" not in admin._safe("../../.hidden.md")
    # /remove takes any words: only an id the catalogue holds ever reaches `article-qa index --remove`.
    entries = [SimpleNamespace(id="-h", title="标题")]
    assert admin._titled(entries, "id\x00") == [] and "&lt;b&gt;" in admin._not_one_article("<b>", [])
    with pytest.raises(report.ReportError):
        report.parse_period("99999999999999999d")


def test_the_insights_writer_thread_keeps_going(tmp_path):
    insights = Insights(tmp_path / "i.sqlite3", key_path=tmp_path / "k")
    threads = [threading.Thread(target=lambda: [insights.record("tg:1", Answer("q", True, (), "…", kind="quote"), 0)
                                                for _ in range(100)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    insights.flush()
    assert report.build(tmp_path / "i.sqlite3", 3600).questions == 400
    insights.close()


def test_a_change_removes_the_half_built_folders_a_killed_one_left(tmp_path):
    from bot.runtime import changing
    folder = tmp_path / "index"
    (tmp_path / ".index.new-abc123").mkdir()
    (tmp_path / ".index.new-abc123" / "passages.npy").write_bytes(b"x" * 100)
    with changing(folder):
        assert not list(tmp_path.glob(".index.new-*"))
