"""How a library message is read: the story it names, the question it asks, who "他" is after it;
and the /start link that names one report."""
import pytest

from bot.chat import followup, intent, stories
from index.language import text


@pytest.mark.parametrize("message, reference, question", [
    ("吉林台联亲子夏令营那个，12岁的那个男孩叫啥", "吉林台联亲子夏令营", "12岁的那个男孩叫啥"),
    ("孙海宁那个画展，在哪儿办的", "孙海宁", "画展，在哪儿办的"),
    ("12岁的那个男孩叫啥", "", "12岁的那个男孩叫啥"),        # a number describes someone, it names no story
    ("第一个的那个人是谁", "", "第一个的那个人是谁"),
])
def test_a_message_is_split_into_the_story_it_names_and_what_it_asks(message, reference, question):
    assert stories.split(text.normalise(message)) == stories.Split(reference, text.normalise(question))


def test_a_camp_is_no_person_and_he_is_the_person_the_question_named():
    asked = "长春那个台胞亲子夏令营的报道，周冠廷说话还有台湾口音不"
    assert followup.person_names(asked) == ["周冠廷"]
    previous = followup.Previous(text.Message.of(asked), "来大陆工作生活20余年的台胞周冠廷，依旧保持着很浓的闽南口音。")
    assert followup.rewrite("他哪年来的长春", previous) == "周冠廷哪年来的长春"


def test_a_question_that_leaves_out_who_is_about_the_person_just_asked_about():
    previous = followup.Previous(text.Message.of("周冠廷哪年来的长春"), "8年前，他和妻子决定在长春安家。")
    assert followup.rewrite("之前都在哪些地方待过", previous) == "周冠廷之前都在哪些地方待过"
    assert followup.rewrite("一共多少人", previous) == "一共多少人"         # no time or manner word first
    assert followup.rewrite("都有谁去了", previous) == "都有谁去了"         # asks who: it names nobody
    unnamed = followup.Previous(text.Message.of("画展在哪儿办的"), "展览在美术馆举办。")
    assert followup.rewrite("之前办过几次", unnamed) == "之前办过几次"      # nobody was asked about


def test_she_after_a_question_about_someones_mother_is_the_mother():
    previous = followup.Previous(text.Message.of("高启硕妈妈以前去过大陆哪些地方"), "陈韦伟和孩子到访过浙江乌镇、福建漳州等地。")
    assert followup.rewrite("她觉得这种活动有啥好处", previous) == "高启硕妈妈觉得这种活动有啥好处"
    assert followup.rewrite("他觉得这种活动有啥好处", previous) == "高启硕觉得这种活动有啥好处"


@pytest.mark.parametrize("message, event", [
    ("啥时候推出", True), ("在哪儿开幕", True),
    ("这篇什么时候发的", False), ("这条消息是从哪里发出的", False), ("这是哪天发布的", False),
])
def test_when_or_where_of_something_done_is_not_the_reports_date_or_place(message, event):
    assert intent._names_an_event(message) is event


def test_a_follow_up_naming_a_thing_of_its_own_is_not_read_as_going_on_from_the_last_answer():
    from types import SimpleNamespace
    from bot.chat.conversation import _subject_of_its_own
    quote = SimpleNamespace(text="今年英仙座流星雨的极大出现在北京时间8月13日，辐射点彻夜不落。")
    leaning = SimpleNamespace(question="今年后半夜还能看吗", answer=SimpleNamespace(quotes=[quote]))
    assert _subject_of_its_own(text.Message.of("看银河的话几月最合适"), leaning)
    assert not _subject_of_its_own(text.Message.of("比上一年多了多少"), leaning)
    assert not _subject_of_its_own(text.Message.of("流星雨几点最多"), leaning)


def test_an_article_named_like_anothers_link_key_gets_a_link_of_its_own():
    from types import SimpleNamespace
    from bot.telegram.first_contact import article_for_key, start_key
    chinese = "岚山报道"
    lookalike = start_key(chinese)   # an article whose file is named like the first one's key
    assert start_key("lanshan") == "lanshan" and lookalike.startswith("a")
    assert start_key(lookalike) != lookalike
    catalogue = SimpleNamespace(entries=[SimpleNamespace(id=lookalike), SimpleNamespace(id=chinese)])
    assert article_for_key(start_key(chinese), catalogue, ["lookalike", "chinese"]) == "chinese"
    assert article_for_key(start_key(lookalike), catalogue, ["lookalike", "chinese"]) == "lookalike"


def test_a_common_word_jieba_tags_as_a_name_is_no_person():
    # jieba's dictionary tags 师承 and 才华 as names; neither starts with a common surname.
    assert followup.person_names("自幼酷爱美术，师承国画大师齐白石先生的弟子韩不言先生。") == ["齐白石", "韩不言"]
    previous = followup.Previous(text.Message.of("他是干啥的"), "他的作品才华横溢，是文化传承的生动体现。")
    assert followup.rewrite("他老师是谁", previous) == "他老师是谁"
