"""The archive on Milvus (store.backend: milvus): passages' vectors and BM25 weights, sections, and
the articles themselves live in Milvus collections, so several bot processes (on several machines)
share one archive and none holds its vectors.

What lives where:
  <prefix>_passages   one row a passage: its vector and its BM25 weights as a sparse vector
  <prefix>_sections   one row a section (title + heading + text), the same two vectors
  <prefix>_articles   the parsed articles (JSON, cut into parts of PART_CHARS) and the texts they
                      were parsed from; what a process loads to quote, cite and converse
  <prefix>_terms      how many passages and sections hold each keyword token (for BM25's IDF)
  <prefix>_meta       one row: model, dimension, counts and lengths, and a version that every
                      change renews (what running bots watch)

BM25 is ours, not Milvus's BM25 function: the sparse vectors hold each token's saturated term
frequency, tf·(k1+1)/(tf + k1·(1 − b + b·len/avglen)), and a question's sparse vector holds the
tokens' IDF from <prefix>_terms, so an inner product is exactly the embedded index's BM25 (the same
jieba words and bigrams, k1 and b) — and Milvus Lite's BM25 keeps its statistics per segment,
which would make scores depend on how its files happen to be cut. The average length is the one
at the time a passage is added; a build writes them all at once.

Writes must come one at a time (Milvus Lite's rule, and the IDF counts are read, changed and
written back): `article-qa index` holds the change lock beside the index folder while it writes.
"""
from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import math
import os
import time
import zlib
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np

from index.language import answer_types, text
from index.archive.base import ArchiveCutShort, ArchiveQueryError, ArchiveUnavailable, Progress, Written
from index.sources.article import Article
from index.archive.keyword import B, K1
from index.archive.shelf import ArticleShelf, ArticleTexts, Catalogue, Entry, PassageShelf, searchable_text
from index.archive.store import FORMAT, SECTION_TOKENS, Index, IndexStoreError, _embed_in_batches, _flatten

log = logging.getLogger(__name__)
_NO_COUNTS = {"articles": 0, "passages": 0, "passage_tokens": 0, "sections": 0, "section_tokens": 0}
PART_CHARS = 16_000          # a VARCHAR holds 65,535 bytes: 16,000 characters of any UTF-8
ROW_BITS = 20                # a passage or section key: article key << 20 | its number in the article
# The parts of an article's three records in the articles collection are numbered from these
# (the whole article from 0): a record of up to 2¹⁸ parts each.
ENTRY_PARTS, SOURCE_PARTS = 1 << (ROW_BITS - 2), 1 << (ROW_BITS - 1)
# 2: a catalogue entry per article, which a process loads in place of the articles
LAYOUT = 2
BATCH = 2_000                # rows per insert or query call
MAX_META_CHARS = 60_000      # the meta row's body, a VARCHAR of at most 65,535 bytes (json.dumps writes ASCII)
MANY = "many"                # the mark of a write whose articles are too many to name in the meta row
_UNUSED = [0.0, 0.0]         # Milvus wants a vector field in every collection; these hold none
_DENSE_SEARCH = {"metric_type": "IP", "params": {"ef": 128}}   # HNSW: as the embedded index's efSearch


class MilvusArchive:
    """One Milvus archive: its collections, and reading and writing them."""

    def __init__(self, uri: str, prefix: str = "article_qa", index_kind: str = "auto"):
        # gRPC's C core writes its own notices to stderr (a server's "too many pings" GOAWAY, which
        # pymilvus recovers from by itself); what fails for good is reported once, by us.
        os.environ.setdefault("GRPC_VERBOSITY", "NONE")
        try:
            from pymilvus import MilvusClient
            # A failed call reaches our log once, in one line (ArchiveUnavailable, IndexStoreError):
            # pymilvus would add a traceback for each retry, and a warning at every load about the
            # snapshot timestamp Milvus Lite does not give.
            logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
            if not is_server(uri):   # and a file another process holds is reported below, in one line
                logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
                logging.getLogger("milvus_lite.server_manager").setLevel(logging.CRITICAL)
            # A server that asks for credentials gets them from the environment, never from a file.
            self.client = MilvusClient(uri, token=os.environ.get("MILVUS_TOKEN", ""))
        except Exception as exc:   # a server that does not answer, a file another process holds
            shared = "" if is_server(uri) else (" — a Milvus Lite file serves one process at a time: is another "
                                                "article-qa using it? To share an archive, run a Milvus server "
                                                "(milvus-lite server, or Milvus) and set store.uri to its http:// address")
            raise IndexStoreError(f"Cannot open the Milvus archive at {uri} ({type(exc).__name__}: "
                                  f"{_first_line(exc)}){shared}") from None
        self.uri, self.prefix, self.index_kind = uri, prefix, index_kind
        self.where = f"the Milvus archive at {uri}"
        self.names = {kind: f"{prefix}_{kind}" for kind in ("passages", "sections", "articles", "terms", "meta")}
        self.load_collections()

    def load_collections(self) -> None:
        """Collections are searched once loaded into memory (on the server, for a server)."""
        for name in self.names.values():
            if self.client.has_collection(name):
                self.client.load_collection(name)

    # --- reading ---------------------------------------------------------------------------------

    def meta(self) -> dict | None:
        """The archive's meta row, or None when there is no archive yet."""
        if not self.client.has_collection(self.names["meta"]):
            return None
        rows = self.client.query(self.names["meta"], filter="pk == 0", output_fields=["body"])
        return json.loads(rows[0]["body"]) if rows else None

    def version(self) -> int | None:
        """New at every change (its time, never reused, even by a rebuild that starts the archive
        again): a bot compares it to the one it loaded."""
        meta = self.meta()
        return meta["version"] if meta else None

    def load(self, model_name: str | None = None) -> Index:
        """The archive's articles as an Index whose vectors and keyword scores stay in Milvus."""
        meta = self.meta()
        if meta is None:
            raise IndexStoreError(f"No archive in Milvus at {self.uri} (collections {self.prefix}_*) — run: article-qa index")
        if (meta.get("format"), meta.get("layout")) != (FORMAT, LAYOUT):
            raise IndexStoreError(f"The archive at {self.uri} has an old format — run: article-qa index")
        if model_name and meta["model"] != model_name:
            raise IndexStoreError(f"The archive at {self.uri} was built with {meta['model']}, config asks for "
                                  f"{model_name} — run: article-qa index")
        catalogue, passage_section, types, parts = self._catalogue()
        view = MilvusView(self, meta, catalogue, passage_section, parts)
        shelf = ArticleShelf(catalogue, view.read_articles)
        manifest = {"format": FORMAT, "model": meta["model"], "dimension": meta["dimension"], "store": "milvus",
                    "version": meta["version"], "built": str(meta["version"]), "passages": len(passage_section)}
        return Index(Path(self.uri), manifest, shelf, PassageShelf(shelf), passage_section, None, None, None, None,
                     None, types, view=view, catalogue=catalogue)

    def _catalogue(self) -> tuple[Catalogue, np.ndarray, np.ndarray, np.ndarray]:
        """Every article's catalogue entry, in the order they were added, with the section of each
        passage (numbered in the index), the kinds of answer it holds, and how many parts each
        article's record is cut into (to read it by key)."""
        rows = self._iterate(self.names["articles"], 'kind == "entry"', ["article", "part", "body"])
        # Each record made compact as it is read (its lists as arrays): they are sorted once all are in.
        records = sorted(((r["seq"], Entry(*r["entry"][:4], tuple(r["entry"][4]), *r["entry"][5:]), r["text"],
                           np.asarray(r["sections"], dtype=np.int32), np.asarray(r["types"], dtype=np.uint16), r["parts"])
                          for r in _records(rows)), key=lambda record: record[0])
        _, entries, texts, sections, types, parts = zip(*records) if records else ((),) * 6
        catalogue = Catalogue(list(entries), ArticleTexts(list(texts)))
        passage_section = np.concatenate([np.zeros(0, np.int32)] + [
            s + np.int32(first) for s, first in zip(sections, catalogue.section_starts)])
        out = (catalogue, passage_section, np.concatenate([np.zeros(0, np.uint16), *types]), np.array(parts, dtype=np.int32))
        del records, entries, texts, sections, types, parts
        _give_back_freed_memory()
        return out

    def source_text(self, article_id: str) -> str:
        """The text an article was parsed from ("" when none was kept)."""
        parts = self.client.query(self.names["articles"], output_fields=["part", "body"],
                                  filter=f'kind == "source" and article == {json.dumps(article_id)}')
        return "".join(p["body"] for p in sorted(parts, key=lambda p: p["part"]))

    def _stored_articles(self) -> list[Article]:
        """Every article, whole (to count its words again)."""
        rows = self._iterate(self.names["articles"], 'kind == "article"', ["article", "part", "body"])
        return [Article.from_json(r["article"]) for r in _records(rows)]

    def _iterate(self, collection: str, expression: str, fields: list[str]):
        iterator = self.client.query_iterator(collection, batch_size=BATCH, filter=expression, output_fields=fields)
        try:
            while batch := iterator.next():
                yield from batch
        finally:
            iterator.close()

    # --- writing ---------------------------------------------------------------------------------

    def create(self, dimension: int, model: str) -> None:
        """A new, empty archive (any old one with the same prefix dropped)."""
        from pymilvus import DataType, MilvusClient
        for name in self.names.values():
            if self.client.has_collection(name):
                self.client.drop_collection(name)
        for kind in ("passages", "sections"):
            schema = MilvusClient.create_schema(auto_id=False)
            schema.add_field("pk", DataType.INT64, is_primary=True)
            schema.add_field("article", DataType.VARCHAR, max_length=512)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
            schema.add_field("keywords", DataType.SPARSE_FLOAT_VECTOR)
            params = self.client.prepare_index_params()
            params.add_index(field_name="vector", metric_type="IP", **self._dense_index())
            params.add_index(field_name="keywords", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
            params.add_index(field_name="article", index_type="INVERTED")
            self.client.create_collection(self.names[kind], schema=schema, index_params=params)
        self._plain_collection("articles", [("article", 512), ("kind", 16), ("body", 65_535)], [("part", DataType.INT64)])
        self._terms_collection()
        self._plain_collection("meta", [("body", 65_535)], [])
        self.load_collections()
        self._write_meta({"format": FORMAT, "layout": LAYOUT, "model": model, "dimension": dimension, "version": time.time_ns(),
                          **_NO_COUNTS})

    def _terms_collection(self) -> None:
        from pymilvus import DataType
        self._plain_collection("terms", [], [("passages", DataType.INT64), ("sections", DataType.INT64)])

    def _dense_index(self) -> dict:
        """Exact search for a local Milvus Lite file (small archives, the tests), HNSW for a server,
        as the embedded index does above 50,000 passages; `retrieval.faiss` flat/hnsw forces one."""
        hnsw = self.index_kind == "hnsw" or (self.index_kind == "auto" and is_server(self.uri))
        return {"index_type": "HNSW", "params": {"M": 32, "efConstruction": 200}} if hnsw else {"index_type": "FLAT"}

    def _plain_collection(self, kind: str, strings: list[tuple[str, int]], numbers: list) -> None:
        from pymilvus import DataType, MilvusClient
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        for name, length in strings:
            schema.add_field(name, DataType.VARCHAR, max_length=length)
        for name, dtype in numbers:
            schema.add_field(name, dtype)
        schema.add_field("unused", DataType.FLOAT_VECTOR, dim=len(_UNUSED))
        params = self.client.prepare_index_params()
        params.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
        self.client.create_collection(self.names[kind], schema=schema, index_params=params)

    def rebuild(self, articles: list[Article], texts: dict[str, str], embedder, progress: Progress | None = None) -> Written:
        """The archive made again (its collections created anew) holding these articles alone."""
        self.create(embedder.dimension, embedder.name)
        return self.add(articles, texts, embedder, progress)

    def add(self, articles: list[Article], texts: dict[str, str], embedder, progress: Progress | None = None) -> Written:
        """Embed and write the articles (an article already there under the same id is replaced)."""
        meta = self.meta()
        if meta is None or meta["model"] != embedder.name or meta["dimension"] != embedder.dimension:
            raise IndexStoreError(f"The archive at {self.uri} holds another model's vectors — run: article-qa index")
        if meta.get("layout") != LAYOUT:
            raise IndexStoreError(f"The archive at {self.uri} has an old format — run: article-qa index")
        with self._cut_short():
            return self._add(articles, texts, embedder, progress)

    def _add(self, articles: list[Article], texts: dict[str, str], embedder, progress: Progress | None) -> Written:
        text.load_dictionary(whole=True)   # every passage is tokenised
        meta = self._begin([a.id for a in articles])
        replaced = self.articles([a.id for a in articles])
        self._delete(meta, replaced)
        passages, passage_section, section_texts = _flatten(articles)
        # As in the embedded build: a sentence is embedded with its article's title.
        vectors = _embed_in_batches(embedder, [f"{p.title}：{p.text}" for p in passages], progress)
        section_vectors = embedder.encode(section_texts, max_tokens=SECTION_TOKENS) if section_texts else vectors[:0]
        passage_tokens, section_tokens = _tokens(articles)
        self._count(meta, len(articles), passage_tokens, section_tokens, +1)
        # BM25's average lengths as they are now (a build writes everything at once, so they are exact)
        averages = [meta["passage_tokens"] / max(meta["passages"], 1), meta["section_tokens"] / max(meta["sections"], 1)]
        self._insert_vectors("passages", [p.article for p in passages], vectors,
                             _row_numbers(p.article for p in passages),
                             _weights(passage_tokens, averages[0]))
        section_articles = [a.id for a in articles for _ in a.sections]
        self._insert_vectors("sections", section_articles, section_vectors, _row_numbers(section_articles),
                             _weights(section_tokens, averages[1]))
        types = answer_types.holds_all([p.text for p in passages])
        self._insert_articles(articles, texts, types)
        self._end(meta)
        return Written(len(passages), 0, tuple(replaced))

    def remove(self, ids: list[str]) -> Written:
        """Delete these articles from every collection (Milvus filters deleted rows at search and
        compacts them itself)."""
        with self._cut_short():
            articles = self.articles(ids)
            if articles:
                meta = self._begin([a.id for a in articles])
                self._delete(meta, articles)
                self._end(meta)
        return Written(0)

    @contextlib.contextmanager
    def _cut_short(self):
        """A write that fails midway (the server went away) as one line; the meta row's mark
        makes the next write repair it."""
        try:
            yield
        except (IndexStoreError, ArchiveCutShort):
            raise
        except Exception as exc:   # noqa: BLE001 — any client or server failure
            raise ArchiveCutShort(f"the change of {self.where} was cut short ({type(exc).__name__}: "
                                  f"{_first_line(exc)[:200]}); the next change repairs the archive's counts") from None

    def entries(self) -> list[dict]:
        if not self.meta():
            return []
        return [{"id": e.id, "path": e.path, "sha256": e.sha256, "title": e.title} for e in self.load().catalogue.entries]

    def holds(self, ids: list[str]) -> set[str]:
        return {a.id for a in self.articles(ids)}

    def article_count(self) -> int:
        meta = self.meta()
        return meta["articles"] if meta else 0

    def _delete(self, meta: dict, articles: list[Article]) -> None:
        if not articles:
            return
        self._count(meta, len(articles), *_tokens(articles), -1)
        expression = f"article in {json.dumps([a.id for a in articles], ensure_ascii=False)}"
        for kind in ("passages", "sections", "articles"):
            self.client.delete(self.names[kind], filter=expression)

    # A write changes several collections one call at a time, and the keyword counts are read,
    # changed and written back: one cut short (a killed process, a server crash) would leave them
    # wrong for good. So the meta row says which articles a write is changing before it starts,
    # and the next write that finds such a mark repairs the archive first.

    def _begin(self, ids: list[str]) -> dict:
        meta = self.meta()
        if meta.get("writing"):
            self._repair(meta["writing"])
            meta = self.meta()
        meta["writing"] = sorted(ids)
        if len(json.dumps(meta)) > MAX_META_CHARS:   # thousands of articles at once (a build)
            meta["writing"] = MANY
        self._write_meta(meta)
        return meta

    def _end(self, meta: dict) -> None:
        self._flush()
        meta["writing"], meta["version"] = [], time.time_ns()
        self._write_meta(meta)

    def _repair(self, cut_short: list[str] | str) -> None:
        """After a write that was cut short: its articles are taken out wherever they got to, and
        every count is made again from the articles stored. A write of too many articles to name
        is not repaired here: the archive is built again."""
        if cut_short == MANY:
            raise IndexStoreError(f"A change of many articles to {self.where} was cut short — run: article-qa index "
                                  f"(it builds the archive again)")
        log.warning("The Milvus archive at %s: a change of %s was cut short; taking those articles out "
                    "and recounting the keyword statistics", self.uri, ", ".join(cut_short))
        expression = f"article in {json.dumps(cut_short, ensure_ascii=False)}"
        for kind in ("passages", "sections", "articles"):
            self.client.delete(self.names[kind], filter=expression)
        self._flush()
        stored = self._stored_articles()
        self.client.drop_collection(self.names["terms"])
        self._terms_collection()
        self.client.load_collection(self.names["terms"])
        meta = {**self.meta(), **_NO_COUNTS}
        self._count(meta, len(stored), *_tokens(stored), +1)
        self._end(meta)

    def counts_from_articles(self) -> dict:
        """The counts the meta row and the terms should hold, made again from the stored articles
        (for checking; _repair writes them)."""
        stored = self._stored_articles()
        passage_tokens, section_tokens = _tokens(stored)
        return {"articles": len(stored), "passages": len(passage_tokens), "sections": len(section_tokens),
                "passage_df": _documents_holding(passage_tokens), "section_df": _documents_holding(section_tokens)}

    def articles(self, ids: list[str]) -> list[Article]:
        """Those of these articles the archive holds."""
        return [Article.from_json(r["article"]) for r in self._records_of(ids)]

    def _records_of(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        return list(_records(self.client.query(
            self.names["articles"], output_fields=["article", "part", "body"],
            filter=f'kind == "article" and article in {json.dumps(ids, ensure_ascii=False)}')))

    def _insert_vectors(self, kind: str, article_ids: list[str], vectors: np.ndarray,
                        numbers: list[int], weights: list[dict[int, float]]) -> None:
        rows = [{"pk": row_key(a, n), "article": a, "vector": v, "keywords": w or {_EMPTY_TOKEN: 1e-6}}
                for a, n, v, w in zip(article_ids, numbers, vectors, weights)]
        for start in range(0, len(rows), BATCH):
            self.client.insert(self.names[kind], rows[start:start + BATCH])

    def _insert_articles(self, articles: list[Article], texts: dict[str, str], types: np.ndarray) -> None:
        """Each article three ways: whole (read by key to quote it), its catalogue entry (what every
        process loads: index/archive/shelf.py) and the text it was parsed from."""
        rows, first, seq = [], 0, time.time_ns()
        for n, article in enumerate(articles):
            passages = article.passages()
            kinds = types[first:first + len(passages)].tolist()
            first += len(passages)
            whole = _parts(article.id, "article", json.dumps({"article": article.as_json(), "types": kinds, "seq": seq + n},
                                                             ensure_ascii=False), 0)
            entry = Entry.of(article, len(passages))
            rows += whole + _parts(article.id, "entry", json.dumps(
                {"entry": [entry.id, entry.title, entry.path, entry.sha256, entry.headings, entry.passages,
                           entry.title_from_text],
                 "sections": [p.section_no for p in passages], "types": kinds, "seq": seq + n, "parts": len(whole),
                 "text": searchable_text(article)}, ensure_ascii=False), ENTRY_PARTS)
            if texts.get(article.id):
                rows += _parts(article.id, "source", texts[article.id], SOURCE_PARTS)
        for start in range(0, len(rows), BATCH):
            self.client.insert(self.names["articles"], rows[start:start + BATCH])

    def _count(self, meta: dict, articles: int, passage_tokens: list[list[str]], section_tokens: list[list[str]],
               sign: int) -> None:
        """Count articles in (sign +1) or out (-1): the meta row's totals and lengths, and the
        documents holding each token."""
        meta["articles"] += sign * articles
        meta["passages"] += sign * len(passage_tokens)
        meta["passage_tokens"] += sign * sum(map(len, passage_tokens))
        meta["sections"] += sign * len(section_tokens)
        meta["section_tokens"] += sign * sum(map(len, section_tokens))
        self._count_terms(passage_tokens, section_tokens, sign)

    def _count_terms(self, passage_tokens: list[list[str]], section_tokens: list[list[str]], sign: int) -> None:
        """Add (or take away) the documents holding each token to the archive's counts."""
        passage_df, section_df = _documents_holding(passage_tokens), _documents_holding(section_tokens)
        dims = sorted(set(passage_df) | set(section_df))
        for start in range(0, len(dims), BATCH):
            chunk = dims[start:start + BATCH]
            old = {r["pk"]: r for r in self.client.query(self.names["terms"], filter=f"pk in {chunk}",
                                                         output_fields=["passages", "sections"])}
            rows = [{"pk": d, "passages": old.get(d, {}).get("passages", 0) + sign * passage_df[d],
                     "sections": old.get(d, {}).get("sections", 0) + sign * section_df[d], "unused": _UNUSED}
                    for d in chunk]
            self.client.upsert(self.names["terms"], rows)

    def _flush(self) -> None:
        """Seal what was written into segments with their indexes: Milvus Lite otherwise searches
        unsealed rows by rebuilding an index for every question."""
        for name in self.names.values():
            self.client.flush(name)

    def _write_meta(self, meta: dict) -> None:
        self.client.upsert(self.names["meta"], [{"pk": 0, "body": json.dumps(meta), "unused": _UNUSED}])


class MilvusView:
    """The ArchiveView (index/archive/base.py) over Milvus for one loaded Index. Passage and
    section numbers of the index ↔ the keys of their rows. Milvus answers what needs the whole
    archive (the nearest passages, the best BM25 scores); the candidates' own vectors and keyword
    weights are then fetched by key, once per question, and scored here.

    A question's calls go out side by side where one does not need another's answer: the
    keywords' document counts and the nearest vectors; then the BM25 searches of passages and
    sections; then the candidates' rows and their sections' rows. Three waits a question, not six."""

    def __init__(self, archive: MilvusArchive, meta: dict, catalogue: Catalogue, passage_section: np.ndarray,
                 article_parts: np.ndarray):
        self.archive, self.client, self.meta = archive, archive.client, meta
        self.passage_section, self.catalogue, self.article_parts = passage_section, catalogue, article_parts
        # Shared by every question: a job here waits only for jobs submitted before it, so the
        # queue (first in, first out) never stalls.
        self.pool = ThreadPoolExecutor(4, thread_name_prefix="milvus")
        entries = catalogue.entries
        self.passage_keys = _row_keys(entries, [e.passages for e in entries])
        self.section_keys = _row_keys(entries, [len(e.headings) for e in entries])
        self.passage_number, self.section_number = _KeyNumbers(self.passage_keys), _KeyNumbers(self.section_keys)
        self._rows: dict[tuple[str, int], tuple[np.ndarray, _Sparse]] = {}
        self._frequencies: dict[tuple[str, ...], Future] = {}

    def call(self, method: str, *args, **kwargs):
        """A Milvus call; any failure of it is ArchiveUnavailable, which the bot treats as Telegram
        being down (the question waits and is answered later) and the CLI reports in one line."""
        try:
            try:
                return getattr(self.client, method)(*args, **kwargs)
            except Exception as exc:
                if "load()" not in str(exc):
                    raise
                # A restarted Milvus Lite server comes back with its collections released: load
                # them again, once, and retry.
                self.archive.load_collections()
                return getattr(self.client, method)(*args, **kwargs)
        except Exception as exc:
            if not _unreachable(exc):   # the server answered, and refused: this question's error
                raise ArchiveQueryError(f"the Milvus archive at {self.archive.uri} refused a {method} "
                                        f"({type(exc).__name__}: {_first_line(exc)})") from None
            raise ArchiveUnavailable(f"the Milvus archive at {self.archive.uri} did not answer "
                                     f"({type(exc).__name__}: {_first_line(exc)})") from None

    def read_articles(self, ids: list[str]) -> list[Article]:
        """These articles, whole, as far as the archive still holds them (the shelf's reads)."""
        numbers = [self.catalogue.number[i] for i in ids if i in self.catalogue.number]
        keys = [row_key(self.catalogue.entries[n].id, part) for n in numbers for part in range(int(self.article_parts[n]))]
        # By primary key: Milvus finds those directly, where a filter on the article's id is a scan.
        rows = self.call("query", self.archive.names["articles"], output_fields=["article", "part", "body"],
                         filter=f"pk in {keys}") if keys else []
        return [Article.from_json(r["article"]) for r in _records(rows)]

    def candidates(self, question_vector: np.ndarray, bm25: "MilvusScores", k: int) -> np.ndarray:
        keyword = self.pool.submit(bm25.top, k)
        return np.unique(np.concatenate([self.dense_top(question_vector, k), keyword.result()]))

    def dense_top(self, question_vector: np.ndarray, k: int) -> np.ndarray:
        hits = self.call("search", self.archive.names["passages"], data=[question_vector[0].tolist()],
                         anns_field="vector", limit=k, output_fields=[], search_params=_DENSE_SEARCH)
        return np.array([self.passage_number[h["pk"]] for h in hits[0] if h["pk"] in self.passage_number], dtype=np.int64)

    def passage_similarity(self, question_vector: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        return self._vectors("passages", numbers) @ question_vector

    def section_similarity(self, question_vector: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        return self._vectors("sections", numbers) @ question_vector

    def _vectors(self, kind: str, numbers: np.ndarray) -> np.ndarray:
        rows = self.rows(kind, numbers)
        return np.stack([vector for vector, _ in rows]) if rows else np.zeros((0, self.meta["dimension"]), np.float32)

    def rows(self, kind: str, numbers) -> list[tuple[np.ndarray, "_Sparse"]]:
        """The stored vector and keyword weights of these passages or sections, fetched by key
        (one query for those not fetched lately)."""
        found = {n: self._rows.get((kind, n)) for n in {int(n) for n in numbers}}
        missing = {n for n, row in found.items() if row is None}
        sections = None
        if missing and kind == "passages":
            # Ranking reads the candidates' neighbours and their sections next: fetched now, the
            # neighbours in the same query, the sections in one beside it.
            missing |= {n + step for n in missing for step in (-1, 1)
                        if 0 <= n + step < len(self.passage_keys) and (kind, n + step) not in self._rows}
            wanted = sorted({s for s in map(int, self.passage_section[list(numbers)]) if ("sections", s) not in self._rows})
            sections = self.pool.submit(self._fetch, "sections", wanted) if wanted else None
        if missing:
            found.update(self._fetch(kind, sorted(missing)))
        if sections:
            sections.result()
        return [found[int(n)] for n in numbers]

    def _fetch(self, kind: str, numbers: list[int]) -> dict[int, tuple[np.ndarray, "_Sparse"]]:
        """Rows by key in one query, kept in a bounded cache (a question fetches about 200)."""
        keys = self.passage_keys if kind == "passages" else self.section_keys
        fetched = {r["pk"]: r for r in self.call("query", self.archive.names[kind], output_fields=["vector", "keywords"],
                                                  filter=f"pk in {[int(keys[n]) for n in numbers]}")}
        if len(self._rows) > 4_096:
            self._rows = {}
        found = {}
        for n in numbers:
            row = fetched.get(int(keys[n]))
            found[n] = (np.asarray(row["vector"], dtype=np.float32), _Sparse(row["keywords"])) if row else \
                (np.zeros(self.meta["dimension"], np.float32), _Sparse({}))
            self._rows[kind, n] = found[n]
        return found

    def passage_bm25(self, tokens: list[str]) -> "MilvusScores":
        return MilvusScores(self, "passages", self.passage_number, self.frequencies(tokens))

    def section_bm25(self, tokens: list[str]) -> "MilvusScores":
        scores = MilvusScores(self, "sections", self.section_number, self.frequencies(tokens))
        scores.ask_for_best()   # every question's ranking reads it: asked as soon as the counts are in
        return scores

    def frequencies(self, tokens: list[str]) -> Future:
        """The archive's document counts of these tokens, asked once for passages and sections
        and answered in the background."""
        key = tuple(tokens)
        asked = self._frequencies.get(key)
        if asked is None or (asked.done() and asked.exception() is not None):   # a failure is asked again
            if len(self._frequencies) > 64:
                self._frequencies = {}
            self._frequencies[key] = self.pool.submit(self._count_documents, sorted({token_dimension(t) for t in tokens}))
        return self._frequencies[key]

    def _count_documents(self, dims: list[int]) -> dict[int, tuple[int, int]]:
        rows = self.call("query", self.archive.names["terms"], filter=f"pk in {dims}",
                         output_fields=["passages", "sections"]) if dims else []
        return {r["pk"]: (r["passages"], r["sections"]) for r in rows}


class MilvusScores:
    """BM25 scores for one question: the best from Milvus, any other worked out when asked for."""

    def __init__(self, view: MilvusView, kind: str, number_of: "_KeyNumbers", frequencies: Future):
        self.view, self.kind, self.number_of = view, kind, number_of
        self._frequencies, self._query = frequencies, None
        self.known: dict[int, float] = {}
        self.best: float | None = None
        self._best: Future | None = None

    @property
    def query(self) -> dict[int, float]:
        """The question's sparse vector: each token's IDF. Repeated tokens count once, and a token
        no document holds scores nothing. A count above the total (an archive changed since it was
        loaded) is taken as the total: an IDF is never negative, which Milvus would refuse."""
        if self._query is None:
            total, column = self.view.meta[self.kind], self.kind == "sections"   # N as when the index was loaded
            self._query = {dim: math.log(1 + (total - min(df[column], total) + 0.5) / (min(df[column], total) + 0.5))
                           for dim, df in self._frequencies.result().items() if df[column] > 0}
        return self._query

    def top(self, k: int) -> np.ndarray:
        found = self._search(k)
        self.known.update(found)
        self.best = max((score for _, score in found), default=0.0)
        return np.array([n for n, _ in found], dtype=np.int64)

    def _search(self, k: int) -> list[tuple[int, float]]:
        if not self.query or not k:
            return []
        hits = self.view.call("search", self.view.archive.names[self.kind], data=[self.query], anns_field="keywords",
                              limit=k, output_fields=[], search_params={"metric_type": "IP"})
        return [(self.number_of[h["pk"]], float(h["distance"])) for h in hits[0] if h["pk"] in self.number_of]

    def ask_for_best(self) -> None:
        """Search for the best score in the background (max() waits for it)."""
        self._best = self.view.pool.submit(self._search, 1)

    def max(self) -> float:
        if self.best is None:
            if self._best is None:
                self.top(1)
            else:
                self.best = max((score for _, score in self._best.result()), default=0.0)
        return self.best

    def at(self, numbers: np.ndarray) -> np.ndarray:
        missing = [int(n) for n in numbers if int(n) not in self.known]
        dims, idf = np.fromiter(self.query, np.int64, len(self.query)), list(self.query.values())
        for number, (_, weights) in zip(missing, self.view.rows(self.kind, missing)):
            self.known[number] = weights.dot(dims, idf)
        return np.array([self.known[int(n)] for n in numbers], dtype=np.float32)


class _Sparse:
    """A row's keyword weights as two arrays (a dict of Python numbers takes six times the memory
    of the cache that keeps thousands of them)."""

    __slots__ = ("dims", "weights")

    def __init__(self, weights: dict[int, float]):
        order = sorted(weights)
        self.dims = np.array(order, dtype=np.int64)
        self.weights = np.array([weights[d] for d in order], dtype=np.float64)

    def dot(self, dims: np.ndarray, idf: list[float]) -> float:
        """Σ idf·weight over the question's dimensions, added in their order (as the embedded
        BM25 adds them, to the last bit)."""
        if not len(self.dims) or not len(dims):
            return 0.0
        at = np.minimum(np.searchsorted(self.dims, dims), len(self.dims) - 1)
        held = (self.dims[at] == dims).tolist()
        return sum(q * w for q, w, h in zip(idf, self.weights[at].tolist(), held) if h)


_UNREACHABLE = ("unavailable", "connect", "deadline", "timed out", "timeout", "not ready", "closed", "socket",
                "refused", "broken pipe", "reset by peer", "goaway")


def _unreachable(exc: Exception) -> bool:
    """Whether a failed call means the server could not be reached (rather than that it refused)."""
    text = f"{type(exc).__name__} {exc}".lower()
    return any(word in text for word in _UNREACHABLE)


def _documents_holding(documents: list[list[str]]) -> Counter:
    """How many of the documents hold each token's dimension."""
    return Counter(d for tokens in documents for d in {token_dimension(t) for t in tokens})


def is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "tcp://", "grpc://"))


def token_dimension(token: str) -> int:
    """A keyword token's dimension in the sparse vectors (Milvus allows 0 … 2³² − 2)."""
    return zlib.crc32(token.encode("utf-8")) % (2**32 - 1)


_EMPTY_TOKEN = token_dimension("\x00")   # a passage with no keyword tokens still needs one weight


def article_key(article_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(article_id.encode("utf-8"), digest_size=5).digest(), "big")


def row_key(article_id: str, number: int) -> int:
    return article_key(article_id) << ROW_BITS | number


def _row_keys(entries: list[Entry], counts: list[int]) -> np.ndarray:
    """The keys of the rows (passages or sections) of these articles, `counts` of each, in order."""
    counts = np.asarray(counts, dtype=np.int64)
    articles = np.array([article_key(e.id) for e in entries], dtype=np.int64)
    starts = np.cumsum(counts) - counts
    within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)
    return np.repeat(articles, counts) << ROW_BITS | within


class _KeyNumbers:
    """Row key → its number in the index, as a sorted array rather than a dict (16 bytes a row,
    not about 100)."""

    def __init__(self, keys: np.ndarray):
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]

    def get(self, key: int) -> int | None:
        at = int(np.searchsorted(self._sorted, key))
        return int(self._order[at]) if at < len(self._sorted) and self._sorted[at] == key else None

    def __contains__(self, key: int) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: int) -> int:
        number = self.get(key)
        if number is None:
            raise KeyError(key)
        return number


def _row_numbers(article_ids) -> list[int]:
    """Each row's number within its article (0, 1, 2 … per article, in order)."""
    seen: Counter = Counter()
    out = []
    for a in article_ids:
        out.append(seen[a])
        seen[a] += 1
    return out


def _tokens(articles: list[Article]) -> tuple[list[list[str]], list[list[str]]]:
    """Keyword tokens of every passage and of every section (its title and heading, then its
    passages': the same counts as the embedded index's sections)."""
    passages, passage_section, _ = _flatten(articles)
    passage_tokens = [text.keyword_tokens(text.normalise(p.text)) for p in passages]
    section_tokens = [text.keyword_tokens(text.normalise(a.title)) + text.keyword_tokens(text.normalise(s.heading))
                      for a in articles for s in a.sections]
    for tokens, section in zip(passage_tokens, passage_section):
        section_tokens[section] += tokens
    return passage_tokens, section_tokens


def _weights(documents: list[list[str]], average_length: float) -> list[dict[int, float]]:
    """Each document's saturated term frequencies (BM25 without the IDF), by sparse dimension."""
    out = []
    for tokens in documents:
        norm = K1 * (1 - B + B * len(tokens) / max(average_length, 1.0))
        weights: dict[int, float] = {}
        for token, tf in Counter(tokens).items():
            dim = token_dimension(token)
            weights[dim] = weights.get(dim, 0.0) + tf * (K1 + 1) / (tf + norm)
        out.append(weights)
    return out


def _records(rows) -> Iterator[dict]:
    """The article records that rows of the articles collection hold, their parts joined in order.
    Rows in key order (query_iterator pages by primary key; an article's key is the top bits of
    its parts' keys) come one article after another, so each record is parsed as soon as its last
    part is read: loading never holds the whole archive's JSON at once."""
    article, pieces = None, []
    for row in sorted(rows, key=lambda r: r["pk"]) if isinstance(rows, list) else rows:
        if row["article"] != article and pieces:
            yield json.loads("".join(body for _, body in sorted(pieces)))
            pieces = []
        article = row["article"]
        pieces.append((row["part"], row["body"]))
    if pieces:
        yield json.loads("".join(body for _, body in sorted(pieces)))


def _parts(article_id: str, kind: str, body: str, first: int) -> list[dict]:
    return [{"pk": row_key(article_id, first + n), "article": article_id, "kind": kind, "part": n,
             "body": body[start:start + PART_CHARS], "unused": _UNUSED}
            for n, start in enumerate(range(0, max(len(body), 1), PART_CHARS))]


def _give_back_freed_memory() -> None:
    """Return to the system the memory a load freed. Parsing every entry leaves glibc's heap full
    of small freed blocks it keeps for later (about 90 MB at 1,000,000 passages), while what the
    process holds from then on is far smaller. Elsewhere than glibc, nothing to do."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]

