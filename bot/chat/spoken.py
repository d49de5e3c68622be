"""The spoken register: how a question typed on a phone reads in the written words of a report.

Readers ask "总共发了多少钱啊", "他以前干啥的", "这是头一回吧"; reports write "共计发放…元",
"曾从事…", "首次". Retrieval reads the question's words (BM25) and its meaning (the sentence
vector), and both read written Chinese better: the written form of the question is what is
searched. The lexicon is general spoken Mandarin (北方口语 and the chat register), never the words
of one article; each entry is tested in tests/test_spoken.py.
"""
from __future__ import annotations

import re

# (spoken, written), applied in this order: longer phrases before the words inside them.
LEXICON: tuple[tuple[str, str], ...] = (
    # why, how, what
    (r"凭啥|为啥|为嘛|咋(?=这么|那么)", "为什么"),
    (r"图(?:个)?啥", "目的是什么"),
    (r"咋回事|啥情况", "怎么回事"),
    (r"咋样|咋着", "怎么样"),
    (r"咋", "怎么"),
    (r"干啥|干嘛|干吗|做啥|弄啥", "做什么"),
    (r"有啥用", "有什么作用"),
    (r"啥时候|啥时", "什么时候"),
    (r"靠啥", "依靠什么"),
    (r"啥玩意儿?|啥东西", "什么"),
    (r"啥", "什么"),
    # how old, how much, where from
    (r"多大岁数|多大年纪|多大了", "多少岁"),
    (r"多少钱|几个钱|多少块钱?", "多少元"),
    (r"哪儿的人|哪的人", "哪里人"),
    (r"哪儿|哪的", "哪里"),
    (r"老家", "家乡"),
    # how many times, the first time
    (r"头一回|头一次|头回", "首次"),
    (r"几回", "几次"),
    (r"俩", "两个"),
    (r"仨", "三个"),
    # people
    (r"娃娃|娃们|娃儿|娃", "孩子"),
    (r"小孩儿|小孩子|小孩", "孩子"),
    (r"两口子", "夫妻"),
    (r"老外", "外国人"),
    (r"老百姓", "群众"),
    # doing
    (r"搞", "做"),
    (r"待了|呆了", "生活了"),
    (r"天儿", "天气"),
    (r"啥毛病|有毛病", "问题"),
    (r"毛病", "问题"),
    (r"上班", "工作"),
    (r"买不了|买不到", "不能购买"),
)
_LEXICON = [(re.compile(spoken), written) for spoken, written in LEXICON]
# Particles that colour a phone message but carry no meaning for the search.
_PARTICLES = re.compile(r"(?<=[\u4e00-\u9fff])(?:啊|呀|呗|嘛|哈|啦|咧|哦|噢|喔|哇|呐)(?=[\s，,。.！!？?~～…]*$|[，,])")
_OPENERS = re.compile(r"^(?:问下哈?|问一下|请问一下|想问下|想问一下|我想问|那个|话说)[，,\s]*")
# "能买衣服不" / "会不会": a question closed by 不 (a spoken yes/no question) reads as 吗.
_NOT_QUESTION = re.compile(r"(?<=[\u4e00-\u9fff])不(?=[\s？?。.！!~～…]*$)")


def written(question: str) -> str:
    """The question in written words: the lexicon's replacements, the chat particles and openers
    dropped. The question itself when nothing was spoken."""
    out = _OPENERS.sub("", question)
    for pattern, replacement in _LEXICON:
        out = pattern.sub(replacement, out)
    out = _PARTICLES.sub("", out)
    out = _NOT_QUESTION.sub("吗", out)
    return out if out.strip() else question


def is_spoken(question: str) -> bool:
    """Whether the question uses any word of the spoken register."""
    return written(question) != question
