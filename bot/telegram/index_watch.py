"""The running bot follows its index folder: an index rebuilt by `article-qa index` (--add, --remove)
or by an admin's upload is loaded in the background and swapped in, with no restart. Answers
already being computed finish on the old index; buttons made on the old one say "请重新提问".
"""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Callable

from bot.chat.conversation import Conversations
from bot.errors import UserError
from index.archive.folder import folder_stamp

log = logging.getLogger(__name__)
RETRY_SECONDS = 3   # between attempts to load an index that could not be loaded yet


class IndexWatch:
    def __init__(self, folder: Path, load: Callable[[], Conversations], every: float = 1.0,
                 version: Callable[[], object] | None = None):
        """`version` (Archive.version): a new value means a new index — the folder's manifest
        replaced, or another process (or machine) changed the Milvus archive. By default the
        folder's manifest."""
        self.folder, self.load, self.every = Path(folder), load, every
        self.version = version or (lambda: folder_stamp(self.folder))
        self.seen = self.stamp()

    def stamp(self) -> object:
        """Identifies the index now in use (None while a swap is between its two renames, or while
        the archive cannot be reached)."""
        try:
            return self.version()
        except Exception as exc:   # Milvus away for a moment: keep answering from what is loaded
            log.debug("archive version unavailable: %s", exc)
            return None

    async def run(self, use: Callable[[Conversations], None], executor) -> None:
        """Until cancelled: when the folder holds a new index, load it (in `executor`, off the event
        loop) and hand it to `use`. An index that cannot be loaded yet is logged once and the old one
        kept; it is tried again every few seconds, since it may still be arriving file by file (a copy
        into the live folder, manifest first)."""
        failed, retry_at = None, 0.0
        while True:
            await asyncio.sleep(self.every)
            stamp = await asyncio.get_running_loop().run_in_executor(executor, self.stamp)   # Milvus: a query
            if stamp is None or stamp == self.seen or (stamp == failed and time.monotonic() < retry_at):
                continue
            started = time.monotonic()
            try:
                conversations = await asyncio.get_running_loop().run_in_executor(executor, self.load)
            except UserError as exc:
                if stamp != failed:
                    log.warning("The new index cannot be used yet (%s); still answering from the previous one, "
                                "and trying again", exc)
                failed, retry_at = stamp, time.monotonic() + RETRY_SECONDS
                continue
            self.seen, failed = stamp, None
            use(conversations)
            log.info("Now answering from the rebuilt index at %s (%d articles, loaded in %.1f s)", self.folder,
                     len(conversations.articles), time.monotonic() - started)
