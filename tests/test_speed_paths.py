"""Fast tier: the pieces of the answer path that were made faster must give the same results as the
plain way of computing them."""
import os

import numpy as np
import pytest

from index.language import text
from index.archive.keyword import KeywordIndex
from index.encode.onnx_export import ExportError, _pipeline
from index.archive.shelf import JoinedTexts
from index.search.retrieve import _presence
from conftest import LANSHAN


def test_presence_table_matches_plain_substring_tests():
    texts = ["岚山拥有钢铁、化工、木材三大重点产业。", "", "钢铁钢铁", "木材\u3000加工", "产业"]
    terms = ["钢铁", "产业", "木材加工", "岚", "铁钢", "三大重点产业。"]
    expected = np.array([[t in s for s in texts] for t in terms])
    assert (_presence(terms, texts) == expected).all()
    assert _presence([], texts).shape == (0, 5) and _presence(terms, []).shape == (6, 0)


def test_joined_texts_give_each_text_back_and_never_match_across_two():
    texts = ["岚山港", "", "钢铁产业", "港口吞吐量", "a"]
    joined = JoinedTexts(texts, "\n")
    assert [joined.text(k) for k in range(len(texts))] == texts
    assert _presence(["港钢", "港口", ""], joined).tolist() == _presence(["港钢", "港口", ""], texts).tolist()
    assert not _presence(["港\n钢"], joined).any() and JoinedTexts([]).count == 0
    part = joined.runs([range(3, 5), range(0, 0), range(0, 2)])
    assert [part.text(k) for k in range(part.count)] == texts[3:5] + texts[0:2]
    assert _presence(["港", "a"], part).tolist() == _presence(["港", "a"], texts[3:5] + texts[0:2]).tolist()


def test_bm25_scores_without_scipy_match_a_sparse_matrix_product():
    documents = [["岚山", "钢铁", "钢铁"], ["化工"], ["岚山", "化工", "木材"], []]
    index = KeywordIndex.build(documents)
    query = ["岚山", "钢铁", "不在", "岚山"]
    from scipy import sparse
    matrix = sparse.csc_matrix((index.data, index.indices, index.indptr), shape=index.shape)
    columns = sorted({index.vocabulary[t] for t in query if t in index.vocabulary})
    expected = np.asarray(matrix[:, columns].sum(axis=1)).ravel()
    assert np.allclose(index.scores(query), expected) and index.scores(query)[0] > index.scores(query)[2] > 0


def test_compact_idf_table_gives_jiebas_values_and_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("ARTICLE_QA_CACHE", str(tmp_path))
    table = text.IdfTable.load()
    import jieba
    from pathlib import Path
    plain = {}
    for line in (Path(jieba.__file__).parent / "analyse" / "idf.txt").read_text(encoding="utf-8").splitlines()[:2000]:
        word, _, value = line.partition(" ")
        plain[word] = float(value)
    assert all(table.get(w) == v for w, v in plain.items())
    assert table.get("这不是一个词语吧") is None
    assert list(tmp_path.glob("jieba-idf-*.npz"))
    again = text.IdfTable.load()   # from the cache file
    assert again.median == table.median and np.array_equal(again.digests, table.digests)


class _Module:
    def __init__(self, name, config=None):
        self.__class__ = type(name, (), {"get_config_dict": lambda self: config or {}})


@pytest.mark.parametrize("modules, message", [
    ([_Module("Transformer"), _Module("Pooling", {"pooling_mode": "mean"}), _Module("Dense")], "Dense"),
    ([_Module("Transformer"), _Module("Pooling", {"pooling_mode": "max"})], "pooling 'max'"),
])
def test_models_that_do_not_export_are_named_with_the_reason(modules, message):
    with pytest.raises(ExportError, match=message):
        _pipeline(modules)


def test_exportable_pipeline():
    assert _pipeline([_Module("Transformer"), _Module("Pooling", {"pooling_mode": "mean"})]) == ("mean", False)
    assert _pipeline([_Module("Transformer"), _Module("Pooling", {"pooling_mode": "cls"}),
                      _Module("Normalize")]) == ("cls", True)


def test_section_counts_from_passages_equal_tokenising_the_whole_section():
    from conftest import LANSHAN, QINGSHUI
    from index.sources.article import load_article
    from index.archive.keyword import term_counts
    from index.archive.store import _flatten, _section_counts, section_text
    articles = [load_article(LANSHAN), load_article(QINGSHUI)]
    passages, passage_section, _ = _flatten(articles)
    vocabulary = {}
    passage_counts = term_counts([text.keyword_tokens(text.normalise(p.text)) for p in passages], vocabulary)
    fast = _section_counts(articles, passage_counts, passage_section, vocabulary)
    whole = term_counts([text.keyword_tokens(text.normalise(section_text(a, s))) for a in articles for s in a.sections],
                        vocabulary)
    assert fast.shape == whole.shape and abs(fast - whole).sum() == 0


def test_the_cached_tag_table_gives_jieba_posseg_dictionary_tags():
    text.tagged("")   # the tagger with its compact table, before posseg is imported any other way
    import jieba.posseg
    stock = jieba.posseg.POSTokenizer(jieba.dt)   # reads jieba's dict.txt into a dict, as posseg does
    table = text.word_tags()
    sample = list(stock.word_tag_tab.items())[::997]
    assert len(sample) > 300
    assert all(table.get(word) == tag for word, tag in sample)
    assert text.is_noun("工资") and not text.is_noun("是") and text.is_noun("杨维凯")   # unknown: a name
    assert isinstance(jieba.posseg.dt.word_tag_tab, text._CompactTags)
    assert all(text.word_tag(word) == tag for word, tag in sample)
    sentences = [line for line in LANSHAN.read_text(encoding="utf-8").splitlines()
                 if line.strip()][:40] + ["高启硕和母亲陈韦伟参加了夏令营", "量子计算机咋算得这么快", "那去年呢？"]
    assert [[(w.word, w.flag) for w in text.tagged(s)] for s in sentences] == \
        [[(w.word, w.flag) for w in stock.cut(s)] for s in sentences]


_TOKENS = ("import json, sys; sys.path.insert(0, {root!r}); import jieba; from index.language import text; "
           "{load}; tokens = [jieba.lcut(s) for s in ('岚山区委书记焦春锋表示', '高启硕和母亲陈韦伟参加了夏令营', "
           "'量子计算机的计算速度')]; words = getattr(jieba.dt.FREQ, 'whole', lambda: jieba.dt.FREQ)(); "
           "print(json.dumps([len(words), sum(words.values()), jieba.dt.total, tokens], ensure_ascii=False))")


def _tokens(tmp_path, load: str) -> str:
    import subprocess
    import sys
    from conftest import ROOT
    env = {**os.environ, "ARTICLE_QA_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", _TOKENS.format(root=str(ROOT), load=load)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_jiebas_dictionary_from_the_cache_gives_the_same_tokens_and_runs_nothing(tmp_path):
    jiebas_own = _tokens(tmp_path, "jieba.initialize()")
    assert _tokens(tmp_path, "text.load_dictionary()") == jiebas_own   # made, from jieba's own loading
    cached = next(tmp_path.glob("jieba-*-frequencies.npz"))
    assert _tokens(tmp_path, "text.load_dictionary()") == jiebas_own   # read from the cache: a trie
    assert _tokens(tmp_path, "text.load_dictionary(whole=True)") == jiebas_own   # read whole, for a build
    # A bot that built its index before serving answers from the compact dictionary again.
    assert _tokens(tmp_path, "text.load_dictionary(whole=True); text.answering_dictionary(); "
                             "assert type(jieba.dt.FREQ).__name__ == '_TrieFrequencies'") == jiebas_own
    # A file someone else wrote into the cache: arrays are read without pickle, so nothing in it
    # runs; what does not read as the arrays is made again from jieba.
    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    np.savez(cached.with_suffix(""), words=np.array([Planted()], dtype=object))
    assert _tokens(tmp_path, "text.load_dictionary()") == jiebas_own and not marker.exists()
    cached.write_bytes(b"not an archive")
    assert _tokens(tmp_path, "text.load_dictionary()") == jiebas_own


def test_the_dictionary_in_a_trie_is_jiebas_own(tmp_path):
    import jieba
    from index.language.text import _TrieFrequencies, _write_arrays
    jieba.initialize()
    own = dict(jieba.dt.FREQ)
    sample = dict(list(own.items())[::50] + [("岚山", own.get("岚山", 0)), ("岚", own.get("岚", 0))])
    path = tmp_path / "dictionary.npz"
    _write_arrays(path, _TrieFrequencies.arrays(sample, 7))
    compact, total = _TrieFrequencies.read(path)
    assert total == 7 and "岚山" in compact and compact["岚山"] == sample["岚山"] == compact.get("岚山")
    assert compact.get("不在词典里的词") is None and "不在词典里的词" not in compact
    with pytest.raises(KeyError):
        compact["不在词典里的词"]
    compact["新词"] = 3   # jieba's add_word
    assert compact["新词"] == 3 and compact.whole() == {**sample, "新词": 3}


def test_an_articles_json_is_what_asdict_gives_and_reads_back_as_the_article():
    import json
    from dataclasses import asdict
    from conftest import QINGSHUI
    from index.sources.article import Article, load_article
    for article in (load_article(LANSHAN), load_article(QINGSHUI)):
        data = article.as_json()
        assert json.dumps(data, ensure_ascii=False) == json.dumps(asdict(article), ensure_ascii=False)
        assert Article.from_json(data) == article
