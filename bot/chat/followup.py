"""Follow-ups: how a message that leans on the previous turn reads once its context is put back
("他表示了什么" → "焦春锋表示了什么", "那潘江呢" → "潘江是几零后"), and "还有呢".

Everything here is general Chinese, never the words of one article.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import jieba

from bot.chat.answer import subject_asked
from index.language import answer_types, text

_END = r"[\s!！。.,，~～?？…]*"

# 其他/其它/他人… are not pronouns; they are masked before looking for 他/她/它.
_NOT_PRONOUN = re.compile(r"其他|其它|他人|他国|他乡|吉他|他们自己|其余|其中|其实|尤其|极其|与其|其次")
_PERSON = re.compile(r"这个人|那个人|这人|那人|此人|这位|那位|该人|他们|她们|他|她")
_THING = re.compile(r"(这个|那个|这项|这次|这场|这种|这些|那些|这一|该|此|其)(?P<head>[\u4e00-\u9fff]{1,4}?)"
                    r"(?=是|要|有|在|的|为|从|将|会|能|可|由|被|把|对|和|与|共|一共|总共|包括|主要|[？?，,。]|$)")
_ELLIPSIS = re.compile(r"^(那|那么|还有|另外|那你说)?(?P<topic>.+?)(呢|怎么样|如何|又如何)?" + _END + "$")
# Asking why the previous answer holds, or who said the previous quote: nothing else in the message.
_REASON = re.compile(r"^(那|那么|可是|但是?)?(这|那)?(是)?(为什么|为啥|为何|怎么回事|咋回事|什么原因|啥原因|原因呢|原因是什么|"
                     r"why)((是|要|会)?(这样|那样|这么|那么|这儿|那儿|这里|那里|这个|那个|他们|她们|他|她|它))?(呢|啊|呀)?"
                     + _END + "$")
_SPEAKER = re.compile(r"^(那)?(这|这些|这句|这句话|这段话|这番话|那句话|这话|以上|上面)?(话)?(是)?(谁|哪位|什么人)"
                      r"(说|讲|表示|提)(的|出来的)?(呢|啊|呀)?" + _END + "$")
# "几个？", "一共多少条": a bare count, of what the previous answer was about.
_COUNT = re.compile(r"^(那|那么)?(一共|总共|共|有|一共有|总共有)?(几|多少)(个|条|种|名|位|家|项|件|次|回|届|人|样|点|批|所)?"
                    r"(啊|呢|呀|吗|哈)?" + _END + "$")
_MORE = re.compile(r"^(还有|还有别的|还有其他的?|其他的?|别的|更多|继续|然后)(呢|吗|吧)?" + _END + "$")
# The most common Chinese surnames, for names jieba cuts after the surname.
_NAME_SUFFIX = r"(?:街道|社区|公司|集团|大学|学院|学校|医院|村|镇|乡|区|县|市|省|州|馆|局|厅|部|委|园|站|港|队|组)"
# Relatives as reports write them; as readers type them ("的妈妈", "爸", "老婆").
_FAMILY = "母亲|父亲|妻子|丈夫|儿子|女儿|哥哥|姐姐|弟弟|妹妹"
_KIN = r"(?:的)?(?:" + _FAMILY + r"|老婆|老公|媳妇|妈妈|爸爸|老妈|老爸|妈|爸)"
# Relatives by their gender, as written and as typed: "她" after "他妈妈…" is the mother.
_FEMALE_KIN = "母亲|妻子|女儿|姐姐|妹妹|奶奶|外婆|老婆|媳妇|妈妈|老妈|妈"
_MALE_KIN = "父亲|丈夫|儿子|哥哥|弟弟|爷爷|外公|老公|爸爸|老爸|爸"
# "高某的母亲", "高某的老师": a person asked about by relation to someone named.
_RELATIVE = re.compile(r"(?P<owner>[\u4e00-\u9fff]{2,4}?)的?(?P<relation>" + _FAMILY +
                       r"|爷爷|奶奶|外公|外婆|老师|师父|师傅|徒弟|学生)")
_QUESTION_WORD = re.compile(r"谁|什么|哪|几|多少|怎|何|吗|是否|为啥|啥|多大|多长|多久")


@dataclass(frozen=True)
class Previous:
    question: text.Message | str   # the previous question, as it was understood
    first_quote: str               # the first quote of its answer ("" when refused)


def wants_more(message: text.Message | str) -> bool:
    """"还有呢", "其他的呢": the next passages for the previous question."""
    return bool(_MORE.match(text.as_message(message).normal))


def asks_count(message: text.Message) -> bool:
    """"几个？", "一共多少条": how many of what the previous answer was about."""
    return bool(_COUNT.match(message.normal))


def asks_reason(message: text.Message) -> bool:
    """"为什么", "怎么回事": why the previous answer holds."""
    return bool(_REASON.match(message.normal))


def asks_speaker(message: text.Message) -> bool:
    """"这话是谁说的": who said the previous quote."""
    return bool(_SPEAKER.match(message.normal))


def rewrite(message: text.Message | str, previous: Previous, article: str = "") -> str:
    """The message with its pronoun or ellipsis resolved against the previous turn; the message
    itself when it names its own topic or nothing can be resolved. `article`: the text of the report
    the previous turn was about, which tells a man from a woman ("她" is never a man it calls 他)."""
    m = text.as_message(message).typed
    previous = Previous(text.as_message(previous.question), previous.first_quote)
    masked = _NOT_PRONOUN.sub(lambda x: "□" * len(x.group()), m)
    person = _PERSON.search(masked)
    if person:
        name = _relative_by_gender(person.group(), previous.question.typed) or _person_of(previous)
        if name and article and person.group() == "她" and gender(name, article) == "male":
            name = _woman_of(previous, article)
        if not name:
            return m
        m = m[:person.start()] + name + m[person.end():]
        ellipsis = _ELLIPSIS.match(m)   # "他们的老婆呢": then the previous question about them
        kin = ellipsis and re.search(_KIN + "$", ellipsis.group("topic"))
        if ellipsis and m.rstrip("？?！!。. ").endswith("呢") and ("的" in ellipsis.group("topic") or kin):
            return _substitute(ellipsis.group("topic"), previous.question.typed) or m
        return m
    thing = _THING.search(masked)
    if thing:
        phrase = _phrase_ending_with(thing.group("head"), previous)
        if phrase:
            return m[:thing.start()] + phrase + m[thing.end():]
        return m
    ellipsis = _ELLIPSIS.match(m)
    if ellipsis and _is_ellipsis(m, ellipsis.group("topic")):
        return _substitute(ellipsis.group("topic"), previous.question.typed) or m
    if _drops_subject(m) and person_names(previous.question.typed):
        return _person_of(previous) + m   # "之前都在哪些地方待过", said of the person just asked about
    return m


def gender(name: str, article: str) -> str:
    """"male" or "female" as the report shows it: by the pronoun that first follows the name in the
    sentence naming it or the next ("陈某……。她说" is a woman), or a title or relation beside it
    ("母亲陈某", "陈某女士"); "" when the report does not show it."""
    votes = {"male": 0, "female": 0}
    for found in re.finditer(re.escape(name), article):
        before, after = article[max(0, found.start() - 2):found.start()], article[found.end():found.end() + 2]
        if re.search(_FEMALE_KIN + "|女士|女", before) or after.startswith(("女士", "阿姨", "奶奶")):
            votes["female"] += 1
        elif re.search(_MALE_KIN, before) or after.startswith(("先生", "大爷", "爷爷")):
            votes["male"] += 1
        following = re.sub(_NOT_PRONOUN, "", article[found.end():found.end() + 80])
        pronoun = re.search(r"(?<![其])[他她](?!们)|[。！？!?][^。！？!?]*?[。！？!?]", following)
        if pronoun and pronoun.group() in ("他", "她"):
            votes["male" if pronoun.group() == "他" else "female"] += 1
    if votes["male"] == votes["female"]:
        return ""
    return max(votes, key=votes.get)


def _woman_of(previous: Previous, article: str) -> str:
    """"她" when the person the previous turn was about is a man: the woman its answer names, else
    the one woman the report names; "" when it names none or several (then 她 stays unresolved)."""
    named = person_names(previous.first_quote)
    women = [n for n in named if gender(n, article) == "female"]
    if not women:
        everyone = dict.fromkeys(n for sentence in re.split(r"[。！？!?]", article) for n in person_names(sentence))
        women = [n for n in everyone if gender(n, article) == "female"]
        women = women if len(women) == 1 else []
    return women[0] if women else ""


def _relative_by_gender(pronoun: str, previous_question: str) -> str:
    """"她" after "他妈妈去过哪些地方" is the mother, not the boy: the relative the previous question
    asked about when the pronoun has the relative's gender ("高启硕妈妈"); "" otherwise."""
    kin = _FEMALE_KIN if pronoun.startswith("她") else _MALE_KIN
    asked = re.search(r"(?P<owner>[\u4e00-\u9fff]{2,4}?)的?(?:" + kin + ")", previous_question)
    return asked.group() if asked and person_names(asked.group("owner")) else ""


def _drops_subject(message: str) -> bool:
    """"之前都在哪些地方待过", "后来干啥去了": a question that opens with when or how often, leaving
    out who, as a reader does when going on about the same person. Not one asking who."""
    words = text.tagged(message)
    if len(message) < 4 or not words or _QUESTION_WORD.search(message) is None or re.search(r"谁|哪位|什么人", message):
        return False
    opening = words[0]
    return opening.flag in ("d", "t") or (opening.flag == "f" and len(opening.word) == 2)   # 都, 后来, 之前


def relative_named(question: str, article: str) -> str:
    """The question with "X的母亲" put as the name the report gives her ("母亲陈某" → "陈某"): a
    relative or a teacher is asked about by relation, and the report says the rest under the name.
    The question itself when the report names no such person."""
    match = _RELATIVE.search(question)
    if not match or match.group("owner") not in article:
        return question
    for found in re.finditer(match.group("relation"), article):
        names = person_names(article[found.end():found.end() + 4])
        if names and article.startswith(names[0], found.end()):
            return question[:match.start()] + names[0] + question[match.end():]
    return question


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
    words, n = text.tagged(sentence), 0
    while n < len(words):
        w = words[n]
        if w.flag.startswith("nr") and re.fullmatch(r"[\u4e00-\u9fff]+", w.word) and not _common_word(w.word):
            start = start if current else position
            current += w.word
            following = words[n + 1] if n + 1 < len(words) else None
            if len(current) == 2 and following is not None and not following.flag.startswith("nr") \
                    and _name_tail(following):
                current += following.word   # "高启|硕": the given name's last character cut off
                position += len(following.word)
                n += 1
        else:
            names.append(_with_surname(current, sentence, start))
            current = ""
        position += len(w.word)
        n += 1
    names.append(_with_surname(current, sentence, start))
    # A surname and a given name before an honorific ("韩不言先生"), which jieba does not know.
    names += answer_types.honoured_names(sentence)
    names = [n for n in dict.fromkeys(names) if 2 <= len(n) <= 4 and not _PLACE_OR_EVENT_END.search(n)]
    return [n for n in names if not any(n != other and n in other for other in names)]


# Characters that end the name of a camp, a show, a body or a place ("夏令营", "博览会" tagged as
# names: 夏 and 博 are surnames), and hardly ever a given name of three characters.
_PLACE_OR_EVENT_END = re.compile(r"(?<=^..)(?:营|节|展|赛|馆|院|站|厂|局|队|班|团|社|所|村|镇|县|省|园|港|组|部|委|校)$")
# A two-character word this common in jieba's dictionary is a common noun it tags as a name
# ("卫星": 卫 is a surname), not a person a report names.
_COMMON_WORD_FREQ = 2000
_KNOWN_WORD_FREQ = 20
# What can end a given name that jieba cut short: one Han character that is no function word.
_NOT_NAME_TAIL = ("v", "p", "c", "u", "d", "r", "m", "q", "f", "y", "e", "o", "a", "t", "s")


def _common_word(word: str) -> bool:
    """A word of two characters jieba tags as a name that is a common word: very frequent ("卫星"),
    or in its dictionary at all without starting with a common surname ("才华", "师承")."""
    if len(word) != 2:
        return False
    frequency = jieba.dt.FREQ.get(word, 0)
    return frequency >= _COMMON_WORD_FREQ or (frequency >= _KNOWN_WORD_FREQ and word[0] not in answer_types.SURNAMES)


def _name_tail(w) -> bool:
    return len(w.word) == 1 and re.fullmatch(r"[\u4e00-\u9fff]", w.word) is not None \
        and not w.flag.startswith(_NOT_NAME_TAIL)


def warm_up() -> None:
    """Load jieba's part-of-speech tagger now rather than on the first follow-up (a bot, a chat)."""
    text.tagged("")


def _with_surname(name: str, sentence: str, start: int) -> str:
    if len(name) == 2 and start > 0 and sentence[start - 1] in answer_types.SURNAMES:
        return sentence[start - 1] + name
    return name


def _person_of(previous: Previous) -> str:
    """The person the previous turn was about. After "X是谁": X when the answer names X, else (X was
    a role, "虎山镇副镇长是谁") the first new name in the answer. After another question for a
    person ("孙海宁的老师是谁"), the last new name in the answer. Otherwise the name in the question,
    or the question's own subject ("“二许”各被判了多少年")."""
    subject = subject_asked(previous.question.question)
    asked = previous.question.typed
    if subject:
        quote = text.normalise(previous.first_quote)   # the subject comes back normalised
        at = quote.find(subject)
        named_after = person_names(quote[at + len(subject):at + len(subject) + 5]) if at >= 0 else []
        if at >= 0 and not named_after:
            return subject   # the answer introduces the subject itself: "法国总统马克龙…"
        new_names = named_after or [n for n in person_names(quote) if n not in asked]
        if new_names:
            return new_names[0]   # the subject was a role: "区委书记焦春锋…"
    if re.search(r"谁|哪位|什么人|叫啥|叫什么", asked):
        new_names = [n for n in person_names(previous.first_quote) if n not in asked]
        if new_names:
            return new_names[-1]   # the answer to "…是谁" comes last: "师承…的弟子韩不言先生"
    in_question = person_names(asked)
    if in_question:
        # jieba may cut a name it does not know short ("高启|硕咋…"): the answer names it whole.
        whole = [n for n in person_names(previous.first_quote) if n.startswith(in_question[0])]
        return max(whole, key=len, default=in_question[0])
    leading = _leading_noun(asked)
    if leading and not re.fullmatch(r".*" + _NAME_SUFFIX, leading):   # "教育局" is no 他
        return leading
    answer_names = [n for n in person_names(previous.first_quote) if n not in asked]
    return answer_names[0] if answer_names else ""


def _leading_noun(question: str) -> str:
    """The noun a question opens with, its subject ("“二许”各被判了多少年" → 二许)."""
    quoted = re.match(r"^[“\"'‘「](?P<term>[^”\"'’」]{2,8})[”\"'’」]", question)
    if quoted:
        return quoted.group("term")
    for w in text.tagged(re.sub(r"^[“”\"'‘’「」]+", "", question)):
        if re.fullmatch(r"[“”\"'‘’「」]+", w.word):
            continue
        return w.word if w.flag.startswith(("n", "j", "r")) and len(w.word) >= 2 and w.flag != "r" else ""
    return ""


def _phrase_ending_with(head: str, previous: Previous) -> str:
    """The noun phrase the previous turn used for this head word ("这个行动" → "“样板社区”创建行动"):
    the head with up to two words before it, from the previous answer or question."""
    for source in (previous.first_quote, previous.question.typed):
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
    # "二许的老婆" after "“二许”各被判了多少年": the same question about what belongs to its subject.
    owner = re.match(r"(?P<owner>.{2,8}?)的", topic)
    if owner and owner.group("owner") in previous_question:
        return previous_question.replace(owner.group("owner"), topic, 1)
    # "高某爸" after "高某妈妈老家哪的": another relative of the same person.
    kin = re.match(r"(?P<owner>.{2,8}?)" + _KIN + "$", topic)
    if kin and kin.group("owner") in previous_question:
        asked = re.search(re.escape(kin.group("owner")) + _KIN, previous_question)
        if asked:
            return previous_question[:asked.start()] + topic + previous_question[asked.end():]
    # A place or body named by its kind ("河东镇", "税务局"): the previous question's name of that kind.
    suffix = re.search(_NAME_SUFFIX + "$", topic)
    if suffix:
        same = re.search(r"[\u4e00-\u9fff]{1,5}" + re.escape(suffix.group()), previous_question)
        if same and same.group() != topic:
            return previous_question[:same.start()] + topic + previous_question[same.end():]
    flag = _flag_of(topic)
    for w in text.tagged(previous_question):
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
    flags = [w.flag for w in text.tagged(topic)]
    return flags[0] if flags else "n"


def _same_kind(a: str, b: str) -> bool:
    kinds = ("nr", "ns", "nt", "n")
    return next((k for k in kinds if a.startswith(k)), a) == next((k for k in kinds if b.startswith(k)), b)
