"""EDNS Client Subnet (RFC 7871) values for the engine tests, built the way the wire parser builds them."""

from __future__ import annotations

import ipaddress

from gslb.wire.edns import ClientSubnet


def ecs_for(network: str) -> ClientSubnet:
    """The ClientSubnet a query would carry for `network` ("175.223.10.0/24"), scope 0."""
    net = ipaddress.ip_network(network)
    raw = net.network_address.packed[: (net.prefixlen + 7) // 8]
    return ClientSubnet(1 if net.version == 4 else 2, net.prefixlen, net.network_address, raw)
