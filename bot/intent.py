"""What a chat message asks for, and how a follow-up reads once its context is put back.

Everything here is general Chinese (Simplified or Traditional: messages are folded to Simplified
first), never the words of one article. A message is one of:
  smalltalk  greeting, thanks, goodbye, "who are you / what can you do";
  overview   "what is the article about / summarise it";
  sections   "what parts does it have / table of contents";
  metadata   author, reporter, source or publication date;
  question   anything else, answered by retrieval.
The article-level intents fire only when nothing else is asked: "焦春锋说了什么" names a topic of
its own and goes to retrieval, "这篇文章说了什么" does not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import jieba.posseg

from bot.answer import subject_asked
from index import text

_END = r"[\s!！。.,，~～?？…]*"
_GREETING = re.compile(r"^(你好|您好|嗨|哈喽|哈啰|hello|hi|hey|早上好|上午好|中午好|下午好|晚上好|早安|早|"
                       r"在吗|在不在|有人吗|喂)[啊呀哦哈吖]*(机器人|小助手|助手)?" + _END + "$")
_THANKS = re.compile(r"^(好的?|嗯+|ok|okay)?[，,]?(谢谢|多谢|感谢|谢了|谢啦|thanks|thank you|thx|辛苦了|"
                     r"好的|明白了|懂了|知道了|收到|了解了|ok|okay)(你|您|啦|了|哈|哦)*"
                     r"(的(回答|帮助|解答))?" + _END + "$")
_GOODBYE = re.compile(r"^(好的?[，,]?)?(再见|拜拜|bye|回头见|下次见|先这样|晚安)(啦|了|哈)*" + _END + "$")
_ABOUT_BOT = re.compile(r"你是谁|你是什么|你叫什么|你(能|会|可以)(做|干|回答|问|帮)|你(有|的)什么(用|功能)|"
                        r"怎么用|如何使用|怎么提问|怎样提问|(能|可以)问(些)?什么|^帮助$|^help$")

# Words that point at the article itself, not at anything in it.
_ARTICLE_WORDS = re.compile(r"叫什么名字|叫什么|名字|姓名|消息|这条|此文|这篇|本篇|该篇|此篇|那篇|这一篇|这份|"
                            r"文章|报道|报导|新闻|稿件|全文|本文|原文|内容|"
                            r"发布|发表|刊登|刊发|主要|一下|几句话|简单|简要|大概|大致|给我|帮我|讲讲|说说|"
                            r"请|你|用|篇|文")
_OVERVIEW = re.compile(r"(讲|说|写|谈|介绍|报道|描述|提到)(了|的|些)?(是)?(什么|啥|哪些)|主要内容|大意|概括|总结|"
                       r"概要|摘要|简介|梗概|关于什么|讲啥|说啥|介绍|主题|要点|核心|summar|about")
_SECTIONS = re.compile(r"(哪些|几个|哪几个|多少个?|什么)(部分|章节|小节|板块|方面|小标题|标题|段)|目录|章节|"
                       r"小标题|结构|提纲|大纲|(分|分成|分为)(了)?(几|哪)|部分|板块")
_METADATA = {
    "author": re.compile(r"作者|记者|谁写|谁的文章|写的人|撰稿|执笔|撰写|通讯员|署名|谁报道"),
    "source": re.compile(r"来源|出处|出自|哪个?(网站|媒体|报纸|网|报|平台)|哪家|发表在|刊登在|刊发|发布在|转载|"
                         r"哪里(来|发)的"),
    "date": re.compile(r"((什么时候|哪天|何时|日期|时间|哪一天|几号|哪年|几月)的?.{0,3}(发布|发表|刊登|写|发|出版|报道|刊出)|"
                       r"(发布|发表|刊登|写|发|出版|报道)(于|在)?(的)?(什么时候|哪天|何时|日期|时间|哪一天|几号|哪年))"),
}
_LEFTOVER = re.compile(r"什么时候|时候|时间|日期|[是的了在吗呢吧啊呀么哪谁什么里个些吗有从何由于被给哪儿]")


@dataclass(frozen=True)
class Intent:
    kind: str           # "smalltalk", "overview", "sections", "metadata" or "question"
    detail: str = ""    # smalltalk: greeting/thanks/goodbye/about; metadata: author/source/date;
                        # overview: the words left over (a section's name), if any


def classify(message: str) -> Intent:
    """What the message asks for (see the module docstring)."""
    m = text.normalise(message).strip()
    for detail, pattern in (("greeting", _GREETING), ("thanks", _THANKS), ("goodbye", _GOODBYE)):
        if pattern.match(m):
            return Intent("smalltalk", detail)
    if _ABOUT_BOT.search(m) and len(m) <= 20:
        return Intent("smalltalk", "about")
    for kind, pattern in _METADATA.items():
        if pattern.search(m) and not _leftover(m, pattern):
            return Intent("metadata", kind)
    if _SECTIONS.search(m) and not _leftover(m, _SECTIONS):
        return Intent("sections")
    if _OVERVIEW.search(m):
        rest = _leftover(m, _OVERVIEW)
        return Intent("overview", rest) if len(rest) <= 12 else Intent("question")
    return Intent("question")


def _leftover(message: str, pattern: re.Pattern) -> str:
    """What the message says besides the intent's own words and words for the article."""
    rest = _ARTICLE_WORDS.sub("", pattern.sub("", message))
    rest = "".join(re.findall(r"[\w\u4e00-\u9fff]", rest))
    return _LEFTOVER.sub("", rest)


def is_foreign(message: str) -> bool:
    """A message written in a language other than Chinese (letters, no Han characters)."""
    return not re.search(r"[\u4e00-\u9fff]", message) and len(re.findall(r"[^\W\d_]", message)) >= 3


# ---- follow-ups -----------------------------------------------------------------------------------

# 其他/其它/他人… are not pronouns; they are masked before looking for 他/她/它.
_NOT_PRONOUN = re.compile(r"其他|其它|他人|他国|他乡|吉他|他们自己|其余|其中|其实|尤其|极其|与其|其次")
_PERSON = re.compile(r"他们|她们|他|她")
_THING = re.compile(r"(这个|那个|这项|这次|这场|这种|这些|那些|这一|该|此|其)(?P<head>[\u4e00-\u9fff]{1,4}?)"
                    r"(?=是|要|有|在|的|为|从|将|会|能|可|由|被|把|对|和|与|共|一共|总共|包括|主要|[？?，,。]|$)")
_ELLIPSIS = re.compile(r"^(那|那么|还有|另外|那你说)?(?P<topic>.+?)(呢|怎么样|如何|又如何)?" + _END + "$")
_MORE = re.compile(r"^(还有|还有别的|还有其他的?|其他的?|别的|更多|继续|然后)(呢|吗|吧)?" + _END + "$")
# The most common Chinese surnames, for names jieba cuts after the surname.
_SURNAMES = frozenset("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
                      "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔")
_NAME_SUFFIX = r"(?:街道|社区|公司|集团|大学|学院|学校|医院|村|镇|乡|区|县|市|省|州|馆|局|厅|部|委|园|站|港|队|组)"
_QUESTION_WORD = re.compile(r"谁|什么|哪|几|多少|怎|何|吗|是否|为啥|啥|多大|多长|多久")


@dataclass(frozen=True)
class Previous:
    question: str        # the previous question, as it was understood
    first_quote: str     # the first quote of its answer ("" when refused)


def wants_more(message: str) -> bool:
    """"还有呢", "其他的呢": the next passages for the previous question."""
    return bool(_MORE.match(text.normalise(message).strip()))


def rewrite(message: str, previous: Previous) -> str:
    """The message with its pronoun or ellipsis resolved against the previous turn; the message
    itself when it names its own topic or nothing can be resolved."""
    m = message.strip()
    masked = _NOT_PRONOUN.sub(lambda x: "□" * len(x.group()), m)
    person = _PERSON.search(masked)
    if person:
        name = _person_of(previous)
        return m[:person.start()] + name + m[person.end():] if name else m
    thing = _THING.search(masked)
    if thing:
        phrase = _phrase_ending_with(thing.group("head"), previous)
        if phrase:
            return m[:thing.start()] + phrase + m[thing.end():]
        return m
    ellipsis = _ELLIPSIS.match(m)
    if ellipsis and _is_ellipsis(m, ellipsis.group("topic")):
        return _substitute(ellipsis.group("topic"), previous.question) or m
    return m


def _is_ellipsis(message: str, topic: str) -> bool:
    """"那潘江呢", "河东镇怎么样": a new topic for the previous question. "X怎么样" is a question of
    its own ("日照明天天气怎么样", "天气怎么样") unless it opens with 那/还有… or X is a name."""
    ending = message.rstrip("？?！!。. ")
    if _QUESTION_WORD.search(topic) or not ending.endswith(("呢", "怎么样", "如何")):
        return False
    return (ending.endswith("呢") or ending.startswith(("那", "还有", "另外"))
            or re.fullmatch(r"[\u4e00-\u9fff]{1,6}" + _NAME_SUFFIX, topic) is not None   # a place or body
            or _flag_of(topic).startswith(("nr", "ns", "nt", "nz")))   # a name: "杨维凯怎么样"


def person_names(sentence: str) -> list[str]:
    """Person names in a sentence: jieba's nr tags, with a name cut in two joined back and a
    common surname that jieba left outside the name ("张|志远") put back in front."""
    names, current, position, start = [], "", 0, 0
    for w in jieba.posseg.cut(sentence):
        if w.flag.startswith("nr") and re.fullmatch(r"[\u4e00-\u9fff]+", w.word):
            start = start if current else position
            current += w.word
        else:
            names.append(_with_surname(current, sentence, start))
            current = ""
        position += len(w.word)
    names.append(_with_surname(current, sentence, start))
    return [n for n in names if 2 <= len(n) <= 4]


def _with_surname(name: str, sentence: str, start: int) -> str:
    if len(name) == 2 and start > 0 and sentence[start - 1] in _SURNAMES:
        return sentence[start - 1] + name
    return name


def _person_of(previous: Previous) -> str:
    """The person the previous turn was about. After "X是谁": X when the answer names X, else (X was
    a role, "虎山镇副镇长是谁") the first new name in the answer. Otherwise the name in the question."""
    subject = subject_asked(previous.question)
    if subject:
        quote = text.normalise(previous.first_quote)   # the subject comes back normalised
        at = quote.find(subject)
        named_after = person_names(quote[at + len(subject):at + len(subject) + 5]) if at >= 0 else []
        if at >= 0 and not named_after:
            return subject   # the answer introduces the subject itself: "法国总统马克龙…"
        new_names = named_after or [n for n in person_names(quote) if n not in previous.question]
        if new_names:
            return new_names[0]   # the subject was a role: "区委书记焦春锋…"
    in_question = person_names(previous.question)
    if in_question:
        return in_question[0]
    answer_names = [n for n in person_names(previous.first_quote) if n not in previous.question]
    return answer_names[0] if answer_names else ""


def _phrase_ending_with(head: str, previous: Previous) -> str:
    """The noun phrase the previous turn used for this head word ("这个行动" → "“样板社区”创建行动"):
    the head with up to two words before it, from the previous answer or question."""
    for source in (previous.first_quote, previous.question):
        at = source.find(head)
        if at < 0:
            continue
        before = [w for w in jieba.cut(source[:at])][-4:]
        phrase = ""
        for w in reversed(before):
            if not re.fullmatch(r"[\u4e00-\u9fff“”‘’\"'·]+", w) or len(phrase) + len(w) > 10:
                break
            phrase = w + phrase
        return re.sub(r"[“”‘’\"']", "", phrase + head)
    return ""


def _substitute(topic: str, previous_question: str) -> str:
    """"那潘江呢" after "杨维凯是几零后" → "潘江是几零后": the new topic takes the place of the word of
    the same kind (person, place, other noun) in the previous question."""
    if not previous_question:
        return ""
    # A place or body named by its kind ("河东镇", "税务局"): the previous question's name of that kind.
    suffix = re.search(_NAME_SUFFIX + "$", topic)
    if suffix:
        same = re.search(r"[\u4e00-\u9fff]{1,5}" + re.escape(suffix.group()), previous_question)
        if same and same.group() != topic:
            return previous_question[:same.start()] + topic + previous_question[same.end():]
    flag = _flag_of(topic)
    for w in jieba.posseg.cut(previous_question):
        if w.word != topic and _same_kind(w.flag, flag) and len(w.word) >= 2:
            start = previous_question.find(w.word)
            end = start + len(w.word)
            if flag.startswith("nr"):   # a name split in two: replace it whole
                names = [n for n in person_names(previous_question) if w.word in n]
                if names:
                    start = previous_question.find(names[0])
                    end = start + len(names[0])
            return previous_question[:start] + topic + previous_question[end:]
    return ""


def _flag_of(topic: str) -> str:
    if person_names(topic) == [topic]:
        return "nr"
    flags = [w.flag for w in jieba.posseg.cut(topic)]
    return flags[0] if flags else "n"


def _same_kind(a: str, b: str) -> bool:
    kinds = ("nr", "ns", "nt", "n")
    return next((k for k in kinds if a.startswith(k)), a) == next((k for k in kinds if b.startswith(k)), b)
