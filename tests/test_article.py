"""Fast tier: article parsing on real files."""
from conftest import DATA, LANSHAN, QINGSHUI
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


PARIS = DATA / "paris_ai_summit.txt"       # one paragraph, first line blank, no title line
XINHUA = DATA / "xinhua_heritage_law.txt"  # title, dateline with two reporters


def test_one_paragraph_report_without_title_indexes():
    article = load_article(PARIS)
    assert len(article.sections) == 1 and len(article.sections[0].paragraphs) == 1
    assert article.title.startswith("法国总统马克龙16日在巴黎宣布") and "中新社" not in article.title
    assert len(article.passages()) >= 5


def test_file_name_in_chinese_becomes_the_title(tmp_path):
    path = tmp_path / "巴黎峰会.txt"
    path.write_text(PARIS.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_article(path).title == "巴黎峰会"


def test_dateline_and_reporter_become_metadata_and_stay_in_the_body():
    paris, xinhua = load_article(PARIS), load_article(XINHUA)
    assert ("source", "中新社巴黎10月16日电") in paris.metadata
    assert ("date", "10月16日") in paris.metadata and ("author", "记者 李洋") in paris.metadata
    assert ("author", "记者丁小溪、王爱华") in xinhua.metadata and ("source", "新华社北京3月18日电") in xinhua.metadata
    assert xinhua.title == "文物保护法修订草案获表决通过"
    assert xinhua.passages()[0].text.startswith("新华社北京3月18日电（记者丁小溪、王爱华）")


def test_source_inside_the_last_sentence():
    article = parse_article("标题\n\n第一段正文写在这里。\n\n最后一段也是正文。（来源：清水日报）")
    assert ("source", "来源：清水日报") in article.metadata


def test_a_long_first_line_is_not_a_title():
    article = parse_article("今天上午，市图书馆新馆正式开放，读者排起了长队。\n\n馆长说，新馆藏书超过十万册。")
    assert len(article.sections[0].paragraphs) == 2
