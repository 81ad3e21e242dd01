"""The ECS scope of a steered answer: the widest network around the client that decides alike.

A network is "uniform" when every address in it has the same decision key (see `decide`).
Uniformity is inherited by sub-networks, so the widest uniform network around an address is
found by binary search over prefix lengths. To test one network, the decision only needs to
be evaluated at the start of each piece of it that can differ: each geo database network
inside it (the database's own tree is walked, so neighbours that point at the same record
merge exactly as gdnsd merges them) and each boundary of a `cidr` entry inside it. A network
too fragmented to walk within the limit counts as not uniform: a narrower scope is always
correct, only less cacheable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from gslb.geo.database import GeoDatabase
from gslb.geo.errors import GeoWalkLimitError
from gslb.geo.location import GeoLocation

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
KeyOf = Callable[[GeoLocation | None, IPAddress], tuple]

WALK_LIMIT = 2048
STICKY_PREFIX = {4: 24, 6: 56}


def widest_uniform_prefix(
    address: IPAddress,
    key_of: KeyOf,
    geo: GeoDatabase | None,
    cidr_networks: tuple[IPNetwork, ...],
    min_prefix: int = 0,
) -> int:
    """The shortest prefix length p >= min_prefix such that address/p decides like address."""
    bits = address.max_prefixlen
    location = geo.lookup(address)[0] if geo is not None else None
    reference = key_of(location, address)
    low, high = min_prefix, bits  # address/bits (one address) is always uniform
    while low < high:
        middle = (low + high) // 2
        network = ipaddress.ip_network((address, middle), strict=False)
        if _uniform(network, reference, key_of, geo, cidr_networks):
            high = middle
        else:
            low = middle + 1
    return high


def _uniform(
    network: IPNetwork, reference: tuple, key_of: KeyOf, geo: GeoDatabase | None, cidr: tuple[IPNetwork, ...]
) -> bool:
    starts = _piece_starts(network, geo, cidr)
    if starts is None:
        return False
    seen_records: dict[int, tuple] = {}
    for start, record_key in starts:
        if record_key is not None and record_key in seen_records and not cidr:
            key = seen_records[record_key]
        else:
            location = geo.lookup(start)[0] if geo is not None else None
            key = key_of(location, start)
            if record_key is not None:
                seen_records[record_key] = key
        if key != reference:
            return False
    return True


def _piece_starts(
    network: IPNetwork, geo: GeoDatabase | None, cidr: tuple[IPNetwork, ...]
) -> list[tuple[IPAddress, int | None]] | None:
    """Addresses where the decision can change inside `network`, with their geo record key."""
    starts: dict[IPAddress, int | None] = {network.network_address: None}
    if geo is not None:
        try:
            for piece, record_key in geo.networks_within(network, WALK_LIMIT):
                starts[piece.network_address] = record_key
        except GeoWalkLimitError:
            return None
    last = int(network.broadcast_address)
    for entry in cidr:
        if entry.version != network.version or not entry.subnet_of(network) or entry == network:  # type: ignore[arg-type]
            continue
        starts.setdefault(entry.network_address, None)
        after = int(entry.broadcast_address) + 1
        if after <= last:
            kind = ipaddress.IPv6Address if network.version == 6 else ipaddress.IPv4Address
            starts.setdefault(kind(after), None)
    return sorted(starts.items())
