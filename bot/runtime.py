"""Start-up: turn settings into the heavy shared objects (model, index, answerer), once per process."""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bot.chat.answer import Answerer
from bot.chat.conversation import Conversations
from bot.config import Settings
from bot.errors import UserError
from bot.insights.pins import Pins
from bot.insights.record import Insights, InsightsError, without_places
from bot.telegram.conversation_store import ConversationStore
from index.archive.base import Archive, ArchiveCutShort
from index.archive.folder import FolderArchive
from index.archive.store import ENCODER_DIR, IndexStoreError, file_stamp
from index.encode.embed import LICENCE_NOTES, Embedder, EmbeddingError
from index.search.retrieve import Searcher, fitted_networks
from index.sources.article import Article, ArticleError, parse_article
from index.sources.isolated import load_source_isolated
from index.sources.load import SourceLimits, is_url, load_source, source_sha256

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


def load_articles(sources: list, limits: SourceLimits = SourceLimits(), isolated: bool = False
                  ) -> tuple[list[Article], dict[str, str]]:
    """Parse article sources (files of any supported kind, URLs), giving each a unique id; return
    the articles and the text each was parsed from. `isolated`: each in a bounded child process
    (index/sources/isolated.py), for sources nobody vetted. Raises UserError (exit 2) on an unusable one."""
    articles, texts = [], {}
    for source in sources:
        try:
            article, text = (load_source_isolated if isolated else load_source)(source, limits)
        except ArticleError as exc:
            raise UserError(str(exc), 2) from None
        unique = _unique_id(article.id, texts)
        texts[unique] = text
        articles.append(replace(article, id=unique))
    return articles, texts


def _unique_id(article_id: str, taken) -> str:
    """The id, or with -2, -3… appended while it is taken."""
    unique, n = article_id, 2
    while unique in taken:
        unique, n = f"{article_id}-{n}", n + 1
    return unique


@contextlib.contextmanager
def changing(folder: Path):
    """Hold the index folder's change lock (a file beside it) for one read-modify-write of the
    index: two changes at once, from any processes, would each build from the same old index and
    one would be lost. A second change waits, and says so."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"article-qa: another change of {folder} is running; waiting for it to finish…",
                  file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        _remove_leftovers(folder)
        yield   # the lock goes with the file when it closes, or when the process dies


def _remove_leftovers(folder: Path) -> None:
    """Half-built folders of a change that was killed outright (SIGKILL, power): with the lock
    held, no change is running, so every one of them is a leftover."""
    for kind in ("new", "old"):
        for leftover in folder.parent.glob(f".{folder.name}.{kind}-*"):
            shutil.rmtree(leftover, ignore_errors=True)


def build(settings: Settings, sources: list, folder: Path, progress: bool = False) -> str:
    """Build the index folder from article sources; return a short report."""
    articles, texts = load_articles(sources, settings.sources.source_limits())
    with changing(folder):
        return _build(settings, articles, texts, folder, progress)


def rebuild(settings: Settings, folder: Path, only_config: bool = False) -> "Rebuilt":
    """Rebuild the index: the articles of config.yaml plus every article added since with --add or
    a Telegram upload, so that a rebuild never loses the library. An added article whose source
    is gone, changed into something unreadable, or a web page, is rebuilt from the text kept in
    the index when it was added. A configured article that cannot be read and was never indexed
    is skipped: the rest is built and the report names it (Rebuilt.skipped). `only_config`: the
    configured articles alone (the report names the added ones dropped)."""
    with changing(folder):
        return _rebuild(settings, folder, only_config)


def _rebuild(settings: Settings, folder: Path, only_config: bool = False) -> "Rebuilt":
    configured = [str(p.resolve()) for p in settings.article_files()]
    built = {e["path"]: e for e in _built_articles(settings, folder)}
    added = [e for path, e in built.items() if path not in configured]
    if only_config:
        articles, texts, skipped = _readable(settings, configured)
        if not articles:
            raise UserError("no article to index: none of config.yaml's articles reads\n" + "\n".join(skipped), 2)
        report = _build(settings, articles, texts, folder, progress=True)
        _remember_skipped(folder, skipped)
        dropped = [f"  dropped {e['id']}: 《{e.get('title', '')}》 ({e['path']})" for e in added]
        return Rebuilt("\n".join([report, *dropped, *skipped]), skipped)
    # A configured article that an upload replaced (an admin confirmed it) stays replaced, and one
    # an admin removed stays removed.
    removed = removed_configured(folder)
    configured = [p for p in configured if Path(p).stem not in {e["id"] for e in added} | removed]
    articles, texts, notes, skipped = [], {}, [], []
    for path in configured:
        try:
            found, found_texts = load_articles([path], settings.sources.source_limits())
        except UserError as exc:
            if path not in built:   # a new configured article that does not read: the rest is built without it
                skipped.append(f"  skipped {path}: {exc}")
                continue
            found, found_texts = [], {}
        if found:
            article = found[0]
        else:   # it was indexed before: keep what the index holds rather than drop it
            article, text, note = _indexed_article(settings, folder, built[path])
            if article is None:
                raise UserError(f"{path}: {note}", 2)
            notes.append(f"  {article.id}: {note}")
            found_texts = {article.id: text}
        unique = _unique_id(article.id, texts)
        articles.append(replace(article, id=unique))
        texts[unique] = found_texts[article.id]
    for entry in added:
        article, text, note = _indexed_article(settings, folder, entry)
        if article is None:
            notes.append(f"  kept out {entry['id']}: {note}")
            continue
        if note:
            notes.append(f"  {entry['id']}: {note}")
        articles.append(article)
        texts[article.id] = text
    if not articles:
        raise UserError("no article to index: " + ("none of config.yaml's articles reads\n" + "\n".join(skipped)
                                                   if skipped else "none in config.yaml (articles:) and none added"), 2)
    report = _build(settings, articles, texts, folder, progress=True)
    _remember_skipped(folder, skipped)
    if skipped:
        notes.append(f"{len(skipped)} article(s) could not be read and were skipped:")
    return Rebuilt("\n".join([report, *notes, *skipped]), skipped)


@dataclass
class Rebuilt:
    """A rebuild's report, and the articles it skipped (one line each, with the reason)."""
    report: str
    skipped: list[str]


SKIPPED_FILE = "skipped.json"


def _remember_skipped(folder: Path, skipped: list[str]) -> None:
    """Keep the last rebuild's skipped articles beside the index, for the bot to tell the admins."""
    path = Path(folder).parent / f".{Path(folder).name}.{SKIPPED_FILE}"
    if skipped:
        path.write_text(json.dumps([line.strip() for line in skipped], ensure_ascii=False), encoding="utf-8")
    else:
        path.unlink(missing_ok=True)


def skipped_at_last_rebuild(folder: Path) -> list[str]:
    try:
        return [str(line) for line in json.loads((Path(folder).parent / f".{Path(folder).name}.{SKIPPED_FILE}")
                                                  .read_text("utf-8"))]
    except (OSError, ValueError, TypeError):
        return []


def _readable(settings: Settings, sources: list[str]) -> tuple[list[Article], dict[str, str], list[str]]:
    """The sources that read, as load_articles gives them, and a line for each one that does not."""
    articles, texts, skipped = [], {}, []
    for source in sources:
        try:
            found, found_texts = load_articles([source], settings.sources.source_limits())
        except UserError as exc:
            skipped.append(f"  skipped {source}: {exc}")
            continue
        unique = _unique_id(found[0].id, texts)
        articles.append(replace(found[0], id=unique))
        texts[unique] = found_texts[found[0].id]
    return articles, texts, skipped


def _indexed_article(settings: Settings, folder: Path, entry: dict) -> tuple[Article | None, str, str]:
    """An indexed article as it should be rebuilt: from its file when that still reads, else from
    the text the index kept of it. Returns (article or None, its text, a note for the report)."""
    path, note = entry["path"], ""
    if not is_url(path) and Path(path).is_file():
        try:
            article, text = load_source(path, settings.sources.source_limits())
            return replace(article, id=entry["id"]), text, ""
        except ArticleError as exc:
            note = f"its source no longer reads ({exc}); rebuilt from the text kept in the index"
    elif not is_url(path):
        note = f"its source {path} is gone; rebuilt from the text kept in the index"
    try:
        text = _source_text(settings, folder, entry["id"])
    except IndexStoreError:   # the kept copy was damaged: as if none were kept
        text, note = "", note + "; the text kept in the index is damaged"
    if not text:
        return None, "", f"its source is unusable and the index kept no text of it ({note})"
    return parse_article(text, article_id=entry["id"], path=path), text, note


REMOVED_FILE = "removed-configured.json"


def _removed_file(folder: Path) -> Path:
    return Path(folder).parent / f".{Path(folder).name}.{REMOVED_FILE}"


def removed_configured(folder: Path) -> set[str]:
    """Ids of configured articles an admin removed (/remove, --remove): a rebuild leaves them out."""
    try:
        return set(json.loads(_removed_file(folder).read_text("utf-8")))
    except (OSError, ValueError, TypeError):
        return set()


def _remember_removed(settings: Settings, folder: Path, ids: list[str], added: list[str] = ()) -> None:
    """Keep the ids of removed configured articles (and forget those added again) beside the index."""
    configured = {p.stem for p in settings.article_files()}
    removed = (removed_configured(folder) | (set(ids) & configured)) - set(added)
    path = _removed_file(folder)
    if removed:
        path.write_text(json.dumps(sorted(removed), ensure_ascii=False), encoding="utf-8")
    else:
        path.unlink(missing_ok=True)


def would_drop(settings: Settings, folder: Path, sources: list) -> list[str]:
    """Articles of the index at `folder` that building it from `sources` alone would drop."""
    given = {str(Path(s).resolve()) if not is_url(str(s)) else str(s) for s in sources}
    return [f"{e['id']} ({e['path']})" for e in _built_articles(settings, folder) if e["path"] not in given]


def _built_articles(settings: Settings, folder: Path) -> list[dict]:
    """The articles (id, path, sha256, title) of the index as it is, [] when there is none usable."""
    try:
        return _archive(settings, folder).entries()
    except (OSError, ValueError, KeyError, IndexStoreError):
        return []   # no usable previous index: only the configured articles


def _source_text(settings: Settings, folder: Path, article_id: str) -> str:
    return _archive(settings, folder).source_text(article_id)


_MILVUS: dict[tuple[str, str], Archive] = {}


def _archive(settings: Settings, folder: Path) -> Archive:
    """The archive the settings name: the index folder, or Milvus (one client per process: a
    Milvus Lite file admits one opener). Raises UserError when Milvus cannot be reached."""
    store = settings.store
    if store.backend != "milvus":
        return FolderArchive(folder, settings.retrieval.faiss, settings.embedding.runtime)
    from index.archive.milvus import MilvusArchive, is_server   # pymilvus only when it is used
    uri = store.archive_uri(folder)
    if (uri, store.collection) not in _MILVUS:
        if not is_server(uri):
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            _MILVUS[uri, store.collection] = MilvusArchive(uri, store.collection, settings.retrieval.faiss)
        except IndexStoreError as exc:
            raise UserError(str(exc), 1) from None
    return _MILVUS[uri, store.collection]


def index_version(settings: Settings, folder: Path):
    """For a running bot: a function whose value changes when another process changes the archive."""
    return _archive(settings, folder).version


@dataclass(frozen=True)
class Change:
    """What an --add or --remove did."""
    report: str                      # for the terminal
    added: tuple[Article, ...] = ()  # the articles added or replaced
    articles: int = 0                # articles in the index now
    replaced: tuple[Article, ...] = ()   # articles of the old index that the added ones replaced

    def to_json(self) -> dict:
        """`article-qa index --add/--remove --json`: what the bot tells the admin, as data."""
        return {"articles": self.articles,
                "added": [{"id": a.id, "title": a.title, "sections": len(a.sections), "passages": len(a.passages()),
                           "metadata": [line for _, line in a.metadata], "dropped": list(a.dropped),
                           "title_from_text": a.title_from_text}
                          for a in self.added],
                "replaced": [{"id": a.id, "title": a.title, "path": a.path} for a in self.replaced]}


def add(settings: Settings, sources: list, folder: Path) -> Change:
    """Add articles to an existing index; an article with the same id is replaced, and the report
    says so. Each source is parsed in a bounded child process: it may come from anyone with a
    link or a file."""
    new, new_texts = load_articles(sources, settings.sources.source_limits(), isolated=True)
    with changing(folder):
        return _add(settings, new, new_texts, folder)


def _add(settings: Settings, new: list[Article], new_texts: dict[str, str], folder: Path) -> Change:
    _remember_removed(settings, folder, [], [a.id for a in new])
    archive = _archive(settings, folder)
    started = time.time()
    written = _writing(lambda: archive.add(new, new_texts, embedder(settings)))
    report = (f"Added {len(new)} article(s), {written.passages} passages to {archive.where} "
              f"({time.time() - started:.1f}s" + (f", {written.reused} passages of unchanged articles reused" if written.reused else "")
              + ").")
    lines = [report, *_added_lines(new, written.replaced), *_notes(settings), *_dropped_lines(new)]
    return Change("\n".join(lines), tuple(new), archive.article_count(), written.replaced)


def _added_lines(new: list[Article], replaced: tuple[Article, ...]) -> list[str]:
    """What an --add reports of each article it added or replaced."""
    return [f"  + {a.id}: 《{a.title}》, {len(a.sections)} section(s), {len(a.passages())} passages"
            + "".join(f", {line}" for _, line in a.metadata[:3]) for a in new] \
        + [f"  replaced {a.id}: 《{a.title}》 from {a.path}" for a in replaced]


def _writing(write):
    """Run one write of the archive, its refusal (another model's index, a damaged one) or its
    interruption (a Milvus server gone midway; the next change repairs) said in one line."""
    try:
        return write()
    except (IndexStoreError, ArchiveCutShort) as exc:
        raise UserError(str(exc), 1) from None


def remove(settings: Settings, ids: list[str], folder: Path) -> Change:
    """Remove articles from an existing index by id."""
    with changing(folder):
        return _remove(settings, ids, folder)


def _remove(settings: Settings, ids: list[str], folder: Path) -> Change:
    archive = _archive(settings, folder)
    found = archive.holds(ids)
    if set(ids) - found:
        raise UserError(f"no article {', '.join(sorted(set(ids) - found))} in {archive.where}", 2)
    if archive.article_count() <= len(found):
        raise UserError("removing every article would leave an empty index", 2)
    started = time.time()
    _writing(lambda: archive.remove(sorted(found)))
    _remember_removed(settings, folder, ids)
    left = archive.article_count()
    return Change(f"Removed {', '.join(sorted(found))} from {archive.where} "
                  f"({time.time() - started:.1f}s); {left} article(s) left.", (), left)


def _build(settings: Settings, articles: list[Article], texts: dict[str, str], folder: Path, progress: bool) -> str:
    """Make the archive again from these articles. The embedded one is built into a new folder
    beside the old and put in its place: a running bot (or a failed build) never sees a
    half-written index."""
    started = time.time()
    model = embedder(settings)
    loaded = time.time()
    archive = _archive(settings, folder)
    written = _writing(lambda: archive.rebuild(articles, texts, model, _progress_bar() if progress else None))
    lines = [f"Indexed {len(articles)} article(s), {sum(len(a.sections) for a in articles)} section(s), "
             f"{written.passages} passages into {archive.where} "
             f"(model load {loaded - started:.1f}s, build {time.time() - loaded:.1f}s)."]
    return "\n".join(lines + _notes(settings) + _dropped_lines(articles))


def _notes(settings: Settings) -> list[str]:
    """What whoever embeds articles with the configured model should know of it."""
    notes = []
    if settings.embedding.model in LICENCE_NOTES:
        notes.append(f"  Note: {LICENCE_NOTES[settings.embedding.model]}.")
    if not fitted_networks(_model_name(settings)).is_file():
        notes.append(f"  Note: no ranking and refusal networks were fitted for {_model_name(settings)}: it uses "
                     f"the default model's, which refuse poorly with another model's scores — run scripts/fit_fusion.py "
                     f"--backend {settings.embedding.backend} --model {settings.embedding.model}.")
    return notes


def _dropped_lines(articles: list[Article]) -> list[str]:
    """What a change reports of the lines it dropped after each article's end."""
    return [f"  {a.id}: dropped {len(a.dropped)} line(s) after the article's end: " + " | ".join(d[:30] for d in a.dropped)
            for a in articles if a.dropped]


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
        index = _load(settings, folder)
    except IndexStoreError as exc:
        return str(exc).split(" — ")[0]
    changed = _changed_files(index, settings, folder)
    return f"changed: {', '.join(changed)}" if changed else ""


def answerer(settings: Settings, index_dir: Path | None = None, config_articles: bool = True) -> Answerer:
    """Load the index and model and return a ready Answerer. Raises UserError (exit 1) when the
    index is missing, corrupt or built with another model; a stale one is used, with a warning."""
    folder = index_dir or settings.index_dir
    try:
        index = _load(settings, folder)
        changed = _changed_files(index, settings, folder, config_articles)
    except IndexStoreError as exc:
        raise UserError(str(exc), 1) from None
    if changed:
        # The index keeps the text of every article it holds: answer from it as built, and say
        # once what is stale. Refusing would stop a bot for an edited file.
        log.warning("The index at %s is older than %s: answering from the index as built; "
                    "`article-qa index` rebuilds it, keeping every article", folder, ", ".join(changed))
    r = settings.retrieval
    # Questions are embedded by the files that embedded the passages: the index's copy of the
    # encoder; for Milvus, the configured model itself (the archive records its name).
    encoder = None if index.manifest.get("store") == "milvus" else Path(folder) / ENCODER_DIR
    return Answerer(Searcher(index, embedder(settings, encoder)), r.max_quotes, r.abstain_below, r.max_question_chars)


def _load(settings: Settings, folder: Path):
    """The index: the folder's, or the Milvus archive's articles with its vectors left in Milvus."""
    return _archive(settings, folder).load(_model_name(settings))


def _model_name(settings: Settings) -> str:
    return f"{settings.embedding.backend}:{settings.embedding.model}"


def _changed_files(index, settings: Settings, folder: Path, config_articles: bool = True) -> list[str]:
    """Articles edited since the build; for the configured index also articles added to config.yaml.
    A URL is not fetched again to check: `article-qa index --add URL` refreshes it."""
    changed = []
    # A file whose size and time are those the build saw is as it was: not read again (thousands
    # of reports take a third of a second to hash at every start).
    stamps = {a["path"]: tuple(a["stamp"]) for a in index.manifest.get("articles", []) if "stamp" in a}
    for entry in index.catalogue.entries:
        if is_url(entry.path) or (entry.path in stamps and file_stamp(entry.path) == stamps[entry.path]):
            continue
        path = Path(entry.path)
        try:
            if path.is_file() and source_sha256(path) != entry.sha256:
                changed.append(path.name)
        except ArticleError:
            changed.append(path.name)
    if config_articles and Path(folder).resolve() == Path(settings.index_dir).resolve():
        built = {e.path for e in index.catalogue.entries}
        ids = set(index.catalogue.number)
        # An article of config.yaml that an added one replaced (same id, confirmed by an admin) is
        # not missing: the index holds what the admin chose.
        removed = removed_configured(folder)
        changed += [p.name for p in settings.article_files()
                    if str(p.resolve()) not in built and p.stem not in ids | removed]
    return changed


def conversations(settings: Settings, index_dir: Path | None = None, config_articles: bool = True,
                  store: ConversationStore | None = None, record: bool = False,
                  record_any_index: bool = False, corrections: bool = False) -> Conversations:
    """A ready Conversations over the loaded index and model (see answerer() for what it raises).
    With config_articles=False an article of config.yaml missing from the index is not an error:
    a running bot reloads an index an admin has just changed on purpose. With a store, the
    conversations' context outlives a restart. With `record`, each reply is recorded for the
    editor's report (when insights are enabled, and — unless `record_any_index`, as for the bot —
    only for the configured index: questions put to a scratch index with `ask --index-dir` are
    tests, not readers' questions). With `corrections`, the editor's corrections made in Telegram
    apply (the terminal then answers as the bot does)."""
    ready = answerer(settings, index_dir, config_articles)
    configured = index_dir is None or Path(index_dir).resolve() == Path(settings.index_dir).resolve()
    recorder = insights(settings, ready) if record and (configured or record_any_index) else None
    made = Conversations(ready, settings.conversation.expire_after_minutes * 60, store=store, recorder=recorder)
    pinned = pins_path(Path(index_dir or settings.index_dir))
    if corrections and pinned.is_file():
        made.corrections = Pins(pinned)
    return made


def pins_path(index_dir: Path) -> Path:
    """The editor's corrections, beside the index folder (a rebuild swaps the folder itself)."""
    return Path(index_dir).resolve().parent / f"{Path(index_dir).name}-pins.sqlite3"


def insights(settings: Settings, ready: Answerer | None = None) -> Insights | None:
    """The question recorder of the configured insights database (None when switched off).
    With an answerer, refused questions are embedded with its model for the report's groups."""
    if not settings.insights.enabled:
        return None
    embed = None
    if ready:
        catalogue = ready.searcher.index.catalogue
        # A question's topic, without the place it names (titles and texts read when first needed).
        topic = without_places(lambda: catalogue.titles() + [catalogue.texts.text(n) for n in range(len(catalogue))])
        embed = lambda question: ready.searcher.embedder.encode_question(topic(question))[0]  # noqa: E731
    try:
        return Insights(settings.insights.path, settings.insights.keep_days, embed, settings.insights.key)
    except InsightsError as exc:   # answering matters more than recording: go on without it
        log.warning("Questions are not recorded: %s", exc)
        return None
