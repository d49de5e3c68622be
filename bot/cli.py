"""The `article-qa` command: index, ask, chat, eval, bench, serve, run.

Exit codes: 0 done; 1 the index or model is not usable (the message says how to fix it);
2 the caller's input is wrong (question, file, config); 3 the library was built without the
articles that could not be read (the report names each).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

from bot.config import TOKEN_CREDENTIAL, ConfigError, Settings, bot_token, load_settings
from bot.errors import UserError
from index.archive.base import ArchiveQueryError, ArchiveUnavailable

log = logging.getLogger(__name__)
EXIT_SKIPPED = 3   # built, without the articles that could not be read


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not sys.stderr.isatty():   # a journal or a log file: no progress bars redrawn a hundred times
        os.environ.setdefault("TQDM_DISABLE", "1")
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(args.config)
        return args.command(args, settings) or 0
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except UserError as exc:
        return _fail(str(exc), exc.code)
    except ArchiveUnavailable as exc:
        return _fail(f"{exc} — try again when it is back", 1)
    except ArchiveQueryError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130


def _fail(message: str, code: int) -> int:
    print(f"article-qa: {message}", file=sys.stderr)
    return code


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="article-qa", description="Answer questions about Chinese articles "
                                 "by quoting their own sentences.")
    ap.add_argument("--config", help="config file (default: ARTICLE_QA_CONFIG or the project's config.yaml)")
    sub = ap.add_subparsers(required=True, metavar="COMMAND")

    def command(name, func, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(command=func)
        p.add_argument("--index-dir", type=Path, help="index folder (default: index_dir in config.yaml)")
        return p

    p = command("index", cmd_index, "parse the articles and build the index")
    p.add_argument("files", nargs="*", help="article files (.txt .md .html .docx .pdf) or http(s) URLs "
                   "(default: those in config.yaml and every article added since)")
    p.add_argument("--add", nargs="+", metavar="FILE|URL", help="add articles to the existing index "
                   "(one with the same id is replaced); a running bot picks the new index up")
    p.add_argument("--remove", nargs="+", metavar="ID", help="remove articles from the existing index by id")
    p.add_argument("--json", action="store_true", help="with --add/--remove: print what changed as JSON")
    p.add_argument("--only-config", action="store_true", help="build from config.yaml's articles (or the files "
                   "given) alone, dropping articles added with --add or from Telegram (by default they are kept)")
    p = command("ask", cmd_ask, "answer one question, or questions on stdin with --jsonl")
    p.add_argument("question", nargs="?")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--jsonl", action="store_true", help="read questions from stdin, one JSON answer a line")
    command("chat", cmd_chat, "ask questions in the terminal")
    p = command("eval", cmd_eval, "hit@1, hit@3 and abstentions on a .jsonl or SQuAD-style question file")
    p.add_argument("file", type=Path)
    p.add_argument("--articles", type=int, default=0, help="SQuAD files: use the first N passages (0 = all)")
    p = command("bench", cmd_bench, "per-question latency and index build time")
    p.add_argument("--questions", type=Path, help=".jsonl questions (default: questions made from the article)")
    p.add_argument("--corpus", type=int, metavar="N", help="instead: build and query an index of N passages "
                   "made from SQuAD-style files (CMRC 2018, DRCD)")
    p.add_argument("--faiss", default="flat,hnsw", help="with --corpus: FAISS kinds to compare (flat,hnsw)")
    p.add_argument("--store", default="embedded", help="with --corpus: milvus adds the same corpus in Milvus "
                   "(a Milvus Lite server), beside the embedded index")
    p.add_argument("--source", type=Path, action="append", default=[],
                   help="with --corpus: a SQuAD-style .json file (default: CMRC 2018 trial and DRCD test in ../shared/eval)")
    p = command("report", cmd_report, "what readers asked: answered share, busiest hours, unanswered questions "
                "grouped by meaning, most-quoted passages")
    p.add_argument("--since", default="7d", help="period to cover: a number and h, d or w (default 7d)")
    p.add_argument("--article", help="only questions about this article id")
    p.add_argument("--png", type=Path, metavar="FILE", help="also draw the chart into FILE")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    command("serve", cmd_serve, "run the Telegram bot (token from TELEGRAM_BOT_TOKEN, or the systemd "
            f"credential {TOKEN_CREDENTIAL})")
    command("prepare", cmd_prepare, "build the index if it is missing or stale (what `run` does first)")
    command("run", cmd_run, "build the index if needed, then serve Telegram or chat in the terminal")
    return ap


# ---- commands -------------------------------------------------------------------------------

def cmd_index(args, settings: Settings) -> int:
    from bot import runtime
    folder = args.index_dir or settings.index_dir
    if args.add or args.remove:
        if args.files:
            raise UserError("give either files to index or --add/--remove, not both")
        # A stop signal ends the change cleanly: the half-built folder is removed, the old index stays.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        change = (runtime.add(settings, args.add, folder) if args.add else runtime.remove(settings, args.remove, folder))
        print(json.dumps(change.to_json(), ensure_ascii=False) if args.json else change.report)
        return 0
    if not args.files:   # the library: configured and added articles alike
        rebuilt = runtime.rebuild(settings, folder, only_config=args.only_config)
        print(rebuilt.report)
        return EXIT_SKIPPED if rebuilt.skipped else 0
    dropped = runtime.would_drop(settings, folder, args.files)
    if dropped and not args.only_config:
        raise UserError(f"the index at {folder} also holds {', '.join(dropped)}; building it from these files "
                        f"alone would drop them — add files with --add, or pass --only-config to drop them", 2)
    report = runtime.build(settings, args.files, folder, progress=sys.stderr.isatty() or len(args.files) > 20)
    print(report)
    return 0


def cmd_ask(args, settings: Settings) -> int:
    from bot import runtime
    if args.question is None and not args.jsonl:
        raise UserError("ask needs a QUESTION (or --jsonl to read questions from stdin)")
    conversations = runtime.conversations(settings, args.index_dir, record=True, corrections=True)
    with _recording(conversations):
        if args.jsonl:
            conversations.warm_up()
            for number, line in enumerate(sys.stdin):
                conversation, question = _jsonl_question(line, number)
                reply = conversations.reply(conversation, question, who="terminal")
                print(json.dumps(reply.to_json(), ensure_ascii=False), flush=True)
            return 0
        answer = conversations.reply("cli", args.question, who="terminal")
    if answer.kind == "invalid":
        raise UserError(answer.reply)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        from bot.chat.render import terminal
        print(terminal(answer))
    return 0


def _jsonl_question(line: str, number: int) -> tuple[str, str]:
    """(conversation id, question) of one --jsonl input line: a JSON object {"question", "conversation"},
    or a plain line, which is a conversation of its own."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("question"), str):
            return str(data.get("conversation", f"line-{number}")), data["question"]
    return f"line-{number}", line


def cmd_chat(args, settings: Settings) -> int:
    from bot import runtime
    from bot.chat.render import terminal
    conversations = runtime.conversations(settings, args.index_dir, record=True, corrections=True)
    conversations.warm_up()
    titles = "、".join(f"《{a.title}》" for a in conversations.articles[:3])
    print(f"关于{titles}，请用中文提问（空行或 Ctrl-D 退出）。")
    with _recording(conversations):
        while True:
            try:
                line = input("问> ")
            except EOFError:
                print()
                return 0
            if not line.strip():
                return 0
            print(terminal(conversations.reply("terminal", line)))
            print()


@contextlib.contextmanager
def _recording(conversations):
    """Write the recorded questions out when the command ends, however it ends."""
    try:
        yield
    finally:
        if conversations.recorder:
            conversations.recorder.close()


def cmd_eval(args, settings: Settings) -> int:
    from bot.tools import evaluate
    print(evaluate.run(settings, args.file, args.index_dir, args.articles))
    return 0


def cmd_bench(args, settings: Settings) -> int:
    if args.corpus:
        from bot.tools import corpus_bench
        print(corpus_bench.corpus(settings, args.corpus, args.faiss.split(","), args.source,
                                  stores=tuple(args.store.split(","))))
        return 0
    from bot.tools import benchmark
    print(benchmark.in_process(settings, args.index_dir, args.questions))
    return 0


def cmd_report(args, settings: Settings) -> int:
    from bot import runtime
    from bot.insights import report
    try:
        made = report.build(settings.insights.path, report.parse_period(args.since), args.article,
                            timezone=settings.insights.timezone,
                            pins=runtime.pins_path(Path(args.index_dir or settings.index_dir)))
    except report.ReportError as exc:
        raise UserError(str(exc)) from None
    print(json.dumps(made.to_json(), ensure_ascii=False, indent=2) if args.json else report.text(made))
    if args.png:
        print(f"chart written to {report.chart(made, args.png)}", file=sys.stderr)
    return 0


def cmd_serve(args, settings: Settings) -> int:
    from bot import runtime
    from bot.telegram import serve as telegram_serve
    from bot.telegram.index_watch import IndexWatch
    from bot.telegram.journal import Journal, JournalError
    from bot.telegram.conversation_store import ConversationStore
    from bot.insights.pins import Pins
    from bot.telegram.admin import Library
    from index.sources.isolated import python_child
    if not os.environ.get("LOG_LEVEL"):
        # A service's journal: routine events (an index swapped in, an admin's change) at INFO.
        logging.getLogger().setLevel(logging.INFO)
    token = bot_token()
    if not token:
        raise UserError("TELEGRAM_BOT_TOKEN is not set — get a token from @BotFather and export it "
                        f"(a service: LoadCredential={TOKEN_CREDENTIAL}:/etc/article-qa/token)")
    try:
        # First: a second bot on this journal stops here.
        journal = Journal(settings.telegram.journal, settings.telegram.journal_keep_hours * 3600)
        telegram_serve.check_webhook_port(settings.telegram)
        folder = args.index_dir or settings.index_dir
        watch = IndexWatch(folder, lambda: runtime.conversations(settings, args.index_dir, config_articles=False),
                           version=runtime.index_version(settings, folder))
        # The admin's index changes run in a child process (index/sources/isolated.py says why so).
        index_command = [*python_child("from bot.cli import main; sys.exit(main())"),
                         *(["--config", args.config] if args.config else []), "index", "--index-dir", str(folder)]
        library = Library(index_command, Path(folder).parent / "uploads", frozenset(p.stem for p in settings.article_files()))
        # Its own file beside the update journal: one database would make the answering threads'
        # writes and the event loop's journal writes wait for each other's locks.
        path = Path(settings.telegram.journal)
        store = ConversationStore(path.with_name(f"{path.stem}-conversations{path.suffix}"))
        conversations = runtime.conversations(settings, args.index_dir, store=store, record=True,
                                              record_any_index=True)
        # The editor's corrections start here (/report, /pins); a reloaded index adopts them.
        conversations.corrections = Pins(runtime.pins_path(Path(folder)))
        library.on_removed = conversations.corrections.forget_article   # an article's corrections go with it
        conversations.warm_up()
        with _recording(conversations):
            telegram_serve.serve(conversations, settings.telegram, token, journal, watch, library,
                                 settings.insights)
    except telegram_serve.TokenRejected as exc:
        raise UserError(str(exc), 1) from None
    except JournalError as exc:
        raise UserError(str(exc), 1) from None
    # Everything is answered or journaled. Tearing the interpreter down would only free memory, and
    # it resets signal handlers first: a second SIGTERM arriving then would end the process with
    # status -15 instead of 0. End now.
    store.flush()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def cmd_prepare(args, settings: Settings) -> int:
    from bot import runtime
    folder = args.index_dir or settings.index_dir
    reason = runtime.needs_rebuild(settings, folder)
    if not reason:
        return 0
    print(f"Building the index ({reason}) …", file=sys.stderr)
    try:
        print(runtime.rebuild(settings, folder).report, file=sys.stderr)
    except UserError as exc:
        if not reason.startswith("changed"):   # no usable index to fall back on
            raise
        print(f"article-qa: could not rebuild ({exc}); answering from the index as it is", file=sys.stderr)
    return 0


def cmd_run(args, settings: Settings) -> int:
    token = bot_token()   # a malformed token stops here, before minutes of index building
    cmd_prepare(args, settings)
    if token:
        return cmd_serve(args, settings)
    print("(No TELEGRAM_BOT_TOKEN set: chatting in the terminal. "
          "To connect Telegram: export TELEGRAM_BOT_TOKEN=… and run again.)")
    return cmd_chat(args, settings)


if __name__ == "__main__":
    sys.exit(main())
