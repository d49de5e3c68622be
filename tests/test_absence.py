"""Fast tier: what a report plainly lacks that a question asks for (bot/chat/absence.py)."""
import pytest

from bot.chat import absence
from bot.chat.absence import lacking

REPORT = ("记者从某市了解到，张三1975年出生，现任某公司总经理。王五是公司副总经理。公司去年营收3亿元，员工共有800余人。"
          "该公司研发的量子计算机拥有53个量子比特。新工厂将于明年3月投产。")


@pytest.mark.parametrize("question, closest, missing", [
    ("王五多少岁", ["王五是公司副总经理"], "年龄"),
    ("张三的工资是多少", ["张三，现任某公司总经理"], "收入"),
    ("某市有多少人口", ["记者从某市了解到"], "人口"),
    ("公司的电话是多少", ["公司去年营收3亿元"], "联系方式"),
    ("新工厂有多少个车间", ["新工厂将于明年3月投产"], ""),          # 车间: a word the report never uses
    ("这台电脑有多少个比特", ["量子比特具有叠加态"], "比特的数量"),
    ("新工厂哪天投产", ["张三现任某公司总经理"], "时间"),
    ("李四是做什么的", ["张三现任某公司总经理"], "李四"),
    ("这家公司的计算机有多少", ["量子比特具有叠加态"], "计算机的数量"),
    ("领头的教授叫啥", ["张三现任某公司总经理"], "教授"),           # a role the report never names
    ("这是哪颗彗星带来的", ["量子比特具有叠加态"], "彗星"),
    ("某市明天天气怎么样", ["记者从某市了解到"], "天气"),
    ("某市的GDP是多少", ["公司去年营收3亿元"], "地区生产总值"),
    ("员工受伤能赔多少钱", ["员工共有800余人"], "赔偿"),
    ("从某市坐火车去省城要多久", ["员工共有800余人"], "路上要多久"),   # a count is no journey's time
    ("推荐一家某市的餐馆", ["员工共有800余人"], "推荐或评价"),
    ("公司一年卖多少斤", ["公司去年营收3亿元"], "重量"),               # the report gives money, not weight
])
def test_what_is_missing_is_named(question, closest, missing):
    assert lacking(question, closest, REPORT) == missing


@pytest.mark.parametrize("question, closest", [
    ("张三哪年出生的", ["张三1975年出生，现任某公司总经理"]),
    ("公司有多少员工", ["员工共有800余人"]),
    ("量子计算机有多少个量子比特", ["该公司研发的量子计算机拥有53个量子比特"]),
    ("新工厂什么时候投产", ["新工厂将于明年3月投产"]),
    ("公司去年赚了多少钱", ["公司去年营收3亿元"]),
    ("公司的员工有多少", ["员工共有800余人"]),
    ("副总经理叫啥", ["王五是公司副总经理"]),
    ("去年交了多少税", ["公司去年营收3亿元，纳税5000万元"]),
    ("是哪个单位研发的", ["该公司研发的量子计算机拥有53个量子比特"]),   # units are named otherwise
    ("这是哪家媒体报道的", ["记者从某市了解到"]),
    ("坐高铁到省城要几个小时", ["高铁开通后，到省城只要1小时"]),
])
def test_a_report_that_answers_is_not_refused(question, closest):
    assert lacking(question, closest, REPORT) == ""


def test_an_attribute_held_elsewhere_in_the_report_is_not_missing_unless_of_someone_else():
    report = "12岁的小明兴奋地发现了自己的照片。两年前，小明和母亲陈某参加了夏令营。"
    assert lacking("那个孩子多少岁", ["两年前，小明和母亲陈某参加了夏令营"], report) == ""
    assert lacking("陈某多少岁", ["两年前，小明和母亲陈某参加了夏令营"], report) == "年龄"


def test_the_reply_names_who_the_report_mentions_and_what_it_does_not_say():
    from bot.chat.absence import said_missing
    assert said_missing("王五多少岁", "年龄", REPORT) == "报道提到了王五，但没有说年龄"
    assert said_missing("某市有多少人口", "人口", REPORT) == "这篇报道没有提到人口"
    assert said_missing("李四是做什么的", "李四", REPORT) == "这篇报道没有提到李四"


def test_a_fee_is_missing_only_from_a_report_that_names_no_money():
    assert lacking("参观要交钱吗", ["新工厂将于明年3月投产"], "新工厂将于明年3月投产。") == "费用"
    assert lacking("参观要交钱吗", ["新工厂将于明年3月投产"], REPORT) == ""   # 3亿元: money is named


def test_what_comes_after_the_report_is_told_only_by_a_report_that_looks_ahead():
    past = "8月1日，某县举办了第三届荷花节，共接待游客2万人次。"
    assert lacking("下一届荷花节啥时候办", ["8月1日，某县举办了第三届荷花节"], past) == "以后的安排"
    ahead = past + "主办方表示，第四届荷花节将于明年7月举办。"
    assert lacking("下一届荷花节啥时候办", ["8月1日，某县举办了第三届荷花节"], ahead) == ""


def test_a_refusal_names_the_person_as_the_report_spells_them_where_jieba_cut_the_name_short():
    report = "两年前，高启硕和母亲参加了夏令营。高启硕对航空航天产生了浓厚兴趣。"
    said = absence.said_missing("高启硕的收入多少", "收入", report)
    assert said == "报道提到了高启硕，但没有说收入"


def test_a_count_in_other_words_is_no_missing_number():
    report = "此次表彰活动中，为考入一本院校的三名学子进行表彰，为考入重点高中的六名学子进行表彰。受表彰学生参加了活动。"
    closest = ["此次表彰活动中，为考入一本院校的三名学子进行表彰，为考入重点高中的六名学子进行表彰。"]
    assert lacking("表彰了多少学生", closest, report) == ""          # "三名学子" counts the students
    assert lacking("表彰了多少家长", closest, report + "家长也来了。") == "家长的数量"


def test_a_word_for_any_thing_is_no_name_the_report_lacks():
    report = "传统年货、服装、金银珠宝等商品销售呈现较快增长。"
    assert lacking("哪些东西销售好", [report], report) == ""   # jieba tags 东西 as a place


def test_a_sentence_with_the_asked_amount_of_the_asked_thing_answers_it():
    sentence = "共计发放12000元的助学金，为考入一本院校的三名学子给予每人两千元奖励。"
    assert absence.answers_the_focus("amount", "奖金", sentence)            # 奖金 said as 奖励
    assert not absence.answers_the_focus("amount", "门票", sentence)        # an amount, of something else
    assert not absence.answers_the_focus("date", "奖金", sentence)          # the thing, not the kind asked
    assert not absence.answers_the_focus("amount", "", sentence)            # nothing named to check against


def test_a_name_is_not_extended_over_a_particle():
    report = "岚山的钢铁产业发展迅速。高启硕对航空航天产生了浓厚兴趣。"
    assert absence.said_missing("岚山的GDP是多少", "地区生产总值", report) == "报道提到了岚山，但没有说地区生产总值"
    assert absence.said_missing("高启硕的收入多少", "收入", report) == "报道提到了高启硕，但没有说收入"
