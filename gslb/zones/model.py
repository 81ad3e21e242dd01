"""The loaded, immutable form of a zone.

A `Zone` is built once by the loader and never changed; a reload builds a new one and the
server swaps it in with one assignment, so a query sees either the old zone or the new one,
never a mixture. Names are keyed by their lower-cased wire form (see `gslb.wire.name`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    dnssec: bool = False  # answers are signed (docs/dnssec.md)

    def node(self, name: Name) -> Node | None:
        return self.nodes.get(name.wire)
