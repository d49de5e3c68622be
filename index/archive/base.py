"""The two faces of an archive: how it is written (Archive) and what retrieval asks of it (ArchiveView).

Two archives implement both: the embedded one, an index folder (index/archive/folder.py writes it,
index/archive/store.py builds and loads it: FAISS and NumPy arrays in this process), and Milvus
(index/archive/milvus.py), where the vectors and BM25 weights stay in the Milvus server and only the
candidates of a question travel. The command line and the bot change either through the same
three calls; ranking, refusal and the conversation never see which archive answered. Passages and
sections are named by their numbers in the loaded index (Index.passages, the sections of
Index.articles in order).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np


class ArchiveUnavailable(RuntimeError):
    """The archive could not be read (a Milvus server that is down or unreachable): the question
    should be asked again later, not answered "not found"."""


class ArchiveQueryError(RuntimeError):
    """The archive answered a question's call with an error (Milvus refused a query): that
    question fails and is said to have failed; nothing waits for the archive."""


class ArchiveCutShort(RuntimeError):
    """A change of the archive stopped midway (the Milvus server went away): the next change
    repairs what it left."""


class Scores(Protocol):
    """The BM25 score of every passage (or section) for one question, read only where needed."""

    def top(self, k: int) -> np.ndarray:
        """Numbers of the k best-scoring (in no particular order)."""

    def max(self) -> float:
        """The best score of all."""

    def at(self, numbers: np.ndarray) -> np.ndarray:
        """The scores of these, 0 where a text holds none of the question's words."""


@dataclass(frozen=True)
class Written:
    """What one change of an archive did."""
    passages: int                   # passages embedded and written
    reused: int = 0                 # passages of unchanged articles kept without embedding them again
    replaced: tuple = ()            # the articles (index.sources.article.Article) an add replaced


Progress = Callable[[int, int], None]


class Archive(Protocol):
    """An archive as the command line and the bot change it. Writes come one at a time: the caller
    holds the change lock (bot/runtime.py: changing)."""

    where: str   # for reports: the folder, or the Milvus archive's address

    def load(self, model_name: str | None = None):
        """The archive as an index.archive.store.Index to answer from (IndexStoreError when there is
        none usable, or it was built with another model)."""

    def version(self) -> object:
        """Changes with every change of the archive, by any process: what a running bot watches
        (None while it cannot be read)."""

    def entries(self) -> list[dict]:
        """The articles it holds, as recorded (id, path, sha256, title); [] when there is no archive."""

    def holds(self, ids: list[str]) -> set[str]:
        """Those of these article ids the archive holds."""

    def article_count(self) -> int:
        """How many articles the archive holds (0 when there is none yet)."""

    def source_text(self, article_id: str) -> str:
        """The text an article was parsed from ("" when none was kept)."""

    def rebuild(self, articles: list, texts: dict[str, str], embedder, progress: Progress | None = None) -> Written:
        """Make the archive again holding these articles alone (`texts`: what each was parsed from)."""

    def add(self, articles: list, texts: dict[str, str], embedder, progress: Progress | None = None) -> Written:
        """Add these articles; one with an id the archive holds replaces it. The others are not
        embedded again."""

    def remove(self, ids: list[str]) -> Written:
        """Take these articles out (the caller checked that the archive holds them)."""


class ArchiveView(Protocol):
    """What retrieval asks of a loaded archive."""

    def candidates(self, question_vector: np.ndarray, bm25: Scores, k: int) -> np.ndarray:
        """Numbers of the k passages nearest to the question (inner product of unit vectors) and
        of the k best by BM25, together, in increasing order."""

    def passage_similarity(self, question_vector: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """Inner product of the question's vector with each of these passages' vectors."""

    def section_similarity(self, question_vector: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """Inner product of the question's vector with each of these sections' vectors."""

    def passage_bm25(self, tokens: list[str]) -> Scores:
        """BM25 of the passages for the question's keyword tokens."""

    def section_bm25(self, tokens: list[str]) -> Scores:
        """BM25 of the sections (title, heading and text) for the question's keyword tokens."""


class ArrayScores:
    """Scores held as one array over every passage or section (the embedded archive)."""

    def __init__(self, scores: np.ndarray):
        self.scores = scores

    def top(self, k: int) -> np.ndarray:
        k = min(k, len(self.scores))
        return np.argpartition(-self.scores, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)

    def max(self) -> float:
        return float(self.scores.max()) if len(self.scores) else 0.0

    def at(self, numbers: np.ndarray) -> np.ndarray:
        return self.scores[numbers]


class EmbeddedView:
    """The view of an index folder, all in this process's memory."""

    def __init__(self, index):
        self.index = index
        self._search_live = None

    def candidates(self, question_vector: np.ndarray, bm25: ArrayScores, k: int) -> np.ndarray:
        return np.unique(np.concatenate([self.dense_top(question_vector, k), bm25.top(k)]))

    def dense_top(self, question_vector: np.ndarray, k: int) -> np.ndarray:
        dense, node_passages = self.index.dense, self.index.dense_passages
        if node_passages is None:
            _, ids = dense.search(question_vector, k)
            return ids[0][ids[0] >= 0]
        _, nodes = dense.search(question_vector, k, params=self._live_nodes())
        return node_passages[nodes[0][nodes[0] >= 0]]

    def _live_nodes(self):
        """Search parameters that skip the index's tombstones (removed passages)."""
        if self._search_live is None:
            import faiss
            removed = faiss.IDSelectorBatch(np.flatnonzero(self.index.dense_passages < 0))
            live = faiss.IDSelectorNot(removed)
            dense = self.index.dense
            parameters = faiss.SearchParametersHNSW(sel=live, efSearch=dense.hnsw.efSearch) \
                if isinstance(dense, faiss.IndexHNSWFlat) else faiss.SearchParameters(sel=live)
            # FAISS holds bare pointers to the selectors: they must live as long as the parameters
            self._search_live = (parameters, live, removed)
        return self._search_live[0]

    def passage_similarity(self, question_vector: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        return self.index.passage_vectors[numbers] @ question_vector

    def section_similarity(self, question_vector: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        return self.index.section_vectors[numbers] @ question_vector

    def passage_bm25(self, tokens: list[str]) -> ArrayScores:
        return ArrayScores(self.index.passage_keywords.scores(tokens))

    def section_bm25(self, tokens: list[str]) -> ArrayScores:
        return ArrayScores(self.index.section_keywords.scores(tokens))
