"""Watching the zone folder: reload once the zone files changed and then stayed quiet.

The polling itself is `gslb.common.watch.ChangeWatcher`; what is compared here is a snapshot of
the zone files (the names `zone_files` would load, each with its size, mtime, ctime and inode).
A half-written file that does get read is invalid in all but rare cases and is then rejected:
its old version keeps serving. Writing to a temporary name and renaming is the safe way to
update a zone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from gslb.common.watch import ChangeWatcher
from gslb.zones.directory import zone_files
from gslb.zones.shared import shared_file

log = logging.getLogger(__name__)

# (file name, size, mtime_ns, ctime_ns, inode) for every zone file in name order, then the shared file.
Snapshot = tuple[tuple[str, int, int, int, int], ...]


def snapshot(location: Path) -> Snapshot:
    """What the zone files (and the shared file) look like now; raises OSError when the folder cannot
    be listed."""
    entries = []
    shared = [shared_file(location)] if location.is_dir() else []
    for path in [*zone_files(location), *shared]:
        try:
            st = path.stat()
        except FileNotFoundError:  # removed between the listing and the stat (or no shared file): gone
            continue
        entries.append((path.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(entries)


def readable_snapshot(location: Path) -> Snapshot | None:
    """A snapshot, or None when the folder cannot be read right now."""
    try:
        return snapshot(location)
    except OSError as exc:
        log.debug("cannot list %s: %s", location, exc)
        return None


class ZoneWatcher(ChangeWatcher):
    """Reloads the zones (`reload`) once the zone folder changed and then stayed quiet."""

    def __init__(self, location: Path, reload: Callable[[], Awaitable[object]], interval: float = 1.0,
                 quiet: float = 0.5) -> None:
        self.location = location
        super().__init__(f"the zones in {location}", lambda: readable_snapshot(location), reload, interval, quiet)
