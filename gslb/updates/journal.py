"""The dynamic records of each zone, kept in `state_dir/updates/<zone>.json` across restarts.

One small JSON document per zone holds all of its dynamic records, with the version and serial
of the last change. Every change rewrites it atomically (a temporary file, fsync, rename)
before the change is served, so a crash leaves the state before the update or after it. The
same document is what servers sharing Redis store and announce (`gslb.updates.redis_store`).

Record data is kept in its wire form (base64, names uncompressed), read back with the same
decoder as an UPDATE's records, so what is served after a restart is byte for byte what was
sent. A file this version cannot read is moved aside and reported, never half applied.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gslb.common.statefile import write_atomically
from gslb.wire.constants import RRType, type_name
from gslb.wire.name import BadNameError, Name
from gslb.wire.rdata_wire import RdataFormatError, canonical, decode_rdata
from gslb.wire.records import RRset
from gslb.zones.model import DynamicRecords, DynamicRRset

log = logging.getLogger(__name__)

FORMAT = 1


class JournalError(ValueError):
    """A document that is not dynamic records in the layout this version writes."""


def encode(records: DynamicRecords) -> dict[str, Any]:
    entries = []
    for entry in sorted(records.rrsets.values(), key=lambda e: (e.rrset.name.text, e.rrset.rtype)):
        rrset = entry.rrset
        entries.append({
            "name": rrset.name.text, "type": type_name(rrset.rtype), "ttl": rrset.ttl,
            "data": [base64.b64encode(canonical(r)).decode("ascii") for r in rrset.rdatas],
            "text": [r.text for r in rrset.rdatas],  # for people reading the file; ignored when read
            "key": entry.key, "changed": entry.changed,
        })
    return {"format": FORMAT, "zone": records.origin.text, "version": records.version, "serial": records.serial,
            "rrsets": entries}


def decode(document: Any) -> DynamicRecords:
    """The records a document holds; raises JournalError for anything unexpected."""
    try:
        if document["format"] != FORMAT:
            raise JournalError(f"format {document['format']} (this version reads {FORMAT})")
        origin = Name.from_text(str(document["zone"]))
        rrsets: dict[tuple[bytes, int], DynamicRRset] = {}
        for item in document["rrsets"]:
            name = Name.from_text(str(item["name"]))
            rtype = RRType[item["type"]]
            rdatas = []
            for text in item["data"]:
                wire = base64.b64decode(text, validate=True)
                rdatas.append(decode_rdata(rtype, wire, 0, len(wire)))
            if not name.is_subdomain_of(origin) or not rdatas:
                raise JournalError(f"{name.text}: outside the zone or without data")
            rrset = RRset(name, rtype, int(item["ttl"]), tuple(rdatas))
            rrsets[(name.wire, rtype)] = DynamicRRset(rrset, str(item["key"]), float(item["changed"]))
        return DynamicRecords(origin, int(document["version"]), int(document["serial"]), rrsets)
    except JournalError:
        raise
    except (KeyError, TypeError, ValueError, BadNameError, RdataFormatError, binascii.Error) as exc:
        raise JournalError(f"{type(exc).__name__}: {exc}") from None


def dumps(records: DynamicRecords) -> str:
    return json.dumps(encode(records), indent=1, sort_keys=True)


def loads(text: str) -> DynamicRecords:
    try:
        return decode(json.loads(text))
    except ValueError as exc:
        raise JournalError(str(exc)) from None


class Journal:
    """The folder of per-zone documents (None: keep nothing, for tests and `gslb explain --offline`)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def path(self, origin: Name) -> Path:
        assert self.folder is not None
        return self.folder / (quote(origin.text.rstrip(".") or "root", safe="") + ".json")

    def load(self, set_aside: bool = True) -> dict[str, DynamicRecords]:
        """Every zone's records, by origin text. An unreadable file is reported and, when
        `set_aside` (the server, not a reader such as `gslb explain`), moved aside."""
        found: dict[str, DynamicRecords] = {}
        if self.folder is None or not self.folder.is_dir():
            return found
        for path in sorted(self.folder.glob("*.json")):
            try:
                records = loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, JournalError) as exc:
                if not set_aside:
                    log.warning("dynamic records %s are unreadable (%s): left out", path, exc)
                    continue
                aside = path.with_suffix(f".unreadable-{int(time.time())}")
                log.error("dynamic records %s are unreadable (%s): moved to %s, not served", path, exc, aside)
                with contextlib.suppress(OSError):
                    path.rename(aside)
                continue
            found[records.origin.text] = records
        return found

    def write(self, records: DynamicRecords) -> None:
        """Save one zone's records atomically; raises OSError (the caller then changes nothing)."""
        if self.folder is not None:
            write_atomically(self.path(records.origin), dumps(records))
