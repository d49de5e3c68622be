"""Retrieval: a question → the passages most likely to hold its answer, each with a calibrated score.

Dense (FAISS) and keyword (BM25) retrieval each propose candidates; every candidate is then
described by a few features — sentence and section similarity, BM25, how much of the question's
topic it covers (in general and within its own article), whether it holds the kind of answer
asked for (a number, a date) — and a small network learned on labelled Chinese QA
(scripts/fit_fusion.py, weights in fusion.json) turns them into the probability that the passage
answers. A second small network, over the best passage's score and how much of the question its
article never mentions, gives the confidence that the bot should answer at all.
"""
from __future__ import annotations

import json
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import faiss
import jieba
import numpy as np

from index.language import answer_types, text
from index.archive.base import Scores
from index.sources.article import Passage
from index.encode.embed import DEFAULT_MODEL, Embedder, fitted_for
from index.archive.shelf import ArticleShelf, JoinedTexts, Recent
from index.archive.store import Index, section_text

FUSION_FILE = Path(__file__).with_name("fusion.json")   # fitted with the default model (embed.DEFAULT_MODEL)


def fitted_networks(model: str, existing: bool = False) -> Path:
    """Where the networks fitted on a model's scores are (scripts/fit_fusion.py writes them): a
    model's scores have their own scale, so a refusal network fitted on one misjudges another.
    With `existing`, the default model's fit stands in for a model that has none yet."""
    own = fitted_for(FUSION_FILE, model)
    return FUSION_FILE if existing and not own.is_file() else own
FEATURES = ("dense", "dense_gap", "dense_section", "bm25", "bm25_section", "bm25_neighbours",
            "cover", "cover_section", "answer_type", "short", "bigram_cover", "trigram_cover",
            "cover_local", "bigram_local")
# Enough candidates from each retriever that the answer is usually among them, few enough to
# score in a few milliseconds.
CANDIDATES = 64



@dataclass(frozen=True)
class Query:
    text: str                       # normalised question
    tokens: list[str]               # keyword-index tokens
    topic: list[tuple[str, float]]  # content words with their weights
    wants: str                      # the kind of answer asked for (index/language/answer_types.py), or ""
    grams: tuple[frozenset, frozenset]  # the question's character bigrams and trigrams
    focus: str = ""                 # the topic word next to the question word: what is asked about

    @property
    def words(self) -> list[str]:
        """The topic's words, without their weights."""
        return [word for word, _ in self.topic]


ABSTAIN_FEATURES = ("logit", "cover", "dense", "missing_max", "missing_share", "missing_rare", "pairs_missing",
                    "focus_missing", "answer_type", "cover_local", "bigram_local", "trigram_cover")
# A word this rare in general Chinese (jieba's IDF) is a name or a term: an article that answers a
# question about it nearly always uses it.
RARE_WORD = 10.0


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float                   # probability that the passage answers the question
    matched: tuple[str, ...]       # question words found in the passage (to highlight)
    number: int                    # position of the passage in the index
    answer: tuple[str, ...] = ()   # its words of the kind the question asks for ("6780亿元")


@dataclass(frozen=True)
class Result:
    hits: list[Hit]                # best first
    confidence: float              # probability that the best hit answers at all (0 when no hits)
    query: "Query | None" = None   # the question as analysed once, for what reads it after retrieval


class Network:
    """A network with one tanh hidden layer, as fitted by scripts/fit_fusion.py: the ranker (features
    of a candidate → logit that it answers) and the refusal model (signals of the best passage →
    logit that it should be quoted at all). A network rather than a weighted sum, because the
    signals interact: a missing word matters little when a passage is a near-copy of the question,
    and much when it is only loosely related (on CMRC, cross-validated hit@1 0.75 → 0.80)."""

    def __init__(self, params: dict, inputs: tuple[str, ...]):
        if params["inputs"] != list(inputs):
            raise ValueError("fusion.json was fitted on other features — run scripts/fit_fusion.py")
        self.hidden_weights = np.array(params["hidden_weights"], dtype=np.float32)
        self.hidden_bias = np.array(params["hidden_bias"], dtype=np.float32)
        self.output_weights = np.array(params["output_weights"], dtype=np.float32)
        self.output_bias = float(params["output_bias"])

    @staticmethod
    def untrained(inputs: tuple[str, ...]) -> dict:
        """Parameters of a network that scores everything 0 (for fitting, where only features count)."""
        return {"inputs": list(inputs), "hidden_weights": [[0.0] * len(inputs)], "hidden_bias": [0.0],
                "output_weights": [0.0], "output_bias": 0.0}

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """One logit per row."""
        hidden = np.tanh(rows @ self.hidden_weights.T + self.hidden_bias)
        return hidden @ self.output_weights + self.output_bias


class Searcher:
    """Holds the loaded index, the embedding model and the fusion weights; answers many questions."""

    def __init__(self, index: Index, embedder: Embedder, untrained: bool = False):
        """The networks are those fitted for the index's model (fitted_networks()); `untrained` when
        fitting new ones (scripts/fit_fusion.py), where only the features are used."""
        self.index, self.embedder, self.view = index, embedder, index.view
        if untrained:
            fusion = {"ranker": Network.untrained(FEATURES),
                      "refusal": {**Network.untrained(ABSTAIN_FEATURES), "threshold": 0.5}}
        else:
            fitted = fitted_networks(index.manifest.get("model", DEFAULT_MODEL), existing=True)
            fusion = json.loads(fitted.read_text(encoding="utf-8"))
        self.ranker = Network(fusion["ranker"], FEATURES)
        self.refusal = Network(fusion["refusal"], ABSTAIN_FEATURES)
        self.threshold = float(fusion["refusal"]["threshold"])
        # The normalised texts questions are compared with: every article's (the catalogue holds
        # them, joined for "does this word occur anywhere"), and every passage's and section's,
        # held or read by key with their articles.
        self.catalogue = index.catalogue
        self.catalogue.texts   # the articles' texts normalised now (a folder's are made when first read), not on a question
        self._subjects = Recent()   # article id → its title in normal form
        self._passages = _KeyedTexts(index.articles) if isinstance(index.articles, ArticleShelf) else _HeldTexts(index)
        text.warm_up()   # load jieba's dictionary and IDF table now, not on the first question
        # One question is one vector: FAISS's OpenMP threads would only spin against ONNX Runtime's.
        faiss.omp_set_num_threads(1)

    def passage_text(self, number: int) -> str:
        """A passage's normalised text (what questions are compared with)."""
        return self._passages.text(number)

    def article_text(self, article_id: str) -> str:
        """An article's whole text, normalised (what absence is judged against)."""
        return self.catalogue.searchable_text(article_id)

    def articles_mentioning(self, phrase: str) -> list[str]:
        """Ids of the articles whose text holds the phrase (already in normal form), in order."""
        if not phrase:
            return []
        return [self.catalogue.entries[n].id for n in self.catalogue.texts.holding(phrase)]

    def passages_containing(self, phrase: str, article_id: str) -> list[int]:
        """Numbers of the article's passages that contain the phrase (in normal form), in reading order."""
        run = self.catalogue.passages_of(article_id)
        if not phrase or not run:
            return []
        return [run.start + k for k in self._passages.runs([run]).holding(phrase)]

    def analyse(self, question: text.Message | str) -> Query:
        """What retrieval needs from a question: its words, topic, focus and the kind of answer wanted."""
        q = text.as_message(question).question
        wants = answer_types.wanted(q)
        topic = [(w, text.word_weight(w)) for w in text.content_words(q, self.catalogue.texts)]
        return Query(q, text.keyword_tokens(q), topic, wants, (_grams(q, 2), _grams(q, 3)), _focus(q, topic))

    def search(self, question: text.Message | str | Query, k: int = 3, article_id: str | None = None) -> Result:
        """Return up to k hits, best first, and the confidence that the best one answers; with
        `article_id`, only from that article (as if it were the only one indexed). A question
        already analysed (a Query) is not analysed again."""
        query = question if isinstance(question, Query) else self.analyse(question)
        ranked = self.rank(query, article_id)
        if ranked is None:
            return Result([], 0.0, query)
        candidates, logits, signals = ranked
        order = np.argsort(-logits, kind="stable")[:k]
        hits = [self._hit(query, candidates[i], _sigmoid(logits[i])) for i in order]
        return Result(hits, float(_sigmoid(self.refusal.logits(signals[None, :])[0])), query)

    def rank(self, query: Query, article_id: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Candidate passage numbers, their ranking logits and the refusal signals of the best one
        (None when nothing is indexed). scripts/fit_fusion.py fits the refusal model on these signals."""
        candidates, features = self.features(query, article_id)
        if not len(candidates):
            return None
        logits = self.ranker.logits(features)
        best = int(np.argmax(logits))
        article = self.catalogue.article_ids_of([candidates[best]])[0]
        return candidates, logits, self.abstain_signals(query, article, logits[best], features[best])

    def abstain_signals(self, query: Query, article_id: str, logit: float, features: np.ndarray) -> np.ndarray:
        """What decides whether to answer at all (rows follow ABSTAIN_FEATURES): how strong the best
        passage is, and how much of the question's topic its article never mentions — a question
        about "常住人口" cannot be answered by an article that never says it, however close the
        rest of the question is. Absence is measured by words (weighted by rarity), by rare words
        alone, and by character pairs (robust where jieba cuts a name differently)."""
        article = self.article_text(article_id)
        missing = [(weight * _absent_share(word, article), weight) for word, weight in query.topic]
        total = sum(weight for _, weight in missing) or 1.0
        rare_missing = sum(weight >= RARE_WORD and word not in article for word, weight in query.topic)
        pairs = {w[i:i + 2] for w, _ in query.topic if _HAN_WORD.fullmatch(w) for i in range(len(w) - 1)}
        pairs_missing = sum(p not in article for p in pairs) / len(pairs) if pairs else 0.0
        column = {name: features[FEATURES.index(name)] for name in ("cover", "dense", "answer_type", "cover_local",
                                                                    "bigram_local", "trigram_cover")}
        return np.array([logit, column["cover"], column["dense"],
                         max((m for m, _ in missing), default=0.0) / 15, sum(m for m, _ in missing) / total,
                         min(rare_missing, 3) / 3, pairs_missing,
                         _absent_share(query.focus, article) if query.focus else 0.0,
                         column["answer_type"], column["cover_local"],
                         column["bigram_local"], column["trigram_cover"]], dtype=np.float64)

    def features(self, query: Query, article_id: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Candidate passage numbers and their feature matrix (rows follow FEATURES)."""
        n = len(self.index.passages)
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, len(FEATURES)), dtype=np.float32)
        q_vec = self.embedder.encode_question(query.text)
        # Both asked for now: an archive in Milvus looks their statistics up while it searches.
        bm25, section_bm25 = self.view.passage_bm25(query.tokens), self.view.section_bm25(query.tokens)
        candidates = self._candidates(q_vec, bm25, article_id)
        self._passages.prefetch(candidates)   # read by key: while the candidates' vectors are fetched
        return candidates, self._feature_matrix(query, q_vec[0], bm25, section_bm25, candidates)

    def _candidates(self, q_vec: np.ndarray, bm25: Scores, article_id: str | None = None) -> np.ndarray:
        run = self.catalogue.passages_of(article_id) if article_id is not None else range(0)
        if run:   # one article: score its passages directly
            numbers = np.array(run)
            dense = self.view.passage_similarity(q_vec[0], numbers)
            return np.unique(np.concatenate([numbers[np.argsort(-dense)[:CANDIDATES]],
                                             numbers[np.argsort(-bm25.at(numbers))[:CANDIDATES]]]))
        return self.view.candidates(q_vec, bm25, min(CANDIDATES, len(self.index.passages)))

    def _feature_matrix(self, query, q_vec, bm25: Scores, section_bm25: Scores, candidates) -> np.ndarray:
        idx = self.index
        sections = idx.passage_section[candidates]
        dense = self.view.passage_similarity(q_vec, candidates)
        dense_section = self.view.section_similarity(q_vec, sections)
        rel = lambda a, b: a / b.max() if b.max() > 0 else np.zeros_like(a)  # noqa: E731
        texts = self._with_antecedents(candidates, self._passages.texts(candidates))
        words, weights = [w for w, _ in query.topic], np.array([w for _, w in query.topic], dtype=np.float64)
        bigrams, trigrams = sorted(query.grams[0]), sorted(query.grams[1])
        # Which of the question's words and n-grams each candidate contains: one pass, every feature
        # below that counts shared words is read off this table.
        present = _presence(words + bigrams + trigrams, texts)
        has_word, has_bigram = present[:len(words)], present[len(words):len(words) + len(bigrams)]
        has_trigram = present[len(words) + len(bigrams):]
        unique_sections, section_row = np.unique(sections, return_inverse=True)
        section_cover = _weighted_share(weights, _presence(words, self._passages.sections(unique_sections)))
        rows = np.column_stack([
            dense, dense - dense.max(), dense_section,
            rel(bm25.at(candidates), bm25), rel(section_bm25.at(sections), section_bm25),
            rel(self._neighbour_bm25(bm25, candidates), bm25),
            _weighted_share(weights, has_word), section_cover[section_row],
            [answer_types.matches(query.wants, int(flags)) for flags in idx.passage_types[candidates]],
            [min(len(t), 40) / 40 for t in texts],
            has_bigram.mean(axis=0) if bigrams else np.zeros(len(texts)),
            has_trigram.mean(axis=0) if trigrams else np.zeros(len(texts)),
            *self._local_cover(words + bigrams, len(words), candidates, present[:len(words) + len(bigrams)]).T,
        ])
        return rows.astype(np.float32)

    def _with_antecedents(self, candidates: np.ndarray, texts: list[str]) -> list[str]:
        """A sentence that opens with 他/她 ("8年前，他和妻子决定在长春安家") is about the person the
        sentence before it in its paragraph names: for the words it shares with a question, it
        holds that name too."""
        passages = self.index.passages
        for i, number in enumerate(candidates):
            passage = passages[number]
            if number == 0 or not _OPENS_WITH_HE.match(texts[i]):
                continue
            before = passages[number - 1]
            if (before.article, before.section_no, before.paragraph) == (passage.article, passage.section_no, passage.paragraph):
                names = answer_types.honoured_names(before.text) or answer_types.person_names(before.text)
                if names:
                    texts[i] = names[-1] + texts[i]
        return texts

    def _local_cover(self, terms: list[str], n_words: int, candidates: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Coverage of the question's words and bigrams, each weighted by how rare it is *within the
        candidate's article*. The article's own subject ("乍都节公园") is in the question and in
        many of its sentences, so it says little about which sentence answers; the rarer words
        ("面积", "捐献") do. Words of the title are the article's subject and count for nothing:
        its sentences often leave the subject out ("它的面积约为…")."""
        articles = self.catalogue.article_ids_of(candidates)
        by_article = self._local_weights(list(dict.fromkeys(articles)), terms)
        weights = np.stack([by_article[a] for a in articles]) if articles else np.zeros((0, len(terms)))
        out = np.zeros((len(candidates), 2), dtype=np.float32)
        for col, part in enumerate((slice(0, n_words), slice(n_words, len(terms)))):
            total = weights[:, part].sum(axis=1)
            covered = (weights[:, part] * present[part].T).sum(axis=1)
            out[:, col] = np.where(total > 0, covered / np.where(total > 0, total, 1), 0.0)
        return out

    def _local_weights(self, articles: list[str], terms: list[str]) -> dict[str, np.ndarray]:
        """Each article's weight for each term: log((passages + 1) / (passages holding it + 0.5)),
        0 for the words of its title. One presence table over all the articles' passages."""
        numbers = [self.catalogue.passages_of(a) for a in articles]
        present = _presence(terms, self._passages.runs(numbers))
        firsts = np.cumsum([0] + [len(ns) for ns in numbers[:-1]])
        df = np.add.reduceat(present, firsts, axis=1).astype(np.float32) if len(terms) else np.zeros((0, len(numbers)))
        out = {}
        for column, (article, ns) in enumerate(zip(articles, numbers)):
            title = self._subject(article)
            subject = np.array([t in title for t in terms], dtype=bool)
            out[article] = np.where(subject, 0.0, np.log((len(ns) + 1) / (df[:, column] + 0.5)))
        return out

    def _subject(self, article_id: str) -> str:
        """The article's title in normal form: its subject. A title made from the first sentence
        names no subject, and its words keep their weight."""
        subject = self._subjects.get(article_id)
        if subject is None:   # normalised once for the articles questions keep coming back to
            entry = self.catalogue.get(article_id)
            subject = "" if entry is None or entry.title_from_text else text.normalise(entry.title)
            self._subjects.update({article_id: subject})
        return subject

    def _neighbour_bm25(self, bm25: Scores, candidates: np.ndarray) -> np.ndarray:
        """Mean BM25 of the sentences before and after, within the same section: answers often sit
        right next to the sentence that names the topic ("他…" after "张三是…")."""
        section, last = self.index.passage_section, len(self.index.passages) - 1
        total, count = np.zeros(len(candidates)), np.zeros(len(candidates))
        for neighbour in (candidates - 1, candidates + 1):
            clipped = np.clip(neighbour, 0, last)
            same = (neighbour >= 0) & (neighbour <= last) & (section[clipped] == section[candidates])
            total += np.where(same, bm25.at(clipped), 0.0)
            count += same
        return np.where(count > 0, total / np.maximum(count, 1), 0.0).astype(np.float32)

    def _hit(self, query: Query, passage_no: int, score: float) -> Hit:
        passage = self.index.passages[passage_no]
        matched = tuple(w for w, _ in query.topic if w in self._passages.text(passage_no))
        return Hit(passage, float(score), matched, int(passage_no), answer_types.spans(query.wants, passage.text, query.text))


_HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
_ASKING = re.compile(r"多少|什么|哪|谁|几|怎|何|啥")


_OPENS_WITH_HE = re.compile(r"^[^，,。]{0,8}?[，,]?(?:他|她)(?!们)")


def _focus(question: str, topic: list[tuple[str, float]]) -> str:
    """The noun just before the question word: the attribute asked about ("杨维凯的工资是多少" →
    工资). An article without it cannot answer, however much else of the question it shares. A
    noun after the question word names the kind of answer ("哪个朝代"), which the answering
    sentence need not say, so it is never the focus."""
    asking = _ASKING.search(question)
    if not asking or not topic:
        return ""
    nouns = {w for w in jieba.cut(question[:asking.start()]) if text.is_noun(w)}
    before = [(question.rfind(w, 0, asking.start()), w) for w, _ in topic
              if any(n in w for n in nouns) and 0 <= question.rfind(w, 0, asking.start())]
    return max(before)[1] if before else ""


def _absent_share(word: str, article_text: str) -> float:
    """How much of a word the article lacks: 0 if it is there; for a Chinese compound, the share of
    its character pairs that never occur, so a paraphrase such as 支柱产业 for 重点产业 is only
    partly missing; 1 for anything else that is not there (GDP, a number)."""
    if word in article_text:
        return 0.0
    if len(word) < 3 or not re.fullmatch(r"[\u4e00-\u9fff]+", word):
        return 1.0
    pairs = [word[i:i + 2] for i in range(len(word) - 1)]
    return sum(p not in article_text for p in pairs) / len(pairs)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _grams(question: str, n: int) -> frozenset:
    """Character n-grams of the question's topic part: CMRC-style questions copy the answering
    sentence almost word for word, so long shared n-grams are the strongest single signal."""
    chars = "".join(re.findall(r"[\w\u4e00-\u9fff]", question))
    return frozenset(chars[i:i + n] for i in range(len(chars) - n + 1))


class _HeldTexts:
    """Every passage's and section's normalised text, made when first asked for and kept: an index
    folder holds every article, but normalising a library of thousands at start-up cost a cold
    `ask` most of a second, and a question reads a hundred or so."""

    def __init__(self, index: Index):
        self._raw = index.passages
        self._passages: list[str | None] = [None] * len(index.passages)
        self._raw_sections = [(a, s) for a in index.articles for s in a.sections]
        self._sections: list[str | None] = [None] * len(self._raw_sections)

    def text(self, number: int) -> str:
        made = self._passages[number]
        if made is None:
            made = self._passages[number] = text.normalise(self._raw[number].text)
        return made

    def texts(self, numbers) -> list[str]:
        return [self.text(n) for n in numbers]

    def sections(self, numbers) -> list[str]:
        return [self._section(s) for s in numbers]

    def _section(self, number: int) -> str:
        made = self._sections[number]
        if made is None:
            made = self._sections[number] = text.normalise(section_text(*self._raw_sections[number]))
        return made

    def runs(self, runs: list[range]) -> JoinedTexts:
        return JoinedTexts([self.text(n) for run in runs for n in run])

    def prefetch(self, numbers) -> None:
        """Nothing to read: every article is here."""


class _KeyedTexts:
    """Passages' and sections' normalised texts, made when their article is read from the
    archive (index/archive/shelf.py) and kept for as many articles as the shelf keeps."""

    def __init__(self, shelf: ArticleShelf):
        self.shelf, self.catalogue = shelf, shelf.catalogue
        self._made = Recent()   # article number → (its passages' texts, its sections' texts)
        self._reading: dict[int, Future] = {}   # articles being read in the background
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def prefetch(self, numbers) -> None:
        """Start reading these passages' articles in the background (those not read yet)."""
        articles = {self.catalogue.article_of_passage(int(n)) for n in numbers}
        with self._lock:
            missing = sorted(a for a in articles if self._made.get(a) is None and a not in self._reading)
            if not missing:
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="texts")
            future = self._pool.submit(self._read, missing)
            self._reading.update(dict.fromkeys(missing, future))

    def text(self, number: int) -> str:
        return self.texts([number])[0]

    def texts(self, numbers) -> list[str]:
        articles = [self.catalogue.article_of_passage(int(n)) for n in numbers]
        made = self._of(articles)
        starts = self.catalogue.passage_starts
        return [made[a][0].text(int(n) - int(starts[a])) for n, a in zip(numbers, articles)]

    def sections(self, numbers) -> list[str]:
        articles = [self.catalogue.article_of_section(int(s)) for s in numbers]
        made = self._of(articles)
        starts = self.catalogue.section_starts
        return [made[a][1][int(s) - int(starts[a])] for s, a in zip(numbers, articles)]

    def runs(self, runs: list[range]) -> JoinedTexts:
        starts, parts = self.catalogue.passage_starts, []
        for run in runs:   # cut where one article ends and the next begins
            n = run.start
            while n < run.stop:
                article = self.catalogue.article_of_passage(n)
                end = min(run.stop, int(starts[article + 1]))
                parts.append((article, range(n - int(starts[article]), end - int(starts[article]))))
                n = end
        made = self._of([a for a, _ in parts])
        return JoinedTexts.of_parts([(made[a][0], run) for a, run in parts])

    def _of(self, articles: list[int]) -> dict[int, tuple[JoinedTexts, list[str]]]:
        """The texts of these articles (by number): those made already, those being read (waited
        for), and the rest read now in one call."""
        made = {a: texts for a in set(articles) if (texts := self._made.get(a)) is not None}
        with self._lock:
            reading = {self._reading[a] for a in set(articles) - set(made) if a in self._reading}
        for future in reading:
            made.update(future.result())
        missing = sorted(set(articles) - set(made))
        return {**made, **self._read(missing)} if missing else made

    def _read(self, articles: list[int]) -> dict[int, tuple[JoinedTexts, list[str]]]:
        made = {}
        try:
            made = {number: (JoinedTexts([text.normalise(p.text) for p in passages]),
                             [text.normalise(section_text(article, s)) for s in article.sections])
                    for number, (article, passages) in zip(articles, self.shelf.read(articles))}
        finally:   # read or failed, no longer being read
            self._made.update(made)
            with self._lock:
                for a in articles:
                    self._reading.pop(a, None)
        return made


def _presence(terms: list[str], texts: list[str] | JoinedTexts) -> np.ndarray:
    """(terms, texts) table of whether each term occurs in each text. The texts are searched as one
    string (a JoinedTexts, when the caller keeps one), one term at a time, so the work is in str.find
    rather than a Python loop over every term and text."""
    joined = texts if isinstance(texts, JoinedTexts) else JoinedTexts(texts)
    out = np.zeros((len(terms), joined.count), dtype=bool)
    for row, term in enumerate(terms if joined.count else []):
        out[row, joined.holding(term)] = True
    return out


def _weighted_share(weights: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Per text: the weighted share of the terms it contains."""
    total = weights.sum()
    return (weights @ present) / total if total else np.zeros(present.shape[1])
