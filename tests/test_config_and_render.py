"""Fast tier: settings, rate limiting, Telegram HTML."""
import pytest

from bot.chat.answer import Answer, Quote
from bot.config import ConfigError, load_settings
from bot.telegram.flow import RateLimiter
from bot.telegram.serve import TokenFilter
from bot.telegram import html as th
from fake_bot_api import check_html


@pytest.mark.parametrize("text, said", [
    ("retrieval:\n  max_quote: 3\n", r"retrieval.max_quote: Extra inputs are not permitted"),
    # PyYAML would keep the second `telegram:` block and silently drop the first's admins.
    ("telegram:\n  admin_ids: [1]\narticles: []\ntelegram:\n  poll_timeout: 5\n",
     r"line 4: `telegram:` is already given on line 1")])
def test_a_config_mistake_is_one_readable_error(tmp_path, text, said):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=said):
        load_settings(path, environ={})


def test_environment_overrides_and_relative_paths(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("articles: [a.txt]\n", encoding="utf-8")
    settings = load_settings(path, environ={"TELEGRAM_BASE_URL": "http://127.0.0.1:1/bot"})
    assert settings.telegram.base_url == "http://127.0.0.1:1/bot"
    assert settings.articles == [tmp_path / "a.txt"]


def test_the_local_config_is_read_over_the_shipped_one_key_by_key(tmp_path):
    (tmp_path / "config.yaml").write_text("articles: [a.txt]\ntelegram:\n  poll_timeout: 5\n", encoding="utf-8")
    (tmp_path / "config.local.yaml").write_text("telegram:\n  admin_ids: [42]\n", encoding="utf-8")
    settings = load_settings(tmp_path / "config.yaml", environ={})
    assert settings.telegram.admin_ids == [42] and settings.telegram.poll_timeout == 5
    assert settings.articles == [tmp_path / "a.txt"]
    (tmp_path / "config.local.yaml").write_text("telegram:\n  admin_id: [42]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.local.yaml: telegram.admin_id: Extra inputs"):
        load_settings(tmp_path / "config.yaml", environ={})


def test_the_shipped_config_names_every_admin_setting_and_git_ignores_the_local_one():
    from conftest import ROOT
    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "  admin_ids: []" in shipped
    assert "config.local.yaml" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


@pytest.mark.parametrize("url", ["api.telegram.org/bot", "http//127.0.0.1:8081/bot", "https://api .org/bot",
                                 "http://127.0.0.1:80a/bot", "http://127.0.0.1:99999/bot", "http://a..b/bot",
                                 "ftp://api.telegram.org/bot", "http://-bad.org/bot"])
def test_a_malformed_bot_api_address_is_a_config_error(url):
    with pytest.raises(ConfigError, match="telegram.base_url"):
        load_settings(environ={"TELEGRAM_BASE_URL": url})


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081/bot", "https://api.telegram.org/bot",
                                 "http://[::1]:8081/bot", "http://bot-api.local/bot"])
def test_well_formed_bot_api_addresses_pass(url):
    assert load_settings(environ={"TELEGRAM_BASE_URL": url}).telegram.base_url == url


def test_webhook_mode_without_its_address_is_a_config_error(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("telegram: {mode: webhook}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mode webhook needs telegram.webhook.url"):
        load_settings(path)


def test_rate_limiter_window():
    limiter = RateLimiter(2, 10)
    assert limiter.allow(1, 0) and limiter.allow(1, 1) and not limiter.allow(1, 2)
    assert limiter.allow(2, 2) and limiter.allow(1, 11.5)


def test_the_limiter_says_how_long_until_the_next_question():
    limiter = RateLimiter(2, 60)
    assert limiter.allow(1, 0) and limiter.allow(1, 20) and not limiter.allow(1, 30)
    assert limiter.seconds_to_wait(1, 30) == 30 and limiter.seconds_to_wait(1, 59.5) == 1
    assert limiter.seconds_to_wait(2, 30) == 0   # never limited


def test_over_the_limit_one_notice_per_window():
    limiter = RateLimiter(1, 10)
    assert limiter.notice_due(1, 0) and not limiter.notice_due(1, 5) and limiter.notice_due(1, 10.5)


def test_rate_limiter_forgets_idle_users():
    limiter = RateLimiter(2, 10, prune_every=100)
    for user in range(1000):
        limiter.allow(user, now=user * 1.0)
    assert len(limiter._asked) <= 120
    assert limiter.allow(999, now=1000.0) and not limiter.allow(999, now=1000.5)


def test_an_oversize_block_is_cut_into_valid_messages():
    toc = th.html.escape("目录：\n" + "\n".join(f"{n}. 第{n}节 <小标题> & 说明" for n in range(1, 400)))
    paragraph = "第1段：" + th.html.escape("很长的段落&内容。" * 900)
    messages = th.pack([toc, paragraph])
    assert len(messages) > 2
    assert all(th.visible_length(m) <= th.LIMIT and check_html(m)[0] is None for m in messages)
    assert "".join(messages).replace("\n", "") == (toc + paragraph).replace("\n", "")


def test_token_filter_hides_token():
    import logging
    record = logging.LogRecord("httpx", logging.INFO, "", 0, "POST %s", ("http://x/bot123:ABC/getMe",), None)
    TokenFilter("123:ABC").filter(record)
    assert "123:ABC" not in record.getMessage()


def test_token_is_scrubbed_from_a_logged_traceback():
    import logging
    import sys
    try:
        raise RuntimeError("The token `123:ABC` was rejected by the server.")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    TokenFilter("123:ABC").filter(record)
    assert "123:ABC" not in logging.Formatter().format(record) and "<token>" in record.exc_text


def test_highlight_escapes_user_and_article_text():
    html = th.highlight("a<b>&c 岚山", ("岚山",))
    assert html == "a&lt;b&gt;&amp;c <b>岚山</b>"
    assert check_html(html)[0] is None


def test_long_answers_are_split_into_valid_messages():
    quote = Quote("句" * 3000, "题", "节", 1, 0.9, matched=("句句",))
    messages = th.pack(th.answer_blocks(Answer("q", True, (quote, quote, quote), "")))
    assert len(messages) >= 3
    for message in messages:
        error, length = check_html(message)
        assert error is None and length <= 4096


def test_a_passage_of_5000_characters_without_punctuation_is_sent_in_valid_messages():
    names = "、".join(f"张{n:04d}" for n in range(1060))   # 5,299 characters, no ，。；
    quote = Quote(names, "题", "节", 1, 0.9, matched=("张0001",), answer=("张0500",))
    messages = th.pack(th.answer_blocks(Answer("q", True, (quote,), "")))
    assert len(messages) == 2
    for message in messages:
        error, length = check_html(message)
        assert error is None and length <= 4096
    assert "张1059" in messages[-1] and "<b>张0500</b>" in "".join(messages)


def test_escaping_does_not_count_against_the_length():
    """A paragraph full of & is 5× longer once escaped; Telegram counts "&amp;" as one character."""
    quote = Quote("&" * 3500, "题", "节", 1, 0.9, context="&" * 3500)
    messages = th.pack(th.context_blocks(quote, quote.context))
    assert len(messages) == 1 and check_html(messages[0]) == (None, th.visible_length(messages[0]))
    assert th.visible_length(messages[0]) <= 4096 and messages[0].count("&amp;") == 3500


def test_a_cut_keeps_tags_balanced_and_prefers_a_sentence_end():
    line = "<blockquote>" + "一句话。" * 600 + "<b>" + "重点" * 1000 + "</b></blockquote>"
    pieces = th.pack([line], limit=1000)
    assert all(check_html(p)[0] is None and th.visible_length(p) <= 1000 for p in pieces)
    assert th.html.unescape(th._TAG.sub("", "".join(pieces))) == th._TAG.sub("", line)
    assert pieces[0].endswith("。</blockquote>")


@pytest.mark.parametrize("store, problem", [("{backend: mongo}", "store.backend"),
                                            ("{backend: milvus, uri: 'http://no such host:19530'}", "store.uri"),
                                            ("{backend: milvus, collection: 'a-b'}", "store.collection")])
def test_a_wrong_store_setting_is_a_config_error(tmp_path, store, problem):
    path = tmp_path / "config.yaml"
    path.write_text(f"store: {store}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_settings(path, environ={})


def test_a_milvus_lite_file_is_relative_to_the_config_and_defaults_to_the_index_folder(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("store: {backend: milvus, uri: archive/milvus.db}\n", encoding="utf-8")
    assert load_settings(path, environ={}).store.uri == str(tmp_path / "archive" / "milvus.db")
    path.write_text("store: {backend: milvus, uri: 'http://10.0.0.5:19530'}\n", encoding="utf-8")
    assert load_settings(path, environ={}).store.archive_uri(tmp_path) == "http://10.0.0.5:19530"
    path.write_text("store: {backend: milvus}\n", encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.store.archive_uri(settings.index_dir) == str(tmp_path / "data" / "index" / "archive.db")


def test_an_unsure_answer_says_so_above_its_quote_in_the_terminal_and_in_telegram():
    from bot.chat.render import terminal
    quote = Quote("记者2日获悉，今年共有12所学校获评示范校。", "智慧校园", "", 1, 0.1)
    unsure = Answer("娃们能拿多少", True, (quote,), "", sure=False)
    assert terminal(unsure).splitlines()[0] == "报道里没有把握找到确切的答案，最接近的是："
    blocks = th.answer_blocks(unsure)
    assert blocks[0] == "<i>报道里没有把握找到确切的答案，最接近的是：</i>" and "12所学校" in blocks[1]
    assert "没有把握" not in terminal(Answer("q", True, (quote,), ""))


def test_a_phone_sees_a_short_citation_and_context_with_the_neighbouring_paragraphs():
    from types import SimpleNamespace
    from bot.telegram.buttons import with_neighbours as _with_neighbours
    from index.sources.article import Passage
    quote = Quote("一句话。", "很长很长的报道标题", "向稳·一线蹲苗", 2, 0.9)
    assert th.short_citation(quote) == "向稳·一线蹲苗 · 第2段"
    assert th.quote_block(quote, titled=False).endswith("— 向稳·一线蹲苗 · 第2段")
    assert "《很长很长的报道标题》" in th.quote_block(quote)   # several articles: the title too
    passages = [Passage("a", "t", "", 0, n, f"第{n}段的句子。", f"第{n}段。") for n in (1, 2, 3, 4)]
    passages.append(Passage("b", "t", "", 0, 3, "别的文章。", "别的文章。"))
    index = SimpleNamespace(passages=passages)
    assert _with_neighbours(index, 1) == "第1段。\n\n第2段。\n\n第3段。"
    assert _with_neighbours(index, 0) == "第1段。\n\n第2段。"


def test_a_newsrooms_archive_is_listed_newest_first_a_page_at_a_time_and_found_by_title_or_opening():
    from types import SimpleNamespace
    from bot.telegram.keyboards import ARTICLES_PER_PAGE, articles_page as _articles_page, articles_titled as _articles_titled
    from bot.telegram.button_keys import article_key
    from index.archive.shelf import ArticleTexts, Entry
    entries = [Entry(f"r{n}", f"{'南京' if n % 7 == 0 else '上海'}报道{n}", "", "", ("",), 3) for n in range(23)]
    articles = [SimpleNamespace(id=e.id, title=e.title, metadata=(("source", "来源：新华社"), ("date", f"2023年8月{n + 1}日 08:00")))
                for n, e in enumerate(entries)]
    openings = [f"{e.title} {'夏令营在长春开营' if n == 5 else '记者获悉'}" for n, e in enumerate(entries)]
    catalogue = SimpleNamespace(entries=entries, texts=ArticleTexts(openings))
    index = SimpleNamespace(catalogue=catalogue, articles=articles)
    context = SimpleNamespace(bot_data={"fingerprint": "f", "answerer": SimpleNamespace(searcher=SimpleNamespace(index=index))})

    def buttons(markup):
        return [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]

    def art(n):   # the "就这篇" button's data: the article by the key of its version, no index numbers
        return f"art:{article_key(entries[n])}"

    first, markup = _articles_page(context, 0)
    assert "最新的在前（共 23 篇，第 1/3 页）" in first[0] and "1. 《上海报道22》（新华社，2023年8月23日）" in first[0]
    assert "<code>" not in first[0] and "报道12" not in first[0]   # ids for admins only
    assert buttons(markup)[:2] == [("就这篇：上海报道22", art(22)), ("就这篇：南京报道21", art(21))]
    assert buttons(markup)[ARTICLES_PER_PAGE:] == [("下一页 »", "arts:-:1")]
    last, markup = _articles_page(context, 2, for_admin=True)
    assert "23. 《南京报道0》（新华社，2023年8月1日） <code>r0</code>" in last[0]
    assert buttons(markup)[-1] == ("« 上一页", "arts:-:1") and ("就这篇：南京报道0", art(0)) in buttons(markup)
    with pytest.raises(IndexError):   # a page that is no more (articles removed since)
        _articles_page(context, 3)
    found, markup = _articles_titled(context, "南京")
    assert "（4 篇）" in found[0] and "1. 《南京报道21》" in found[0] and "上海" not in found[0]
    assert [data for _, data in buttons(markup)] == [art(21), art(14), art(7), art(0)]
    assert "1. 《上海报道5》" in _articles_titled(context, "夏令营")[0][0]   # the words of its opening
    assert "没有标题或开头含“北京”的文章" in _articles_titled(context, "北京")[0][0]