"""Serving dynamic records: which names an update may touch, and the zone with them merged in.

The file stays the authority on everything it names. An update may add records only at names
the file does not own: not the apex (its SOA and NS), not an owner name of the file (its
records, its steered names), not at or below one of its delegations. `why_not_updatable` says
which rule a name breaks; the update processor refuses such an update whole, and `merge` leaves
out any dynamic record that a later version of the file came to own (the file wins).

`merge` builds a new immutable `Zone` (never changing the old one), so a query sees the zone
before an update or after it, and the compiled answers, filed per zone set, start over.
"""

from __future__ import annotations

import struct
from dataclasses import replace

from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.wire.records import RRset
from gslb.zones.model import DynamicRecords, DynamicRRset, Node, Zone
from gslb.zones.rdata import soa_rdata


def why_not_updatable(zone: Zone, name: Name) -> str | None:
    """Why an update may not touch `name` in the file's `zone`, or None when it may."""
    if not name.is_subdomain_of(zone.origin):
        return f"{name.text} is outside the zone {zone.origin.text}"
    if name == zone.origin:
        return "the zone apex (its SOA and NS come from the zone file)"
    node = zone.nodes.get(name.wire)
    if node is not None:
        return f"{name.text} is a steered name of the zone file" if node.service else (
            f"{name.text} has records in the zone file")
    for ancestor in name.ancestors_below(zone.origin)[:-1]:
        if ancestor.wire in zone.cuts:
            return f"{name.text} is below the delegation at {ancestor.text}"
    return None


def merge(zone: Zone, records: DynamicRecords | None) -> tuple[Zone, list[DynamicRRset]]:
    """The file's `zone` with the dynamic records it does not own; and the ones it owns (left out)."""
    if records is None:
        return zone, []
    served: dict[tuple[bytes, int], DynamicRRset] = {}
    shadowed: list[DynamicRRset] = []
    by_owner: dict[bytes, dict[int, RRset]] = {}
    for key, entry in records.rrsets.items():
        if why_not_updatable(zone, entry.rrset.name) is not None:
            shadowed.append(entry)
            continue
        served[key] = entry
        by_owner.setdefault(key[0], {})[key[1]] = entry.rrset
    nodes = dict(zone.nodes)
    existing = set(zone.existing)
    for wire, rrsets in by_owner.items():
        name = next(iter(rrsets.values())).name
        nodes[wire] = Node(name, rrsets)
        while name.wire not in existing:  # the owner and its empty non-terminals
            existing.add(name.wire)
            name = name.parent()
    serial = max(zone.serial, records.serial)
    soa = zone.soa if serial == zone.serial else _with_serial(zone.soa, serial)
    apex = nodes[zone.origin.wire]
    nodes[zone.origin.wire] = replace(apex, rrsets={**apex.rrsets, RRType.SOA: soa})
    dynamic = DynamicRecords(records.origin, records.version, records.serial, served)
    merged = replace(zone, nodes=nodes, existing=frozenset(existing), serial=serial, soa=soa, dynamic=dynamic)
    return merged, shadowed


def _with_serial(soa: RRset, serial: int) -> RRset:
    """The same SOA with another serial."""
    primary, contact, numbers = soa.rdatas[0].parts
    assert isinstance(primary, Name) and isinstance(contact, Name) and isinstance(numbers, bytes)
    _, refresh, retry, expire, minimum = struct.unpack("!IIIII", numbers)
    return soa.with_rdatas((soa_rdata(primary, contact, serial, refresh, retry, expire, minimum),))
