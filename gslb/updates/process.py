"""One UPDATE against one zone (RFC 2136 section 3): all of it or none of it.

`process` is pure: given the zone as served, the file's zone, the zone's dynamic records and
who signed the request, it returns the RCODE and, when something changed, the new dynamic
records. Nothing is stored here; the caller stores the result and only then serves it, so an
update that fails at any point (a prerequisite, the policy, a malformed record, a store that is
out of reach) changes nothing.

The order: the zone section (3.1), who may update this zone at all, the prerequisites (3.2),
the prescan of every update record (3.4.1: NOTZONE, FORMERR), the permission of every record
(3.3: REFUSED, including the names the file owns), and then the changes (3.4.2), on a copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gslb.config.model import UPDATABLE_TYPES
from gslb.updates.policy import UpdatePolicy
from gslb.updates.prerequisites import check_prerequisites
from gslb.wire.constants import Rcode, RRClass, RRType, is_meta_type, type_name
from gslb.wire.name import Name
from gslb.wire.rdata_wire import canonical
from gslb.wire.records import Rdata, RRset
from gslb.wire.update import UpdateMessage, UpdateRecord
from gslb.zones.dynamic import why_not_updatable
from gslb.zones.model import DynamicRecords, DynamicRRset, Zone
from gslb.zones.serials import next_serial

MAX_TTL = 2**31 - 1
UPDATABLE = frozenset(RRType[name] for name in UPDATABLE_TYPES)
RRKey = tuple[bytes, int]


@dataclass
class Outcome:
    """What became of an update: the RCODE, why (for the log), and the new records when changed."""

    rcode: int
    reason: str = ""
    records: DynamicRecords | None = None  # set only when something changed
    changes: list[str] = field(default_factory=list)  # "add NAME TYPE" ... for the audit line


@dataclass
class _Working:
    """A mutable copy of the dynamic RRsets: owner, TTL and data list per (owner, type)."""

    entries: dict[RRKey, tuple[Name, int, list[Rdata]]]

    def types_at(self, wire: bytes) -> list[int]:
        return [rtype for (owner, rtype) in self.entries if owner == wire]


def process(message: UpdateMessage, key: Name | None, served: Zone, file_zone: Zone, records: DynamicRecords,
            policy: UpdatePolicy, max_records: int, now: float) -> Outcome:
    """Apply the update to a copy of `records`; see the module docstring for the order of checks."""
    zone = message.zone
    if zone.ztype != RRType.SOA:
        return Outcome(Rcode.FORMERR, f"the zone section asks for type {type_name(zone.ztype)}, not SOA")
    if key is None:
        return Outcome(Rcode.REFUSED, "unsigned: updates must be signed with a TSIG key")
    if not policy.has_grant(key, served.origin):
        return Outcome(Rcode.REFUSED, f"key {key.text} may not update {served.origin.text}")
    rcode, reason = check_prerequisites(served, message.prerequisites)
    if rcode != Rcode.NOERROR:
        return Outcome(rcode, reason)
    for record in message.updates:
        rcode, reason = _prescan(record, served.origin)
        if rcode != Rcode.NOERROR:
            return Outcome(rcode, reason)
    working = _Working({k: (v.rrset.name, v.rrset.ttl, list(v.rrset.rdatas)) for k, v in records.rrsets.items()})
    for record in message.updates:
        reason = _permission(record, key, file_zone, policy, working)
        if reason:
            return Outcome(Rcode.REFUSED, reason)
    changes = [_apply(record, working) for record in message.updates]
    new = _records(records, working, key, now, served.serial)
    if new is None:
        return Outcome(Rcode.NOERROR, "nothing changed", changes=[c for c in changes if c])
    if sum(len(entry.rrset.rdatas) for entry in new.rrsets.values()) > max_records:
        return Outcome(Rcode.REFUSED, f"the zone would hold more than {max_records} dynamic records "
                                      "(updates.max_records)")
    return Outcome(Rcode.NOERROR, "", new, [c for c in changes if c])


def _prescan(record: UpdateRecord, origin: Name) -> tuple[int, str]:
    """Section 3.4.1.3: where and what each update record may be."""
    where = f"update {record.name.text} {type_name(record.rtype)}"
    if not record.name.is_subdomain_of(origin):
        return Rcode.NOTZONE, f"{where}: outside the zone {origin.text}"
    if record.rclass == RRClass.IN:
        if is_meta_type(record.rtype):
            return Rcode.FORMERR, f"{where}: not a type of data"
        if record.ttl > MAX_TTL:
            return Rcode.FORMERR, f"{where}: TTL above {MAX_TTL}"
    elif record.rclass == RRClass.ANY:
        if record.ttl != 0 or record.rdata is not None or (is_meta_type(record.rtype) and record.rtype != RRType.ANY):
            return Rcode.FORMERR, f"{where}: a delete of an RRset needs TTL 0, no data and a data type or ANY"
    elif record.rclass == RRClass.NONE:
        if record.ttl != 0 or is_meta_type(record.rtype):
            return Rcode.FORMERR, f"{where}: a delete of a record needs TTL 0 and a data type"
    else:
        return Rcode.FORMERR, f"{where}: the class is not IN, ANY or NONE"
    return Rcode.NOERROR, ""


def _permission(record: UpdateRecord, key: Name, file_zone: Zone, policy: UpdatePolicy, working: _Working) -> str:
    """Why this key may not make this change ("" when it may)."""
    name = record.name
    protected = why_not_updatable(file_zone, name)
    if protected:
        return f"{protected}: never changed by an update"
    types = working.types_at(name.wire) if record.rtype == RRType.ANY else [record.rtype]
    if not types and not any(policy.allows(key, file_zone.origin, name, t) for t in UPDATABLE):
        return f"key {key.text} may not change anything at {name.text}"  # deleting all of nothing
    for rtype in types:
        if rtype not in UPDATABLE:
            return f"{type_name(rtype)} records cannot be updated (only {', '.join(UPDATABLE_TYPES)})"
        if not policy.allows(key, file_zone.origin, name, rtype):
            return f"key {key.text} may not change {type_name(rtype)} at {name.text}"
    return ""


def _apply(record: UpdateRecord, working: _Working) -> str:
    """Section 3.4.2.2 to 3.4.2.4 for one record; what it did, for the audit line ("" for nothing)."""
    entries = working.entries
    name, rtype = record.name, record.rtype
    label = f"{name.text} {type_name(rtype)}"
    if record.rclass == RRClass.IN:
        assert record.rdata is not None
        others = [t for t in working.types_at(name.wire) if t != rtype]
        if (rtype == RRType.CNAME and others) or (rtype != RRType.CNAME and RRType.CNAME in others):
            return ""  # CNAME and other data never share a name: the record is ignored (3.4.2.2)
        key = (name.wire, rtype)
        owner, _, rdatas = entries.get(key, (name, 0, []))
        data = canonical(record.rdata)
        kept = [] if rtype == RRType.CNAME else [r for r in rdatas if canonical(r) != data]
        entries[key] = (owner, record.ttl, [*kept, record.rdata])
        return f"add {label}"
    if record.rclass == RRClass.ANY:
        doomed = [k for k in entries if k[0] == name.wire and (rtype == RRType.ANY or k[1] == rtype)]
        for key in doomed:
            del entries[key]
        return f"delete {name.text} {'(all)' if rtype == RRType.ANY else type_name(rtype)}" if doomed else ""
    key = (name.wire, rtype)
    if key not in entries:
        return ""
    owner, ttl, rdatas = entries[key]
    data = canonical(record.rdata) if record.rdata is not None else b""
    left = [r for r in rdatas if canonical(r) != data]
    if len(left) == len(rdatas):
        return ""
    if left:
        entries[key] = (owner, ttl, left)
    else:
        del entries[key]
    return f"delete {label} record"


def _records(old: DynamicRecords, working: _Working, key: Name, now: float, serial: int) -> DynamicRecords | None:
    """The new records, or None when they equal the old ones (the serial then stays: section 3.7)."""
    rrsets: dict[RRKey, DynamicRRset] = {}
    for rrkey, (owner, ttl, rdatas) in working.entries.items():
        previous = old.rrsets.get(rrkey)
        rrset = RRset(owner, rrkey[1], ttl, tuple(rdatas))
        if previous is not None and _same(previous.rrset, rrset):
            rrsets[rrkey] = previous
        else:
            rrsets[rrkey] = DynamicRRset(rrset, key.text, now)
    if rrsets.keys() == old.rrsets.keys() and all(rrsets[k] is old.rrsets[k] for k in rrsets):
        return None
    return DynamicRecords(old.origin, old.version + 1, next_serial(max(serial, old.serial), now), rrsets)


def _same(a: RRset, b: RRset) -> bool:
    return a.ttl == b.ttl and [canonical(r) for r in a.rdatas] == [canonical(r) for r in b.rdatas]
