"""The server's geo database over time: opened at start, reopened when the file changes.

The configured file is watched (its size, times and inode, polled like the zone folder, so a
new file renamed over it and a write in place are both seen) and reopened once it has stayed
unchanged for half a second, on SIGHUP and on `POST /v1/reload` (these two only when the file
changed since it was opened). A new file is opened and checked in a worker thread, off to the
side (`gslb.geo.source`); only a database that passed replaces the one serving, in the main
process and then in every DNS worker. A file that fails (truncated, not a MaxMind DB, an ASN
database, unreadable) is logged at ERROR and the database in use keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gslb.common.times import iso
from gslb.common.watch import ChangeWatcher, FileStat, file_stat
from gslb.geo.database import BUNDLED, NONE, GeoDatabase, bundled_path, open_geodb
from gslb.geo.errors import GeoDatabaseError
from gslb.geo.source import GeoSource

log = logging.getLogger("gslb")


class GeoKeeper:
    """Holds the geo database in use (None with `geodb: none`) and replaces it when its file changes.

    `publish` is called on the loop thread with each new database, before the old one is closed.
    """

    def __init__(self, spec: str, state_dir: Path, publish: Callable[[GeoDatabase | None], None]) -> None:
        self.spec = spec
        self.source = GeoSource(spec, state_dir / "geodb") if spec != NONE else None
        self.publish = publish
        self.database: GeoDatabase | None = None
        self.loaded_at: float | None = None
        self.error: str | None = None  # why the last attempt to open a new file failed, until one works
        self.counts: dict[str, int] = {"success": 0, "failure": 0}
        self._lock = asyncio.Lock()
        self.watcher = ChangeWatcher(f"the geo database {spec}", self._stat, lambda: self.reload("watch"))

    def _stat(self) -> FileStat | None:
        """What the configured file looks like now (None: it cannot be seen now)."""
        if self.spec == NONE:
            return None
        try:
            return file_stat(bundled_path() if self.spec == BUNDLED else self.spec)
        except GeoDatabaseError:  # the bundled package was uninstalled under us
            return None

    def open_at_start(self) -> GeoDatabase | None:
        """The database to start with; raises GeoDatabaseError (the server then does not start)."""
        if self.source is None:
            return open_geodb(NONE)
        self.source.remove_stale()
        seen = self._stat()
        self.database = self.source.open()
        self.source.in_use(self.database)
        self.watcher.loaded(seen)
        self.loaded_at = time.time()
        log.info("geo database: %s", self.database.summary)
        return self.database

    async def reload(self, trigger: str, force: bool = False) -> dict[str, Any]:
        """Open the file again if it changed since it was opened (or `force`); the result for the API.

        Never raises for a bad file: it is logged, and the database in use keeps serving.
        """
        async with self._lock:
            source = self.source
            if source is None:
                return {"reloaded": False, "error": None}
            seen = await asyncio.to_thread(self._stat)
            if not force and seen is not None and seen == self.watcher.baseline:
                return {"reloaded": False, "error": self.error}  # unchanged: a standing failure stands
            try:
                database = await asyncio.to_thread(source.open)
            except GeoDatabaseError as exc:
                self.watcher.loaded(seen)  # the same bad file is not tried again until it changes
                self.error = str(exc)
                self.counts["failure"] += 1
                log.error("geo database not reloaded (%s): %s; the one in use keeps serving", trigger, exc,
                          extra={"event": "geodb_rejected", "trigger": trigger, "path": self.spec,
                                 "problem": str(exc)})
                return {"reloaded": False, "error": str(exc)}
            old, self.database = self.database, database
            self.publish(database)
            source.in_use(database)
            if old is not None:
                old.close()
            self.watcher.loaded(seen)
            self.loaded_at, self.error = time.time(), None
            self.counts["success"] += 1
            log.info("geo database reloaded (%s): %s", trigger, database.summary,
                     extra={"event": "geodb_loaded", "trigger": trigger, "path": self.spec,
                            "type": database.database_type, "built": database.built})
            return {"reloaded": True, "error": None}

    def status(self) -> dict[str, Any] | None:
        """The `geodb` object of /status: the database in use, and the last failed attempt if any."""
        if self.database is None:
            return None
        return {**self.database.describe(), "loaded_at": iso(self.loaded_at), "error": self.error}

    def start(self) -> None:
        if self.source is not None:
            self.watcher.start()

    async def stop(self) -> None:
        await self.watcher.stop()
        if self.database is not None:
            self.database.close()
