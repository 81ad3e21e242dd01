"""What the answer engine returns: sections and flags, independent of the wire format."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Protocol

from gslb.dns.constants import Rcode
from gslb.dns.edns import ClientSubnet
from gslb.dns.name import Name
from gslb.zones.model import Node, RRset, Zone

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Client:
    """Who is asking: the query's source address and, when sent, its ECS option."""

    source: IPAddress
    ecs: ClientSubnet | None = None

    @property
    def address(self) -> IPAddress:
        """The address steering decides by (RFC 7871: the ECS subnet unless its prefix is 0)."""
        if self.ecs is not None and self.ecs.source_prefix > 0:
            return self.ecs.address
        return self.source


@dataclass(slots=True)
class Answer:
    rcode: int = Rcode.NOERROR
    authoritative: bool = True
    answer: list[RRset] = field(default_factory=list)
    authority: list[RRset] = field(default_factory=list)
    additional: list[RRset] = field(default_factory=list)
    trim_index: int | None = None  # answer[trim_index] is a steered selection that may be cut to fit
    scope: int = 0  # ECS scope prefix length: 0 when the answer does not depend on the client
    zone: str = ""  # the zone answered from (for the query counters); "" when none
    # How many different replies the same query bytes can get while zones and health stay as they
    # are: 1 (static, or a deterministic choice), k (the address order rotates over k), 0 (chance).
    variants: int = 1
    rotation: int = 0  # which step of the rotation this reply is (0 .. variants - 1)
    by_client: bool = False  # steered by who asks (location, address or stickiness)
    steered: tuple[tuple[str, str, str], ...] = ()  # (zone, service, pool) the answer came from
    decision: tuple[str, Any] | None = None  # (service, its Choice) when steered: read by the query log


@dataclass(frozen=True, slots=True)
class Steered:
    """A steering decision for one name and type."""

    rrset: RRset | None  # None: no member of the asked family (NODATA)
    scope: int = 0
    servfail: bool = False
    variants: int = 1  # as Answer.variants
    rotation: int = 0  # as Answer.rotation
    by_client: bool = False  # as Answer.by_client
    pools: tuple[tuple[str, str, str], ...] = ()  # (zone, service, pool) answered from
    decision: tuple[str, Any] | None = None  # (service name, the selector's Choice), formatted only when logged


class Steering(Protocol):
    """Answers names that point at a service; the engine asks it and nothing else does."""

    def steer(self, zone: Zone, node: Node, owner: Name, qtype: int, client: Client) -> Steered: ...
