"""Text normalisation and tokenisation shared by the keyword index and question analysis."""
from __future__ import annotations

import array
import contextlib
import functools
import hashlib
import importlib
import io
import logging
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Container
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import jieba
import numpy as np

from index.language.files import read_regular_file

jieba.setLogLevel(logging.WARNING)

# Words that say what kind of answer is wanted, or are politeness: they carry no topic, so they
# must not count when measuring how much of a question a passage covers.
QUESTION_WORDS = frozenset(
    "请问 请 问 一下 告诉 我 我们 你 知道 吗 呢 吧 啊 呀 么 什么 什么样 怎么 怎么样 怎样 如何 为什么 为何 "
    "哪 哪个 哪些 哪里 哪儿 哪位 哪年 哪天 哪一年 哪家 谁 多少 几 几个 多久 多长 多大 多高 何时 何地 何 "
    "是 的 了 在 有 和 与 及 被 把 对 从 为 以 于 等 个 这 那 其 该 之 也 都 还 就 又 中 上 下 "
    "时候 时间 是否 能否 可以 会 要 叫 名字 称为 称作 指 所 哪种 哪类 "
    "一个 一些 一种 一项 因为 是因为 由于 所以 但是 虽然 而且 以及 还有 因此 并且 或者 曾经 曾 已经 其中".split())
_FILLER = re.compile(r"^(请问|请告诉我|我想知道|你知道|问一下|想问一下)[，,：:]?|[吗呢吧啊呀][？?]?$")
# A word that contains a question morpheme ("几零后", "哪些人") asks, it does not name a topic.
_ASKING = re.compile(r"几|哪|谁|什么|多少|怎|啥")
# Characters that end a word rather than continue it ("杨维凯的工资": the name stops before 的).
_PARTICLES = frozenset("的了是在和与有等及并也都就而被把对从为以于之着过吗呢吧")
_HAN = re.compile(r"[\u4e00-\u9fff]+")
_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc
    return opencc.OpenCC("t2s")


@dataclass(frozen=True)
class Message:
    """A message as it came in, made once at the door and handed down to every stage, so none
    normalises it again: the text as typed (whitespace folded, invisible format characters such as
    zero-width spaces and BOMs that ride along in pasted text removed), its normal form, and that
    form without politeness filler (what retrieval compares with the articles)."""
    typed: str
    normal: str
    question: str

    @classmethod
    def of(cls, raw: str) -> "Message":
        typed = " ".join("".join(ch for ch in raw or "" if unicodedata.category(ch) != "Cf").split())
        normal = normalise(typed).strip()
        return cls(typed, normal, _FILLER.sub("", normal).strip() or normal)


def as_message(message: "Message | str") -> Message:
    """The message itself, or a plain string (a library call, a test) made into one."""
    return message if isinstance(message, Message) else Message.of(message)


def normalise(text: str) -> str:
    """Fold full-width forms, Traditional characters and case, so questions and articles compare."""
    text = unicodedata.normalize("NFKC", text)
    return _t2s().convert(text).lower()


def words(text: str) -> list[str]:
    """jieba words (search mode: long words and their parts) without punctuation; text already normalised."""
    return [w for w in jieba.cut_for_search(text) if _TOKEN_OK.search(w)]


def bigrams(text: str) -> list[str]:
    """Overlapping character pairs of every run of Han characters: robust where jieba segments differently."""
    return [run[i:i + 2] for run in _HAN.findall(text) for i in range(len(run) - 1)]


def keyword_tokens(text: str) -> list[str]:
    """Tokens for the keyword index: words plus character bigrams (prefixed so they never collide)."""
    return words(text) + ["#" + b for b in bigrams(text)]


def content_words(text: str, known: Container[str] = "") -> list[str]:
    """The topic words of a question: jieba words minus question and function words, deduplicated.

    With `known` (the indexed text), a word is extended over the next characters while the longer
    string still occurs there: jieba cuts names it does not know ("杨维凯是" → "杨维|凯是"), and the
    indexed text says where a name really ends."""
    seen = []
    for w in _segments(text, known) if known else jieba.cut(text):
        if _TOKEN_OK.search(w) and w not in QUESTION_WORDS and not _ASKING.search(w) and w not in seen:
            seen.append(w)
    return seen


def _segments(text: str, known: Container[str]) -> list[str]:
    """jieba's words of the text, a word extended by longest match against the known text where
    jieba cut a name apart: over a single character, or into a fragment that is no dictionary word
    ("杨维|凯是" → "杨维凯|是"), never into a real word ("金正日|因为" stays)."""
    tokens = list(jieba.cut(text))
    out, pending = [], ""
    for i, token in enumerate(tokens):
        token = token[len(pending):] if pending and token.startswith(pending) else token
        pending = ""
        if not token:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if len(token) >= 2 and _HAN.fullmatch(token) and token in known and nxt and _is_fragment(nxt):
            grown = token
            for ch in nxt:
                if ch in _PARTICLES or not _HAN.fullmatch(ch) or grown + ch not in known:
                    break
                grown += ch
            pending = nxt[:len(grown) - len(token)]
            token = grown
        out.append(token)
    return out


def _is_fragment(token: str) -> bool:
    return len(token) == 1 or not jieba.dt.FREQ.get(token)


class IdfTable:
    """jieba's IDF table, computed on a large general Chinese corpus, and its median.

    Weighting question words by general-language rarity, not by the indexed articles, keeps a
    single short article from making every one of its words look common. The 350,000 words are
    kept as sorted 64-bit digests beside their values (4 MB, where a dict of them takes 48 MB),
    and cached as .npz, so a start reads two arrays instead of parsing the text file.
    """

    def __init__(self, digests: np.ndarray, values: np.ndarray):
        self.digests, self.values = digests, values
        self.median = float(np.sort(values)[len(values) // 2])

    def get(self, word: str) -> float | None:
        at = _position(self.digests, word)
        return None if at is None else float(self.values[at])

    @classmethod
    def load(cls) -> "IdfTable":
        def build() -> dict[str, np.ndarray]:
            table = {}
            source = Path(jieba.__file__).parent / "analyse" / "idf.txt"
            for line in source.read_text(encoding="utf-8").splitlines():
                word, _, value = line.partition(" ")
                if value:
                    table[_digest(word)] = float(value)
            digests = np.array(sorted(table), dtype=np.uint64)
            return {"digests": digests, "values": np.array([table[d] for d in digests.tolist()], dtype=np.float64)}
        arrays = _cached_arrays("jieba-idf", ("digests", "values"), build)
        return cls(arrays["digests"], arrays["values"])


class TagTable:
    """The part-of-speech tag jieba's dictionary gives each word, kept as sorted 64-bit digests
    beside tag numbers and cached as .npz. jieba.posseg builds the same table as a dict from
    dict.txt when it is imported: a third of a second and about 30 MB of every start, for a
    lookup that answering needs only to tell nouns from other words."""

    def __init__(self, digests: np.ndarray, codes: np.ndarray, tags: list[str]):
        self.digests, self.codes, self.tags = digests, codes, tags

    def get(self, word: str) -> str | None:
        at = _position(self.digests, word)
        return None if at is None else self.tags[int(self.codes[at])]

    @classmethod
    def load(cls) -> "TagTable":
        def build() -> dict[str, np.ndarray]:
            table = {}
            with open(jieba.get_dict_file().name, encoding="utf-8") as dictionary:
                for line in dictionary:
                    parts = line.split()
                    if len(parts) == 3:
                        table[_digest(parts[0])] = parts[2]
            tags = sorted(set(table.values()))
            code = {tag: n for n, tag in enumerate(tags)}
            digests = np.array(sorted(table), dtype=np.uint64)
            return {"digests": digests, "codes": np.array([code[table[d]] for d in digests.tolist()], dtype=np.uint8),
                    "tags": np.array(tags)}
        arrays = _cached_arrays("jieba-tags", ("digests", "codes", "tags"), build)
        return cls(arrays["digests"], arrays["codes"], [str(t) for t in arrays["tags"]])


def _cached_arrays(name: str, keys: tuple[str, ...], build) -> dict[str, np.ndarray]:
    """The arrays `keys` derived from one of jieba's files, built once and cached as .npz under
    cache_root() (per jieba version); with no writable cache, built again at every start. A cached
    file that cannot be read, for whatever reason, or whose digest does not cover its arrays is
    made again: a damaged or planted cache never stops the start nor changes a score."""
    cached = cache_root() / f"{name}-{metadata.version('jieba')}.npz"
    try:
        return _read_arrays(cached, keys)
    except Exception:   # noqa: BLE001 — none yet, damaged (a cut zip, a FIFO, bad digest): build it again
        pass
    arrays = build()
    _write_arrays(cached, arrays)
    return arrays


def _arrays_digest(arrays: dict[str, np.ndarray]) -> np.ndarray:
    digest = hashlib.blake2b(digest_size=16)
    for key in sorted(arrays):
        digest.update(key.encode() + str(arrays[key].dtype).encode() + str(arrays[key].shape).encode())
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return np.frombuffer(digest.digest(), dtype=np.uint8)


def _read_arrays(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The arrays of a cache file written by _write_arrays, checked against the digest it holds."""
    with np.load(io.BytesIO(read_regular_file(path)), allow_pickle=False) as f:   # plain arrays: nothing can run
        arrays, digest = {key: f[key] for key in keys}, f["digest"]
    if not np.array_equal(_arrays_digest(arrays), digest):
        raise ValueError(f"{path}: its digest does not match its arrays")
    return arrays


def _write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the arrays and their digest beside, then rename: a reader never sees half of them."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.stem}.{os.getpid()}.npz")
        np.savez(partial, **arrays, digest=_arrays_digest(arrays))
        os.replace(partial, path)


def _position(digests: np.ndarray, word: str) -> int | None:
    """Where the word's digest stands in the sorted digests, or None when it is not there."""
    digest = np.uint64(_digest(word))   # a Python int above 2**63 would make NumPy compare as objects
    at = int(np.searchsorted(digests, digest))
    return at if at < len(digests) and digests[at] == digest else None


@functools.lru_cache(maxsize=1)
def word_tags() -> TagTable:
    return TagTable.load()


def tagged(sentence: str) -> list:
    """jieba.posseg's words of a sentence with their part-of-speech tags (pairs: .word, .flag)."""
    return list(_tagger().cut(sentence))


def word_tag(word: str) -> str:
    """jieba's part-of-speech tag of a word in its dictionary ("x" when it has none)."""
    return _tagger().word_tag_tab.get(word, "x")


class _CompactTags(dict):
    """jieba.posseg's word → tag table answered from TagTable (3 MB of arrays) instead of the
    dict of 350,000 words it reads from dict.txt (41 MB of every process that follows a
    conversation). Words a user dictionary adds, which posseg puts in with update(), stay in the
    dict itself. posseg only reads the table with get()."""

    def __init__(self, table: TagTable):
        super().__init__()
        self._table = table

    def get(self, word, default=None):
        if dict.__contains__(self, word):
            return dict.__getitem__(self, word)
        tag = self._table.get(word)
        return default if tag is None else tag


@functools.lru_cache(maxsize=1)
def _tagger():
    """jieba.posseg's tagger with its tag table compact (_CompactTags). posseg reads dict.txt into
    its table when it is imported; with jieba's own dictionary it is given an empty file to read
    then (under jieba's lock, so no other thread reads the dictionary meanwhile), as TagTable holds
    the same tags (tests/test_speed_paths.py). A custom dictionary is left to posseg."""
    load_dictionary()
    with jieba.dt.lock:
        if "jieba.posseg" in sys.modules or jieba.dt.dictionary != jieba.DEFAULT_DICT:
            return importlib.import_module("jieba.posseg").dt   # posseg's own table
        jieba.dt.get_dict_file = lambda: io.BytesIO(b"")
        try:
            posseg = importlib.import_module("jieba.posseg")
        finally:
            del jieba.dt.get_dict_file
        posseg.dt.word_tag_tab = _CompactTags(word_tags())
    return posseg.dt


def is_noun(word: str) -> bool:
    """A noun by jieba's dictionary (n…, vn, eng). A Han word of two or more characters that the
    dictionary does not know is a name or a term: a noun too."""
    tag = word_tags().get(word)
    if tag is None:
        return bool(re.fullmatch(r"[\u4e00-\u9fff]{2,}|[A-Za-z]+", word))
    return tag.startswith(("n", "vn", "eng"))


def _digest(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


@functools.lru_cache(maxsize=1)
def general_idf() -> IdfTable:
    return IdfTable.load()


def word_weight(word: str) -> float:
    """General-language IDF of a word; unknown words (names, numbers, jargon) count as rare."""
    table = general_idf()
    weight = table.get(word)
    if weight is not None:
        return weight
    return table.median if word.isdigit() else table.median * 1.2


def cache_root() -> Path:
    """Where derived files that outlive an index are kept: ARTICLE_QA_CACHE, else ~/.cache/article-qa."""
    if os.environ.get("ARTICLE_QA_CACHE"):
        return Path(os.environ["ARTICLE_QA_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "article-qa"


def load_dictionary(whole: bool = False) -> None:
    """jieba's prefix dictionary (each word and each prefix of one, with its count) from a file of
    its own in the cache: a marisa trie of the words beside an array of their counts
    (_TrieFrequencies). Start-up reads it in about 0.01 s instead of jieba's marshal file
    (0.41 s), and a process holds 6 MB instead of jieba's dict (57 MB), with the same words and
    counts, so the same tokens (tests/test_speed_paths.py). `whole`, for a build, which tokenises
    everything: a plain dict (0.3 s to make), where a lookup is a few times faster.
    Made from jieba's own loading the first time; a custom dictionary is left to jieba."""
    tokenizer = jieba.dt
    if tokenizer.dictionary != jieba.DEFAULT_DICT:
        _initialize_from_dict_txt(tokenizer)
        return
    if tokenizer.initialized:
        if whole and isinstance(tokenizer.FREQ, _TrieFrequencies):
            with tokenizer.lock:
                _COMPACT["frequencies"] = tokenizer.FREQ
                tokenizer.FREQ = tokenizer.FREQ.whole()
        return
    path = cache_root() / f"jieba-{metadata.version('jieba')}-frequencies.npz"
    try:
        freq, total = _TrieFrequencies.read(path)
    except Exception:   # noqa: BLE001 — none yet, or damaged in any way: made again from jieba's own loading
        _initialize_from_dict_txt(tokenizer)
        _write_arrays(path, _TrieFrequencies.arrays(tokenizer.FREQ, tokenizer.total))
        return
    with tokenizer.lock:
        if not tokenizer.initialized:
            _COMPACT["frequencies"] = freq
            tokenizer.FREQ, tokenizer.total, tokenizer.initialized = (freq.whole() if whole else freq), total, True


# The compact dictionary a build made whole (load_dictionary(whole=True)), for answering_dictionary().
_COMPACT: dict[str, "_TrieFrequencies"] = {}


def answering_dictionary() -> None:
    """jieba's dictionary as an answering process should hold it: compact, even when a build in
    this process made it whole (a bot that built its index before serving would keep 62 MB it
    has no more use for)."""
    load_dictionary()
    compact = _COMPACT.get("frequencies")
    if compact is not None and not isinstance(jieba.dt.FREQ, _TrieFrequencies):
        with jieba.dt.lock:
            jieba.dt.FREQ = compact


class _TrieFrequencies(dict):
    """jieba's word → count, answered from a marisa trie of the ~500,000 words (and prefixes)
    and an array of their counts by the trie's key numbers. jieba only looks words up (in, [],
    get), a few hundred times a question, each a fraction of a microsecond slower than in a dict;
    the words it adds ([]=, from a user dictionary) are kept in the dict itself."""

    def __init__(self, trie, counts: array.array):
        super().__init__()
        self._trie, self._counts = trie, counts

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or key in self._trie

    def __getitem__(self, key):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self._counts[self._trie[key]]   # KeyError for a word it does not hold, as a dict

    def get(self, key, default=None):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        number = self._trie.get(key)
        return default if number is None else self._counts[number]

    def whole(self) -> dict:
        """Every word, as a plain dict."""
        return {word: self._counts[number] for word, number in self._trie.iteritems()} | dict(self)

    @classmethod
    def read(cls, path: Path) -> tuple["_TrieFrequencies", int]:
        import marisa_trie
        arrays = _read_arrays(path, ("trie", "counts", "total"))
        trie = marisa_trie.Trie().frombytes(arrays["trie"].tobytes())
        if len(trie) != len(arrays["counts"]):
            raise ValueError("a damaged dictionary cache")
        return cls(trie, array.array("I", arrays["counts"].astype(np.uint32).tobytes())), int(arrays["total"])

    @staticmethod
    def arrays(freq: dict, total: int) -> dict[str, np.ndarray]:
        """The dictionary as arrays: the trie's bytes, the count of each of its key numbers, the total."""
        import marisa_trie
        trie = marisa_trie.Trie([word for word in freq if word])
        counts = np.zeros(len(trie), dtype=np.uint32)
        for word, number in trie.iteritems():
            counts[number] = freq[word]
        return {"trie": np.frombuffer(trie.tobytes(), dtype=np.uint8), "counts": counts,
                "total": np.array(total, dtype=np.int64)}


def _initialize_from_dict_txt(tokenizer) -> None:
    """jieba's own loading, from its dict.txt, in a fresh private folder: jieba would otherwise
    read (and trust) a `jieba.cache` that anyone could have left in the shared temporary folder."""
    with tempfile.TemporaryDirectory(prefix="article-qa-jieba-") as private:
        tokenizer.tmp_dir = private
        try:
            tokenizer.initialize()
        finally:
            tokenizer.tmp_dir = None


def warm_up() -> None:
    """Load jieba's dictionary, OpenCC and the IDF table (about a second) before the first question."""
    load_dictionary()
    _t2s()
    general_idf()
    word_tags()
