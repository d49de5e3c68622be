"""Fast tier: the spoken register read in written words (bot/chat/spoken.py)."""
import pytest

from bot.chat import spoken
from index.language import text


@pytest.mark.parametrize("asked, reads", [
    ("他以前干啥的", "他以前做什么的"),
    ("总共发了多少钱啊", "共计发了多少元"),
    ("啥时候开始啊", "什么时候开始"),
    ("他妈妈老家哪的", "他母亲家乡哪里"),
    ("陈某多大岁数", "陈某多少岁"),
    ("为啥要搞这个表彰", "为什么要举办这个表彰"),
    ("凭啥算得那么快", "为什么算得那么快"),
    ("这是头一回吧", "这是首次吧"),
    ("一年办几回", "一年办几次"),
    ("上好高中的有几个娃", "上好高中的有几个孩子"),
    ("上面能买衣服不", "上面能买衣服吗"),
    ("问下哈，那个小男孩多大了", "那个孩子多少岁"),
    ("它这么干图个啥", "它这么干目的是什么"),
    ("这东西有啥用", "这东西有什么作用"),
    ("两口子咋认识的", "夫妻怎么结识的"),
    ("普通电脑干不了嘛", "普通计算机无法"),
])
def test_spoken_words_read_as_written_ones(asked, reads):
    assert spoken.written(asked) == reads


@pytest.mark.parametrize("asked, report, reads", [
    ("总共发了多少钱", "此次共计发放12000元", "共计发了多少元"),
    ("总共发了多少钱", "合计发放12000元", "合计发了多少元"),
    ("一共来了多少人", "一共有50人参加", "一共来了多少人"),      # the report's own word is kept
    ("上好高中的有几个娃", "六名学子考入重点高中", "上好高中的有几个学子"),
    ("两口子咋认识的", "她与丈夫在网上结缘", "夫妻怎么结缘的"),
    ("评选搞了几回了", "评选已经举办了三届", "评选举办了几届了"),
    ("上面能买衣服不", "售卖服装、电子产品", "上面能买服装吗"),          # a synonym from the thesaurus
    ("他老家哪的", "他的祖籍是浙江", "他祖籍哪里"),
    ("一共卖了多少钱", "企业实现销售额约6780亿元", "共计销售多少元"),
])
def test_the_written_word_is_one_the_report_uses(asked, report, reads):
    assert spoken.written(asked, report) == reads


@pytest.mark.parametrize("written", ["岚山区委书记是谁？", "哈尔滨冰雪节什么时候开始", "整个项目投资多少",
                                     "不少人参加了吗", "调整后的目标是多少"])
def test_written_questions_are_left_as_they_are(written):
    assert spoken.written(written) == written and not spoken.is_spoken(written)


@pytest.mark.parametrize("message, is_count", [("几个？", True), ("一共多少条", True), ("那几种呢", True), ("那他呢", False),
                                               ("几条？", True), ("几个人参加了", False), ("多少", True)])
def test_a_bare_count_leans_on_the_previous_answer(message, is_count):
    from bot.chat import followup
    from index.language import text
    assert followup.asks_count(text.Message.of(message)) is is_count


def test_a_whole_quotation_is_not_quoted_twice():
    from bot.chat.answer import quoted
    assert quoted("“我们希望用三年时间。”") == "“我们希望用三年时间。”"
    assert quoted("他说：“好。”") == "“他说：“好。””"
    assert quoted("“甲”和“乙”都来了") == "““甲”和“乙”都来了”"
    assert quoted("今年还会开放夜间阅览室。”") == "“…今年还会开放夜间阅览室。”"     # a quotation's last sentence
    assert quoted("他说：“读书是一辈子的事。") == "“他说：“读书是一辈子的事。…””"     # its first


@pytest.mark.parametrize("message, kind", [
    ("搞了几回了", "question"), ("这是头一回吧", "question"), ("专家咋看这事", "question"),
    ("这东西有啥用", "question"), ("帮我总结一下呗", "overview"), ("再见", "smalltalk"), ("谢谢啦", "smalltalk"),
])
def test_intents_in_the_spoken_register(message, kind):
    from bot.chat import intent
    assert intent.classify(message).kind == kind


def test_the_thesaurus_gives_synonyms_of_two_characters_or_more():
    from bot.chat import thesaurus
    assert "服装" in thesaurus.synonyms("衣服") and "夫妻" in thesaurus.synonyms("两口子")
    assert all(len(word) >= 2 for word in thesaurus.synonyms("衣服"))   # not "服", "装"
    assert thesaurus.synonyms("不是一个词") == ()


@pytest.mark.parametrize("typed, read", [
    ("王建果说了什么", "王建国说了什么"),          # a name typed with a homophone
    ("黄导区有多少家企业", "黄岛区有多少家企业"),     # a district too
    ("王建国说了什么", "王建国说了什么"),          # written as the report writes it
    ("王局长什么时候说的", "王局长什么时候说的"),    # no name of the report sounds like it
])
def test_a_name_typed_with_the_wrong_homophone_is_read_as_the_reports_own(typed, read):
    from bot.chat.homophones import corrected
    report = text.normalise("杭州市教育局局长王建国说，黄岛区今年新增企业300家。")
    assert corrected(text.normalise(typed), report) == text.normalise(read)
