"""Who is asking: the query's source address and, when sent, its EDNS Client Subnet."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from gslb.wire.edns import ClientSubnet

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Client:
    source: IPAddress
    ecs: ClientSubnet | None = None

    @property
    def address(self) -> IPAddress:
        """The address steering decides by (RFC 7871: the ECS subnet unless its prefix is 0)."""
        if self.ecs is not None and self.ecs.source_prefix > 0:
            return self.ecs.address
        return self.source
