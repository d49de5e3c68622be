"""Fast tier: article parsing on real files."""
from conftest import DATA, LANSHAN, QINGSHUI
from index.sources.article import ArticleError, load_article, parse_article, split_passages

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


# ---- reprinted reports, as portals run them together ------------------------------------------

def _meta(article) -> dict:
    return {kind: value for kind, value in article.metadata}


def test_original_title_run_into_the_dateline():
    a = parse_article("原标题：某市将推出新的公交线路，方便市民出行中新网某市7月6日电 (记者 张三)中新网记者6日了解到，"
                      "某市将于下月开通三条公交线路。新线路覆盖城东各社区。(完)返回搜狐，查看更多责任编辑：", "bus")
    assert a.title == "某市将推出新的公交线路，方便市民出行"
    assert _meta(a) == {"source": "中新网某市7月6日电", "place": "某市", "date": "7月6日", "author": "记者 张三"}
    last = a.sections[-1].paragraphs[-1]
    assert last.endswith("新线路覆盖城东各社区。") and "返回搜狐" not in last and "(完)" not in last


def test_a_caption_and_its_photo_credit_before_the_dateline_are_dropped():
    a = parse_article("某团队的实验装置示意图。图片来源：某某大学科技日报北京8月2日电 （记者李四）某国科学家研制出一种新型电池，"
                      "能量密度提高一倍。相关论文刊发于最新一期《能源》杂志。分享让更多人看到", "battery")
    assert a.sections[0].paragraphs[0].startswith("科技日报北京8月2日电")
    assert a.dropped == ("某团队的实验装置示意图。图片来源：某某大学",)
    assert _meta(a)["source"] == "科技日报北京8月2日电" and _meta(a)["author"] == "记者李四"
    assert not a.sections[-1].paragraphs[-1].endswith("分享让更多人看到")


def test_a_bare_byline_after_the_dateline_is_the_author():
    a = parse_article("中新网某地8月13日电 (王五)12岁的小明兴奋地发现，自己的照片贴在展示墙上。活动持续一周。", "camp")
    assert _meta(a)["author"] == "王五" and a.title.startswith("12岁的小明兴奋地发现") and "王五" not in a.title


def test_print_jump_marks_are_taken_out():
    a = parse_article("某县推进乡村振兴\n本报讯 记者赵六报道 某县今年新建道路20公里（下转第四版）。\n（上接第一版）全县村村通公路。", "road")
    text = "".join(a.sections[0].paragraphs)
    assert "下转" not in text and "上接" not in text and "全县村村通公路。" in text


def test_photo_credits_and_the_editor_are_metadata_and_captions_leave_the_text():
    a = parse_article("某区举办海洋文化节\n"
                      "某某网青岛8月5日讯（记者 张三 通讯员 李四）8月5日，第十届海洋文化节开幕，吸引游客3万人次。\n"
                      "活动现场。赵六 摄\n"
                      "纪录片拍摄\n"
                      "文化节持续三天，共设20个展区，游客可以品尝海鲜、观看演出、参加帆船体验活动。（记者 钱八 摄）\n"
                      "图为开幕式现场，游客在观看表演。（某区宣传部供图）\n"
                      "（责任编辑：孙七）", "festival")
    photos = [value for kind, value in a.metadata if kind == "photo"]
    assert photos == ["赵六 摄", "记者 钱八 摄", "某区宣传部供图"]
    assert _meta(a)["editor"] == "孙七" and _meta(a)["author"] == "记者 张三 通讯员 李四"
    paragraphs = [p for s in a.sections for p in s.paragraphs]
    assert paragraphs[-1] == "文化节持续三天，共设20个展区，游客可以品尝海鲜、观看演出、参加帆船体验活动。"   # kept, less its credit
    assert a.sections[-1].heading == "纪录片拍摄"                     # a heading ending in 摄 is no credit
    assert not any("图为" in p or "活动现场" in p for p in paragraphs)
