"""Nothing lost, nothing frozen, nothing leaked: two processes on one insights database, verdicts
while it is busy, damaged or planted caches and keys, links with passwords, and a library with
one article that cannot be read."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import LANSHAN, ROOT, run_cli
from bot.chat.answer import Answer
from bot.insights import report
from bot.insights.record import Insights, InsightsError


def _answer(question: str) -> Answer:
    return Answer(question=question, answered=True, quotes=(), reply="……")


def _rows(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM questions").fetchone()[0]


def test_the_report_in_the_bot_and_in_a_terminal_loses_nothing(tmp_path):
    path = tmp_path / "insights.sqlite3"
    insights = Insights(path)
    terminal_report = [sys.executable, "-c", "import sys; from bot.insights import report; "
                       "print(report.build(sys.argv[1]).questions)", str(path)]
    try:
        for round_ in range(5):
            for n in range(4):
                insights.record("reader", _answer(f"第{round_}轮第{n}个问题是什么"), 0.01)
            insights.flush()
            report.build(path)   # /report inside the bot's process
            done = subprocess.run(terminal_report, capture_output=True, text=True, cwd=ROOT, timeout=120)
            assert done.returncode == 0 and "I/O error" not in done.stderr, done.stderr
        insights.record("reader", _answer("最后一个问题是什么"), 0.01)
        insights.flush()
        assert _rows(path) == 21
    finally:
        insights.close()
    assert _rows(path) == 21


def test_a_verdict_on_a_busy_database_is_kept_and_written_later(tmp_path):
    path = tmp_path / "insights.sqlite3"
    insights = Insights(path)
    insights.record("reader", _answer("岚山的港口有多大"), 0.01, feedback=7)
    insights.flush()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")   # another process holds the write lock
    try:
        assert insights.verdict("reader", 7, good=False)   # kept, not lost
    finally:
        other.execute("ROLLBACK")
        other.close()
    insights.close()   # the kept verdict is written on the way out at the latest
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT verdict FROM questions WHERE feedback = 7").fetchone() == (0,)


def test_a_fifo_or_a_link_for_the_key_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "fifo.sqlite3.key"
    os.mkfifo(fifo)
    with pytest.raises(InsightsError, match="plain file"):
        Insights(tmp_path / "fifo.sqlite3", key_path=fifo)
    target = tmp_path / "elsewhere"
    target.write_text("ab" * 32)
    target.chmod(0o644)
    (tmp_path / "link.key").symlink_to(target)
    with pytest.raises(InsightsError):
        Insights(tmp_path / "link.sqlite3", key_path=tmp_path / "link.key")
    assert target.stat().st_mode & 0o777 == 0o644   # the link's target was not chmod-ed


def test_a_new_key_beside_recorded_rows_is_said(tmp_path):
    path = tmp_path / "insights.sqlite3"
    first = Insights(path)
    first.record("reader", _answer("岚山的港口有多大"), 0.01)
    first.close()
    assert not first.older_rows_unmatched
    (tmp_path / "insights.sqlite3.key").unlink()
    second = Insights(path)
    assert second.older_rows_unmatched
    second.close()


CACHE_PROBE = ("from index.language import text; text.warm_up(); "
               "print('/'.join(text.words('岚山区的港口吞吐量再创新高')), text.general_idf().get('港口') is not None)")


def _probe(cache: Path) -> str:
    done = subprocess.run([sys.executable, "-c", CACHE_PROBE], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "ARTICLE_QA_CACHE": str(cache)})
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.e2e
def test_a_damaged_or_planted_cache_is_made_again(tmp_path):
    cache = tmp_path / "cache"
    expected = _probe(cache)
    files = sorted(cache.glob("*.npz"))
    assert len(files) == 3
    for damage in ("cut", "fifo", "planted"):
        for file in files:
            good = file.read_bytes()
            file.unlink()
            if damage == "cut":
                file.write_bytes(good[: len(good) // 2])
            elif damage == "fifo":
                os.mkfifo(file)
            else:   # well-formed arrays, but not the ones the digest was made of
                copy = tmp_path / "copy.npz"
                copy.write_bytes(good)
                with np.load(copy) as arrays:
                    changed = {key: arrays[key] for key in arrays.files}
                first = next(k for k in changed if k not in ("digest", "total", "tags"))
                changed[first] = changed[first][::-1].copy()
                np.savez(file, **changed)
            assert _probe(cache) == expected, (damage, file.name)
            assert file.is_file() and not file.is_symlink() and file.read_bytes() == good


def test_links_with_a_password_are_refused_and_chinese_paths_kept_whole():
    from index.sources.article import ArticleError
    from index.sources.load import checked_url, load_source
    for link in ("http://user:secret@example.com/a.html", "https://user@example.com/a.html"):
        with pytest.raises(ArticleError) as refused:
            load_source(link)
        assert "secret" not in str(refused.value)
    assert checked_url("https://example.com/新闻/2023.html") == \
        "https://example.com/%E6%96%B0%E9%97%BB/2023.html"
    assert checked_url("https://example.com/a%20b.html?x=1&y=2#top") == "https://example.com/a%20b.html?x=1&y=2#top"


def test_a_topic_tag_is_text_not_a_heading():
    from index.sources.article import parse_article
    line = ("原标题：#夏季行动·平安守护# 巡逻途中化解一起矛盾纠纷。7月12日上午，民警在辖区巡逻时发现两名男子"
            "因停车问题发生争执，民警立即上前劝解，经过耐心调解，双方握手言和。" * 3)
    article = parse_article(line, article_id="tagged")
    assert any("握手言和" in p.text for p in article.passages())
    markdown = parse_article("# 标题\n## 小标题\n正文第一句在这里。第二句在这里。\n", article_id="md")
    assert markdown.title == "标题" and markdown.sections[0].heading == "小标题"


@pytest.mark.e2e
def test_a_library_with_an_unreadable_article_builds_the_rest_and_names_it(tmp_path):
    tagged = tmp_path / "tagged.txt"
    tagged.write_text("原标题：#夏季行动·平安守护# 巡逻途中化解一起矛盾纠纷。7月12日上午，青河派出所民警在辖区巡逻时"
                      "发现两名男子因停车问题发生争执，民警立即上前劝解，经过半个小时的耐心调解，双方握手言和。",
                      encoding="utf-8")
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    config = tmp_path / "config.yaml"
    config.write_text(f"articles: [{LANSHAN}, {binary}, {tagged}]\nindex_dir: {tmp_path / 'idx'}\n", encoding="utf-8")
    built = run_cli("--config", config, "index")
    assert built.returncode == 3, built.stderr
    assert "skipped" in built.stdout and "scan.txt" in built.stdout and "Traceback" not in built.stderr
    answered = run_cli("--config", config, "ask", "民警调解用了多长时间？")
    assert answered.returncode == 0 and "半个小时" in answered.stdout, answered.stdout
    answered = run_cli("--config", config, "ask", "岚山区委书记是谁？")
    assert answered.returncode == 0 and "焦春锋" in answered.stdout


def test_only_the_newest_edit_of_a_message_is_answered_and_odd_updates_pass():
    from collections import OrderedDict
    from types import SimpleNamespace
    from telegram import Update
    from bot.telegram.flow import note_edit as _note_edit, superseded as _superseded

    def edit(update_id: int, message_id: int = 5) -> Update:
        return Update.de_json({"update_id": update_id, "edited_message": {
            "message_id": message_id, "date": 0, "edit_date": 0, "chat": {"id": 71, "type": "private"}, "text": "x"}}, None)
    latest = OrderedDict()
    first, second, other = edit(10), edit(11), edit(12, message_id=6)
    for update in (first, second, other):
        _note_edit(latest, update)
    bot_data = {"latest_edits": latest}
    assert _superseded(bot_data, first) and not _superseded(bot_data, second) and not _superseded(bot_data, other)
    odd = SimpleNamespace(update_id=13, edited_message=SimpleNamespace(chat=None, message_id=5))
    _note_edit(latest, odd)   # a malformed update is passed over, never raised
    assert not _superseded(bot_data, odd) and len(latest) == 2


def test_a_reupload_killed_while_it_was_added_gives_the_previous_version_back_at_the_next_start(tmp_path):
    from bot.telegram.admin import Library
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "report.txt").write_text("new version, never indexed", encoding="utf-8")
    (uploads / ".report.txt.previous").write_text("the version the index holds", encoding="utf-8")
    Library(["article-qa"], uploads)
    assert (uploads / "report.txt").read_text(encoding="utf-8") == "the version the index holds"
    assert not list(uploads.glob(".*"))
