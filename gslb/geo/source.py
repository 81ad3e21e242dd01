"""The configured geo database file as a running server reads it: through a private copy.

The database is memory-mapped, and a mapped file must never change under the mapping: a file
rewritten in place (`cp new.mmdb GeoIP2-City.mmdb`, a download written straight over the old
file) is first cut to nothing, and reading a page of a mapping past the end of its file kills
the process (SIGBUS). So the server maps a private copy, made in `state_dir/geodb/` when the
database is opened, and a write to the configured file, in place or by rename, reaches the
server only when it opens the file again. Copies are named uniquely and never written again;
the one in use and the one before it are kept (a DNS worker process may still be opening it),
older ones are deleted.

The bundled database is mapped where it is: files of an installed package are replaced, never
rewritten in place.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from gslb.geo.database import BUNDLED, GeoDatabase
from gslb.geo.errors import GeoDatabaseError

log = logging.getLogger("gslb")

COPY_PREFIX = "geo-"
COPY_SUFFIX = ".mmdb"


class GeoSource:
    """Opens the configured database (`spec`: "bundled" or a path) from private copies in `folder`."""

    def __init__(self, spec: str, folder: Path) -> None:
        self.spec = spec
        self.folder = folder
        self._kept: list[Path] = []  # copies in use, oldest first

    def open(self) -> GeoDatabase:
        """The database as the file is now, checked; raises GeoDatabaseError (nothing is kept then)."""
        if self.spec == BUNDLED:
            return GeoDatabase.open(self.spec)
        try:
            source = open(self.spec, "rb")  # noqa: SIM115 - closed below, after the copy
        except FileNotFoundError:
            raise GeoDatabaseError(f"geo database {self.spec}: no such file") from None
        except OSError as exc:
            raise GeoDatabaseError(f"geo database {self.spec}: cannot read: {exc.strerror or exc}") from None
        with source:
            try:
                copy = self._copy(source)
            except OSError as exc:
                log.warning("cannot copy the geo database to %s (%s): mapping %s itself, so replace it by renaming "
                            "a new file over it, never by writing it in place", self.folder, exc.strerror or exc,
                            self.spec)
                return GeoDatabase.open(self.spec)
        try:
            return GeoDatabase.open(self.spec, read_from=str(copy))
        except GeoDatabaseError:
            copy.unlink(missing_ok=True)
            raise

    def in_use(self, database: GeoDatabase | None) -> None:
        """`database` now serves: keep its copy and the previous one, delete any older."""
        if database is None or database.file == database.path:
            return
        self._kept.append(Path(database.file))
        while len(self._kept) > 2:
            self._kept.pop(0).unlink(missing_ok=True)

    def remove_stale(self) -> None:
        """Copies left by an earlier run (a crash, a kill) are deleted at start."""
        try:
            stale = [p for p in self.folder.glob(f"{COPY_PREFIX}*{COPY_SUFFIX}") if p not in self._kept]
        except OSError:
            return
        for path in stale:
            path.unlink(missing_ok=True)

    def _copy(self, source: BinaryIO) -> Path:
        """A new private copy of what `source` holds; raises OSError when it cannot be written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=COPY_PREFIX, suffix=COPY_SUFFIX, dir=self.folder)
        try:
            with os.fdopen(handle, "wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
        except BaseException:
            os.unlink(name)
            raise
        return Path(name)
