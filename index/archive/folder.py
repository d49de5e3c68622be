"""The embedded archive as the command line and the bot change it: one index folder.

Every change builds the folder's next version beside it and puts it in place (store.build_beside):
a running bot, or a change that fails, never sees a half-written index. An add or a removal
hands the build the index it changes, so unchanged articles keep their vectors, keyword counts
and HNSW graph and only the added ones are embedded.
"""
from __future__ import annotations

import json
from pathlib import Path

from index.archive.base import Progress, Written
from index.archive.store import (ENCODER_DIR, Index, build_beside, build_index, load_index,
                                 stored_source_text)
from index.encode.embed import Embedder
from index.sources.article import Article


class FolderArchive:
    def __init__(self, folder: str | Path, faiss_kind: str = "auto", runtime: str | None = None):
        self.folder, self.faiss_kind, self.runtime = Path(folder), faiss_kind, runtime
        self.where = str(self.folder)

    def load(self, model_name: str | None = None) -> Index:
        return load_index(self.folder, model_name, self.runtime)

    def _load_to_change(self, model_name: str | None = None) -> Index:
        return load_index(self.folder, model_name, self.runtime, mapped=True)

    def version(self) -> tuple[int, int] | None:
        return folder_stamp(self.folder)

    def holds(self, ids: list[str]) -> set[str]:
        return {entry["id"] for entry in self.entries()} & set(ids)

    def article_count(self) -> int:
        return len(self.entries())

    def entries(self) -> list[dict]:
        """The manifest's list of articles, [] without a readable index."""
        try:
            return json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))["articles"]
        except (OSError, ValueError, KeyError):
            return []

    def source_text(self, article_id: str) -> str:
        return stored_source_text(self.folder, article_id)

    def rebuild(self, articles: list[Article], texts: dict[str, str], embedder: Embedder,
                progress: Progress | None = None) -> Written:
        return self._build(articles, texts, embedder, progress)

    def add(self, articles: list[Article], texts: dict[str, str], embedder: Embedder,
            progress: Progress | None = None) -> Written:
        previous = self._load_to_change(embedder.name)
        ids = {a.id for a in articles}
        kept = [a for a in previous.articles if a.id not in ids]
        replaced = tuple(a for a in previous.articles if a.id in ids)
        written = self._build(kept + articles, texts, embedder, progress, previous)   # kept: their sources linked
        return Written(written.passages, written.reused, replaced)

    def remove(self, ids: list[str]) -> Written:
        previous, removed = self._load_to_change(), set(ids)
        kept = [a for a in previous.articles if a.id not in removed]
        # Nothing is embedded: the index's own encoder stands in for the model (its name, its files).
        return self._build(kept, {}, _encoder_of(previous), None, previous)   # their sources linked

    def _build(self, articles: list[Article], texts: dict[str, str], embedder: Embedder, progress: Progress | None,
               previous: Index | None = None) -> Written:
        with build_beside(self.folder) as fresh:
            index = build_index(articles, embedder, fresh, self.faiss_kind, progress=progress, texts=texts,
                                previous=previous)
        reused = index.manifest.get("reused_passages", 0)
        return Written(len(index.passages) - reused, reused)


def _encoder_of(index: Index) -> Embedder:
    """The encoder an index was built with, from the copy it keeps."""
    backend, model = index.manifest["model"].split(":", 1)
    encoder = index.folder / ENCODER_DIR   # none for a PyTorch build: the model itself is loaded
    return Embedder(backend, model, index.manifest["encoder"]["requested"], encoder if encoder.is_dir() else None)


def folder_stamp(folder: Path) -> tuple[int, int] | None:
    """Identifies the index in the folder: its manifest is replaced at every change (None while a
    change is between its two renames)."""
    try:
        status = (Path(folder) / "manifest.json").stat()
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns
