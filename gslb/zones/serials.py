"""SOA serials that rise whenever a zone's content changes.

A hash of the content tells whether the zone changed but cannot rise, so the serial is the
Unix time at which the server first saw the content (or the previous serial plus one when
the clock says otherwise), remembered in `state_dir/serials.json` so a restart with the same
files keeps the same serials. Secondaries and monitoring that compare serials see a change
exactly when there is one. A dynamic update raises the zone's serial beyond the file's
(`raise_to`), and the book remembers it, so the next change of the file goes higher still.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from gslb.common.statefile import write_atomically
from gslb.wire.name import Name

log = logging.getLogger(__name__)

SERIAL_MASK = 0xFFFFFFFF


def next_serial(current: int, now: float) -> int:
    """The serial after a change: the Unix time, or one more than `current` when that is not higher."""
    return max(int(now), current + 1) & SERIAL_MASK


class SerialBook:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, object]] = self._read()

    def _read(self) -> dict[str, dict[str, object]]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text())
            return {k: v for k, v in data.items() if isinstance(v, dict)}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable serial file %s: %s", self.path, exc)
            return {}

    def serial_for(self, origin: Name, content_hash: str) -> int:
        with self._lock:
            entry = self._entries.get(origin.text)
            if entry and entry.get("hash") == content_hash and isinstance(entry.get("serial"), int):
                return int(entry["serial"])  # type: ignore[arg-type]
            previous = int(entry["serial"]) if entry and isinstance(entry.get("serial"), int) else 0  # type: ignore[arg-type]
            serial = next_serial(previous, time.time())
            self._entries[origin.text] = {"hash": content_hash, "serial": serial}
            self._write()
            return serial

    def raise_to(self, origin: Name, serial: int) -> None:
        """A dynamic update gave the zone `serial`: the file's content keeps it, a change goes above it."""
        with self._lock:
            entry = self._entries.get(origin.text)
            known = entry.get("serial") if entry else None
            if entry is None or not isinstance(known, int) or known >= serial:
                return
            self._entries[origin.text] = {**entry, "serial": serial}
            self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            write_atomically(self.path, json.dumps(self._entries, indent=1, sort_keys=True))
        except OSError as exc:
            log.warning("cannot save zone serials to %s: %s", self.path, exc)
