"""Keyword index: BM25 over jieba words and character bigrams, stored as a sparse matrix.

As in bm25s, each (document, term) BM25 weight is computed once at build time, so scoring a
question is one sparse matrix-vector product.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import sparse

# The usual BM25 defaults; b is lowered because sentences are short and of similar length, where
# full length normalisation over-rewards the shortest ones.
K1, B = 1.2, 0.5


class KeywordIndex:
    def __init__(self, matrix: sparse.csc_matrix, vocabulary: dict[str, int]):
        self.matrix, self.vocabulary = matrix, vocabulary

    @classmethod
    def build(cls, documents: list[list[str]]) -> "KeywordIndex":
        """Build from tokenised documents."""
        vocabulary: dict[str, int] = {}
        rows, cols, counts = [], [], []
        for row, tokens in enumerate(documents):
            for token, count in _counts(tokens).items():
                rows.append(row)
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
                counts.append(count)
        tf = sparse.csr_matrix((np.array(counts, dtype=np.float32), (rows, cols)),
                               shape=(len(documents), max(len(vocabulary), 1)))
        return cls(_bm25_weights(tf, np.array([len(d) for d in documents], dtype=np.float32)), vocabulary)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens (repeated tokens count once)."""
        columns = sorted({self.vocabulary[t] for t in tokens if t in self.vocabulary})
        if not columns:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        return np.asarray(self.matrix[:, columns].sum(axis=1)).ravel()

    def save(self, folder: Path, name: str) -> None:
        m = self.matrix.tocsc()
        np.savez(folder / f"{name}.npz", data=m.data, indices=m.indices, indptr=m.indptr,
                 shape=np.array(m.shape))
        (folder / f"{name}.vocab.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False),
                                                   encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, name: str) -> "KeywordIndex":
        with np.load(folder / f"{name}.npz", allow_pickle=False) as f:
            matrix = sparse.csc_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
        vocabulary = json.loads((folder / f"{name}.vocab.json").read_text(encoding="utf-8"))
        return cls(matrix, vocabulary)


def _counts(tokens: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in tokens:
        out[t] = out.get(t, 0) + 1
    return out


def _bm25_weights(tf: sparse.csr_matrix, lengths: np.ndarray) -> sparse.csc_matrix:
    n = tf.shape[0]
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float32)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    norm = K1 * (1 - B + B * lengths / max(float(lengths.mean()), 1.0))
    weights = tf.copy()
    row_of = np.repeat(np.arange(n), np.diff(tf.indptr))
    weights.data = idf[tf.indices] * tf.data * (K1 + 1) / (tf.data + norm[row_of])
    return weights.tocsc()
