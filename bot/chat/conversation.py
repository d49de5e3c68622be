"""Conversations: the one way a message becomes a reply, shared by the CLI, the terminal chat and
the Telegram bot (which only maps its chats and threads to conversation ids).

A conversation remembers its last question (as understood), that question's answer and the article
it was about, for a limited time. A message is read once at the door (index.language.text.Message: the text
as typed, its normal form) and that object travels down. It is first classified (intent.py): small
talk and questions about the article itself are answered from the article's structure and metadata
(about.py); anything else is a question, rewritten when it leans on the previous turn
(followup.py: 他/她/这个…/那…呢), then answered by retrieval (answer.py).
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Iterable, Protocol

from bot.chat import about, absence, followup, homophones, intent, spoken, stories
from bot.chat.answer import (Answer, Answerer, QuestionError, Quote, passage_quote, read_question, reply_text,
                             words_held)
from index.language import text
from index.sources.article import Article

ASK_IN_CHINESE = "请用中文提问，我会引用文章原文回答。"
NO_MORE = "关于上一个问题，没有更多相关的句子了。"
ARTICLE_GONE = "（之前在聊的那篇文章已被删除，下面按其余的文章回答。）\n"
# Headings are matched with this many characters of a section's name at least ("向稳讲了什么").
_MIN_HEADING_MATCH = 2


class TurnStore(Protocol):
    """Where conversations' last turns outlive the process (the bot keeps them in SQLite:
    bot/telegram/conversation_store.py)."""

    def save(self, conversation: str, turn: str, at: float) -> None: ...
    def delete(self, conversation: str) -> None: ...
    def forget_reader(self, user_id: int) -> int: ...
    def recent(self, since: float, limit: int) -> Iterable[tuple[str, str, float]]: ...


class Corrections(Protocol):
    """The editor's corrections (bot/insights/pins.py): a sentence pinned to a question."""

    def holds(self, article: str) -> bool: ...

    def match(self, article: str, vector): ...


# An article the editor confirmed does not answer a question like this one.
CONFIRMED_MISSING = "这篇报道里没有这个问题的答案（编辑已核实）。"


class Recorder(Protocol):
    """Where each handled message is recorded for the editor's report (bot/insights/record.py)."""

    def record(self, who: str, answer: Answer, seconds: float, feedback: int | None = None) -> None: ...


@dataclass(frozen=True)
class _Memory:
    question: str           # the last question, as understood
    answer: Answer | None   # its answer (None after an article-level reply)
    article_id: str         # the article the conversation is about ("" when not known)
    at: float
    chosen: bool = False    # the reader chose that article: questions are answered from it alone
    # In a library: the report in discussion, named or answered from; follow-ups stay in it until
    # the reader names another (bot/chat/stories.py), says "换一篇" or the conversation expires.
    discussed: bool = False
    # The last answered turn before this one, when this one was not answered: a refused question
    # does not end the conversation ("他妈妈老家哪的" after a refusal still means the boy before it).
    earlier: "_Memory | None" = None


class Conversations:
    """Replies to messages, each in the context of its conversation. Safe to call from many threads."""

    def __init__(self, answerer: Answerer, ttl_seconds: float = 1800, capacity: int = 10_000,
                 store: TurnStore | None = None, recorder: Recorder | None = None):
        self.answerer, self.recorder = answerer, recorder
        self.corrections: Corrections | None = None
        # Every article, read when needed (an archive in Milvus is not loaded whole); what is
        # asked of all of them — titles, headings — comes from the catalogue.
        self.articles = answerer.searcher.index.articles
        self._catalogue = answerer.searcher.index.catalogue
        self._titles = _Titles(self._catalogue.titles())
        self._headings = {e.id: [text.normalise(h) for h in e.headings] for e in self._catalogue.entries if any(e.headings)}
        self._stories = stories.StoryFinder(self._catalogue, self._titles) if len(self.articles) > 1 else None
        self.ttl, self.capacity = ttl_seconds, capacity
        self._memory: OrderedDict[str, _Memory] = OrderedDict()
        self._lock = threading.Lock()
        self._store = store
        if store:
            self._restore(store)

    def reply(self, conversation: str, raw: str, now: float | None = None, who: str | None = None,
              feedback: int | None = None) -> Answer:
        """The reply to one message of a conversation. Never raises for a bad message: an empty or
        over-long one gets an `invalid` answer that says what is wrong. With a recorder, the reply
        is recorded as asked by `who` (the conversation when not given), under the `feedback` key
        the reader's 👍/👎 will carry, if any."""
        started = time.perf_counter()
        answer = self._reply(conversation, raw, time.monotonic() if now is None else now)
        if self.recorder:
            self.recorder.record(who or conversation, answer, time.perf_counter() - started, feedback)
        return answer

    def answer_once(self, raw: str) -> Answer:
        """The reply to a message outside any conversation, neither recorded nor remembered: a
        Telegram inline query is typed a letter at a time, and none of its drafts is a question
        a reader asked."""
        once = f"once:{secrets.token_hex(8)}"
        try:
            return self._reply(once, raw, time.monotonic())
        finally:
            self.forget(once)

    def _reply(self, conversation: str, raw: str, now: float) -> Answer:
        try:
            message = read_question(raw, self.answerer.max_question_chars)
        except QuestionError as exc:
            return Answer(" ".join((raw or "").split())[:100], False, (), str(exc), kind="invalid")
        memory = self._recall(conversation, now)
        gone = ""
        if memory and (memory.chosen or memory.discussed) and memory.article_id not in self._catalogue.number:
            # The article the reader chose was removed since: say so, and answer from the rest.
            gone, memory = ARTICLE_GONE, None
            self.forget(conversation)
        if self._stories and stories.wants_another(message.normal):
            self.forget(conversation)
            return replace(self._library_list(""), question=message.typed)
        story = self._story(message, memory, now)
        if story.answer is not None:
            if story.answer.article_id:   # a story named alone: the next questions are about it
                self._remember(conversation, _Memory("", None, story.answer.article_id, now, discussed=True))
            return replace(story.answer, question=message.typed)
        memory = story.memory
        answer, understood = self._respond(story.question, memory)
        if story.with_reference is not None and answer.kind == "quote" and not (answer.answered and answer.sure):
            again, understood_again = self._respond(story.with_reference, memory)
            if again.answered and again.sure and _found_nothing_of_its_own(answer, story.question, again):
                # The reference's words helped retrieval; the question is still the one asked, and
                # what follow-ups lean on is its own subject, not the story's name.
                answer = again
                understood = story.question if understood_again.typed == story.with_reference.typed else understood_again
        answer = self._corrected(answer, understood)
        answer = replace(answer, question=message.typed, reply=gone + story.heading + answer.reply + story.offer,
                         story=story.title, offer=(gone + story.offer).strip())
        # What follow-ups lean on is the question itself, without the story's name ("他…" after
        # "夏令营那个，12岁的男孩叫啥" is the boy, not the camp); what the reply shows is the message.
        asked = understood
        if understood is story.question and story.question is not message:   # the question without its reference
            understood = message
        if understood.typed != message.typed and "——" not in understood.typed:   # a readable rewrite, not two glued
            answer = replace(answer, understood_as=understood.typed,
                             reply=f"（按“{understood.typed}”理解）\n{answer.reply}")
        elif understood.typed != message.typed:
            answer = replace(answer, understood_as=understood.typed)
        if answer.kind != "smalltalk":
            chosen = bool(memory and memory.chosen)
            article_id = memory.article_id if chosen else answer.article_id or (memory.article_id if memory else "")
            discussed = bool(self._stories and article_id and (answer.article_id == article_id or memory and memory.discussed))
            remembered = answer if answer.kind in ("quote", "refusal") else None
            self._remember(conversation, _Memory(asked.typed, remembered, article_id, now, chosen, discussed,
                                                 None if remembered and remembered.answered else _last_answered(memory)))
        return answer

    def _story(self, message: text.Message, memory: _Memory | None, now: float) -> "_Story":
        """In a library, which report the message is about (bot/chat/stories.py): one it names with
        its question ("孙海宁那个画展，在哪儿办的"), the one in discussion, or one its own telling
        words point to. A report named anew starts the conversation afresh in it. Outside a library,
        or with an article the reader chose, the message as it is."""
        if not self._stories or (memory and memory.chosen):
            return _Story(memory, message)
        topic = stories.library_topic(message.normal)
        if topic is not None:
            return _Story(memory, message, answer=self._library_list(topic))
        current = self._catalogue.number.get(memory.article_id) if memory and memory.discussed else None
        parts = stories.split(message.normal)
        if parts.reference:
            best, other = self._stories.chosen(parts.reference)
            if best is None:
                # The reference in words no report uses ("画展" for a "国画与陶瓷艺术展"): the
                # question may still name the report ("…，孙海宁是干啥的").
                best, other = self._stories.chosen(message.normal)
            if best is not None:
                article = self.articles[best.article]
                if not parts.question:   # the story named, nothing asked: what it is about
                    return _Story(memory, message, answer=about.overview([article]))
                return self._in_story(article, text.Message.of(parts.question), memory, now, other,
                                      text.Message.of(f"{parts.reference}，{parts.question}"))
            if self._stories.unknown(parts.reference):   # a story none of the reports tells
                return _Story(memory, message, answer=Answer(
                    message.typed, False, (), f"没有找到讲“{parts.reference}”的报道。", kind="refusal",
                    lacking=parts.reference))
        if current is None:   # no story named or in discussion: the whole library, its gate included
            return _Story(memory, message)
        ranked = self._stories.ranked(message.normal)
        best, other = stories.choose(ranked)
        if best is not None and best.article != current and _points_away(ranked, current, best):
            return self._in_story(self.articles[best.article], message, memory, now, other)
        return _Story(memory, message)

    def _in_story(self, article: Article, question: text.Message, memory: _Memory | None, now: float,
                  other: "stories.Match | None", with_reference: text.Message | None = None) -> "_Story":
        """The question asked inside one report; the conversation starts afresh there when the
        report is not the one in discussion, and the reply then names it once."""
        same = memory is not None and memory.discussed and memory.article_id == article.id
        if not same:
            memory = _Memory("", None, article.id, now, discussed=True)
        offer = ""
        if other is not None and other.article != self._catalogue.number[article.id]:
            offer = f"\n（另一篇《{self.articles[other.article].title}》也可能是你说的那篇，提问时带上它标题里的词即可。）"
        return _Story(memory, question, title="" if same else article.title, offer=offer,
                      with_reference=with_reference)

    def _library_list(self, topic: str) -> Answer:
        """The reports on a topic ("有没有关于台风的报道"), or the latest ones ("最近有啥新闻")."""
        if topic:
            found = [m.article for m in self._stories.ranked(topic)[:stories.LISTED] if m.share >= stories.MIN_SHARE / 2]
            if not found:
                return Answer(topic, False, (), f"没有找到讲“{topic}”的报道。", kind="refusal")
            lines = [f"讲“{topic}”的报道："]
        else:
            found = list(range(len(self.articles)))[-stories.LISTED:][::-1]
            lines = ["最近的报道："]
        lines += [f"· 《{self._catalogue.entries[n].title}》" for n in found]
        lines.append("想聊哪篇，提问时带上标题里的词就行。")
        return Answer(topic, True, (), "\n".join(lines), kind="overview")

    def warm_up(self) -> None:
        """For the bot and the chats, not for a single `ask`: load what only follow-ups need
        (jieba's tagger, its dictionary, compact) before the first one."""
        text.answering_dictionary()
        followup.warm_up()
        homophones.warm_up()

    def choose_article(self, conversation: str, article_id: str, now: float | None = None) -> None:
        """Make an article the one the conversation is about (Telegram's /articles buttons)."""
        if article_id in self._catalogue.number:
            self._remember(conversation, _Memory("", None, article_id, time.monotonic() if now is None else now,
                                                 chosen=True))

    def article_of(self, conversation: str, now: float | None = None) -> str | None:
        """The article a conversation is about: the one the reader chose, or the report in
        discussion in a library; None when there is none (or it expired)."""
        memory = self._recall(conversation, time.monotonic() if now is None else now)
        return memory.article_id if memory and (memory.chosen or memory.discussed) and memory.article_id else None

    def forget(self, conversation: str) -> None:
        """Clear a conversation's context (Telegram's /start)."""
        with self._lock:
            self._memory.pop(conversation, None)
        if self._store:
            self._store.delete(conversation)

    def forget_reader(self, user_id: int) -> int:
        """/forget: drop every conversation of a Telegram user (their private chat, their threads
        in groups), in memory and on disk. Returns how many were kept on disk."""
        mine = lambda conversation: conversation == str(user_id) or conversation.endswith(f":{user_id}")  # noqa: E731
        with self._lock:
            for conversation in [c for c in self._memory if mine(c)]:
                del self._memory[conversation]
        return self._store.forget_reader(user_id) if self._store else 0

    # ---- one message ----------------------------------------------------------------------------

    def _respond(self, message: text.Message, memory: _Memory | None) -> tuple[Answer, text.Message]:
        """The answer and the question as understood."""
        if memory and memory.answer:
            leaning = self._on_previous_answer(message, memory)
            if leaning:
                return leaning
        question = self._resolved(message, memory)
        scope = self._scope(message, memory)
        question = self._names_as_written(question, scope)
        # A message that leans on the previous turn ("这个行动要做实什么") asks about what the turn
        # was about, never about the article itself. The intent reads the vector of the message in
        # written words: one sentence vector then serves the intent and the retrieval.
        written = self._in_written_words(message, scope) if question is message else None
        if written is not None:
            about_article = self._about_article(message, memory, written)
            if about_article:
                return about_article, message
        answer = self._ask(question, scope, written)
        leaning = _last_answered(memory)
        # Not when the report was found to lack what is asked: that refusal stands. A closest
        # sentence quoted without being sure gives way too.
        if not (answer.answered and answer.sure) and not answer.lacking and leaning and leaning.answer.quotes \
                and not _subject_of_its_own(question, leaning):
            # "比上一年多了多少" after "…一共卖了多少钱": a follow-up without a subject of its own is
            # about what the previous answer told, where the report goes on telling it — and the
            # reply says it was read so.
            in_context = self.answerer.in_context(question, leaning.answer.quotes[0])
            if in_context:
                return in_context, text.Message.of(f"{leaning.question}——{question.typed}")
        if intent.is_foreign(message) and not (answer.answered and answer.sure):
            # A sentence quoted without being sure is no answer to a question in another language.
            answer = Answer(answer.question, False, (), ASK_IN_CHINESE, kind="refusal")
        return answer, question

    def _ask(self, question: text.Message, scope: str | None, written: text.Message | None = None) -> Answer:
        """Retrieval for a question. One in the spoken register ("他以前干啥的") is asked in written
        words (bot/chat/spoken.py), which retrieval reads better; among many reports, the words
        as typed are tried too when the written form finds nothing (a report may say "老家"
        itself; in one report, such a word is kept when it uses it). In a
        conversation about one report (the only one, or the one the reader chose) a question the
        report plainly cannot answer is refused saying what it lacks. `written`: the question in
        written words, when already made."""
        one_report = self._one_report(scope)
        written = written or self._in_written_words(question, scope)
        if absence.attribute(question.question) and not absence.attribute(written.question):
            written = question   # "推荐" put in the report's "推介" no longer asks what it asked
        if written is question:
            return self.answerer.ask(question, scope, one_report)
        answer = self.answerer.ask(written, scope, one_report)
        if answer.answered or one_report:   # in one report, a spoken word it uses itself was kept
            return answer
        as_typed = self.answerer.ask(question, scope, one_report)
        return as_typed if as_typed.answered else answer

    def _one_report(self, scope: str | None) -> bool:
        return len(self.articles) == 1 or scope is not None

    def _names_as_written(self, question: text.Message, scope: str | None) -> text.Message:
        """In one report, a name typed with the wrong homophone ("王建果") as the report writes it
        (bot/chat/homophones.py); the reply then says how the question was read."""
        if not self._one_report(scope):
            return question
        article = self.answerer.searcher.article_text(scope or self.articles[0].id)
        corrected = homophones.corrected(question.normal, article)
        return question if corrected == question.normal else text.Message.of(corrected)

    def _in_written_words(self, message: text.Message, scope: str | None) -> text.Message:
        """The message in written words (bot/chat/spoken.py): in one report, the words that report
        uses, and a relative by the name it gives ("他母亲" → "陈某"). The message itself when
        nothing in it is spoken."""
        vocabulary = self.answerer.searcher.article_text(scope or self.articles[0].id) if self._one_report(scope) else ""
        written = spoken.written(message.normal, vocabulary)
        if vocabulary:
            written = followup.relative_named(written, vocabulary)
        return message if written == message.normal else text.Message.of(written)

    def _about_article(self, message: text.Message, memory: _Memory | None,
                       written: text.Message | None = None) -> Answer | None:
        """Small talk, or a reply about the article itself (overview, parts, metadata); None for a
        question about what the article says. `written`: the message in written words, whose
        sentence vector retrieval reads too."""
        asked = intent.classify(message, self.answerer.searcher.embedder, written)
        if asked.kind == "smalltalk":
            return about.smalltalk(asked.detail, self.articles)
        articles = self._articles_meant(message, memory)
        if asked.kind == "metadata":
            return about.metadata(articles, asked.detail)
        if asked.kind == "sections":
            return about.sections(articles)
        if asked.kind == "overview":
            section = self._section_named(asked.detail, articles)
            if section:
                return about.section_overview(*section)
            if not asked.detail:
                return about.overview(articles)
        return None

    def _resolved(self, message: text.Message, memory: _Memory | None) -> text.Message:
        """The message with what it leans on put back ("他表示了什么" → "焦春锋表示了什么"), or the
        message itself."""
        if not memory or not memory.question:
            return message
        for turn in (memory, memory.earlier):   # the previous turn, else the last answered one
            if turn is None or not turn.question:
                continue
            first = turn.answer.quotes[0].text if turn.answer and turn.answer.quotes else ""
            article = self.answerer.searcher.article_text(turn.article_id) if turn.article_id else ""
            rewritten = followup.rewrite(message, followup.Previous(turn.question, first), article)
            if rewritten != message.typed:
                return text.Message.of(rewritten)
        return message

    def _on_previous_answer(self, message: text.Message, memory: _Memory) -> tuple[Answer, text.Message] | None:
        """"还有呢", "为什么", "这话是谁说的": replies about the previous answer itself, or None."""
        if followup.wants_more(message):
            return self._more(memory), text.Message.of(memory.question)
        quotes = memory.answer.quotes
        if not quotes or not memory.answer.answered:
            return None
        if followup.asks_count(message):
            counted = self.answerer.count(message, quotes[0])
            if counted:
                return counted, text.Message.of(f"{memory.question}——{message.typed}")
        if followup.asks_reason(message):
            return self.answerer.reason(quotes[0]), text.Message.of(f"{memory.question}——为什么")
        if followup.asks_speaker(message):
            return self.answerer.speaker(quotes[0]), text.Message.of(f"“{_short(quotes[0].text)}”是谁说的")
        return None

    def _more(self, memory: _Memory) -> Answer:
        """"还有呢": the next passages of the previous answer. The sentence right after the one
        quoted comes first when retrieval found it relevant too or when it goes on with the same
        point: after a list ("…储存和运输商品"), a report goes on with the rest of it ("TikTok还将
        处理营销…"); after someone's words, what they say next ("最后杨虎德同志表示，…")."""
        first = memory.answer.quotes[0] if memory.answer.quotes else None
        following = self.answerer.continuation(first, memory.answer.more) if first else None
        if first and following is None:   # someone's words: what they say next
            following = self.answerer.said_later(first, followup.person_names(first.text[:_SPEAKER_NAMED_WITHIN]))
        ranked = list(memory.answer.more)
        if following is not None:   # stable: the rest keep their order
            ranked = [following] + [q for q in ranked if q.number != following.number]
        more = tuple(ranked[: self.answerer.max_quotes])
        if not more:
            return Answer("", False, (), NO_MORE, kind="refusal", article_id=memory.article_id)
        return Answer("", True, more, reply_text(more), more=tuple(ranked[len(more):]), article_id=more[0].article_id)

    def _scope(self, message: text.Message, memory: _Memory | None) -> str | None:
        """The article a question is answered from: the one the reader chose, unless the question
        names another; None (every article) otherwise."""
        if not memory or not (memory.chosen or memory.discussed):
            return None
        named = {self.articles[n].id for n in self._titles.named(message.normal)}
        return None if named and memory.article_id not in named else memory.article_id

    def _articles_meant(self, message: text.Message, memory: _Memory | None) -> Sequence[Article]:
        """The article a question about "the article" means: one named in the message, else the one
        the conversation is about, else every article (the replies then cover or list them all)."""
        if len(self.articles) == 1:
            return self.articles
        named = [self.articles[n] for n in self._titles.named(message.normal)]
        if len(named) == 1:
            return named
        focus = self._catalogue.number.get(memory.article_id) if memory else None
        return [self.articles[focus]] if focus is not None else self.articles

    def _section_named(self, words: str, articles: list):
        """(article, section number) of the section whose heading holds the words (in normal form,
        as the intent found them in the message), if one does."""
        if len(words) < _MIN_HEADING_MATCH:
            return None
        # All of them: by the catalogue's headings, without reading every article.
        ids = self._catalogue.number if articles is self.articles else [a.id for a in articles]
        for article_id in ids:
            for number, heading in enumerate(self._headings.get(article_id, ())):
                if heading and words in heading:
                    return self.articles[self._catalogue.number[article_id]], number
        return None

    def adopt(self, previous: "Conversations") -> None:
        """Take over the context of every conversation of `previous` (the same bot on an older
        index), where it is kept, where replies are recorded, and the editor's corrections."""
        with previous._lock:
            memory = OrderedDict(previous._memory)
        with self._lock:
            self._memory, self._store, self.recorder = memory, previous._store, previous.recorder
            self.corrections = previous.corrections

    def _corrected(self, answer: Answer, understood: text.Message) -> Answer:
        """The answer as the editor corrected it: when the editor pinned a sentence (or "not in the
        article") to a question about this article that means the same as this one, that sentence,
        quoted and cited as any, or the refusal. A pin whose sentence the article no longer holds
        is passed over."""
        article = answer.article_id or next((q.article_id for q in answer.quotes if q.article_id), "")
        if (self.corrections is None or answer.kind not in ("quote", "refusal") or not article
                or not self.corrections.holds(article) or article not in self._catalogue.number):
            return answer
        pin = self.corrections.match(article, self.answerer.searcher.embedder.encode_question(understood.question)[0])
        if pin is None:
            return answer
        if pin.sentence is None:
            return Answer(answer.question, False, (), CONFIRMED_MISSING, kind="refusal", article_id=article,
                          understood_as=answer.understood_as)
        index = self.answerer.searcher.index
        number = next((n for n in self._catalogue.passages_of(article) if index.passages[n].text == pin.sentence), None)
        if number is None:
            return answer
        quote = passage_quote(index, number, score=1.0)
        return Answer(answer.question, True, (quote,), reply_text([quote]), article_id=article,
                      understood_as=answer.understood_as, more=answer.quotes)

    # ---- memory ---------------------------------------------------------------------------------

    def _recall(self, conversation: str, now: float) -> _Memory | None:
        with self._lock:
            memory = self._memory.get(conversation)
            if memory and now - memory.at > self.ttl:
                del self._memory[conversation]
                return None
        return self._renumbered(memory) if memory else None

    def _renumbered(self, memory: _Memory) -> _Memory:
        """The memory with its quotes' passage numbers those of this index. A turn remembered on an
        older index (rebuilt since, or before a restart) would otherwise give "还有呢" and its
        buttons the numbers of other passages; a quote whose passage is gone is dropped."""
        if memory.earlier is not None:
            memory = replace(memory, earlier=self._renumbered(memory.earlier))
        answer = memory.answer
        if answer is None or all(self._passage_is(q) for q in (*answer.quotes, *answer.suggestions, *answer.more)):
            return memory
        passages, catalogue = self.answerer.searcher.index.passages, self.answerer.searcher.index.catalogue

        def found(q: Quote) -> int | None:
            """The quote's passage in this index: by its text, or for a quotation quoted whole
            (answer.py's _whole_quotation), the passage it starts with."""
            run = catalogue.passages_of(q.article_id)
            same = next((n for n in reversed(run) if passages[n].text == q.text), None)
            return same if same is not None else next((n for n in run if q.text.startswith(passages[n].text)), None)

        def moved(quotes):
            numbers = [q.number if q.number < 0 else found(q) for q in quotes]
            return tuple(q if q.number < 0 else replace(q, number=n) for q, n in zip(quotes, numbers) if n is not None)
        answer = replace(answer, quotes=moved(answer.quotes), suggestions=moved(answer.suggestions),
                         more=moved(answer.more))
        return replace(memory, answer=answer)

    def _passage_is(self, quote: Quote) -> bool:
        passages = self.answerer.searcher.index.passages
        return quote.number < 0 or (quote.number < len(passages) and quote.text.startswith(passages[quote.number].text)
                                    and passages[quote.number].article == quote.article_id)

    def _remember(self, conversation: str, memory: _Memory) -> None:
        with self._lock:
            self._memory[conversation] = memory
            self._memory.move_to_end(conversation)
            while len(self._memory) > self.capacity:   # bounded: the least recently active go first
                self._memory.popitem(last=False)
        if self._store:
            self._store.save(conversation, _memory_to_json(memory), time.time() - (time.monotonic() - memory.at))

    def _restore(self, store: TurnStore) -> None:
        """Load the conversations of a previous run that are still within the time-to-live."""
        wall, clock = time.time(), time.monotonic()
        for conversation, turn, at in store.recent(wall - self.ttl, self.capacity):
            try:
                self._memory[conversation] = _memory_from_json(turn, clock - (wall - at))
            except (ValueError, KeyError, TypeError):
                continue   # a turn written by another version: that conversation starts afresh


def _short(quote: str, length: int = 16) -> str:
    return quote if len(quote) <= length else quote[:length] + "…"


class _Titles:
    """Which articles a message names: the whole title, or a run of four of its characters. The
    runs are indexed once, so a message is checked against thousands of titles by looking up its
    own runs, not by scanning every title."""

    RUN = 4

    def __init__(self, titles: list[str]):
        self._by_run: dict[str, set[int]] = defaultdict(set)
        self._short: list[tuple[str, int]] = []   # titles shorter than a run: named only whole
        for number, title in enumerate(titles):
            title = text.normalise(title)
            if len(title) < self.RUN:
                self._short += [(title, number)] if title else []
            for i in range(len(title) - self.RUN + 1):
                self._by_run[title[i:i + self.RUN]].add(number)

    def named(self, message: str) -> list[int]:
        """Numbers of the articles the (normalised) message names, in order."""
        found = {n for t, n in self._short if t in message}
        for i in range(len(message) - self.RUN + 1):
            found |= self._by_run.get(message[i:i + self.RUN], set())
        return sorted(found)


# A quote's speaker is named at its start ("西苑社区党支部书记杨虎德同志对…提出了几点希望：").
_SPEAKER_NAMED_WITHIN = 40


def _subject_of_its_own(question: text.Message, leaning: "_Memory") -> bool:
    """Whether a question names a thing the previous turn did not ("看银河的话几月最合适" after a
    question and an answer about a meteor shower): then it is asked for itself, never read as
    going on from the previous answer."""
    before = text.normalise(leaning.question + leaning.answer.quotes[0].text)
    return any(w.flag.startswith("n") and len(w.word) >= 2 and w.word not in before for w in text.tagged(question.question))


def _found_nothing_of_its_own(alone: Answer, question: text.Message, with_reference: Answer) -> bool:
    """Whether the answer with the story's words should stand for the one to the question alone:
    unless the sentence found for the question alone holds more of the question's own words.
    "12岁的那个男孩叫啥" found "12岁的高启硕…" by itself; the story's words would only pull toward
    the sentence that names the story. "啥时候推出" has no subject of its own: the story gives it."""
    if not alone.quotes or not with_reference.quotes:
        return True
    return words_held(question, with_reference.quotes[0].text) >= words_held(question, alone.quotes[0].text)


@dataclass(frozen=True)
class _Story:
    """What a library makes of a message before it is answered (Conversations._story)."""
    memory: _Memory | None       # the conversation as the answer sees it (afresh in a report named anew)
    question: text.Message       # what is asked (without the words that named the report)
    answer: Answer | None = None   # a reply already: the library's own list, a story's overview
    title: str = ""              # the report's title when the conversation moves to it (named once)
    offer: str = ""              # the other report the reference may have meant
    # The question with the words that named the report, asked when the question alone finds no
    # sure answer: they may hold its subject ("TikTok要在美国卖中国货那个，啥时候推出").
    with_reference: text.Message | None = None

    @property
    def heading(self) -> str:
        return f"（说的是《{self.title}》）\n" if self.title else ""


def _points_away(ranked: list["stories.Match"], current: int, best: "stories.Match") -> bool:
    """Whether a message without a reference of its own leaves the report in discussion: its
    telling words weigh much more in another report than in the current one, and enough to name
    a story."""
    held = next((m.score for m in ranked if m.article == current), 0.0)
    return best.score >= stories.SWITCH_WEIGHT and best.score >= 2 * held


def _last_answered(memory: _Memory | None) -> _Memory | None:
    """The turn a follow-up can lean on: the previous one if it was answered, else the one before
    it that was (within the time-to-live, as the memory itself)."""
    if memory is None:
        return None
    if memory.answer and memory.answer.answered:
        return replace(memory, earlier=None)
    return memory.earlier


def _memory_to_json(memory: _Memory) -> str:
    return json.dumps(_memory_dict(memory), ensure_ascii=False)


def _memory_dict(memory: _Memory) -> dict:
    return {"question": memory.question, "article_id": memory.article_id, "chosen": memory.chosen,
            "discussed": memory.discussed,
            "answer": asdict(memory.answer) if memory.answer else None,
            "earlier": _memory_dict(memory.earlier) if memory.earlier else None}


def _memory_from_json(turn: str, at: float) -> _Memory:
    return _memory_from_dict(json.loads(turn), at)


def _memory_from_dict(data: dict, at: float) -> _Memory:
    answer = data["answer"]
    if answer is not None:
        quotes = {key: tuple(Quote(**{**q, "matched": tuple(q["matched"]), "answer": tuple(q.get("answer", ()))})
                             for q in answer[key])
                  for key in ("quotes", "suggestions", "more")}
        answer = Answer(**{**answer, **quotes})
    earlier = _memory_from_dict(data["earlier"], at) if data.get("earlier") else None
    return _Memory(data["question"], answer, data["article_id"], at, data.get("chosen", False),
                   data.get("discussed", False), earlier)
