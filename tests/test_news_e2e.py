"""End-to-end tier: a one-paragraph wire report indexed and asked about as readers ask, through the
CLI and through Telegram (the words that answer in bold, metadata from the dateline)."""
import json
import re

import pytest

from conftest import DATA, run_cli
from test_telegram_e2e import Bot

pytestmark = pytest.mark.e2e

PARIS = DATA / "paris_ai_summit.txt"   # 中新社巴黎10月16日电 (记者 李洋)…, one paragraph, no title


@pytest.fixture(scope="module")
def wire_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wire")
    result = run_cli("index", PARIS, "--index-dir", folder)
    assert result.returncode == 0, result.stderr
    return folder


def _converse(index_dir, turns):
    lines = "\n".join(json.dumps({"question": q, "conversation": c}, ensure_ascii=False) for c, q in turns)
    result = run_cli("ask", "--jsonl", "--index-dir", index_dir, stdin=lines + "\n")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_metadata_from_the_dateline_in_a_readers_words(wire_index):
    writer, agency, place, day = _converse(wire_index, [
        ("a", "这篇稿子是谁写的"), ("b", "哪家通讯社发的"), ("c", "记者在哪个城市发的稿"), ("d", "这是哪天的新闻")])
    assert writer["kind"] == "metadata" and "李洋" in writer["reply"]
    assert agency["kind"] == "metadata" and "中新社" in agency["reply"]
    assert place["kind"] == "metadata" and "巴黎" in place["reply"]
    assert day["kind"] == "metadata" and "10月16日" in day["reply"]


def test_facts_follow_ups_and_an_untitled_report_cited_by_its_news(wire_index):
    money, why, who_said, more = _converse(wire_index, [
        ("a", "法国政府打算花多少钱"), ("a", "为什么"), ("a", "这话是谁说的"), ("b", "马克龙说了什么")])
    assert money["kind"] == "quote" and "1.5亿欧元" in money["quotes"][0]["text"]
    assert money["quotes"][0]["article"].startswith("法国总统马克龙")   # not "中新社巴黎…电"
    assert why["kind"] == "quote" and "用于支持" in why["quotes"][0]["text"]
    assert who_said["kind"] == "refusal" and "报道本身" in who_said["reply"]   # no one is named saying it
    assert more["kind"] == "quote" and "马克龙" in more["quotes"][0]["text"]


def test_the_thing_it_does_not_say_is_refused(wire_index):
    (answer,) = _converse(wire_index, [("a", "峰会的门票多少钱")])
    assert answer["kind"] == "refusal"


def test_telegram_bolds_the_words_that_answer(wire_index, tmp_path):
    bot = Bot(wire_index, tmp_path).start()
    try:
        bot.api.message("预计有多少名代表出席峰会？", user_id=71)
        text = bot.replies(71)[0]["params"]["text"]
        assert re.search(r"<b>[^<]*1000[^<]*</b>", text), text
        bot.api.message("记者在哪个城市发的稿", user_id=72)
        text = bot.replies(72)[0]["params"]["text"]
        assert "<b>巴黎</b>" in text, text
    finally:
        bot.stop()


def _one_report_index(tmp_path, report_text: str):
    """A one-report index of `report_text`, built by the CLI; returns the report's file."""
    report = tmp_path / "report.txt"
    report.write_text(report_text, encoding="utf-8")
    assert run_cli("index", report, "--index-dir", tmp_path / "idx").returncode == 0
    return report


def test_a_follow_up_without_a_subject_is_answered_where_the_previous_answer_stands(tmp_path):
    _one_report_index(tmp_path, "本报讯（记者 张强）记者3日从市商务局获悉，春节假期全市消费市场平稳增长。2月10日至17日，全市零售和餐饮"
                                "企业实现销售额约120亿元，比去年同期增长8%。其中，餐饮企业营业额同比增长15%。电影票房收入突破2亿元。"
                                "市场供应充足，价格总体稳定。（完）\n")
    first, more = _converse(tmp_path / "idx", [("a", "春节期间全市零售和餐饮企业销售额有多少"), ("a", "比上一年多了多少")])
    assert first["kind"] == "quote" and "120亿元" in first["quotes"][0]["text"]
    assert more["kind"] == "quote" and "8%" in more["quotes"][0]["text"]


def test_a_list_spread_over_sentences_is_quoted_whole_in_the_reports_order(tmp_path):
    report = _one_report_index(tmp_path, "中新网长春8月13日电 (某某)台胞周某来大陆工作生活20余年，依旧保持着闽南口音。"
                                         "周某早年从事汽车行业，曾在北京、宁波、南京等地工作生活。8年前，周某在长春安家，做起了餐饮。"
                                         "后来，周某又到过通化、白山、延吉等地考察。周某说，长春的天气很舒服。(完)")
    reply, = _converse(tmp_path / "idx", [("a", "周某都去过哪些地方")])
    texts = [q["text"] for q in reply["quotes"]]
    listing = [t for t in texts if "、" in t]
    assert len(listing) == 2 and any("北京" in t for t in listing) and any("通化" in t for t in listing)
    assert texts[1:] == sorted(texts[1:], key=report.read_text(encoding="utf-8").find)   # the rest in order
