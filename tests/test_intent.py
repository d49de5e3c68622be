"""What a chat message asks for (end-to-end tier: the classifier reads the model's vectors), and how
follow-ups are rewritten (fast tier, no model)."""
import pytest

from bot.chat.followup import Previous, asks_reason, asks_speaker, relative_named, rewrite, wants_more
from bot.chat.intent import Intent, classify, is_foreign
from index.language.text import Message


@pytest.mark.parametrize("message, kind, detail", [
    ("嗨", "smalltalk", "greeting"),
    ("您好！", "smalltalk", "greeting"),
    ("早上好呀", "smalltalk", "greeting"),
    ("多谢！", "smalltalk", "thanks"),
    ("好的，谢谢你的回答", "smalltalk", "thanks"),
    ("拜拜", "smalltalk", "goodbye"),
    ("你会回答什么问题", "smalltalk", "about"),
    ("你是誰？", "smalltalk", "about"),                      # Traditional
    ("这篇文章说了什么？", "overview", ""),
    ("用几句话介绍一下这篇文章", "overview", ""),
    ("這篇報導主要講了什麼", "overview", ""),                 # Traditional
    ("概括一下", "overview", ""),
    ("文章有哪些部分", "sections", ""),
    ("目录", "sections", ""),
    ("文章分为几个部分？", "sections", ""),
    ("作者是谁", "metadata", "author"),
    ("记者叫什么名字", "metadata", "author"),
    ("文章出自哪里", "metadata", "source"),
    ("论文登在哪了", "question", ""),            # the paper the report tells of, not the report
    ("研究成果发表在哪本期刊", "question", ""),
    ("哪个网站发布的", "metadata", "source"),
    ("這篇報導是什麼時候發布的", "metadata", "date"),
    # Newsroom words, none of them an example the classifier was fitted on.
    ("这篇通稿是哪位记者采写的", "metadata", "author"),
    ("稿子出自哪家通讯社", "metadata", "source"),
    ("这条消息是哪份报纸登的", "metadata", "source"),
    ("这稿子啥时候发出来的", "metadata", "date"),
    ("电头写的是哪座城市", "metadata", "place"),
    ("谢谢啦，辛苦你了", "smalltalk", "thanks"),
    ("這篇新聞說的是什麼事", "overview", ""),
])
@pytest.mark.e2e
def test_article_level_intents(message, kind, detail, embedder):
    intent = classify(message, embedder)
    assert (intent.kind, intent.detail) == (kind, detail)


@pytest.mark.parametrize("message", [
    "你好，区委书记是谁",            # a greeting with a question is a question
    "会议是哪天召开的",              # a date, but not the article's
    "馆长说了什么",                  # "说了什么" about someone named: retrieval
    "记者在哪里采访了村民",          # 记者 in the story, not the byline
    "图书馆有多少册藏书？",
    "记者从哪里获悉了这个消息",      # the story's reporter, in the story
    "你好，区委书记是谁",
    "馆长是哪天上任的",              # a date in the story
    "展览在哪座城市举办",            # a place in the story
    "啥时候推出",                    # the date of what the report tells, not its own
    "在哪儿开幕",
])
@pytest.mark.e2e
def test_questions_about_the_content_are_questions(message, embedder):
    intent = classify(message, embedder)
    assert intent.kind == "question" or (intent.kind == "overview" and intent.detail), intent


@pytest.mark.e2e
def test_a_heading_named_with_what_is_it_about_keeps_the_words(embedder):
    assert classify("向稳讲了什么？", embedder).detail == "向稳"


def test_foreign_language():
    assert is_foreign("Which company projects passed the review?")
    assert not is_foreign("GDP是多少") and not is_foreign("2023")


PERSON_ANSWER = Previous("镇里的副镇长是谁", "走下擂台，该镇副镇长王秀兰这样描述这场比赛。")


@pytest.mark.parametrize("previous, message, expected", [
    (PERSON_ANSWER, "她说这是第几次", "王秀兰说这是第几次"),
    (Previous("区委书记是谁", "对此，区委书记张志远表示，干部是关键。"), "他表示了什么", "张志远表示了什么"),
    (Previous("马克龙是谁", "法国总统马克龙16日在巴黎宣布。"), "他说了什么", "马克龙说了什么"),
    (Previous("陈建国是做什么的", "馆长陈建国介绍，开放首周读者超过1500人次。"), "他的工资是多少", "陈建国的工资是多少"),
    (Previous("哪个社区是试点", "开展新型城市“样板社区”创建行动，以金牛岭社区为试点。"), "这个行动要做什么",
     "样板社区创建行动要做什么"),
    (Previous("陈建国是几零后", ""), "那张明呢", "张明是几零后"),
    (Previous("清水镇有多少人口", ""), "那河东镇呢", "河东镇有多少人口"),
    (Previous("清水镇有多少人口", ""), "河东镇怎么样", "河东镇有多少人口"),
    (Previous("陈建国是几零后", ""), "张明怎么样", "张明是几零后"),
])
def test_follow_ups_are_rewritten_against_the_previous_turn(previous, message, expected):
    assert rewrite(message, previous) == expected


@pytest.mark.parametrize("message", ["选派了多少名年轻干部呢", "其他人也参加了吗", "馆长是谁",
                                     "日照明天天气怎么样？", "天气怎么样"])
def test_questions_that_name_their_own_topic_start_afresh(message):
    assert rewrite(message, PERSON_ANSWER) == message


def test_more_please():
    assert wants_more("还有呢？") and wants_more("其他的呢") and not wants_more("还有哪些产业")


@pytest.mark.parametrize("previous, message, expected", [
    (Previous("孙海宁的老师是谁", "自幼酷爱美术，师承国画大师齐白石先生的弟子韩不言先生。"), "这个人又是什么来头",
     "韩不言又是什么来头"),
    (Previous("“二许”各被判了多少年", "他们一个判25年，另一个判22年。"), "他们的老婆呢", "“二许的老婆”各被判了多少年"),
    (Previous("区委书记是谁", "区委书记张志远表示，干部是关键。"), "此人说了什么", "张志远说了什么"),
    (Previous("书记叫啥", "社区党支部书记杨虎德同志对学子提出了希望。"), "他提了啥要求", "杨虎德提了啥要求"),
    (Previous("高启硕咋对航天感兴趣的", "卫星图片深深吸引了高启硕。"), "他妈妈老家哪的", "高启硕妈妈老家哪的"),
    (Previous("高启硕妈妈老家哪的", ""), "那他爸呢", "高启硕爸老家哪的"),
])
def test_follow_ups_about_a_person_named_in_the_answer_or_what_belongs_to_the_subject(previous, message, expected):
    assert rewrite(message, previous) == expected


@pytest.mark.parametrize("message, reason, speaker", [
    ("为什么", True, False), ("为啥呢？", True, False), ("这是怎么回事", True, False), ("那是什么原因", True, False),
    ("这话是谁说的", False, True), ("谁说的？", False, True), ("这句话是谁讲的", False, True),
    ("为什么春节消费增长", False, False), ("谁说了这句话以外的事", False, False), ("这篇是谁写的", False, False),
    ("为啥是那儿", True, False), ("为什么是他", True, False), ("为什么这样？", True, False),
])
def test_why_and_who_said_it_are_only_bare_follow_ups(message, reason, speaker):
    m = Message.of(message)
    assert (asks_reason(m), asks_speaker(m)) == (reason, speaker)


def test_a_relative_is_asked_about_by_the_name_the_report_gives():
    report = "两年前，高启硕和母亲陈某参加了夏令营。陈某的家乡在台湾桃园。"
    assert relative_named("高启硕母亲家乡哪里", report) == "陈某家乡哪里"
    assert relative_named("高启硕父亲家乡哪里", report) == "高启硕父亲家乡哪里"   # the report names no father


@pytest.mark.parametrize("message, photo", [
    ("照片是谁拍的", True), ("图片来源是哪", True), ("配图出自哪里", True),
    ("照片上是谁", False), ("他拍的是什么", False),
])
def test_who_took_the_pictures_is_asked_of_the_reports_photo_credits(message, photo):
    assert (classify(message) == Intent("metadata", "photo")) is photo


REPORT_OF_A_FAMILY = ("两年前，高某和母亲陈某参加了夏令营。陈某的家乡在台湾桃园。多年前，她与丈夫高某某在网上结缘。"
                      "来大陆20余年的台胞周某，依旧保持着闽南口音，他也很喜欢吃东北美食。")


def test_she_is_never_a_man_the_report_calls_he():
    from bot.chat.followup import gender
    assert gender("陈某", REPORT_OF_A_FAMILY) == "female" and gender("周某", REPORT_OF_A_FAMILY) == "male"
    after_a_man = Previous("周某有几个孩子", "来大陆20余年的台胞周某，依旧保持着闽南口音。")
    assert rewrite("她说了什么", after_a_man, REPORT_OF_A_FAMILY) == "陈某说了什么"   # the one woman it names
    assert rewrite("他说了什么", after_a_man, REPORT_OF_A_FAMILY) == "周某说了什么"
    assert rewrite("她说了什么", after_a_man) == "周某说了什么"   # no report to tell by: as before
