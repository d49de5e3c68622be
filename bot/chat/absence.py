"""Evidence of absence: what a report lacks that a question asks for.

In a conversation about one report, an answer is refused — saying what is missing — when the
report plainly lacks what is asked: the attribute and its unit (an age needs 岁 or a birth year, a
salary the word for it, a count of bits a number before 比特), a kind of answer none of the closest
sentences holds (a date, an amount, a duration), or a name the report never mentions.
Every rule is general Chinese, never the words of one report (tests/test_absence.py).
"""
from __future__ import annotations

import functools
import re

import jieba

from bot.chat import thesaurus
from index.language import answer_types, text

# (what the question asks, what a sentence that answers must hold, how the reply names it)
_ATTRIBUTES = (
    (r"多少岁|几岁|多大岁数|多大年纪|多大了|年龄|年纪|哪一?年出生|出生于哪|哪一?年生的", r"岁|出生|生于|年龄|年纪|\d{4}年生", "年龄"),
    (r"工资|薪水|月薪|年薪|薪酬|收入多少|挣多少|赚多少", r"工资|薪|收入|报酬", "收入"),
    (r"人口", r"人口|常住|户籍", "人口"),
    (r"电话|手机号|联系方式|热线", r"电话|热线|手机|\d{7,}", "联系方式"),
    (r"身高|多高", r"身高|米|cm|厘米|公分", "身高"),
    (r"体重|多重|多少斤|几斤|多少公斤|几公斤|多少吨|几吨|多少克", r"体重|公斤|千克|斤|吨|克", "重量"),
    (r"面积|多少平方|多少平米|多少亩|几亩|占地多大", r"面积|平方|平米|亩|公顷|㎡|占地", "面积"),
    (r"多远|多少公里|几公里|距离多少|离.{1,8}有多少", r"公里|千米|米|里|距离|相距|车程", "距离"),
    (r"天气|气温|温度|下雨|下雪", r"天气|气温|温度|℃|摄氏度|雨|雪|晴|阴天|多云|风力", "天气"),
    # What comes after the report (the day after tomorrow, the next edition, next year) is told only
    # by a report that looks ahead to it.
    (r"后天|大后天|下一次|下次|下一届|下届|明年|下个月|下周|下星期",
     r"后天|下一次|下次|下一届|下届|明年|下个月|下周|下星期|今后|将于|将在|计划|预计|拟于|届时", "以后的安排"),
    # A recommendation or an opinion asked of the bot is answered only by a report that gives one.
    (r"推荐|哪家好|哪个好|哪家最好|值不值得|值得去吗|好不好吃|好不好玩|你觉得|你认为|你建议",
     r"推荐|建议|值得|口碑|好评|首选|不妨", "推荐或评价"),
    # How long a journey takes is said in hours or minutes of a way of travelling, not any count.
    (r"(?:坐|乘|搭|开)(?:火车|高铁|动车|飞机|汽车|大巴|客车|地铁|轮渡|船).{0,8}(?:多久|多长时间|几个?小时|多少分钟)|"
     r"(?:高铁|火车|动车|飞机|航班|车程|大巴|客车|地铁).{0,8}(?:多久|多长时间|几个?小时|多少分钟)",
     r"小时|分钟|车程|航程|直达", "路上要多久"),
    (r"GDP|gdp|生产总值|经济总量", r"GDP|gdp|生产总值|经济总量", "地区生产总值"),
    (r"财政收入|税收", r"财政|税收|税", "财政收入"),
    (r"门票|票价", r"票|免费", "票价"),
    (r"运费|邮费", r"运费|邮费|包邮|物流费", "运费"),
    (r"交钱|收费|费用|学费|报名费", r"费|免费|元|收取|缴纳|交纳", "费用"),
    (r"赔多少|赔偿|索赔|赔了", r"赔", "赔偿"),
)
_ATTRIBUTES = tuple((re.compile(a), re.compile(h), name) for a, h, name in _ATTRIBUTES)
_KIND_NAMES = {"number": "具体数字", "amount": "金额", "percent": "比例", "date": "时间", "duration": "时长",
               "work": "作品或文件的名称"}
# "多少个比特", "几名学生": a count of a thing, the thing named after the measure word.
_MEASURE = "[个名位种项件家条次只台座所批组届支辆架颗枚部本篇]"   # the measure words things are counted in
_COUNT_OF = re.compile(r"(?:多少|几)" + _MEASURE + r"?(?P<rest>[\u4e00-\u9fffA-Za-z]{2,8})")
# A number: digits, or Chinese numerals ("数百" counts by its 百; 数 or 多 alone is no number).
_NUMERAL = r"(?:\d+(?:\.\d+)?|[一二三四五六七八九十两百千万亿]+)"
# "美国用户有多少": the thing counted named before the question word, which ends the question.
_COUNT_AFTER = re.compile(r"(?P<before>[\u4e00-\u9fffA-Za-z]{2,12}?)(?:有|是|共有|一共有|总共有|一共|总共)多少"
                          r"(?:个|名|位|人)?[\s？?。.！!~～…]*$")
# Words after 多少/几 that are not things counted: units of time and measure, verbs, particles.
_NOT_COUNTED = re.compile(r"^(?:年|月|天|日|小时|分钟|秒|岁|周|星期|倍|成|元|块|万|亿|米|公里|吨|度|人次?|"
                          r"钱|回|遍|下|点|号|了|呢|吗|啊|呀|的|是|有|在|能|会|要|被|给|让|都|也|还|就|才|又)")


# "领头的教授叫啥", "那位专家是谁": the person or thing whose name is asked, named before the question
# words; "哪颗彗星", "哪几所学校": named after 哪 and a measure word.
_NAME_OF = re.compile(r"(?P<before>[\u4e00-\u9fffA-Za-z]{2,10}?)(?:叫啥|叫什么|是谁|是哪位|姓啥|姓什么|的名字)"
                      r"(?:名字?|呀|啊|呢|来着)?[\s？?。.！!~～…]*$")
_WHICH = re.compile(r"哪(?:一|几)?" + _MEASURE + r"(?P<after>[\u4e00-\u9fff]{2,6})")
_DEMONSTRATIVES = frozenset("这 那 这个 那个 这些 那些 该 此".split())   # "这东西" is no place
_COMMON_NOUN = ("n", "nz")   # jieba's tags; a name (nr, ns, nt) is checked by _names
# Kinds whose members are named without the kind's word ("哪个单位" is answered by "…研究所",
# "哪家媒体" by "《华尔街日报》"): their absence from a report tells nothing.
_KINDS_NAMED_OTHERWISE = frozenset(
    "单位 机构 部门 组织 企业 公司 学校 院校 媒体 平台 网站 地方 地区 国家 城市 省份 东西 人物 名字 时候 方面 "
    "项目 产品 品牌 活动 比赛 节目 作品 法律 报纸 杂志 通讯社 电视台 记者 作者 编辑 稿子 文章 报道 "
    # People described, not titled: "12岁的高启硕" is the boy, though no "某某男孩" is written.
    "男孩 女孩 男生 女生 孩子 小孩 小朋友 少年 少女 老人 男子 女子 男人 女人 小伙 姑娘 网友 市民 村民 居民 "
    "游客 患者 选手 学生 同学 家长 母亲 父亲 妈妈 爸爸 妻子 丈夫 儿子 女儿".split())


def lacking(question: str, closest: list[str], article: str, kinds: list[int] | None = None,
            wants: str | None = None) -> str:
    """What the report lacks that the question (in normal form) asks for, named for the reply
    ("年龄", "比特的数量", "时间"), or "" when nothing is plainly missing. `closest` are the
    closest sentences' texts, best first; `article` the report's whole text (normal form);
    `kinds` the answer kinds the closest sentences hold, as the index stores them, and `wants`
    the kind of answer the question asks for, as retrieval found it (both found here when not
    given)."""
    missing = lacking_attribute(question, closest, article)
    if missing:
        return missing
    counted = _counted_thing(question, article)
    if counted and not _counts(counted, "".join(closest)) and not _counted_otherwise(counted, "".join(closest)):
        return f"{counted}的数量"
    named = _thing_named(question, article)
    if named and named not in article:
        return named
    kind = answer_types.wanted(question) if wants is None else wants
    if kind in _KIND_NAMES and closest:
        kinds = kinds if kinds is not None else [answer_types.holds(sentence) for sentence in closest]
        if all(answer_types.matches(kind, flags) < 0 for flags in kinds):
            return _KIND_NAMES[kind]
    # A name the report never mentions leaves a pair of characters it never has: only then is the
    # question tagged (jieba's tagger is the slow part of this check).
    han = re.sub(r"[^\u4e00-\u9fff]", "", question)
    if all(han[i:i + 2] in article for i in range(len(han) - 1)):
        return ""
    missing = [name for name in _names(question) if name not in article]
    return missing[0] if missing else ""


def lacking_attribute(question: str, closest: list[str], article: str) -> str:
    """The attribute asked for (an age, a salary, the weather, a journey's time), named for the
    reply, when neither the closest sentences nor any other sentence of the report give it; else ""."""
    for asks, answers, name in _ATTRIBUTES:
        if asks.search(question) and not answers.search("".join(closest)) and not _held_elsewhere(question, article):
            return name
    return ""


def said_missing(question: str, missing: str, article: str) -> str:
    """The reply's words for what is missing: "报道提到了杨某，但没有说他的收入" when the question
    names someone the report mentions (and the missing thing is not that name), else
    "这篇报道没有提到年龄"."""
    named = [_whole_name(name, question, article) for name in _names(question) if name in article and name != missing]
    if named:
        return f"报道提到了{named[0]}，但没有说{missing}"
    return f"这篇报道没有提到{missing}"


# Particles and the commonest verbs: "岚山的GDP" names 岚山, though the report writes "岚山的" too.
_NEVER_IN_A_NAME = frozenset("的地得了着过是在和与及把被对从向也都就还又很有说")


def _whole_name(name: str, question: str, article: str) -> str:
    """The name as the report spells it where jieba cut it short in the question ("高启|硕长大"):
    extended by the question's next characters while the report writes them so (高启硕)."""
    at = question.find(name)
    end = at + len(name)
    while (at >= 0 and end < len(question) and len(question[at:end + 1]) <= 4 and question[end] not in _NEVER_IN_A_NAME
           and question[at:end + 1] in article):
        end += 1
    return question[at:end] if at >= 0 else name


def attribute(question: str) -> re.Pattern | None:
    """What a sentence must hold to answer the question's attribute (an age: 岁 or a birth year…),
    or None when it asks for none."""
    return next((answers for asks, answers, _ in _ATTRIBUTES if asks.search(question)), None)


def gives_attribute(question: str, sentence: str, article: str) -> bool:
    """Whether the sentence holds the attribute the question asks — of the person it names, when
    it names one the report mentions ("陈某多大岁数": 岁 in a sentence with 陈某)."""
    answers = attribute(question)
    named = [name for name in _names(question) if name in article]
    return bool(answers and answers.search(sentence)) and all(name in sentence for name in named)


def _held_elsewhere(question: str, article: str) -> bool:
    """Whether a sentence of the report gives the attribute asked (see gives_attribute)."""
    return any(gives_attribute(question, sentence, article) for sentence in re.split(r"(?<=[。！？!?；;])", article))


def _counts(thing: str, sentences: str) -> bool:
    """Whether the sentences give a number of the thing: "53个量子比特", "员工共有800余人"."""
    thing = re.escape(thing)
    return bool(re.search(_NUMERAL + r"\s*" + _MEASURE + r"?\s*[\u4e00-\u9fffA-Za-z]{0,4}?" + thing, sentences)
                or re.search(thing + r"[^。；;，,]{0,6}?" + _NUMERAL, sentences))


def answers_the_focus(asked_kind: str, focus: str, sentence: str) -> bool:
    """Whether a sentence holds the kind of answer asked (an amount for "奖金多少") about the thing
    asked, named as the question names it or otherwise ("奖金" as "奖励", a synonym or a compound on
    its first character): such a sentence is the answer, not merely the closest one."""
    if asked_kind not in answer_types.RANKED or len(focus) < 2 or not answer_types.spans(asked_kind, sentence):
        return False
    if focus in sentence or any(other in sentence for other in thesaurus.synonyms(focus)):
        return True
    return any(len(w) == 2 and w[0] == focus[0] and w != focus for w in jieba.lcut(sentence))


def _counted_otherwise(thing: str, sentences: str) -> bool:
    """Whether the sentences count the thing in other words: a synonym (Cilin), or a compound on
    its first character after a measure word ("学生" as "三名学子", "游客" as "五千名游人")."""
    if any(_counts(other, sentences) for other in thesaurus.synonyms(thing)):
        return True
    return len(thing) == 2 and re.search(_NUMERAL + r"\s*" + _MEASURE + re.escape(thing[0]) + r"[\u4e00-\u9fff]",
                                         sentences) is not None


def _thing_named(question: str, article: str) -> str:
    """The person or thing whose name a question asks ("领头的教授叫啥" → 教授, "哪颗彗星" → 彗星),
    when it is a noun whose members carry its word (a professor is "某某教授"), else ""."""
    before, which = _NAME_OF.search(question), _WHICH.search(question)
    if before:
        owner = before.group("before").rpartition("的")[0]
        if owner and (_names(owner) or owner in article):
            return ""   # "孙海宁的老师": a relation the report may put otherwise ("师承…")
        nouns = [w.word for w in text.tagged(before.group("before")) if w.flag in _COMMON_NOUN]
        thing = nouns[-1] if nouns else ""
    elif which:
        words = text.tagged(which.group("after"))
        thing = words[0].word if words and words[0].flag in _COMMON_NOUN else ""
    else:
        return ""
    named_otherwise = any(thing.startswith(kind) for kind in _KINDS_NAMED_OTHERWISE)   # "媒体报道"
    return thing if len(thing) >= 2 and not named_otherwise else ""


def _counted_thing(question: str, article: str) -> str:
    """The thing a "多少个X" or "X有多少" question counts, when the report names X at all (a word
    it never uses tells nothing: the reader may have put it in other words)."""
    match = _COUNT_OF.search(question)
    if match and not _NOT_COUNTED.match(match.group("rest")):
        words = jieba.lcut(match.group("rest"))
        thing = words[0] if words else ""
        return thing if len(thing) >= 2 and thing in article else ""
    before = _COUNT_AFTER.search(question)
    if before:
        nouns = [w.word for w in text.tagged(before.group("before")) if w.flag.startswith("n") and len(w.word) >= 2]
        thing = nouns[-1] if nouns else ""
        return thing if thing in article else ""
    return ""


@functools.lru_cache(maxsize=256)
def _names(question: str) -> list[str]:
    """Names of people and places in the question (jieba's nr/ns tags), which a report that never
    mentions them cannot be about."""
    words = text.tagged(question)
    return [w.word for n, w in enumerate(words)
            if w.flag in ("nr", "ns") and len(w.word) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", w.word)
            and w.word not in _KINDS_NAMED_OTHERWISE   # "东西", tagged a place, is any thing
            and not (n and words[n - 1].word in _DEMONSTRATIVES)]
