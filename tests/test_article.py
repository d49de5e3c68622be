"""Fast tier: article parsing on real files."""
from conftest import LANSHAN, QINGSHUI
from index.article import ArticleError, load_article, parse_article, split_passages

import pytest


def test_lanshan_title_source_byline_and_sections():
    article = load_article(LANSHAN)
    assert article.title == "日照岚山区实干组织力赋能高质量发展力"
    assert ("source", "来源:人民网-山东频道") in article.metadata
    assert ("author", "王祝君") in article.metadata
    headings = [s.heading for s in article.sections]
    assert headings[0] == "" and len(headings) == 4
    assert all(h.startswith("向") for h in headings[1:])


def test_lanshan_debris_is_dropped_not_indexed():
    article = load_article(LANSHAN)
    assert "发表回复" in article.dropped and "立即查看 了解详情" in article.dropped
    text = "".join(p.text for p in article.passages())
    assert "发表回复" not in text and "图纸" not in text and "王祝君" not in text


def test_passages_are_verbatim_slices():
    raw = LANSHAN.read_text(encoding="utf-8")
    passages = load_article(LANSHAN).passages()
    assert len(passages) > 30
    assert all(p.text in raw and p.text in p.context for p in passages)


def test_markdown_article_with_numbered_headings():
    article = load_article(QINGSHUI)
    assert article.title.startswith("清水镇图书馆")
    assert [s.heading for s in article.sections][1:] == ["一、新馆面积扩大一倍", "二、夜间开放延长到晚上九点",
                                                        "三、志愿者服务走进乡村"]
    kinds = dict(article.metadata)
    assert kinds["author"] == "作者：李文静" and kinds["date"] == "2024-05-18"


def test_sentences_keep_closing_quotes_and_long_ones_split_at_semicolons():
    assert split_passages("他说：“好。”然后走了。") == ["他说：“好。”", "然后走了。"]
    long = "甲" * 70 + "；" + "乙" * 70 + "。"
    assert split_passages(long, max_chars=120) == ["甲" * 70 + "；", "乙" * 70 + "。"]


def test_byline_inside_the_body_is_not_an_end():
    article = parse_article("标题\n\n第一段(张三)说了话。\n\n第二段很长的内容在这里继续写。\n\n第三段也是正文内容。")
    assert article.dropped == ()
    assert len(article.sections[0].paragraphs) == 3


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary", "标题".encode("gbk") + b"\xff\xfe"])
def test_unusable_files_raise_article_error(tmp_path, content):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ArticleError):
        load_article(path)


def test_missing_file_raises_article_error(tmp_path):
    with pytest.raises(ArticleError, match="cannot read"):
        load_article(tmp_path / "nope.txt")
