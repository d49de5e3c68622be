"""Answer types: what kind of thing a question asks for, and which kinds a sentence holds.

"多少钱" wants an amount, "哪天" a date, "多少年了" a duration, "谁" a person, "哪里" a place,
"哪家" an organisation, "为什么" a cause, "哪部法律" a titled work. A sentence that holds the kind
asked for is more likely the answer, and a question whose kind its best sentence lacks is more
likely one the article cannot answer: both the ranker and the refusal model read it (index/search/retrieve.py).
Every rule is general Chinese, never the words of one article. A passage's kinds are found once,
when the index is built, and stored with it as bit flags.
"""
from __future__ import annotations

import re

import jieba
import numpy as np

from index.language.text import word_tag

KINDS = ("number", "amount", "percent", "date", "duration", "person", "place", "organisation", "cause", "work",
         "generation", "places", "opinion", "month", "venue")
BIT = {kind: 1 << n for n, kind in enumerate(KINDS)}
# Kinds whose presence is clear enough to rank by: a number, a date or a title is there or not.
# Most sentences of a news report name a person, a place or a body somewhere, and a cause can be
# given without a word for it: ranking on those cost hit@1 on CMRC and DRCD. They still say which
# words to show in bold.
RANKED = frozenset({"number", "amount", "percent", "date", "duration", "work", "generation",
                    "places", "opinion", "month", "venue"})

# ---- what a question wants (checked in this order: the first that matches decides) --------------
_WANTS = [
    ("cause", r"为什么|为何|为啥|什么原因|啥原因|原因是|怎么会|何故|咋(?:这么|那么)|凭什么"),
    # "几零后": the decade a person was born in, said as "90后" / "八零后", not any number.
    ("generation", r"[几多][零〇0]后|几几后|哪个年代(?:的人|出生|生)"),
    # "都去过哪些地方": several places, which a report lists ("北京、宁波、南京等地"), not any place.
    ("places", r"哪些(?:地方|城市|国家|省份?|地区|县|区|市|镇|村)|哪几个(?:地方|城市|国家|省份?|地区)|哪几[省市国地]|"
               r"(?:都|还)(?:去|到|在|跑)(?:过|了)?哪(?:些|儿|里)"),
    # "几月最合适": a month ("八月", "8月"), which "月中" or "今年" does not name.
    ("month", r"几月(?!几?[号日]|\d)|几月份|哪个月|哪月"),
    ("date", r"什么时候|何时|哪一?年|哪一?天|几月|几号|何年|哪个月|日期|年份|哪个朝代|年代|几点|到哪天|哪一日|什么日子|多会儿"),
    ("duration", r"多久|多长时间|多少年|几年|多少天|几天|多少个?月|几个月|多少个?小时|几个?小时|多少分钟|几分钟|多少岁|几岁|多大岁数|多大年纪"),
    ("amount", r"多少钱|多少元|多少块|价格|价钱|售价|票价|花了多少|卖了多少|收入多少|金额|多少资金|多少经费|多贵|贵了多少|便宜了多少|"
               r"(?:工资|薪水|月薪|年薪|收入|营收|利润|销售额|成交额|投资额?|预算|经费|罚款|罚金|奖金|赔偿|费用|成本|市值)"
               r"(?:是|有|为|达到?|共|一共)?多少"),
    ("percent", r"百分之|百分比|比例|增长了多少|下降了多少|多了多少|少了多少|增幅|涨幅|降幅|占比|几成|比.{0,8}多了多少"),
    ("number", r"多少|几|多大|多高|多长|多重|多远|多快|多深|多宽|第几|数量|人数|几何"),
    # "她觉得这种活动有啥好处": what someone thinks, which a report gives as their words ("她说，…").
    ("opinion", r"觉得|认为|怎么看|看法|感受|感想|心情|体会"),
    ("work", r"哪部|哪本|哪首|哪篇|什么书|什么法律|哪项法律|哪条法律|什么作品|什么电影|哪个节目"),
    ("person", r"谁|哪位|什么人|何人|哪个人|哪些人|叫什么名字|姓什么"),
    ("organisation", r"哪家|哪个(?:公司|单位|部门|机构|组织|学校|大学|医院|报社|媒体|银行|企业|团队|协会)|"
                     r"什么(?:公司|单位|部门|机构|组织|学校|企业)"),
    # "画展在哪儿办的": where an event is held, which a report says as "在…美术馆开幕".
    ("venue", r"在哪(?:儿|里)?(?:办|举办|举行|开|召开|展出|开幕|比赛|演出)|在什么地方(?:办|举办|举行|开)|"
              r"(?:举办|举行|召开|开幕)(?:地点|场地)|(?:地点|场地)在哪"),
    ("place", r"哪里|哪儿|什么地方|哪个(?:省|市|县|区|国家|城市|地方|镇|村)|在哪|何地|何处|哪座|去哪|到哪"),
]
_WANTS = [(kind, re.compile(pattern)) for kind, pattern in _WANTS]


def wanted(question: str) -> str:
    """The kind of answer a question (in normal form) asks for, or "" when it asks for none of them."""
    for kind, pattern in _WANTS:
        if pattern.search(question):
            return kind
    return ""


# ---- what a sentence holds ----------------------------------------------------------------------
# "在中国国家画院美术馆开幕": where an event is held, the place before the verb that holds it.
_HELD_AT = re.compile(r"在([^，,。；;]{2,24}?)(?:开幕|举办|举行|召开|开展|展出|开馆|落幕|闭幕|开赛|上演)")
_TITLE = r"《[^》]{1,40}》"
_NUMERAL = r"(?:\d+(?:\.\d+)?|[一二三四五六七八九十两百千万亿几数]+)"
_HOLDS = {
    "number": re.compile(r"\d|[一二三四五六七八九十两][个名家项次条位种所座人件只颗辆台场次批]|[十百千万亿]"),
    "amount": re.compile(_NUMERAL + r"\s*(?:多|余)?\s*(?:亿|万|千)?\s*(?:元|美元|欧元|英镑|日元|港元|块|角|人民币)|"
                         r"[¥$￥€£]\s*\d"),
    "percent": re.compile(r"\d\s*%|％|百分之|\d+(?:\.\d+)?个百分点|[一二三四五六七八九]成"),
    "date": re.compile(r"\d{2,4}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|[一二三四五六七八九十]+月|世纪|年代|朝|时期|"
                       r"(?:\d{1,3}|[一二三四五六七八九十两几数]+)\s*(?:多|余)?\s*(?:个)?\s*(?:年|月|天)(?:前|后|之前|之后|以前)|"
                       r"初[一二三四五六七八九十]|除夕|春节|今年|去年|明年|昨天|今天|明天|当天|上午|下午|晚上|凌晨|中旬|上旬|下旬|月中|月底|月初"),
    # A span of time, not a point in it: "50余载", "12年有期徒刑", "144个月", never "1958年" or "8月".
    "duration": re.compile(r"(?<![\d年])(?:\d{1,3}(?:\.\d+)?|[一二三四五六七八九十两百几数]+)\s*(?:多|余)?\s*(?:个)?\s*"
                           r"(?:年(?![\d一二三四五六七八九十]+月)|载|个月|周|星期|天|小时|分钟|秒|世纪|岁)|"
                           r"(?:半|整整)(?:年|天|个月)|多年|数年|几十年|终身|无期"),
    "cause": re.compile(r"因为|由于|原因|所以|因此|为了|导致|造成|之所以|原来|带动|得益于|受.{1,12}影响"),
    "work": re.compile(_TITLE),
    "generation": re.compile(r"(?<!\d)(?:[1-9]0|00)\s*[”\"’']?\s*后(?![来面续期果])|[五六七八九零〇][零〇]后(?![来面续期果])"),
    "venue": re.compile(_HELD_AT.pattern + r"|(?:地点|场地)(?:为|是|在|设在|[:：])"),
    "month": re.compile(r"(?<!\d)(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])\s*月(?![中底初])|[正腊]月"),
    "opinion": re.compile(r"(?:说|表示|认为|坦言|感慨|直言|觉得|感到|感叹|告诉记者)[，,：:]|[说道][：:]?“"),
    "organisation": re.compile(r"[\u4e00-\u9fff]{1,12}(?:公司|集团|大学|学院|学校|医院|银行|委员会|协会|学会|研究院|研究所|"
                               r"法院|检察院|政府|部|局|厅|署|办|社|台|报|馆|院|中心|基金会|联盟|组织)"),
    "place": re.compile(r"[\u4e00-\u9fff]{1,8}(?:省|市|县|区|镇|乡|村|州|国|岛|山|河|湖|江|海|路|街|港|湾|城|洲|岸)|"
                        r"北京|上海|天津|重庆|香港|澳门|台湾|美国|中国|英国|法国|德国|日本|俄罗斯|加拿大|欧洲|亚洲|非洲"),
}
# The words to show in bold, where they differ from what is enough to say a sentence holds the kind.
_SPANS = {
    "generation": re.compile(r"(?<!\d)(?:[1-9]0|00)(?=\s*[”\"’']?\s*后)|[五六七八九零〇][零〇]后"),
    "number": re.compile(r"(?:\d+(?:\.\d+)?|[一二三四五六七八九十百千万亿两几]+)\s*[多余]?\s*"
                         r"(?:[万亿千百]+)?\s*(?:个|名|家|项|次|条|位|种|所|座|人|件|只|颗|辆|台|场|批|倍)?"),
    "percent": re.compile(r"\d+(?:\.\d+)?\s*[%％]|百分之[\d一二三四五六七八九十点]+|\d+(?:\.\d+)?个百分点|[一二三四五六七八九]成"),
    "date": re.compile(r"(?:\d{1,3}|[一二三四五六七八九十两几数]+)\s*(?:多|余)?\s*(?:个)?\s*(?:年|月|天)(?:前|后|之前|之后|以前)|"
                       r"(?:\d{2,4}\s*年)?\d{1,2}\s*月(?:\d{1,2}\s*[日号])?(?:[至到—-]\d{1,2}\s*[日号])?|\d{2,4}\s*年|"
                       r"\d{1,2}\s*[日号]|[一二三四五六七八九十]+月[一二三四五六七八九十]*日?|"
                       r"初[一二三四五六七八九十]|除夕|春节|今年|去年|明年|当天|中旬|上旬|下旬|月中|月底|月初"),
}
# The most common Chinese surnames: a word of two or three characters jieba does not know that
# starts with one of them is most likely a name ("孙海宁", "李虹霖").
SURNAMES = frozenset("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
                     "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔")
_HONOURED = re.compile(r"[" + "".join(sorted(SURNAMES)) + r"][\u4e00-\u9fff]{1,2}?(?=先生|女士|教授|老师|同志|博士|院士|"
                       r"表示|说|称|指出|介绍|认为)")


def holds(text: str) -> int:
    """Bit flags (BIT) of the kinds of answer a sentence holds. The words inside a title are the
    title's, not the sentence's own facts: "《八年追诉始末》" gives no span of time, only a work."""
    untitled = re.sub(_TITLE, "《》", text)
    flags = sum(BIT[kind] for kind, pattern in _HOLDS.items() if pattern.search(text if kind == "work" else untitled))
    if person_names(text):
        flags |= BIT["person"]
    if _lists_places(untitled):
        flags |= BIT["places"]
    return flags


def _lists_places(text: str) -> bool:
    """Whether a sentence lists places: two names of places on either side of an enumeration comma
    ("北京、宁波", "浙江乌镇、福建漳州"), by jieba's tags (ns) or a place's ending (市, 县, 镇…)."""
    if "、" not in text:
        return False
    words = list(jieba.cut(text))
    return any(words[n] == "、" and _is_place(words[n - 1]) and _is_place(words[n + 1])
               for n in range(1, len(words) - 1))


def _is_place(word: str) -> bool:
    return word_tag(word).startswith("ns") or _HOLDS["place"].fullmatch(word) is not None


def holds_all(texts: list[str]) -> np.ndarray:
    """holds() of many sentences, as an array (stored with the index)."""
    return np.array([holds(t) for t in texts], dtype=np.uint16)


def matches(kind: str, flags: int) -> float:
    """1 when a sentence with these flags holds the kind asked for, -1 when it does not, 0 when
    nothing in particular is asked for, or a kind not clear enough to rank by (see RANKED). An
    amount is money: a sentence without one does not say what "工资是多少" asks, whatever numbers
    it holds ("80后")."""
    if kind not in RANKED:
        return 0.0
    if flags & BIT[kind]:
        return 1.0
    if kind in ("percent", "duration") and flags & BIT["number"]:
        return 0.0   # "增长了多少" may be answered in people or tonnes, "多久" in a count of years
    if kind == "month" and flags & BIT["date"]:
        return 0.0   # "春节", "初一": a time that may fall in the month asked for
    if kind in ("places", "opinion", "venue"):
        return 0.0   # "去过哪些地方" may be answered by one place, "她觉得…" in the report's words
    return -1.0


def spans(kind: str, text: str, asked: str = "") -> tuple[str, ...]:
    """The parts of a sentence that are of the kind asked for ("6780亿元", "8月13日", "韩不言"),
    leaving out what the question itself says: the words a reader's eye should find first."""
    if kind == "venue":   # the place in "在…开幕"
        return tuple(m.group(1) for m in _HELD_AT.finditer(text))
    if not kind or kind == "opinion":   # someone's words are the answer whole
        return ()
    pattern = _SPANS.get(kind, _HOLDS.get(kind))
    if kind == "person":
        found = person_names(text)
    elif kind == "places":
        found = [word for word in jieba.cut(text) if _is_place(word)]
    else:
        found = [m.group() for m in pattern.finditer(text)]
    if kind == "number":   # one numeral alone is part of a word ("一直", "初一"), not a count to show
        found = [f for f in found if not re.fullmatch(r"[一二三四五六七八九十两几]", f.strip())]
    if kind in ("amount", "percent") and not found:   # the number, when its unit is elsewhere
        found = [m.group() for m in re.finditer(r"\d+(?:\.\d+)?\s*[亿万千百]*", text)]
    return tuple(dict.fromkeys(f for f in found if f.strip() and f not in asked))


def honoured_names(text: str) -> list[str]:
    """Names before an honorific or a verb of saying ("韩不言先生", "李虹霖表示"), which jieba
    does not know."""
    return [m.group() for m in _HONOURED.finditer(text)]


def person_names(text: str) -> list[str]:
    """Person names: before an honorific or a verb of saying, or a word of two or three characters
    jieba does not know that starts with a common surname."""
    names = honoured_names(text)
    for word in jieba.cut(text):
        if 2 <= len(word) <= 3 and word[0] in SURNAMES and not jieba.dt.FREQ.get(word) \
                and re.fullmatch(r"[\u4e00-\u9fff]+", word):
            names.append(word)
    return names
