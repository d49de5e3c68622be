"""Fast tier: news reports in the shapes agencies and papers write them, and answer types."""
import pytest

from index.language import answer_types
from index.sources.article import parse_article

BODY = "第二段写的是后续进展，内容很长很长。\n\n第三段是评论和展望。"


@pytest.mark.parametrize("first, source, place, date, author", [
    ("中新社南京8月9日电(记者 杨颜慈)记者9日从紫金山天文台获悉，八月银河迎来最佳观赏期。",
     "中新社南京8月9日电", "南京", "8月9日", "记者 杨颜慈"),
    ("新华社北京2月24日电（记者于佳欣）记者24日从商务部获悉，春节黄金周消费增长。",
     "新华社北京2月24日电", "北京", "2月24日", "记者于佳欣"),
    ("中新网上海3月1日电 (记者 陈静)上海今天发布新政策。", "中新网上海3月1日电", "上海", "3月1日", "记者 陈静"),
    ("人民网北京5月6日电（记者王伟、李娜）会议今天召开。", "人民网北京5月6日电", "北京", "5月6日", "记者王伟、李娜"),
    ("本报北京6月3日电（记者 张强 通讯员 刘洋）新馆今天开放。", "本报北京6月3日电", "北京", "6月3日", "记者 张强 通讯员 刘洋"),
    ("本报讯（记者 王磊）展览8日开幕。", "本报讯", None, None, "记者 王磊"),
    ("新华社华盛顿2023年1月5日电 美国政府宣布新措施。", "新华社华盛顿2023年1月5日电", "华盛顿", "2023年1月5日", None),
])
def test_datelines_of_agencies_and_papers(first, source, place, date, author):
    meta = parse_article(f"{first}\n\n{BODY}").metadata
    assert ("source", source) in meta
    assert (("place", place) in meta) if place else not any(k == "place" for k, _ in meta)
    assert (("date", date) in meta) if date else True
    assert (("author", author) in meta) if author else not any(k == "author" for k, _ in meta)


def test_a_source_line_on_top_is_metadata_never_the_title():
    article = parse_article("来源：北京青年报  |  2023年08月10日 05:53:50\n\n本报讯（记者 王磊）当国画遇上陶瓷，会怎样？"
                            "8月8日，“美在耕耘——孙海宁国画与陶瓷艺术展”在国家画院美术馆开幕。\n")
    assert ("source", "来源：北京青年报") in article.metadata
    assert ("date", "2023年08月10日 05:53:50") in article.metadata
    assert "来源" not in article.title and "？" not in article.title   # the lead's question is a hook
    assert article.title.startswith("“美在耕耘")


@pytest.mark.parametrize("lines, kind, value", [
    ("作者：张三  编辑：李四", "editor", "编辑：李四"),
    ("发布时间：2024-05-18 09:30", "date", "发布时间：2024-05-18 09:30"),
    ("2024/5/18", "date", "2024/5/18"),
    ("责任编辑：王五", "editor", "责任编辑：王五"),
])
def test_metadata_lines_anywhere_in_their_parts(lines, kind, value):
    article = parse_article(f"标题在这里\n\n{lines}\n\n正文第一段，写的是新闻。\n\n正文第二段。")
    assert (kind, value) in article.metadata


def test_an_untitled_wire_report_is_titled_by_its_news_not_its_formula():
    article = parse_article("中新社南京8月9日电(记者 杨颜慈)记者9日从中国科学院紫金山天文台获悉，八月银河迎来最佳观赏期。"
                            "月中起，英仙座流星雨将迎来极大。(完)")
    assert article.title == "八月银河迎来最佳观赏期" and article.title_from_text
    assert not article.passages()[-1].text.endswith("(完)")


def test_column_tag_and_open_dash_leave_the_title():
    assert parse_article("（经济）春节黄金周消费增长11%\n\n正文。").title == "春节黄金周消费增长11%"
    assert parse_article("如何在美国把贪官送进监狱——\n\n正文第一段。\n\n正文第二段。").title == "如何在美国把贪官送进监狱"


def test_a_part_heading_joins_its_subheading_and_doubled_captions_are_dropped():
    article = parse_article("专题标题\n\n第一部分的小标题：很长的说明文字\n\n正文一，内容足够长的一段话。\n\n"
                            "如何追回赃款——\n拿着判决打民事官司\n\n图片说明文字图片说明文字\n\n正文二，内容足够长的一段话。")
    headings = [s.heading for s in article.sections]
    assert headings == ["第一部分的小标题：很长的说明文字", "如何追回赃款——拿着判决打民事官司"]
    assert "图片说明文字图片说明文字" in article.dropped


@pytest.mark.parametrize("question, kind", [
    ("春节那七天全国商家一共卖了多少钱", "amount"),
    ("比上一年多了多少", "percent"),
    ("这个展要办到哪天", "date"),
    ("孙海宁画画多少年了", "duration"),
    ("他今年多大岁数", "duration"),
    ("孙海宁的老师是谁", "person"),
    ("二许主要是按美国哪部法律被起诉的", "work"),
    ("金银首饰为啥卖得这么好", "cause"),
    ("到时候一小时能看到多少颗", "number"),
    ("这家公司在哪里", "place"),
    ("是哪家医院做的手术", "organisation"),
    ("这次展览的主题是什么", ""),
    ("她是几零后", "generation"),
    ("之前都在哪些地方待过", "places"),
    ("看银河的话几月最合适", "month"),
    ("画展在哪儿办的", "venue"),
    ("几月几号开幕", "date"),
    ("他在哪工作", "place"),
    ("她觉得这种活动对孩子有啥好处", "opinion"),
])
def test_what_kind_of_answer_a_question_wants(question, kind):
    assert answer_types.wanted(question) == kind


@pytest.mark.parametrize("sentence, kind, answer", [
    ("全国零售和餐饮企业实现销售额约6780亿元，比去年增长11%。", "amount", "6780亿元"),
    ("全国零售和餐饮企业实现销售额约6780亿元，比去年增长11%。", "percent", "11%"),
    ("展览将在美术馆持续到8月13日。", "date", "8月13日"),
    ("从艺50余载，他不断锤炼笔墨。", "duration", "50余载"),
    ("师承国画大师齐白石先生的弟子韩不言先生。", "person", "韩不言"),
    ("首当其冲的是《反勒索及受贿组织法》。", "work", "《反勒索及受贿组织法》"),
    ("“90”后干部李明老练了许多。", "generation", "90"),
    ("8年前，他和妻子决定在长春安家。", "date", "8年前"),    # "哪年来的": a point in time, counted back
])
def test_a_sentence_holds_the_kind_and_says_which_words(sentence, kind, answer):
    assert answer_types.holds(sentence) & answer_types.BIT[kind]
    assert answer in answer_types.spans(kind, sentence)


def test_a_sentence_without_the_kind_counts_against_it_where_the_kind_is_clear():
    flags = answer_types.holds("展览展出了他的代表作。")
    assert answer_types.matches("date", flags) == -1.0 and answer_types.matches("amount", flags) == -1.0
    assert answer_types.matches("", flags) == 0.0
    assert answer_types.matches("place", flags) == 0.0   # too loose a detector to rank by


def test_a_list_of_places_and_someones_words_are_kinds_that_only_ever_count_for_a_sentence():
    listed = answer_types.holds("周冠廷说，自己曾在北京、宁波、南京、柳州等地工作生活。")
    assert listed & answer_types.BIT["places"] and listed & answer_types.BIT["opinion"]
    assert {"北京", "柳州"} <= set(answer_types.spans("places", "曾在北京、宁波、南京、柳州等地工作"))
    assert not answer_types.holds("包括服装、电子产品和厨房用具等。") & answer_types.BIT["places"]
    assert not answer_types.holds("他来长春已有8年。") & answer_types.BIT["places"]   # one place is no list
    # A sentence without them still may answer ("去过北京"): they never count against it.
    assert answer_types.matches("places", 0) == 0.0 and answer_types.matches("opinion", 0) == 0.0


def test_a_month_is_named_by_its_number_not_by_a_time_within_some_month():
    assert answer_types.spans("month", "通常来说，八月的夜晚最适合观赏银河。") == ("八月",)
    assert answer_types.spans("month", "今年10月起实施，2023年8月13日开幕。") == ("10月", "8月")
    assert answer_types.matches("month", answer_types.holds("月中起，流星雨将迎来极大。")) == 0.0   # a time, maybe in it
    assert answer_types.matches("month", answer_types.holds("展出了三个月的作品。")) == -1.0


def test_a_titles_words_are_not_the_sentences_own_facts():
    flags = answer_types.holds("报道《追诉八年始末》分析道，二人的刑期都很长。")
    assert flags & answer_types.BIT["work"] and not flags & answer_types.BIT["duration"]
    assert answer_types.holds("两人分别被判25年和22年。") & answer_types.BIT["duration"]


def test_a_report_passing_on_another_outlets_news_says_whose_it_was():
    from bot.chat import about
    article = parse_article("中新网北京7月26日电 (记者 夏宾)据美国媒体《华尔街日报》报道，某平台将推出新业务。\n\n"
                            "知情人士表示，该计划将于8月初推出。", "w")
    answer = about.metadata([article], "source")
    assert answer.reply.startswith("来源：“中新网北京7月26日电”")
    assert "报道援引：“中新网北京7月26日电 (记者 夏宾)据美国媒体《华尔街日报》报道" in answer.reply
    assert answer.quotes[-1].answer == ("《华尔街日报》",)
    plain = parse_article("新华社北京2月24日电（记者于佳欣）记者24日从商务部获悉，消费增长。\n\n后续。", "x")
    assert "报道援引" not in about.metadata([plain], "source").reply


@pytest.mark.parametrize("report, title", [
    ("@中国天气 7月29日消息，受台风“杜苏芮”影响，昨天08时-今天08时，福建中部和北部以及沿海地区普遍出现了大到暴雨，部分地区大暴雨。",
     "福建中部和北部以及沿海地区普遍出现了大到暴雨"),
    ("央视网消息：据农业农村部网站消息，8—9月是秋粮作物产量形成的重要时节，也是病虫发生和防控的关键时期。",
     "8—9月是秋粮作物产量形成的重要时节"),
])
def test_an_untitled_report_is_not_titled_by_who_passed_it_on_or_by_its_circumstances(report, title):
    assert parse_article(report, "w").title == title


def test_a_lone_numeral_inside_a_word_is_not_shown_as_a_count():
    assert answer_types.spans("number", "一旦发现，一律不允许进入，初一至初三闭馆。") == ()
    assert answer_types.spans("number", "他是一名医生，一直在一线工作，有3个孩子。") == ("一名", "3个")


def test_of_two_sentences_holding_a_date_the_one_with_it_beside_the_questions_words_answers():
    from bot.chat.answer import _gap
    near = "知情人士表示，tiktok将于8月初在美国推出该计划。"
    far = "自去年以来，多家电商平台在世界各地推出了类似的项目。"
    dateline = "中新网长春8月13日电 (记者 某某)当地一直阴天。"
    assert _gap(near, answer_types.spans("date", near), ["推出"]) <= 6 < _gap(far, answer_types.spans("date", far), ["推出"])
    assert _gap(dateline, answer_types.spans("date", dateline), ["长春"]) > 6   # a dateline's date answers nothing


def test_where_an_event_is_held_is_the_place_before_its_verb():
    sentence = "8月8日，“美在耕耘——孙海宁国画与陶瓷艺术展”在中国国家画院美术馆开幕。"
    assert answer_types.spans("venue", sentence) == ("中国国家画院美术馆",)
    assert answer_types.matches("venue", answer_types.holds("他在北京生活了二十年。")) == 0.0   # never counts against
