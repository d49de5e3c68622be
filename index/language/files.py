"""Reading the files the program made for itself (caches, keys) without trusting what it finds:
only a regular file is read, never a link to something else or a FIFO that would hang the start."""
from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegularFile(OSError):
    """Something other than a plain file stands where one was expected."""


def read_regular_file(path: Path) -> bytes:
    """The bytes of `path`. Raises FileNotFoundError when it is missing and NotRegularFile when it
    is a symbolic link, a FIFO, a device or a folder (opened without blocking, then checked)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
        chunks = []
        while chunk := os.read(descriptor, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)
