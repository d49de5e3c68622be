"""The editor's report: recording without identifying anyone, grouping refused questions by
meaning, the report in text, JSON and PNG, /report and /forget in Telegram."""
import json
import sqlite3
import time

import pytest

from conftest import LANSHAN, run_cli
from bot import runtime
from bot.config import load_settings
from bot.insights import report
from bot.insights.record import Insights

# Three topics the Lanshan article lacks, each in several wordings, and one it has.
LACKING = {
    "weather": ["岚山这周会下雨吗", "岚山今天气温多少度", "岚山周末天气好不好"],
    "housing": ["岚山买房一平米多少钱", "岚山的二手房贵不贵", "岚山新楼盘均价多少"],
    "rail": ["岚山到北京的高铁要几个小时", "从岚山坐火车去上海要多久", "岚山坐动车到济南要多长时间", "岚山到青岛的火车要开多久"],
}
PRESENT = ["岚山区委书记是谁", "谁是岚山的区委书记", "岚山区委书记叫什么名字"]


@pytest.fixture()
def recorded(index_dir, tmp_path):
    conversations = runtime.conversations(load_settings(), index_dir, config_articles=False)
    insights = Insights(tmp_path / "insights.sqlite3",
                        embed=lambda q: conversations.answerer.searcher.embedder.encode_question(q)[0])
    conversations.recorder = insights
    answers = {q: conversations.reply(f"c{n}", q, who=f"tg:{1000 + n % 3}")
               for n, q in enumerate([q for qs in LACKING.values() for q in qs] + PRESENT)}
    insights.close()
    return tmp_path / "insights.sqlite3", answers


def test_each_lacking_topic_comes_out_as_its_own_group(recorded):
    path, answers = recorded
    made = report.build(path, 3600)
    assert made.questions == len(answers) and made.answered == len(PRESENT)
    assert all(answers[q].kind == "refusal" for qs in LACKING.values() for q in qs)
    group_of = {q: n for n, g in enumerate(made.unanswered) for q in g.examples}
    for topic, questions in LACKING.items():
        shown = [q for q in questions if q in group_of]
        assert len({group_of[q] for q in shown}) == 1, (topic, made.unanswered)
    assert len(made.unanswered) == 3 and [g.size for g in made.unanswered] == [4, 3, 3]
    assert not any(q in group_of for q in PRESENT)
    assert made.sections and made.passages and "焦春锋" in made.passages[0][1]


def test_the_report_as_text_json_and_chart(recorded, tmp_path):
    path, _ = recorded
    made = report.build(path, 3600)
    text = report.text(made)
    assert "读者提问 13 次，回答了 3 次（23%）" in text and "G1. 4 次" in text
    data = json.loads(json.dumps(made.to_json(), ensure_ascii=False))
    assert data["questions"] == 13 and data["unanswered"][0]["size"] == 4 and len(data["unanswered"][0]["examples"]) == 3
    png = report.chart(made, tmp_path / "report.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.text(report.build(path, 3600, now=time.time() + 7200)).endswith("没有记录到读者的提问。")
    assert "没有记录到" in report.text(report.build(tmp_path / "missing.sqlite3", 3600))


def test_forget_deletes_a_readers_rows_and_old_rows_are_pruned(recorded):
    path, _ = recorded
    insights = Insights(path)
    assert insights.forget("tg:1000") == 5 and insights.forget("tg:1000") == 0
    assert insights.prune(now=time.time() + 91 * 86400) == 8
    insights.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM quoted").fetchone()[0] == 0   # cascaded


def test_recording_costs_little_and_nothing_identifying_is_stored(tmp_path):
    from bot.chat.answer import Answer
    insights = Insights(tmp_path / "i.sqlite3")
    answer = Answer("岚山区委书记是谁", True, (), "…", kind="quote")
    started = time.perf_counter()
    for n in range(10_000):
        insights.record(f"tg:{123456789 + n}", answer, 0.002)
    per_record = (time.perf_counter() - started) / 10_000
    insights.close()
    raw = (tmp_path / "i.sqlite3").read_bytes()
    assert b"123456789" not in raw and b"tg:" not in raw
    assert per_record < 0.001   # generous: it only queues (about 5 microseconds here)
    key = tmp_path / "i.sqlite3.key"
    assert key.stat().st_mode & 0o077 == 0


def test_the_cli_report(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"articles: ['{LANSHAN}']\nindex_dir: '{tmp_path / 'idx'}'\n"
                      f"insights: {{path: '{tmp_path / 'insights.sqlite3'}'}}\n", encoding="utf-8")
    assert run_cli("--config", config, "index").returncode == 0
    assert "没有记录到" in run_cli("--config", config, "report").stdout
    for question in ("岚山区委书记是谁", "岚山明年的GDP目标是多少"):
        assert run_cli("--config", config, "ask", question).returncode == 0
    result = run_cli("--config", config, "report", "--since", "1d", "--json", "--png", tmp_path / "r.png")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["questions"] == 2 and (tmp_path / "r.png").stat().st_size > 1000
    assert run_cli("--config", config, "report", "--since", "yesterday").returncode == 2
    scratch = run_cli("--config", config, "ask", "岚山区委书记是谁", "--index-dir", tmp_path / "idx2")
    assert scratch.returncode == 1   # no index there; and a scratch index is never recorded anyway


@pytest.mark.e2e
def test_report_and_forget_in_telegram_and_nothing_identifying_anywhere(tmp_path):
    from test_telegram_e2e import TOKEN, Bot, plain
    folder, insights = tmp_path / "index", tmp_path / "insights.sqlite3"
    assert run_cli("index", LANSHAN, "--index-dir", folder).returncode == 0
    bot = Bot(folder, tmp_path, f"insights: {{path: '{insights}'}}\n"
                                "telegram: {poll_timeout: 1, typing_after: 0, admin_ids: [77]}\n").start()
    try:
        readers = {424242001: "Zhang", 424242002: "Wang"}
        for user in readers:
            for n, question in enumerate(["岚山区委书记是谁", "岚山这周会下雨吗"], 1):
                bot.api.message(question, user_id=user)
                bot.replies(user, n)
        bot.api.message("/start", user_id=424242001)
        assert "/forget" in plain(bot.replies(424242001, 3)[2]["params"]["text"])
        bot.api.message("/report", user_id=424242002)   # not an admin
        assert "只有管理员" in bot.replies(424242002, 3)[2]["params"]["text"]
        time.sleep(1)   # the recorder writes within half a second
        bot.api.message("/report 1d", user_id=77)
        text = plain(bot.replies(77)[0]["params"]["text"])
        assert "读者提问 4 次，回答了 2 次" in text and "岚山这周会下雨吗" in text
        bot.api.wait_for(lambda s: s["method"] == "sendPhoto" and s["params"]["chat_id"] == 77)
        raw = insights.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("insights.sqlite3-*"))
        for secret in [str(u).encode() for u in readers] + [n.encode() for n in readers.values()] + [TOKEN.encode()]:
            assert secret not in raw and secret.decode() not in text
        bot.api.message("/forget", user_id=424242001)
        assert "已删除你的记录：2 条提问记录" in plain(bot.replies(424242001, 4)[3]["params"]["text"])
        bot.api.message("/report 1d", user_id=77)
        assert "读者提问 2 次" in plain(bot.replies(77, 2)[1]["params"]["text"])
    finally:
        bot.stop()


def test_readers_verdicts_are_kept_with_their_answers_and_the_hours_are_the_newsrooms(tmp_path):
    from bot.chat.answer import Answer, Quote
    insights = Insights(tmp_path / "insights.sqlite3")
    quote = Quote("岚山区委书记焦春锋表示……", "岚山", "", 1, 0.9, number=5)
    insights.record("tg:1", Answer("书记是谁", True, (quote,), "…"), 0.002, feedback=4242)
    insights.record("tg:2", Answer("镇长是谁", True, (quote,), "…"), 0.002, feedback=77)
    assert insights.verdict("tg:1", 4242, good=False)
    assert not insights.verdict("tg:2", 4242, good=True)   # another reader's answer: not theirs to judge
    assert insights.verdict("tg:2", 77, good=True)
    insights.close()
    shanghai = report.build(tmp_path / "insights.sqlite3", 3600)
    assert shanghai.marked_wrong == [("书记是谁", "岚山区委书记焦春锋表示……", 1, "", "")] and shanghai.liked == 1
    text = report.text(shanghai)
    assert "读者点了“没答对”的回答" in text and "“书记是谁” → “岚山区委书记焦春锋表示……”" in text
    assert "最忙的时段（北京时间）" in text
    utc = report.build(tmp_path / "insights.sqlite3", 3600, timezone="UTC")
    hour = time.gmtime().tm_hour
    assert utc.by_hour[hour] == 2 and shanghai.by_hour[(hour + 8) % 24] == 2


def test_the_chart_is_labelled_in_chinese_with_whole_numbers(tmp_path):
    import warnings
    made = report.Report(time.time() - 3600, time.time(), None, questions=5, answered=2)
    made.by_hour[9], made.refused_by_hour[9] = 5, 3
    made.unanswered = [report.Group(3, ["岚山明天会下雨吗"]), report.Group(2, ["房价多少钱一平"])]
    assert report._cjk_font()   # the font package is installed with the project
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # matplotlib warns "Glyph … missing from font" for a label it cannot draw
        png = report.chart(made, tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_laughter_and_links_are_not_grouped_as_what_readers_wanted(tmp_path):
    import numpy as np
    from bot.chat.answer import Answer
    insights = Insights(tmp_path / "insights.sqlite3", embed=lambda q: np.ones(4, dtype=np.float32))
    for question in ("哈哈哈哈", "https://example.com/news 看看", "岚山明天会下雨吗"):
        insights.record("tg:1", Answer(question, False, (), "…", kind="refusal"), 0.001)
    insights.close()
    db = sqlite3.connect(tmp_path / "insights.sqlite3")
    grouped = [q for (q,) in db.execute("SELECT question FROM questions WHERE vector IS NOT NULL")]
    assert grouped == ["岚山明天会下雨吗"]


def test_groups_follow_the_topic_not_the_place_it_names(index_dir, tmp_path):
    topics = {
        "weather": ["明天会下雨吗", "这周天气怎么样", "周末气温多少度", "今天冷不冷", "下周会不会降温"],
        "housing": ["房价现在多少钱一平", "二手房贵不贵", "新楼盘均价多少", "买房要交多少首付", "租一套房子多少钱"],
        "transport": ["公交车几点收班", "打车起步价多少", "停车费怎么收", "地铁什么时候开通", "去机场坐几路车"],
    }
    settings = load_settings()
    conversations = runtime.conversations(settings, index_dir, config_articles=False)
    insights = runtime.insights(settings.model_copy(update={"insights": settings.insights.model_copy(
        update={"path": tmp_path / "insights.sqlite3", "key": tmp_path / "insights.key"})}), conversations.answerer)
    conversations.recorder = insights
    asked = [(topic, f"{place}{q}") for topic, qs in topics.items() for q in qs for place in ("岚山", "日照")]
    for n, (_, question) in enumerate(asked):
        assert conversations.reply(f"c{n}", question, who="tg:1").kind == "refusal", question
    insights.close()
    groups = report.build(tmp_path / "insights.sqlite3", 3600).unanswered
    # A question's twin in the other place is always in its group; one question of fifteen may
    # read closer to another topic (multilingual-e5 puts "打车起步价多少" with the prices of housing).
    assert len(groups) == 3 and all(abs(g.size - 10) <= 2 and g.size % 2 == 0 for g in groups), groups


def test_a_library_report_names_the_article_of_every_line_in_the_readers_words(tmp_path):
    """Three articles, a 👎, an unsure answer, banter: each line names its article, the reader's own
    words are shown (not the bot's rewrite), banter is not counted, and each article has its row."""
    import numpy as np
    from bot.chat.answer import Answer, Quote
    import hashlib
    insights = Insights(tmp_path / "insights.sqlite3",   # a vector of its own for each question
                        embed=lambda q: np.frombuffer(hashlib.sha256(q.encode()).digest(), dtype=np.uint8).astype(np.float32))

    def quote(article_id, title, sentence):
        return Quote(sentence, title, "", 1, 0.9, number=1, article_id=article_id)
    salary = Answer("他工资多少", True, (quote("pay", "杨维凯返乡创业", "杨维凯的收入……"),), "…",
                    understood_as="杨维凯工资多少", article_id="pay")
    insights.record("tg:1", salary, 0.01, feedback=11)
    insights.record("tg:2", Answer("奖金多少", True, (quote("award", "轮台表彰学子", "每人两千元奖励"),), "…",
                                   article_id="award", sure=False), 0.01)
    insights.record("tg:2", Answer("图书馆几点开门", True, (quote("library", "清水镇图书馆", "开到九点"),), "…",
                                   article_id="library"), 0.01)
    insights.record("tg:3", Answer("馆长的电话多少", False, (), "…", kind="refusal", article_id="library"), 0.01)
    insights.record("tg:3", Answer("哈哈哈 说得好", False, (), "😊", kind="smalltalk"), 0.01)
    assert insights.verdict("tg:1", 11, good=False)
    insights.close()
    made = report.build(tmp_path / "insights.sqlite3", 3600)
    assert made.questions == 4 and made.answered == 2 and made.unsure == 1 and made.wrong == 1   # no banter
    assert made.marked_wrong == [("他工资多少", "杨维凯的收入……", 1, "杨维凯返乡创业", "pay")]
    groups = {tuple(g.examples): g.articles for g in made.unanswered}
    assert groups == {("馆长的电话多少",): ["清水镇图书馆"], ("奖金多少",): ["轮台表彰学子"]}   # the unsure one too
    rows = {a.article: (a.questions, a.answered, a.unsure, a.wrong) for a in made.articles}
    assert rows == {"杨维凯返乡创业": (1, 1, 0, 1), "轮台表彰学子": (1, 0, 1, 0), "清水镇图书馆": (2, 1, 0, 0)}
    text = report.text(made)
    assert "回答了 2 次（50%），其中读者点了“没答对”的 1 次；没有把握、只引了最接近一句的 1 次" in text
    assert "“他工资多少” → “杨维凯的收入……”（《杨维凯返乡创业》）" in text and "杨维凯工资多少" not in text
    assert "1 次（《清水镇图书馆》）：“馆长的电话多少”" in text and "哈哈" not in text
    assert "· 《清水镇图书馆》：2 / 1 / 0 / 0" in text
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # every label drawable (CJK titles included)
        png = report.chart(made, tmp_path / "library.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
