"""End-to-end tier: a conversation outlives an index rebuild without pointing at other passages."""
from conftest import LANSHAN, QINGSHUI, run_cli

from bot import runtime
from bot.config import load_settings


def test_more_after_a_rebuild_quotes_the_same_passages_under_their_new_numbers(index_dir, tmp_path):
    """The index is rebuilt with another article first, so every Lanshan passage changes number;
    "还有呢" answered from the remembered turn must carry the new numbers (its buttons use them)."""
    assert run_cli("index", QINGSHUI, LANSHAN, "--index-dir", tmp_path / "reordered").returncode == 0
    settings = load_settings()
    before = runtime.conversations(settings, index_dir, config_articles=False)
    first = before.reply("c", "岚山的主导产业是什么")
    assert first.kind == "quote" and first.more
    after = runtime.conversations(settings, tmp_path / "reordered", config_articles=False)
    after.adopt(before)
    more = after.reply("c", "还有呢")
    passages = after.answerer.searcher.index.passages
    assert more.quotes and [q.text for q in more.quotes] == [q.text for q in first.more[:len(more.quotes)]]
    assert all(passages[q.number].text == q.text for q in more.quotes)
    assert any(q.number != old.number for q, old in zip(more.quotes, first.more))


def test_a_reader_whose_chosen_article_was_removed_is_told(index_dir, tmp_path):
    from conftest import DATA
    assert run_cli("index", LANSHAN, DATA / "paris_ai_summit.txt", "--index-dir", tmp_path / "without").returncode == 0
    settings = load_settings()
    before = runtime.conversations(settings, index_dir, config_articles=False)
    before.choose_article("c", "qingshui_library")
    after = runtime.conversations(settings, tmp_path / "without", config_articles=False)
    after.adopt(before)
    answer = after.reply("c", "馆长叫什么名字？")
    assert answer.reply.startswith("（之前在聊的那篇文章已被删除") and after.article_of("c") is None
