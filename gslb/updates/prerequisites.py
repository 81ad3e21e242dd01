"""The prerequisite section of an UPDATE (RFC 2136 sections 2.4 and 3.2), checked against the zone.

Prerequisites are judged against the zone as it is served (the file's records and the dynamic
ones alike), by literal owner name: a name that only a wildcard answers for is not "in use"
(section 2.4.4). A steered name is in use and has A and AAAA RRsets, whose data, chosen per
client, never equals a given set.
"""

from __future__ import annotations

from gslb.wire.constants import Rcode, RRClass, RRType, class_name, is_meta_type, type_name
from gslb.wire.rdata_wire import canonical
from gslb.wire.update import UpdateRecord
from gslb.zones.model import Zone

STEERED_TYPES = (RRType.A, RRType.AAAA)


def _in_use(zone: Zone, wire: bytes) -> bool:
    node = zone.nodes.get(wire)
    return node is not None and (bool(node.rrsets) or node.service is not None)


def _rrset_exists(zone: Zone, wire: bytes, rtype: int) -> bool:
    node = zone.nodes.get(wire)
    return node is not None and (rtype in node.rrsets or (node.service is not None and rtype in STEERED_TYPES))


def check_prerequisites(zone: Zone, prerequisites: tuple[UpdateRecord, ...]) -> tuple[int, str]:
    """NOERROR when every prerequisite holds, else the RCODE of the first that fails, and why."""
    wanted: dict[tuple[bytes, int], set[bytes]] = {}
    for record in prerequisites:
        name, rtype, rclass = record.name, record.rtype, record.rclass
        where = f"prerequisite {name.text} {class_name(rclass)} {type_name(rtype)}"
        if record.ttl != 0:
            return Rcode.FORMERR, f"{where}: TTL must be 0"
        if not name.is_subdomain_of(zone.origin):
            return Rcode.NOTZONE, f"{where}: outside the zone"
        if rclass in (RRClass.ANY, RRClass.NONE):
            if record.rdata is not None:
                return Rcode.FORMERR, f"{where}: must have no data"
            exists = _in_use(zone, name.wire) if rtype == RRType.ANY else _rrset_exists(zone, name.wire, rtype)
            if rclass == RRClass.ANY and not exists:
                return (Rcode.NXDOMAIN, f"{name.text} is not in use") if rtype == RRType.ANY else (
                    Rcode.NXRRSET, f"{name.text} has no {type_name(rtype)} records")
            if rclass == RRClass.NONE and exists:
                return (Rcode.YXDOMAIN, f"{name.text} is in use") if rtype == RRType.ANY else (
                    Rcode.YXRRSET, f"{name.text} has {type_name(rtype)} records")
        elif rclass == RRClass.IN:
            if is_meta_type(rtype):
                return Rcode.FORMERR, f"{where}: not a type of data"
            data = canonical(record.rdata) if record.rdata is not None else b""
            wanted.setdefault((name.wire, rtype), set()).add(data)
        else:
            return Rcode.FORMERR, f"{where}: the class is not IN, ANY or NONE"
    for (wire, rtype), values in wanted.items():
        node = zone.nodes.get(wire)
        rrset = node.rrsets.get(rtype) if node is not None else None
        if rrset is None or {canonical(rdata) for rdata in rrset.rdatas} != values:
            owner = node.name.text if node is not None else "a name"
            return Rcode.NXRRSET, f"{owner}: the {type_name(rtype)} records differ from the prerequisite"
    return Rcode.NOERROR, ""
