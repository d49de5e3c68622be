"""End-to-end tier: a conversation about one forwarded report, in the reader's own words — through
the CLI (ask --jsonl) and through Telegram — on a one-paragraph wire report made for the test."""
import json

import pytest

from conftest import DATA, run_cli
from test_telegram_e2e import Bot, plain

pytestmark = pytest.mark.e2e
REPORT = DATA / "wire_smart_campus.txt"
# (message, what the reply must hold): the spoken register, a bare count that leans on the previous
# answer, a quotation's speaker named after it, and an age the report never gives.
TURNS = [
    ("这新闻讲的啥", "智慧校园"),
    ("每所学校给了多少钱啊", "50万元"),
    ("几所？", "12所"),
    ("评选搞了几回了", "三届"),
    ("王建国多大岁数", "报道提到了王建国，但没有说年龄。最接近的一句是：\n“"),   # and the sentence itself
]


@pytest.fixture(scope="module")
def report_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wire") / "index"
    assert run_cli("index", REPORT, "--index-dir", folder).returncode == 0
    return folder


def test_five_turns_through_the_cli(report_index):
    lines = "\n".join(json.dumps({"question": q, "conversation": "c"}, ensure_ascii=False) for q, _ in TURNS)
    result = run_cli("ask", "--jsonl", "--index-dir", report_index, stdin=lines + "\n")
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["kind"] for a in answers] == ["overview", "quote", "quote", "quote", "refusal"]
    for (question, expected), answer in zip(TURNS, answers):
        assert expected in answer["reply"], (question, answer["reply"])
    assert answers[2]["understood_as"].endswith("几所？")   # the count is read in the previous question's topic


def test_five_turns_through_telegram(report_index, tmp_path):
    bot = Bot(report_index, tmp_path).start()
    try:
        for n, (question, expected) in enumerate(TURNS, 1):
            bot.api.message(question, user_id=4711)
            reply = plain(bot.replies(4711, n)[n - 1]["params"]["text"])
            assert expected in reply, (question, reply)
    finally:
        bot.stop()


def test_a_quotation_over_several_sentences_is_one_unit(tmp_path):
    report = tmp_path / "reading.txt"
    report.write_text("某市举办读书节\n\n本报讯 记者王五报道 某市第五届读书节昨日开幕。市图书馆馆长李红在开幕式上说：“读书是一辈子的事。"
                      "我们希望每个市民每年读十本书。今年我们还会开放夜间阅览室。”活动将持续一个月。\n", encoding="utf-8")
    assert run_cli("index", report, "--index-dir", tmp_path / "index").returncode == 0
    turns = [("c", "李红说了什么"), ("c", "这话是谁说的"), ("d", "今年还会开放什么"), ("d", "这话是谁说的")]
    lines = "\n".join(json.dumps({"question": q, "conversation": c}, ensure_ascii=False) for c, q in turns)
    said, who, later, whose = [json.loads(line) for line in run_cli(
        "ask", "--jsonl", "--index-dir", tmp_path / "index", stdin=lines + "\n").stdout.splitlines()]
    assert said["quotes"][0]["text"].endswith("开放夜间阅览室。”")   # the quotation closed, not cut at its first sentence
    assert who["kind"] == "quote" and "李红" in who["quotes"][0]["text"]
    # Its last sentence, quoted alone, is shown as a quotation's end, and its speaker is found before it.
    assert "“…今年我们还会开放夜间阅览室。”" in later["reply"]
    assert whose["kind"] == "quote" and "李红" in whose["quotes"][0]["text"]


def test_a_refused_turn_does_not_end_the_conversation_and_words_come_before_their_speaker(report_index):
    turns = ["王建国是谁", "教育局的电话是多少", "他说了什么"]
    lines = "\n".join(json.dumps({"question": q, "conversation": "r"}, ensure_ascii=False) for q in turns)
    who, refused, said = [json.loads(line) for line in run_cli(
        "ask", "--jsonl", "--index-dir", report_index, stdin=lines + "\n").stdout.splitlines()]
    assert who["kind"] == "quote" and refused["kind"] == "refusal"
    assert refused["reply"].startswith("这篇报道没有提到联系方式")
    assert said["understood_as"] == "王建国说了什么"   # 他: the person of the last answered turn
    assert said["quotes"][0]["text"].startswith("“我们希望用三年时间")   # what he said, then that he said it
    assert said["quotes"][0]["text"].endswith("王建国说。")


def test_a_question_nothing_plainly_missing_from_gets_the_closest_sentence_said_to_be_only_that(report_index):
    """In one report, what the many-report gate would refuse but the report does not plainly lack
    is answered by its closest sentence, said to be only that."""
    line = json.dumps({"question": "农村孩子将来怎么办", "conversation": "u"}, ensure_ascii=False)
    answer = json.loads(run_cli("ask", "--jsonl", "--index-dir", report_index, stdin=line + "\n").stdout)
    assert answer["kind"] == "quote" and answer["sure"] is False
    assert answer["reply"].startswith("报道里没有把握找到确切的答案，最接近的是：\n“")
    assert "农村学校" in answer["quotes"][0]["text"]


def test_a_reaction_gets_a_short_reply_and_another_language_a_request_for_chinese(report_index):
    turns = ["王建国是谁", "👍", "哈哈 厉害", "what did he say", "他说了什么"]
    lines = "\n".join(json.dumps({"question": q, "conversation": "e"}, ensure_ascii=False) for q in turns)
    who, thumb, laugh, english, said = [json.loads(line) for line in run_cli(
        "ask", "--jsonl", "--index-dir", report_index, stdin=lines + "\n").stdout.splitlines()]
    assert thumb["reply"] == laugh["reply"] == "😊" and thumb["kind"] == "smalltalk"
    assert english["kind"] == "refusal" and english["reply"].startswith("请用中文提问") and not english["quotes"]
    assert said["understood_as"] == "王建国说了什么"   # the conversation goes on past them


def _conversation_about(report_text: str, questions, folder) -> list[dict]:
    """The replies to one conversation (questions in order) about a report made for the test."""
    report = folder / "report.txt"
    report.write_text(report_text, encoding="utf-8")
    assert run_cli("index", report, "--index-dir", folder / "index").returncode == 0
    asked = "".join(json.dumps({"question": q, "conversation": "c"}, ensure_ascii=False) + "\n" for q in questions)
    done = run_cli("ask", "--jsonl", "--index-dir", folder / "index", stdin=asked)
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_why_after_an_answer_told_as_a_consequence_quotes_the_sentence_before(tmp_path):
    replies = _conversation_about("两名贪官在美国受审\n\n本报讯 两人在国内贪污后把赃款转到美国。这两个人用了外地赌场洗钱。"
                                  "所以，最后都是在赌场所在的州被联邦法院审判。\n\n两人后来都被判了刑。\n",
                                  ("他们最后在哪儿被审判的", "为啥是那儿"), tmp_path)
    assert "所以，最后都是在赌场所在的州" in replies[0]["reply"]
    assert replies[1]["quotes"][0]["text"] == "这两个人用了外地赌场洗钱。"


def test_a_sentence_going_on_by_a_pronoun_is_quoted_with_the_one_it_refers_to(tmp_path):
    [answer] = _conversation_about("夏夜星空迎来观赏期\n\n本报讯 八月的夜晚最适合观赏银河。在西方文化中，织女星所在的天琴座也是"
                                   "充满浪漫气息的星座。它是希腊神话人物俄耳甫斯手中七弦琴的化身。\n\n月中起还能看到流星雨。\n",
                                   ("天琴座在西方有什么传说",), tmp_path)
    assert "天琴座也是充满浪漫气息的星座。它是希腊神话人物俄耳甫斯手中七弦琴的化身。" in answer["quotes"][0]["text"]


def test_more_after_someones_words_is_what_they_say_next(tmp_path):
    replies = _conversation_about("社区表彰优秀学子\n\n本报讯 8月14日，社区举办优秀学子表彰活动，学子和家长代表50余人参加。"
                                  "社区书记张明德对学子提出了几点希望：“一是孝顺，二是感恩，三是奋斗。”学子们也纷纷表示，"
                                  "一定不辜负社区的希望。家长们希望孩子们在大学里好好学习。最后张明德表示，知识改变命运，"
                                  "教育成就未来。下一步，社区将继续做好对学子的教育帮扶。\n",
                                  ("社区书记对学子提了啥希望", "还有呢"), tmp_path)
    assert "一是孝顺" in replies[0]["quotes"][0]["text"]
    assert "知识改变命运" in replies[1]["quotes"][0]["text"]


def test_a_name_typed_with_a_homophone_is_answered_as_the_reports_and_the_reply_says_so(report_index):
    line = json.dumps({"question": "王建果说了啥", "conversation": "h"}, ensure_ascii=False)
    answer = json.loads(run_cli("ask", "--jsonl", "--index-dir", report_index, stdin=line + "\n").stdout)
    assert answer["kind"] == "quote" and answer["reply"].startswith("（按“王建国说了")
    assert "王建国" in answer["quotes"][0]["text"]


def test_a_figure_only_the_title_gives_is_quoted_from_the_title(tmp_path):
    rescued, trucks = _conversation_about("暴雨引发山洪 消防连夜救出被困群众300余人\n\n本报讯 8月1日夜间，某县遭遇强降雨，"
                                          "多个村庄被洪水围困。\n\n接到报警后，县消防救援大队出动12辆消防车赶赴现场，"
                                          "连夜转移被困群众。\n", ("一共救了多少人", "出动了几辆消防车"), tmp_path)
    assert "300余人" in rescued["quotes"][0]["text"] and rescued["quotes"][0]["section"] == "标题"
    assert "12辆消防车" in trucks["quotes"][0]["text"]   # the body's own figure stays the answer


def test_a_recommendation_asked_of_a_report_that_gives_none_is_refused_saying_so(tmp_path):
    [answer] = _conversation_about("某县举办招商推介会\n\n本报讯 8月1日，某县举办招商推介会，推介当地海洋食品等重点产业，"
                                   "签约项目12个。\n", ("推荐一家当地的饭店",), tmp_path)
    assert answer["kind"] == "refusal" and "推荐或评价" in answer["reply"].split("。")[0]


def test_when_someone_came_is_answered_by_a_time_counted_back_in_a_sentence_that_says_he(tmp_path):
    [answer] = _conversation_about("台胞在长春安家\n\n本报讯 台胞周冠廷说话依旧保持着很浓的闽南口音。"
                                   "周冠廷说，自己早年从事汽车行业，曾在北京、宁波等地工作生活。8年前，他和妻子决定在长春安家，"
                                   "做起了餐饮行业。如今周冠廷的餐馆已有3家分店。\n", ("周冠廷哪年来的长春",), tmp_path)
    assert answer["quotes"][0]["text"].startswith("8年前，他和妻子决定在长春安家")
