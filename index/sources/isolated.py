"""Parsing an untrusted source in a child process that the operating system bounds.

A file or link sent by an admin may be built to cost minutes or gigabytes (a PDF declaring
90,000 pages, a .docx whose XML inflates without end, a page of 19 MB). index/sources/load.py refuses
what it can see coming; this module bounds what it cannot: the child gets an address-space
limit (RLIMIT_AS) and a CPU-time limit, and is killed at the wall-time limit. The caller's process
keeps its memory and its interpreter lock, and the child dies with a caller that is stopped.

Run as a child process (main()): the source and limits arrive pickled on stdin, the parsed
article (or the one-line reason it was refused) leaves pickled on stdout.
"""
from __future__ import annotations

import os
import pickle
import resource
import signal
import subprocess
import sys
from pathlib import Path

from index.sources.article import Article, ArticleError
from index.sources.load import SourceLimits, load_source

_PROJECT = str(Path(__file__).resolve().parents[2])


def python_child(code: str) -> list[str]:
    """The command that runs `code` in a child Python of this one. Not `python -m …`: that puts
    the working directory first on sys.path, and a folder there holding an `index/` of its own (a
    service's data folder, say) would be imported instead of this package."""
    return [sys.executable, "-c", f"import sys; sys.path.pop(0); {code}"]


def load_source_isolated(source: str, limits: SourceLimits) -> tuple[Article, str]:
    """load_source(source, limits) in a bounded child process. Raises ArticleError with one line
    naming the limit that was hit."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_PROJECT, os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen(python_child("from index.sources.isolated import main; main()"), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = child.communicate(pickle.dumps((str(source), limits)), timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise ArticleError(f"{source}: parsing took longer than {limits.seconds:g} s (sources.limits.seconds)") from None
    except BaseException:   # this process is being stopped: the child goes with it
        child.kill()
        raise
    return _result(source, child.returncode, out, err, limits)


def _result(source: str, returncode: int, out: bytes, err: bytes, limits: SourceLimits) -> tuple[Article, str]:
    if returncode == -signal.SIGXCPU:
        raise ArticleError(f"{source}: parsing took longer than {limits.seconds:g} s (sources.limits.seconds)")
    try:
        outcome, *value = pickle.loads(out)
    except Exception:   # noqa: BLE001 — a child that died leaves nothing readable
        last = (err.decode("utf-8", "replace").strip().splitlines() or [f"exit status {returncode}"])[-1]
        if "MemoryError" in last or returncode in (-signal.SIGKILL, -signal.SIGSEGV):
            raise ArticleError(f"{source}: parsing needed more than {limits.memory_mb} MB "
                               f"(sources.limits.memory_mb)") from None
        raise ArticleError(f"{source}: could not be parsed ({last[:200]})") from None
    if outcome == "refused":
        raise ArticleError(value[0])
    return value[0], value[1]


def main() -> None:
    source, limits = pickle.load(sys.stdin.buffer)
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * 2**20,) * 2)
    cpu = int(limits.seconds) + 1   # the parent kills at the wall-time limit; this outlives a dead parent
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        article, text = load_source(source, limits)
        result = ("ok", article, text)
    except ArticleError as exc:
        result = ("refused", str(exc))
    except MemoryError:
        result = ("refused", f"{source}: parsing needed more than {limits.memory_mb} MB (sources.limits.memory_mb)")
    except RecursionError:
        result = ("refused", f"{source}: nested too deeply to be read")
    except Exception as exc:   # noqa: BLE001 — a parser's own limit or bug: one line, not a traceback
        result = ("refused", f"{source}: could not be parsed ({type(exc).__name__}: {str(exc)[:200]})")
    sys.stdout.buffer.write(pickle.dumps(result))


if __name__ == "__main__":
    main()
