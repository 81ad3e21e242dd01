"""Polling for changes to files: act once what changed has stayed quiet.

A small polling watcher, no inotify and no dependency: every `interval` (1 s) it takes a
snapshot (whatever `take` returns: names, sizes, mtimes, ctimes, inodes). When the snapshot
differs from the one the running state was loaded from (the baseline), it keeps looking every
`quiet / 2` and acts only once the snapshot has stayed the same for `quiet` (0.5 s): an
editor's write-to-temp-then-rename dance, a `cp` of several files or a file still being written
do not trigger an action on something half done. Both a rename over the file (a new inode) and
a write in place (a new size, mtime or ctime) change the snapshot.

Every load, whatever triggered it, hands the watcher the snapshot taken just before the files
were read (`loaded`), so a `SIGHUP` after an edit is not followed by a second load of the same
files a second later. The zone folder and the geo database are each watched this way.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path

from gslb.common.tasks import cancel_and_wait

log = logging.getLogger(__name__)

# (size, mtime_ns, ctime_ns, inode) of one file.
FileStat = tuple[int, int, int, int]


def file_stat(path: Path | str) -> FileStat | None:
    """What one file looks like now, or None when it does not exist (or cannot be looked at)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class ChangeWatcher:
    """Calls `act` once the snapshot `take` returns has changed and then stayed the same for `quiet`.

    `take` blocks (it looks at the file system), so it runs in a worker thread; it returns None
    when it cannot look right now, and such a moment is skipped.
    """

    def __init__(
        self,
        name: str,
        take: Callable[[], Hashable | None],
        act: Callable[[], Awaitable[object]],
        interval: float = 1.0,
        quiet: float = 0.5,
    ) -> None:
        self.name = name
        self._take = take
        self._act = act
        self.interval = interval
        self.quiet = quiet
        self.baseline: Hashable | None = None  # what the running state was loaded from
        self.actions = 0  # times this watcher acted
        self._task: asyncio.Task[None] | None = None

    def take(self) -> Hashable | None:
        """A snapshot now, or None when nothing can be seen right now (blocking: use a thread)."""
        return self._take()

    def loaded(self, seen: Hashable | None) -> None:
        """A load read the files as they were in `seen`: that is the new baseline."""
        if seen is not None:
            self.baseline = seen

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name=f"watch-{self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        if self.baseline is None:
            self.baseline = await asyncio.to_thread(self.take)
        seen = self.baseline
        stable_since = loop.time()
        while True:
            pending = seen != self.baseline
            await asyncio.sleep(self.quiet / 2 if pending else self.interval)
            current = await asyncio.to_thread(self.take)
            if current is None:
                continue
            now = loop.time()
            if current != seen:
                seen, stable_since = current, now
                continue
            if seen == self.baseline or now - stable_since < self.quiet:
                continue
            self.actions += 1
            try:
                await self._act()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("acting on a change to %s failed", self.name)
                self.baseline = seen  # do not retry the same files in a loop
