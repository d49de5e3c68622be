"""What retrieval asks of the archive that holds the passages' vectors and keyword weights.

Two archives answer these questions: the embedded one (FAISS and NumPy arrays loaded from the index
folder, index/archive/store.py) and Milvus (index/archive/milvus.py), where the vectors and BM25 weights stay in
the Milvus server and only the candidates of a question travel. Passages and sections are named
by their numbers in the loaded index (Index.passages, the sections of Index.articles in order);
ranking, refusal and the conversation never see which archive answered.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np


class ArchiveUnavailable(RuntimeError):
    """The archive could not be read (a Milvus server that is down or unreachable): the question
    should be asked again later, not answered "not found"."""


class ArchiveQueryError(RuntimeError):
    """The archive answered a question's call with an error (Milvus refused a query): that
    question fails and is said to have failed; nothing waits for the archive."""


class Scores(Protocol):
    """The BM25 score of every passage (or section) for one question, read only where needed."""

    def top(self, k: int) -> np.ndarray:
        """Numbers of the k best-scoring (in no particular order)."""

    def max(self) -> float:
        """The best score of all."""

    def at(self, numbers: np.ndarray) -> np.ndarray:
        """The scores of these, 0 where a text holds none of the question's words."""


class Archive(Protocol):
    def dense_top(self, question_vector: np.ndarray, k: int) -> np.ndarray:
        """Numbers of the k passages nearest to the question (inner product of unit vectors)."""

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


class EmbeddedArchive:
    """The archive of an index folder, all in this process's memory."""

    def __init__(self, index):
        self.index = index

    def dense_top(self, question_vector: np.ndarray, k: int) -> np.ndarray:
        _, ids = self.index.dense.search(question_vector, k)
        return ids[0][ids[0] >= 0]

    def passage_similarity(self, question_vector: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        return self.index.passage_vectors[numbers] @ question_vector

    def section_similarity(self, question_vector: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        return self.index.section_vectors[numbers] @ question_vector

    def passage_bm25(self, tokens: list[str]) -> ArrayScores:
        return ArrayScores(self.index.passage_keywords.scores(tokens))

    def section_bm25(self, tokens: list[str]) -> ArrayScores:
        return ArrayScores(self.index.section_keywords.scores(tokens))
