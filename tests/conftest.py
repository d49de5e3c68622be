"""Shared fixtures. The end-to-end tier builds one real index (real model) per session."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
LANSHAN = ROOT / "data" / "articles" / "lanshan.txt"
QINGSHUI = DATA / "qingshui_library.md"
CLI = str(Path(sys.executable).parent / "article-qa")


def run_cli(*args, stdin: str | None = None, env: dict | None = None, timeout: float = 300):
    """Run the real article-qa command; returns the CompletedProcess."""
    return subprocess.run([CLI, *map(str, args)], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, cwd=ROOT)


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    """An index of the Lanshan article and the Qingshui test article, built by the CLI."""
    folder = tmp_path_factory.mktemp("index")
    result = run_cli("index", LANSHAN, QINGSHUI, "--index-dir", folder)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="session")
def embedder(index_dir):
    """The model as the bot loads it: the index's ONNX export."""
    from index.encode.embed import DEFAULT_BACKEND, DEFAULT_MODEL_NAME, Embedder
    from index.archive.store import ENCODER_DIR
    return Embedder(DEFAULT_BACKEND, DEFAULT_MODEL_NAME, encoder_dir=index_dir / ENCODER_DIR)
