"""Fast tier: what an admin reads on a phone — the index's failures in Chinese, naming the file or
link as sent, and /remove that finds the article (by id or title words) before asking anything."""
from types import SimpleNamespace

import pytest

from bot.telegram import admin
from bot.telegram.failures import in_chinese


@pytest.mark.parametrize("message, what, said", [
    ("http://127.0.0.1:8766/news/missing.html: the server answered 404", "http://127.0.0.1:8766/news/missing.html",
     "打开链接时网站返回了错误 404，没有添加：http://127.0.0.1:8766/news/missing.html"),
    ("/srv/aq/data/uploads/.incoming/3f/scan.txt is not a text article (binary data, not text)", "scan.txt",
     "scan.txt 不是文字文件（读不出文字），没有添加。"),
    ("https://example.com/a: no article text found on the page", "https://example.com/a",
     "https://example.com/a 里没有找到文章正文，没有添加。"),
    ("/srv/x/big.pdf has 2400 pages, more than the limit of 2000 (sources.limits.pdf_pages)", "big.pdf",
     "big.pdf 有 2400 页，超过 2000 页的上限，没有添加。"),
    ("no article old_report in /srv/aq/data/index", "删除 old_report", "没有编号为 old_report 的文章，什么也没有删除。"),
])
def test_the_index_failures_an_admin_meets_are_said_in_chinese_with_what_was_sent(message, what, said):
    assert in_chinese(message, what).startswith(said)


def test_an_unknown_failure_keeps_its_words_without_the_servers_paths_and_links_whole():
    said = in_chinese("something odd in /srv/aq/data/uploads/x/report.txt near https://a.org/b/c.html", "report.txt")
    assert said.startswith("没有完成，什么也没有改动：") and "/srv" not in said and "https://a.org/b/c.html" in said


ENTRIES = [SimpleNamespace(id="a1", title="南京夏日画展开幕"), SimpleNamespace(id="b2", title="长春台湾青少年夏令营"),
           SimpleNamespace(id="c3", title="北京画展闭幕")]


def test_remove_finds_the_article_by_the_words_of_its_title():
    assert [e.id for e in admin._titled(ENTRIES, "夏令营")] == ["b2"]
    assert [e.id for e in admin._titled(ENTRIES, "画展")] == ["a1", "c3"]
    several = admin._not_one_article("画展", admin._titled(ENTRIES, "画展"))
    assert "有 2 篇文章的标题含“画展”" in several and "<code>a1</code>" in several and "<code>c3</code>" in several
    assert "没有编号或标题为“天气”的文章" in admin._not_one_article("天气", admin._titled(ENTRIES, "天气"))
