"""Keyword index: BM25 over jieba words and character bigrams, stored as a sparse matrix.

As in bm25s, each (document, term) BM25 weight is computed once at build time, so scoring a
question is one sparse matrix-vector product.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# The usual BM25 defaults; b is lowered because sentences are short and of similar length, where
# full length normalisation over-rewards the shortest ones.
K1, B = 1.2, 0.5


class KeywordIndex:
    """The BM25 weights as a compressed sparse column matrix (data, indices, indptr): a term's
    column lists the documents that hold it and their weights."""

    def __init__(self, matrix, vocabulary: dict[str, int]):
        matrix = matrix.tocsc() if hasattr(matrix, "tocsc") else matrix
        self.data, self.indices, self.indptr = matrix.data, matrix.indices, matrix.indptr
        self.shape = tuple(int(n) for n in matrix.shape)
        self.vocabulary = vocabulary

    @classmethod
    def build(cls, documents: list[list[str]]) -> "KeywordIndex":
        """Build from tokenised documents."""
        vocabulary: dict[str, int] = {}
        return cls.from_counts(term_counts(documents, vocabulary), vocabulary)

    @classmethod
    def from_counts(cls, tf, vocabulary: dict[str, int]) -> "KeywordIndex":
        """Build from a scipy CSR matrix of term counts (documents × vocabulary columns)."""
        index = cls(_bm25_weights(tf, np.asarray(tf.sum(axis=1), dtype=np.float32).ravel()), vocabulary)
        index.counts = tf
        return index

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens (repeated tokens count once)."""
        out = np.zeros(self.shape[0], dtype=np.float32)
        for column in {self.vocabulary[t] for t in tokens if t in self.vocabulary}:
            start, end = self.indptr[column], self.indptr[column + 1]
            out[self.indices[start:end]] += self.data[start:end]   # a document appears once per column
        return out

    def save(self, folder: Path, name: str, vocabulary: bool = True) -> None:
        """Write the index's files (without its vocabulary's when `vocabulary` is False: the caller
        links an identical one)."""
        np.savez(folder / f"{name}.npz", data=self.data, indices=self.indices, indptr=self.indptr,
                 shape=np.array(self.shape))
        tf = self.counts   # kept so that adding or removing an article never tokenises the others again
        np.savez(folder / f"{name}.tf.npz", data=tf.data, indices=tf.indices, indptr=tf.indptr,
                 shape=np.array(tf.shape))
        if vocabulary:
            (folder / f"{name}.vocab.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False),
                                                       encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, name: str) -> "KeywordIndex":
        with np.load(folder / f"{name}.npz", allow_pickle=False) as f:
            matrix = _Columns(f["data"], f["indices"], f["indptr"], tuple(f["shape"]))
        if not (len(matrix.indptr) == matrix.shape[1] + 1 and matrix.indptr[-1] == len(matrix.data) == len(matrix.indices)
                and (not len(matrix.indices) or 0 <= matrix.indices.min() <= matrix.indices.max() < matrix.shape[0])):
            raise ValueError(f"{name}.npz is not a consistent sparse matrix")
        vocabulary = json.loads((folder / f"{name}.vocab.json").read_text(encoding="utf-8"))
        return cls(matrix, vocabulary)


def term_counts(documents: list[list[str]], vocabulary: dict[str, int]):
    """Term counts of tokenised documents as a scipy CSR matrix; new tokens are added to the
    vocabulary (token → column), which may already hold columns of other documents."""
    from scipy import sparse   # building only: answering reads the stored arrays with NumPy
    rows, cols, counts = [], [], []
    for row, tokens in enumerate(documents):
        for token, count in _counts(tokens).items():
            rows.append(row)
            cols.append(vocabulary.setdefault(token, len(vocabulary)))
            counts.append(count)
    return sparse.csr_matrix((np.array(counts, dtype=np.float32), (rows, cols)),
                             shape=(len(documents), max(len(vocabulary), 1)))


def widened(counts, width: int):
    """The same counts with `width` columns: a vocabulary that has grown since they were counted."""
    from scipy import sparse
    return sparse.csr_matrix((counts.data, counts.indices, counts.indptr), shape=(counts.shape[0], width))


def load_counts(folder: Path, name: str):
    """The term counts a build kept beside a keyword index (scipy CSR), and its vocabulary."""
    from scipy import sparse
    with np.load(folder / f"{name}.tf.npz", allow_pickle=False) as f:
        tf = sparse.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
    return tf, json.loads((folder / f"{name}.vocab.json").read_text(encoding="utf-8"))


class _Columns:
    """The arrays of a stored matrix, without importing scipy on the answer path."""

    def __init__(self, data, indices, indptr, shape):
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape


def _counts(tokens: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in tokens:
        out[t] = out.get(t, 0) + 1
    return out


def _bm25_weights(tf, lengths: np.ndarray):
    """The BM25 weight of each (document, term) of a scipy CSR term-frequency matrix, as CSC."""
    n = tf.shape[0]
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float32)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    norm = K1 * (1 - B + B * lengths / max(float(lengths.mean()), 1.0))
    weights = tf.copy()
    row_of = np.repeat(np.arange(n), np.diff(tf.indptr))
    weights.data = idf[tf.indices] * tf.data * (K1 + 1) / (tf.data + norm[row_of])
    return weights.tocsc()
