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


def classify(message: text.Message | str) -> Intent:
    """What the message asks for (see the module docstring)."""
    m = text.as_message(message).normal
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


def is_foreign(message: text.Message | str) -> bool:
    """A message written in a language other than Chinese (letters, no Han characters)."""
    message = text.as_message(message).typed
    return not re.search(r"[\u4e00-\u9fff]", message) and len(re.findall(r"[^\W\d_]", message)) >= 3
