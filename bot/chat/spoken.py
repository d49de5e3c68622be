"""The spoken register: how a question typed on a phone reads in the written words of a report.

Readers ask "总共发了多少钱啊", "他以前干啥的", "这是头一回吧", "两口子咋认识的"; reports write
"共计发放…元", "曾从事…", "首次", "夫妻…结缘". Retrieval reads the question's words (BM25) and its
meaning (the sentence vector), and both read written Chinese better: the written form of the
question is what is searched.

Each entry maps a spoken word to the written words that say the same, most common first. When the
report is known, the written word chosen is one the report itself uses (a small thesaurus limited
to the report's vocabulary: "总共" becomes "共计" in a report that says 共计, "合计" in one that says
合计); a spoken word the report uses itself is kept. The lexicon is general spoken Mandarin (北方口语
and the chat register), never the words of one article; tests/test_spoken.py tests each kind.
"""
from __future__ import annotations

import re

import jieba

from bot.chat import thesaurus
from index.language import text

# (spoken, written candidates), applied in this order: longer phrases before the words inside them.
LEXICON: tuple[tuple[str, tuple[str, ...]], ...] = (
    # why, how, what
    (r"凭啥|为啥|为嘛|咋(?=这么|那么)", ("为什么",)),
    (r"图(?:个)?啥", ("目的是什么",)),
    (r"咋回事|啥情况", ("怎么回事",)),
    (r"咋样|咋着", ("怎么样",)),
    (r"咋", ("怎么",)),
    (r"干啥|干嘛|干吗|做啥|弄啥", ("做什么", "从事什么")),
    (r"有啥用", ("有什么作用", "有什么用途")),
    (r"有啥好处", ("有什么好处", "有什么优势", "有什么意义")),
    (r"啥时候|啥时", ("什么时候",)),
    (r"靠啥", ("依靠什么", "通过什么")),
    (r"啥玩意儿?|啥东西", ("什么",)),
    (r"啥", ("什么",)),
    # how old, how much, how many, where from
    (r"多大岁数|多大年纪|多大了", ("多少岁",)),
    (r"多少钱|几个钱|多少块钱?", ("多少元",)),
    (r"总共|一共", ("共计", "总计", "合计", "一共", "共")),
    (r"哪儿的人|哪的人", ("哪里人",)),
    (r"哪儿|哪的", ("哪里",)),
    (r"老家", ("家乡", "祖籍", "籍贯")),
    (r"头一回|头一次|头回", ("首次", "第一次")),
    (r"(?<=几)回", ("次", "届")),
    (r"俩", ("两个",)),
    (r"仨", ("三个",)),
    # people
    (r"娃娃|娃们|娃儿|娃", ("孩子", "学生", "学子", "子女")),
    (r"小孩儿|小孩子|小孩|小男孩|小女孩", ("孩子", "儿童", "男孩", "女孩")),
    (r"两口子", ("夫妻", "夫妇")),
    (r"老公", ("丈夫",)),
    (r"老婆|媳妇", ("妻子",)),
    (r"老爸|爸爸|爸", ("父亲",)),
    (r"老妈|妈妈|妈", ("母亲",)),
    (r"老外", ("外国人",)),
    (r"老百姓", ("群众", "民众", "市民", "网民")),
    (r"老板", ("负责人", "企业主", "经营者")),
    (r"警察", ("民警", "公安")),
    # things
    (r"电脑", ("计算机",)),
    (r"官司", ("案件", "诉讼", "纠纷")),
    (r"天儿", ("天气",)),
    (r"毛病", ("问题", "不足", "缺陷")),
    (r"花样", ("手段", "方式", "形式")),
    (r"房子", ("住房", "房屋")),
    # doing
    (r"搞", ("举办", "开展", "举行", "做")),
    (r"开卖|开售", ("推出", "开售", "上线", "销售")),
    (r"卖了|卖出|卖掉", ("销售", "售出", "出售")),
    (r"上班|干活", ("工作",)),
    (r"打工", ("务工", "工作")),
    (r"看病", ("就医", "诊疗")),
    (r"认识(?=的)", ("结识", "结缘", "相识")),
    (r"待了|呆了", ("生活了", "工作了")),
    (r"打算", ("计划", "将")),
    (r"登在|登到", ("发表在", "刊发于", "刊登在")),
    (r"表态", ("表示",)),
    (r"挣了?", ("收入", "赚")),
    (r"涨了", ("上涨", "增长")),
    (r"跌了", ("下跌", "下降")),
    (r"买不了|买不到", ("不能购买",)),
    (r"干不了", ("无法", "不能")),
)
_LEXICON = [(re.compile(spoken), written) for spoken, written in LEXICON]
# jieba's tags of the words a synonym may stand for: nouns, verbs, adjectives (never a question
# word, a pronoun or a particle).
_CONTENT_TAGS = ("n", "v", "a")
# Particles that colour a phone message but carry no meaning for the search.
_PARTICLES = re.compile(r"(?<=[\u4e00-\u9fff])(?:啊|呀|呗|嘛|哈|啦|咧|哦|噢|喔|哇|呐)(?=[\s，,。.！!？?~～…]*$|[，,])")
_OPENERS = re.compile(r"^(?:问下哈?|问一下|请问一下|想问下|想问一下|我想问|那个|话说)[，,\s]*")
# "能买衣服不" / "会不会": a question closed by 不 (a spoken yes/no question) reads as 吗.
_NOT_QUESTION = re.compile(r"(?<=[\u4e00-\u9fff])不(?=[\s？?。.！!~～…]*$)")


def written(question: str, vocabulary: str = "") -> str:
    """The question in written words: each spoken word replaced by a written one (one the
    `vocabulary` — the report's text — uses, when it uses any; the spoken word kept when the
    report uses it itself), chat particles and openers dropped. The question itself when nothing
    was spoken."""
    out = _OPENERS.sub("", question)
    for pattern, candidates in _LEXICON:
        out = pattern.sub(lambda match: _written_word(match.group(), candidates, vocabulary), out)
    out = _PARTICLES.sub("", out)
    out = _NOT_QUESTION.sub("吗", out)
    if vocabulary:
        out = _in_report_words(out, vocabulary)
    return out if out.strip() else question


def _in_report_words(question: str, vocabulary: str) -> str:
    """Each content word the report never uses replaced by a synonym it does use (bot/chat/
    thesaurus.py: "能买衣服吗" → "能买服装吗" in a report that says 服装): the longest such
    synonym, then the one it uses most."""
    out = []
    for word in jieba.lcut(question):
        if len(word) >= 2 and word not in vocabulary:
            used = [s for s in thesaurus.synonyms(word) if s in vocabulary]
            if used and text.word_tag(word).startswith(_CONTENT_TAGS):
                word = max(used, key=lambda s: (len(s), vocabulary.count(s)))
        out.append(word)
    return "".join(out)


def _written_word(spoken: str, candidates: tuple[str, ...], vocabulary: str) -> str:
    if vocabulary and spoken in vocabulary and len(spoken) >= 2:
        return spoken
    return next((word for word in candidates if vocabulary and word in vocabulary), candidates[0])


def is_spoken(question: str) -> bool:
    """Whether the question uses any word of the spoken register."""
    return written(question) != question
