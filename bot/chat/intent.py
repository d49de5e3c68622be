"""What a chat message asks for.

Everything here is general Chinese (Simplified or Traditional: messages are compared in their normal
form), never the words of one article. A message is one of:
  smalltalk  greeting, thanks, goodbye, "who are you / what can you do";
  overview   "what is the article about / summarise it";
  sections   "what parts does it have / table of contents";
  metadata   who wrote it, which agency, paper or site published it, when, and where it was filed;
  question   anything else, answered by retrieval.
A classifier learned from examples (intent_examples.txt, fitted by scripts/fit_intents.py) decides,
over the message's character n-grams: a new phrasing of a known kind ("哪家通讯社发的稿") needs an
example of that kind, not another regular expression. Plain greetings, a closed set, are matched
first. The article-level kinds fire only when nothing else is asked: "焦春锋说了什么" names a topic
of its own and is a question, "这篇文章说了什么" is not.
"""
from __future__ import annotations

import functools
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.language import text
from index.encode.embed import DEFAULT_MODEL, fitted_for

MODEL_FILE = Path(__file__).with_name("intent_model.npz")   # fitted on the default model's vectors
# Hashed n-gram space: large enough that the examples' n-grams rarely share a slot.
NGRAM_SLOTS = 1 << 15
# The n-grams count for less than the vector: they tell "谁写的" from "写了什么", the vector carries
# the meaning of phrasings no example has (cross-validated in scripts/fit_intents.py).
NGRAM_WEIGHT = 0.3
# An article-level reply must be the classifier's clear choice; when it hesitates, retrieval answers.
MIN_PROBABILITY = 0.5
_SMALLTALK = {"greeting", "thanks", "goodbye", "about"}
_METADATA_KINDS = {"author", "source", "date", "place"}

_END = r"[\s!！。.,，~～?？…]*"
_GREETING = re.compile(r"^(你好|您好|嗨|哈喽|哈啰|hello|hi|hey|早上好|上午好|中午好|下午好|晚上好|早安|早|"
                       r"在吗|在不在|有人吗|喂)[啊呀哦哈吖]*(机器人|小助手|助手)?" + _END + "$")

# A reaction, not a question: laughter, praise, an emoji or a sign alone ("哈哈哈 说得好", "👍", "？"):
# it gets a short reply, never the greeting with its list, and is never searched for.
_REACTION_WORD = (r"(?:[哈呵嘿嘻]{2,}|说得好|说的好|讲得好|写得好|好文|厉害|牛|赞|点赞|好棒|太棒了|真棒|不错|"
                  r"有意思|6{3,}|nb|NB|ok|OK|嗯+|哦+|噢+|喔+|哇+)")
_REACTION = re.compile(r"^(?:" + _REACTION_WORD + r"[\s!！~～。.,，…]*)+$")
_NO_WORDS = re.compile(r"^[^\w\u3400-\u9fff]*$")

# Nouns that name a report itself.
_REPORT_NOUNS = r"文章|报道|报导|新闻|稿件|稿子|全文|本文|原文|内容|消息"
# Words that point at the article itself, not at anything in it.
_ARTICLE_WORDS = re.compile(r"叫什么名字|叫什么|名字|姓名|这条|此文|这篇|本篇|该篇|此篇|那篇|这一篇|这份|"
                            + _REPORT_NOUNS + "|"
                            r"发布|发表|刊登|刊发|主要|一下|几句话|两句|简单|简要|大概|大致|给我|帮我|讲讲|说说|捋一捋|意思|"
                            r"请|你|用|篇|文")
_OVERVIEW = re.compile(r"(讲|说|写|谈|介绍|报道|描述|提到)(了|的|些)?(是)?(什么|啥|哪些)|主要内容|大意|概括|总结|"
                       r"概要|摘要|简介|梗概|关于什么|讲啥|说啥|介绍|主题|要点|核心|summar|about")
_LEFTOVER = re.compile(r"什么时候|时候|时间|日期|事情|事儿|玩意儿?|看不懂|没看懂|看不明白|一句话|东西|"
                       r"[是的了在吗呢吧啊呀么哪谁什么里个些吗有从何由于被给哪儿事呗嘛哈啦哦这那啥]")
# A small-talk reply never answers a message that asks something ("搞了几回了", "这是头一回吧").
_ASKS = re.compile(r"几|多少|什么|啥|谁|哪|怎|咋|为何|吗|是不是|有没有|头一|第一|首次|多久|多大")
# A report, and who publishes, writes and files it: the nouns of a question about the report itself.
_PUBLISHERS = re.compile(_REPORT_NOUNS + r"|通稿|电头|电讯|篇|名字|姓名|城市|媒体|报纸|报社|通讯社|网站|网|平台|公众号|电视台|记者|作者|"
                         r"编辑|通讯员|来源|出处|日期|时间|时候|地点|地方|单位|机构|哪家|哪个")
# Who took or gave the pictures ("照片是谁拍的", "图片来源是哪"): the report's photo credits.
_PHOTO_ASKED = re.compile(r"(?:照片|图片|配图|相片|图源)(?![上里中])(?:是|都是|由)?.{0,4}(?:谁|哪|来源|出处)|谁(?:拍|摄)的|(?:拍|摄)的?(?:人|是谁)")
# Asking what someone thinks of it, or what it is good for, is asked of the report's content.
_ASKS_OF_CONTENT = re.compile(r"怎么看|咋看|如何看|怎么评价|咋评价|如何评价|什么态度|啥态度|有什么用|有啥用|"
                              r"什么作用|啥作用|有什么好处|有啥好处")


@dataclass(frozen=True)
class Intent:
    kind: str           # "smalltalk", "overview", "sections", "metadata" or "question"
    detail: str = ""    # smalltalk: greeting/thanks/goodbye/about; metadata: author/source/date;
                        # overview: the words left over (a section's name), if any


def classify(message: text.Message | str, embedder=None, meaning: text.Message | None = None) -> Intent:
    """What the message asks for (see the module docstring). With the embedder that answers (an
    index.encode.embed.Embedder), the classifier reads the message's vector too, if it was fitted on that
    model's vectors; without, the n-grams alone. `meaning`: the message in other words whose
    vector stands for it (its written form, which retrieval embeds as well: one vector for both)."""
    message = text.as_message(message)
    m = message.normal
    if _GREETING.match(m):
        return Intent("smalltalk", "greeting")
    if _NO_WORDS.match(m) or _REACTION.match(m):
        return Intent("smalltalk", "prompt" if re.fullmatch(r"[?？\s]+", m) else "reaction")
    if _PHOTO_ASKED.search(m):
        return Intent("metadata", "photo")
    kind = _classifier(embedder.name if embedder is not None else "").kind(message, embedder, meaning)
    if kind in _SMALLTALK and kind != "about" and _ASKS.search(m):
        return Intent("question")
    if kind in _SMALLTALK:
        return Intent("smalltalk", kind)
    if _ASKS_OF_CONTENT.search(m):
        return Intent("question")
    if kind in _METADATA_KINDS and not _names_a_thing(m) and not (kind in ("date", "place") and _names_an_event(m)):
        return Intent("metadata", kind)
    if kind == "sections":
        return Intent("sections")
    # "X讲了什么": X may be a section's name ("向稳讲了什么"); the conversation checks the headings
    # and asks retrieval when no section is named so.
    rest = _leftover(m, _OVERVIEW) if _OVERVIEW.search(m) else ""
    if kind == "overview" and not rest and not _OVERVIEW.search(m):
        # Chosen by meaning alone ("下一步打算干啥"): what it names besides the article goes to the
        # conversation, which answers a section's name or else asks retrieval.
        rest = _leftover(m)
    rest = rest if len(rest) >= 2 else ""   # one character left over names nothing
    if kind == "overview" or (rest and len(rest) <= 12):
        return Intent("overview", rest)
    return Intent("question")


class _Classifier:
    """Multinomial logistic regression over the message's vector and hashed character n-grams, and
    a second head over the n-grams alone for other models (scripts/fit_intents.py)."""

    def __init__(self, path: Path):
        with np.load(path, allow_pickle=False) as f:
            self.kinds = [str(k) for k in f["kinds"]]
            self.model = str(f["model"])
            self.ngram_weights, self.vector_weights, self.bias = f["ngram_weights"], f["vector_weights"], f["bias"]
            self.alone_weights, self.alone_bias = f["alone_weights"], f["alone_bias"]

    def kind(self, message: text.Message, embedder=None, meaning: text.Message | None = None) -> str:
        slots, values = ngram_slots(message.normal)
        if embedder is not None and embedder.name == self.model:
            vector = embedder.encode_question((meaning or message).question)[0]
            logits = self.ngram_weights[:, slots] @ values + self.vector_weights @ vector + self.bias
        else:
            logits = self.alone_weights[:, slots] @ values + self.alone_bias
        p = np.exp(logits - logits.max())
        p /= p.sum()
        best = int(np.argmax(p))
        return self.kinds[best] if p[best] >= MIN_PROBABILITY else "question"


def model_file(model: str) -> Path:
    """The classifier fitted on a model's vectors: intent_model.npz for the default model,
    intent_model-BACKEND-MODEL.npz for another (scripts/fit_intents.py --backend/--model)."""
    return fitted_for(MODEL_FILE, model or DEFAULT_MODEL)


@functools.lru_cache(maxsize=4)
def _classifier(model: str) -> _Classifier:
    """The model's own classifier if it has one, else the default's (whose n-gram head serves any model)."""
    path = model_file(model)
    return _Classifier(path if path.is_file() else MODEL_FILE)


def ngram_slots(normal: str) -> tuple[np.ndarray, np.ndarray]:
    """Slots and weights of the message's character 1–3-grams (each n-gram once; unit length)."""
    chars = re.sub(r"\s+", "", normal)
    grams = {chars[i:i + n] for n in (1, 2, 3) for i in range(len(chars) - n + 1)}
    grams |= {"^" + chars[:2], chars[-2:] + "$"} if chars else set()   # how it opens and ends
    slots = np.array(sorted({zlib.crc32(g.encode("utf-8")) % NGRAM_SLOTS for g in grams}), dtype=np.int64)
    values = np.full(len(slots), 1 / np.sqrt(max(len(slots), 1)), dtype=np.float32)
    return slots, values


def _leftover(message: str, pattern: re.Pattern | None = None) -> str:
    """What the message says besides the intent's own words (`pattern`) and words for the article."""
    rest = _ARTICLE_WORDS.sub("", pattern.sub("", message) if pattern else message)
    rest = "".join(re.findall(r"[\w\u4e00-\u9fff]", rest))
    return _LEFTOVER.sub("", rest)


def _names_a_thing(message: str) -> bool:
    """Whether a message that reads like "where was it published" names a thing of its own: "论文
    登在哪了" asks where the paper the report tells of was published, not the report."""
    return any(w.flag in ("n", "nz") and len(_PUBLISHERS.sub("", w.word)) >= 2 for w in text.tagged(message))


# What is done to a report: "什么时候发的" asks the report's date, "啥时候推出" the date of what it tells.
_PUBLISHING_VERBS = re.compile(r"发布|发表|发出|发稿|发回|刊登|刊发|刊出|登出|报道|报导|播出|推送|更新|出来|写出|撰写|出炉|采访|采写|"
                               r"是从|来自")


def _names_an_event(message: str) -> bool:
    """Whether a message that reads like "when / where was it published" names something done of
    its own ("啥时候推出", "在哪儿举办"): it asks when or where that happens, not the report."""
    return any(w.flag.startswith("v") and len(w.word) >= 2 and not _PUBLISHING_VERBS.fullmatch(w.word)
               for w in text.tagged(message))


def is_foreign(message: text.Message | str) -> bool:
    """A message written in a language other than Chinese (letters, no Han characters)."""
    message = text.as_message(message).typed
    return not re.search(r"[\u4e00-\u9fff]", message) and len(re.findall(r"[^\W\d_]", message)) >= 3
