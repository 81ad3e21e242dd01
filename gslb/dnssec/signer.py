"""The signer of one process: each signed zone's keys, and the signatures made so far.

Signatures are made on demand and kept by (zone, owner, type, original TTL, rdata set in
canonical order), so one signature serves every rotation of a steered answer and every client
that gets the same set. The cache has a size limit and starts over when full, so memory stays
bounded whatever is asked.

Validity: a signature's inception is the start of the previous hour (an hour of clock skew is
forgiven, and every server with the same keys makes the same signature within an hour); it
expires `signature_validity` later and is made again once half of that has passed, long before
any resolver could see it expire. Key timing metadata (a rollover step scheduled for later) is
honoured at the moment it comes due, without a reload.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gslb.config.model import DnssecConfig
from gslb.dnssec.keyfiles import KeyFile, KeyFileError, key_files_by_zone
from gslb.dnssec.keys import KeyState, key_state, load_zone_keys
from gslb.dnssec.records import canonical_set, rrsig_fields, rrsig_rdata, signature_labels, signing_input
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.wire.records import Rdata, RRset
from gslb.zones.model import Zone
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger(__name__)

HOUR = 3600
ADDRESS_TYPE = {4: RRType.A, 6: RRType.AAAA}


@dataclass
class ZoneSigning:
    """One signed zone: its keys, what they do now, and the address types of its services."""

    keys: list[KeyFile]
    ttl: int  # of the DNSKEY, CDS and CDNSKEY sets: the zone's default TTL
    state: KeyState
    families: dict[str, frozenset[int]] = field(default_factory=dict)  # service -> {A, AAAA}

    @property
    def origin(self) -> Name:
        return self.state.origin

    def service_types(self, zone: Zone, service: str) -> frozenset[int]:
        """A or AAAA or both: the families of every member the service can answer with."""
        found = self.families.get(service)
        if found is None:
            policy = zone.policy
            types: set[int] = set()
            if policy is not None and service in policy.services:
                for each in policy.service_tree(policy.services[service]):
                    for name in each.referenced():
                        pool = policy.pools.get(name)
                        if pool is not None:
                            types.update(ADDRESS_TYPE[member.family] for member in pool.members)
            found = self.families[service] = frozenset(types)
        return found


class Signer:
    def __init__(self, config: DnssecConfig, clock: Callable[[], float] = time.time) -> None:
        self.folder = config.keys
        self.validity = int(config.signature_validity)
        self.cache_limit = config.signature_cache
        self.clock = clock
        self.zones: dict[bytes, ZoneSigning] = {}  # by the origin's wire form
        self._cache: dict[tuple, tuple[tuple[Rdata, ...], float]] = {}
        self._files: dict[Path, tuple[tuple[int, ...], KeyFile]] = {}  # keys read, while their files stay
        self.next_change = math.inf  # the next key timing moment of any zone
        self.made = 0  # signatures made since start (renewals included)

    # -- keys ---------------------------------------------------------------------------------

    def zones_changed(self, zones: ZoneSet) -> list[str]:
        """Read the keys of every zone that has `dnssec: true`; returns the problems found.

        A zone whose key files fail keeps the keys it had (so a broken edit changes nothing), or,
        signed for the first time, is served unsigned until its keys are fixed.
        """
        now = self.clock()
        problems: list[str] = []
        fresh: dict[bytes, ZoneSigning] = {}
        signed = [zone for zone in zones if zone.dnssec]
        listing = key_files_by_zone(self.folder) if signed else {}
        for zone in signed:
            previous = self.zones.get(zone.origin.wire)
            try:
                keys = load_zone_keys(self.folder, zone.origin, listing, self._files)
                state = key_state(zone.origin, keys, now, zone.default_ttl)
                if not state.usable:
                    raise KeyFileError(self.folder, f"no key of {zone.origin.text} is active now "
                                                    "(see gslb dnssec status)")
            except KeyFileError as exc:
                problem = f"zone {zone.origin.text}: {exc}; "
                problems.append(problem + ("it keeps signing with the keys it had" if previous is not None
                                           else "it is answered unsigned until its keys are fixed"))
                if previous is None:
                    continue
                keys, state = previous.keys, key_state(zone.origin, previous.keys, now, zone.default_ttl)
            fresh[zone.origin.wire] = ZoneSigning(keys, zone.default_ttl, state)
        listed = {path for paths in listing.values() for path in paths}
        self._files = {path: seen for path, seen in self._files.items() if path in listed}
        self.zones = fresh
        self._start_over()
        return problems

    def refresh(self, now: float) -> None:
        """Past a key timing moment: work out again what every key does, and sign afresh."""
        if now < self.next_change:
            return
        for signing in self.zones.values():
            signing.state = key_state(signing.origin, signing.keys, now, signing.ttl)
            if not signing.state.usable:
                log.error("zone %s: no key is active any more: its answers go out unsigned", signing.origin.text)
        self._start_over()

    def _start_over(self) -> None:
        """The keys' roles changed: forget the signatures made, and note the next timing moment."""
        self._cache.clear()
        self.next_change = min((z.state.until for z in self.zones.values()), default=math.inf)

    def signing_for(self, zone: Zone | None) -> ZoneSigning | None:
        if zone is None:
            return None
        signing = self.zones.get(zone.origin.wire)
        return signing if signing is not None and signing.state.usable else None

    def zone_of(self, zones: ZoneSet, owner: Name, rtype: int) -> ZoneSigning | None:
        """The signing of the zone an RRset belongs to: a DS belongs to the parent's side."""
        zone = zones.find(owner)
        if zone is not None and rtype == RRType.DS and zone.origin == owner and owner.labels:
            zone = zones.find(owner.parent()) or zone
        return self.signing_for(zone)

    # -- signatures ---------------------------------------------------------------------------

    @property
    def cached(self) -> int:
        """Signatures kept now (at most `dnssec.signature_cache`)."""
        return len(self._cache)

    def sign(self, signing: ZoneSigning, rrset: RRset, original_ttl: int | None = None,
             now: float | None = None) -> tuple[RRset, float]:
        """The RRSIG RRset for `rrset` as sent, and when it is due for renewal.

        `original_ttl`: the TTL in the zone when the set goes out with a lower one (the SOA of a
        negative answer). `now`: the time the answer is made, read once for all its RRsets
        (None: read the clock).
        """
        ttl = rrset.ttl if original_ttl is None else original_ttl
        rdatas = canonical_set(rrset)
        key = (signing.origin.wire, rrset.name.wire, rrset.rtype, ttl, rdatas)
        if now is None:
            now = self.clock()
        found = self._cache.get(key)
        if found is None or found[1] <= now:
            found = self._make(signing, rrset, ttl, rdatas, now)
            if len(self._cache) >= self.cache_limit:
                self._cache.clear()
            self._cache[key] = found
        return RRset(rrset.name, RRType.RRSIG, rrset.ttl, found[0], rrset.rclass), found[1]

    def period(self, now: float) -> tuple[int, int, float]:
        """Inception, expiration and renewal time of a signature made at `now`."""
        inception = int(now // HOUR) * HOUR - HOUR
        return inception, inception + self.validity, inception + self.validity // 2

    def _make(self, signing: ZoneSigning, rrset: RRset, ttl: int, rdatas: tuple[bytes, ...],
              now: float) -> tuple[tuple[Rdata, ...], float]:
        inception, expiration, renew = self.period(now)
        labels = signature_labels(rrset.name)
        made = []
        for key in signing.state.keys_for(rrset.rtype):
            fields = rrsig_fields(rrset.rtype, key.algorithm, labels, ttl, expiration, inception, key.tag)
            data = signing_input(rrset.name, rrset.rtype, rrset.rclass, ttl, rdatas, fields, signing.origin)
            made.append(rrsig_rdata(fields, signing.origin, key.key.sign(data)))
            self.made += 1
        return tuple(made), min(renew, signing.state.until)
