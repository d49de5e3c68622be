"""Sentence embeddings with ONNX Runtime and `tokenizers`: the answer path never imports PyTorch.

The folder (made by index/onnx_export.py) holds model.onnx (the transformer, int8 or fp32),
tokenizer.json and encoder.json (source model, pooling, normalisation, maximum length,
quantisation, agreement with PyTorch).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

MODEL_FILE, TOKENIZER_FILE, ENCODER_FILE = "model.onnx", "tokenizer.json", "encoder.json"
FILES = (MODEL_FILE, TOKENIZER_FILE, ENCODER_FILE)


class OnnxEncoder:
    def __init__(self, folder: Path, threads: int | None = None):
        import onnxruntime
        from tokenizers import Tokenizer
        folder = Path(folder)
        self.settings = json.loads((folder / ENCODER_FILE).read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self.tokenizer.enable_truncation(self.settings["max_length"])
        self.tokenizer.enable_padding(pad_id=self.settings["pad_id"], pad_token=self.settings["pad_token"])
        self._shorter: dict[int, object] = {}
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3   # warnings about unused initialisers are noise here
        self.session = onnxruntime.InferenceSession(str(folder / MODEL_FILE), options,
                                                    providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int = 8, max_tokens: int | None = None) -> np.ndarray:
        """(n, dimension) float32 vectors, unit length. Texts are batched by length, so that a batch
        pads little. `max_tokens` embeds only the start of long texts: attention's cost grows with
        the square of the length."""
        tokenizer = self._tokenizer(max_tokens)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            for i, vector in zip(batch, self._encode_batch([texts[i] for i in batch], tokenizer)):
                vectors[i] = vector
        return np.stack(vectors).astype(np.float32, copy=False)

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
