"""Export a sentence-transformers model to ONNX, once, so that answering never needs PyTorch.

sentence-transformers names and loads the model; torch.onnx exports its transformer; ONNX
Runtime's dynamic quantisation makes the int8 copy. Pooling and normalisation are a few lines of
NumPy in index/encode/onnx_encoder.py, so only models made of a transformer, a mean or CLS pooling and an
optional normalisation export; any other model stays on PyTorch (ExportError says why).

Exports are cached (ARTICLE_QA_CACHE, else ~/.cache/article-qa) by source model and quantisation:
a second index build, or a build into another folder, reuses them without importing torch.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from index.language.text import cache_root
from index.encode.onnx_encoder import (ENCODER_FILE, FP32_FILE, MIN_INT8_COSINE, MODEL_FILE, REFERENCE_FILE,
                                TOKENIZER_FILE, OnnxEncoder, file_sha256)

# Bumped when an export is made differently: a cached export of the old kind is not reused.
# 2: int8 with 7-bit weights (reduce_range), the fp32 copy and PyTorch's reference vectors kept.
EXPORT_VERSION = 2
_SAMPLE_TEXTS = ["岚山的三大重点产业是什么？", "這篇文章講了什麼", "今天天气怎么样",
                 "北京是中华人民共和国的首都，也是全国的政治、文化中心。", "A short English sentence."]


class ExportError(RuntimeError):
    """The model cannot be exported to ONNX (an unsupported module, or the export failed)."""


def cached_export(model_path: str, quantization: str) -> Path:
    """The folder of the model's ONNX export, made now if the cache does not hold it yet."""
    folder = (cache_root() / "encoders" /
              f"{Path(model_path).name}-{_source_fingerprint(model_path)}-{quantization}-v{EXPORT_VERSION}")
    return cached_folder(folder, lambda tmp: export(model_path, tmp, quantization))


def cached_folder(folder: Path, make: Callable[[Path], object]) -> Path:
    """`folder` when it holds a finished export, else made now: `make` writes into a temporary
    folder beside it, which is then renamed into place."""
    if (folder / ENCODER_FILE).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".export-"))
    try:
        make(tmp)
        os.replace(tmp, folder)   # atomic: a half-written export is never taken for a finished one
    except OSError:
        if not (folder / ENCODER_FILE).is_file():   # else another build finished the same export first
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def export(model_path: str, folder: Path, quantization: str) -> dict:
    """Write model.onnx, tokenizer.json and encoder.json into `folder`; return encoder.json's content."""
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(model_path, device="cpu")
    pooling, normalize = _pipeline(st)
    transformer, tokenizer = st[0].auto_model.eval(), st[0].tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise ExportError("the model has no fast tokenizer (tokenizer.json)")
    tokenizer.backend_tokenizer.save(str(folder / TOKENIZER_FILE))
    fp32 = folder / "model.fp32.onnx"
    _export_transformer(transformer, tokenizer, fp32)
    settings = {"source": str(model_path), "pooling": pooling, "normalize": normalize,
                "max_length": int(st.max_seq_length or 512), "pad_id": int(tokenizer.pad_token_id or 0),
                "pad_token": tokenizer.pad_token or "[PAD]", "quantization": "none", "samples": _SAMPLE_TEXTS}
    reference = st.encode(_SAMPLE_TEXTS, normalize_embeddings=True)
    if quantization == "int8":
        quantize_int8(fp32, folder / MODEL_FILE)
        settings["quantization"] = "int8"
        settings["cosine_to_pytorch"] = _agreement(folder, settings, reference)
        if settings["cosine_to_pytorch"] < MIN_INT8_COSINE:   # int8 hurts this model: keep fp32
            settings["quantization"] = "none"
    if settings["quantization"] == "none":
        os.replace(fp32, folder / MODEL_FILE)
        settings["cosine_to_pytorch"] = _agreement(folder, settings, reference)
    else:   # kept beside the int8 model: where int8 drifts (another CPU), the encoder falls back to it
        os.replace(fp32, folder / FP32_FILE)
        settings["fp32_sha256"] = file_sha256(folder / FP32_FILE)
        np.save(folder / REFERENCE_FILE, reference.astype(np.float32), allow_pickle=False)
    (folder / ENCODER_FILE).write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return settings


def quantize_int8(fp32: Path, int8: Path, fused: bool = False) -> None:
    """Dynamic int8 quantisation, per channel, with 7-bit weights (reduce_range). Without AVX-512
    VNNI, ONNX Runtime multiplies u8 activations by s8 weights in 16-bit sums that saturate
    with full 8-bit weights: on an AVX2-only CPU m3e-small's int8 vectors then agreed with PyTorch's
    at cosine 0.69–0.84; with 7-bit weights, 0.997 there and 0.998 with VNNI. `fused`: the graph
    holds ONNX Runtime's fused operators, whose outputs shape inference cannot type (float32)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    logging.disable(logging.WARNING)   # it advises "pre-processing" through the root logger
    try:
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT} if fused else None)
    finally:
        logging.disable(logging.NOTSET)


def _pipeline(st) -> tuple[str, bool]:
    """(pooling, normalize) when the model is transformer → pooling [→ normalize]; else ExportError."""
    names = [type(module).__name__ for module in st]
    if names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]):
        raise ExportError(f"modules {names} (only Transformer → Pooling [→ Normalize] export)")
    pooling = st[1].get_config_dict().get("pooling_mode")
    if pooling not in ("mean", "cls"):
        raise ExportError(f"pooling {pooling!r} (only mean and cls export)")
    return pooling, names[2:] == ["Normalize"]


def _export_transformer(transformer, tokenizer, path: Path) -> None:
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(_SAMPLE_TEXTS[:2], padding=True, return_tensors="pt")
    inputs = (sample["input_ids"], sample["attention_mask"], torch.zeros_like(sample["input_ids"]))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    try:
        with warnings.catch_warnings():   # tracer notes about shapes that the dynamic axes cover
            warnings.simplefilter("ignore")
            _export(LastHiddenState(transformer), inputs, path, names)
    except Exception as exc:   # the exporter raises many kinds; all mean "stay on PyTorch"
        raise ExportError(f"torch.onnx.export failed: {type(exc).__name__}: {exc}") from None


def _export(module, inputs, path: Path, names: list[str]) -> None:
    import torch
    torch.onnx.export(module, inputs, str(path), input_names=names,
                      output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]})


def _agreement(folder: Path, settings: dict, reference: np.ndarray) -> float:
    """The lowest cosine between the ONNX vectors and PyTorch's on the sample texts."""
    (folder / ENCODER_FILE).write_text(json.dumps(settings, indent=2), encoding="utf-8")
    vectors = OnnxEncoder(folder).encode(_SAMPLE_TEXTS)
    return round(float((vectors * reference).sum(axis=1).min()), 4)


def _source_fingerprint(model_path: str) -> str:
    """Changes when the model's files change (names, sizes and modification times)."""
    path = Path(model_path)
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else []
    stamp = [model_path] + [f"{f.relative_to(path)}:{f.stat().st_size}:{int(f.stat().st_mtime)}" for f in files]
    return hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:12]


