"""The loaded, immutable form of a zone.

A `Zone` is built once by the loader and never changed; a reload builds a new one and the
server swaps it in with one assignment, so a query sees either the old zone or the new one,
never a mixture. Names are keyed by their lower-cased wire form (see `gslb.wire.name`).

Records added by dynamic updates (RFC 2136) are not in the file: a `DynamicRecords` holds them
per zone, and the zone that is served is the file's zone with them merged in
(`gslb.zones.dynamic.merge`), a new `Zone` for every change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gslb.common.problems import Problem
from gslb.common.times import iso
from gslb.wire.constants import type_name
from gslb.wire.name import Name
from gslb.wire.records import RRset


@dataclass(frozen=True, slots=True)
class Node:
    """Everything at one owner name: static RRsets and, for a steered name, its service."""

    name: Name
    rrsets: dict[int, RRset]
    service: str | None = None
    ttl: int | None = None  # the name's own ttl, used for steered answers too
    line: int = 0


@dataclass(frozen=True, slots=True)
class DynamicRRset:
    """An RRset added by an UPDATE, with who changed it last (the TSIG key's name) and when."""

    rrset: RRset
    key: str
    changed: float

    def to_json(self) -> dict[str, Any]:
        """As /status, /v1/records and explain show it (explain: name, type, key and changed only)."""
        rrset = self.rrset
        return {"name": rrset.name.text, "type": type_name(rrset.rtype), "ttl": rrset.ttl,
                "data": [rdata.text for rdata in rrset.rdatas], "source": "dynamic", "key": self.key,
                "changed": iso(self.changed)}


@dataclass(frozen=True, slots=True)
class DynamicRecords:
    """The records dynamic updates gave a zone, keyed by (owner wire form, type).

    `version` counts accepted changes (servers sharing them apply them in this order); `serial`
    is the SOA serial the last change gave the zone (0 before any).
    """

    origin: Name
    version: int = 0
    serial: int = 0
    rrsets: dict[tuple[bytes, int], DynamicRRset] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Zone:
    origin: Name
    file: str
    serial: int
    soa: RRset
    nodes: dict[bytes, Node]
    existing: frozenset[bytes]  # owner names and empty non-terminals (RFC 4592 section 2.2.2)
    cuts: frozenset[bytes]  # delegation points below the apex
    negative_ttl: int  # min(SOA TTL, SOA minimum), RFC 2308
    content_hash: str
    default_ttl: int
    policy: Any = None  # steering policy (datacenters, pools, services); None for a static zone
    loaded_at: float = field(default=0.0, compare=False)
    dynamic: DynamicRecords | None = None  # the dynamic records merged in (None: the file alone)
    warnings: tuple[Problem, ...] = field(default=(), compare=False)  # accepted, but worth a look
    dnssec: bool = False  # answers are signed (docs/dnssec.md)

    def node(self, name: Name) -> Node | None:
        return self.nodes.get(name.wire)
