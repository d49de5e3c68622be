"""A Milvus Lite server in a child process, on a free loopback port: what the tests and the corpus
benchmark share an archive through (`milvus-lite server`, from the milvus-lite package)."""
from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def milvus_lite_server(data_dir: Path, timeout: float = 60, port: int | None = None
                       ) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start the server on `data_dir` (and `port`, or a free one), yield its http:// address and
    process, stop it at the end."""
    command = shutil.which("milvus-lite", path=str(Path(sys.executable).parent)) or "milvus-lite"
    port = port or _free_port()
    log = Path(data_dir).with_name(f"{Path(data_dir).name}.log")   # a pipe nobody reads would fill and stall it
    with open(log, "wb") as output:
        process = subprocess.Popen([command, "server", "--data-dir", str(data_dir), "--host", "127.0.0.1",
                                    "--port", str(port)], stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, process, log, timeout)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"milvus-lite server stopped: {log.read_text(errors='replace')[-500:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"milvus-lite server did not listen on port {port} within {timeout:.0f} s")
