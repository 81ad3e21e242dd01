"""What a zone's keys do at a given moment, from their timing metadata.

- A key is **published** (its DNSKEY is in the apex DNSKEY set) from its Publish time, or from its
  Activate time when it has no Publish time, until its Delete time.
- A key **signs** from its Activate time until its Inactive time, while published.
- A key file with neither Publish nor Activate is published and signs (an old-style file).
- **Roles** come from the flags. With an active zone-signing key (flags 256) the zone is split:
  those keys sign the zone's data, the key-signing keys (257) the DNSKEY, CDS and CDNSKEY sets.
  Without one, the 257 keys are combined signing keys and sign everything.
- The DNSKEY set (and CDS, CDNSKEY) is signed by every published key-signing key, also one
  pre-published or retired: whichever DS the parent holds during a rollover, the DNSKEY set
  validates through it.
- **CDS/CDNSKEY** (RFC 7344) list the key-signing keys the parent should hold: between a key's
  SyncPublish and SyncDelete times when it has them, otherwise while it is published and not yet
  inactive (so a pre-published key asks for its DS, a retired one for the removal of its DS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from gslb.dnssec.keyfiles import KeyFile, KeyFileError, file_version, key_files_by_zone, read_key
from gslb.dnssec.records import ds_rdata
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.wire.records import RRset


def published(key: KeyFile, at: float) -> bool:
    """The key's DNSKEY is in the apex DNSKEY set at `at`."""
    times = key.times
    start = times.get("Publish", times.get("Activate"))
    if start is not None and start > at:
        return False
    return not ("Delete" in times and times["Delete"] <= at)


def signing(key: KeyFile, at: float) -> bool:
    """The key makes signatures at `at` (what it signs depends on the zone's roles)."""
    times = key.times
    if not published(key, at):
        return False
    # Without an Activate time a key that has a Publish time is published only (pre-published).
    started = times["Activate"] <= at if "Activate" in times else "Publish" not in times
    return started and not ("Inactive" in times and times["Inactive"] <= at)


def syncing(key: KeyFile, at: float) -> bool:
    """The key belongs in CDS and CDNSKEY (see the module docstring)."""
    times = key.times
    if not key.sep or not published(key, at) or ("SyncDelete" in times and times["SyncDelete"] <= at):
        return False
    if "SyncPublish" in times:
        return times["SyncPublish"] <= at
    return not ("Inactive" in times and times["Inactive"] <= at)


def state_name(key: KeyFile, at: float) -> str:
    """One word for `gslb dnssec status`."""
    if signing(key, at):
        return "active"
    if not published(key, at):
        return "deleted" if "Delete" in key.times and key.times["Delete"] <= at else "not yet published"
    if "Inactive" in key.times and key.times["Inactive"] <= at:
        return "retired (published, not signing)"
    return "published (not yet signing)"


@dataclass(frozen=True)
class KeyState:
    """A zone's keys at one moment: what the apex publishes and which keys sign what."""

    origin: Name
    dnskey: RRset | None  # None: no key is published
    cds: RRset | None
    cdnskey: RRset | None
    data_keys: tuple[KeyFile, ...]  # sign the zone's data
    key_keys: tuple[KeyFile, ...]  # sign DNSKEY, CDS and CDNSKEY
    until: float  # the next time any of this changes (a key's timing metadata), or inf
    split: bool  # zone-signing keys separate from the key-signing keys

    @property
    def usable(self) -> bool:
        return self.dnskey is not None and bool(self.data_keys) and bool(self.key_keys)

    def keys_for(self, rtype: int) -> tuple[KeyFile, ...]:
        return self.key_keys if rtype in (RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY) else self.data_keys


def key_state(origin: Name, keys: list[KeyFile], at: float, ttl: int) -> KeyState:
    """What the keys do at `at`; the apex sets get `ttl`."""
    shown = [key for key in keys if published(key, at)]
    active = [key for key in shown if signing(key, at)]
    zsks = [key for key in active if not key.sep]
    data_keys = zsks or [key for key in active if key.sep]
    key_keys = [key for key in shown if key.sep]
    synced = [key for key in shown if syncing(key, at)]
    later = [moment for key in keys for moment in key.times.values() if moment > at]
    dnskey = RRset(origin, RRType.DNSKEY, ttl, tuple(key.dnskey for key in shown)) if shown else None
    cds = cdnskey = None
    if synced:
        cds = RRset(origin, RRType.CDS, ttl, tuple(ds_rdata(origin, key.dnskey) for key in synced))
        cdnskey = RRset(origin, RRType.CDNSKEY, ttl, tuple(key.dnskey for key in synced))
    return KeyState(origin, dnskey, cds, cdnskey, tuple(data_keys), tuple(key_keys),
                    min(later, default=math.inf), bool(zsks))


def load_zone_keys(folder: Path, origin: Name, listing: dict[bytes, list[Path]] | None = None,
                   known: dict[Path, tuple[tuple[int, ...], KeyFile]] | None = None) -> list[KeyFile]:
    """Every key of the zone in the folder; raises KeyFileError on the first file that is unusable.

    One broken file fails the whole zone: signing with part of the intended keys could publish a
    DNSKEY set the parent's DS does not match. `listing`: the folder listed once for many zones;
    `known`: keys read before, by file, reused while neither of their files changed.
    """
    paths = (listing if listing is not None else key_files_by_zone(folder)).get(origin.wire, [])
    keys = []
    for path in paths:
        version = file_version(path)
        seen = known.get(path) if known is not None else None
        if seen is not None and version and seen[0] == version:
            keys.append(seen[1])
            continue
        key = read_key(path)
        if known is not None and version:
            known[path] = (version, key)
        keys.append(key)
    if not keys:
        raise KeyFileError(folder, f"no keys for {origin.text} (make one with: gslb dnssec keygen {origin.text})")
    return keys
