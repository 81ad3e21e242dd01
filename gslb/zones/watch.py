"""Watching the zone folder: reload once the zone files changed and then stayed quiet.

A small polling watcher, no inotify and no dependency: every `interval` (1 s) it takes a
snapshot of the zone files (the names `zone_files` would load, each with its size, mtime,
ctime and inode). When the snapshot differs from the one the serving zones were loaded from,
it keeps looking every `quiet / 2` and reloads only once the snapshot has stayed the same
for `quiet` (0.5 s): an editor's write-to-temp-then-rename dance, `cp` of several files or a
file still being written do not trigger a reload of something half done. (A half-written
file that does get read is invalid in all but rare cases and is then rejected: its old version
keeps serving. Writing to a temporary name and renaming is the safe way to update a zone.)

Every reload, whatever triggered it, hands the watcher the snapshot taken just before its
files were read (`loaded`), so a `SIGHUP` after an edit is not followed by a second reload
of the same files a second later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from gslb.common.tasks import cancel_and_wait
from gslb.zones.directory import zone_files

log = logging.getLogger(__name__)

# (file name, size, mtime_ns, ctime_ns, inode) for every zone file, in name order.
Snapshot = tuple[tuple[str, int, int, int, int], ...]


def snapshot(location: Path) -> Snapshot:
    """What the zone files look like now; raises OSError when the folder cannot be listed."""
    entries = []
    for path in zone_files(location):
        try:
            st = path.stat()
        except FileNotFoundError:  # removed between the listing and the stat: gone
            continue
        entries.append((path.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(entries)


class ZoneWatcher:
    def __init__(
        self,
        location: Path,
        reload: Callable[[], Awaitable[object]],
        interval: float = 1.0,
        quiet: float = 0.5,
    ) -> None:
        self.location = location
        self._reload = reload
        self.interval = interval
        self.quiet = quiet
        self.baseline: Snapshot | None = None  # the files the serving zones came from
        self.reloads = 0  # reloads this watcher triggered
        self._task: asyncio.Task[None] | None = None

    def take(self) -> Snapshot | None:
        """A snapshot, or None when the folder cannot be read right now (blocking: use a thread)."""
        try:
            return snapshot(self.location)
        except OSError as exc:
            log.debug("cannot list %s: %s", self.location, exc)
            return None

    def loaded(self, seen: Snapshot | None) -> None:
        """A reload read the files as they were in `seen`: that is the new baseline."""
        if seen is not None:
            self.baseline = seen

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="zone-watcher")

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
            self.reloads += 1
            try:
                await self._reload()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("zone reload after a change in %s failed", self.location)
                self.baseline = seen  # do not retry the same files in a loop
