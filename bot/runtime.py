"""Start-up: turn settings into the heavy shared objects (model, index, answerer), once per process."""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from bot.answer import Answerer
from bot.conversation import Conversations
from bot.config import Settings
from bot.errors import UserError
from index.article import Article, ArticleError, load_article
from index.embed import Embedder, EmbeddingError
from index.search import Searcher
from index.store import ENCODER_DIR, IndexStoreError, build_index, load_index

log = logging.getLogger(__name__)


def embedder(settings: Settings, encoder_dir: Path | None = None) -> Embedder:
    """Load the configured embedding model: the index's ONNX export when `encoder_dir` is given
    (answering), else the model itself, exported first when it runs on ONNX (building). Raises
    UserError (exit 1) when it cannot be loaded."""
    e = settings.embedding
    try:
        return Embedder(e.backend, e.model, e.runtime, encoder_dir)
    except EmbeddingError as exc:
        raise UserError(str(exc), 1) from None


def load_articles(files: list[Path]) -> list[Article]:
    """Parse article files, giving each a unique id. Raises UserError (exit 2) on an unusable file."""
    articles, ids = [], set()
    for f in files:
        try:
            article = load_article(f)
        except ArticleError as exc:
            raise UserError(str(exc), 2) from None
        unique, n = article.id, 2
        while unique in ids:
            unique, n = f"{article.id}-{n}", n + 1
        ids.add(unique)
        articles.append(replace(article, id=unique))
    return articles


def build(settings: Settings, files: list[Path], folder: Path, progress: bool = False) -> str:
    """Build the index folder; return a short report (counts, dropped lines, timings)."""
    articles = load_articles(files)
    started = time.time()
    model = embedder(settings)
    loaded = time.time()
    bar = _progress_bar() if progress else None
    index = build_index(articles, model, folder, settings.retrieval.faiss, progress=bar)
    lines = [f"Indexed {len(articles)} article(s), {sum(len(a.sections) for a in articles)} section(s), "
             f"{len(index.passages)} passages into {folder} "
             f"(model load {loaded - started:.1f}s, build {time.time() - loaded:.1f}s)."]
    for a in articles:
        if a.dropped:
            lines.append(f"  {a.id}: dropped {len(a.dropped)} line(s) after the article's end: "
                         + " | ".join(d[:30] for d in a.dropped))
    return "\n".join(lines)


def _progress_bar():
    from tqdm import tqdm
    state = {}

    def update(done: int, total: int) -> None:
        bar = state.setdefault("bar", tqdm(total=total, unit="passage", desc="embedding", leave=False))
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
    return update


def needs_rebuild(settings: Settings, folder: Path) -> str:
    """Why the index must be (re)built, or "" when it is usable as it is."""
    try:
        index = load_index(folder, _model_name(settings), settings.embedding.runtime)
    except IndexStoreError as exc:
        return str(exc).split(" — ")[0]
    changed = _changed_files(index, settings, folder)
    return f"changed: {', '.join(changed)}" if changed else ""


def answerer(settings: Settings, index_dir: Path | None = None) -> Answerer:
    """Load the index and model and return a ready Answerer. Raises UserError (exit 1) when the
    index is missing, stale, corrupt or built with another model."""
    folder = index_dir or settings.index_dir
    try:
        index = load_index(folder, _model_name(settings), settings.embedding.runtime)
        changed = _changed_files(index, settings, folder)
    except IndexStoreError as exc:
        raise UserError(str(exc), 1) from None
    if changed:
        raise UserError(f"Index at {folder} is stale ({', '.join(changed)} changed) — run: "
                          f"article-qa index" + (f" --index-dir {folder}" if index_dir else ""), 1)
    r = settings.retrieval
    return Answerer(Searcher(index, embedder(settings, Path(folder) / ENCODER_DIR)), r.max_quotes,
                    r.abstain_below, r.max_question_chars)


def _model_name(settings: Settings) -> str:
    return f"{settings.embedding.backend}:{settings.embedding.model}"


def _changed_files(index, settings: Settings, folder: Path) -> list[str]:
    """Articles edited since the build; for the configured index also articles added to config.yaml."""
    changed = []
    for entry in index.manifest["articles"]:
        path = Path(entry["path"])
        try:
            if path.is_file() and load_article(path).sha256 != entry["sha256"]:
                changed.append(path.name)
        except ArticleError:
            changed.append(path.name)
    if Path(folder).resolve() == Path(settings.index_dir).resolve():
        built = {e["path"] for e in index.manifest["articles"]}
        changed += [p.name for p in settings.article_files() if str(p.resolve()) not in built]
    return changed


def conversations(settings: Settings, index_dir: Path | None = None) -> Conversations:
    """A ready Conversations over the loaded index and model (see answerer() for what it raises)."""
    return Conversations(answerer(settings, index_dir), settings.conversation.expire_after_minutes * 60)
