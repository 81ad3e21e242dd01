"""EDNS(0) pieces a query may carry: the OPT record's fields and the Client Subnet option.

Validation follows RFC 7871 section 7.1.1 to the letter, because a resolver that sends a
malformed ECS option must learn it (FORMERR) rather than get an answer scoped to an address
we guessed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

FAMILY_BITS = {1: 32, 2: 128}
# RFC 7873 section 5.2.2: a COOKIE option holds a client cookie alone (8 bytes), or one with a
# server cookie of 8 to 32 bytes; any other length is FORMERR.
COOKIE_LENGTHS = frozenset((8, *range(16, 41)))


class EcsFormatError(ValueError):
    """An ECS option that RFC 7871 says must be answered with FORMERR."""


@dataclass(frozen=True, slots=True)
class ClientSubnet:
    """A validated ECS option from a query."""

    family: int
    source_prefix: int
    address: IPAddress  # the network address (bits beyond the prefix are zero)
    raw_address: bytes  # the address bytes as sent, echoed back unchanged

    @property
    def network(self) -> IPNetwork:
        return ipaddress.ip_network(f"{self.address}/{self.source_prefix}")

    def encode(self, scope_prefix: int) -> bytes:
        """The option as echoed in a response, with our scope."""
        body = (
            self.family.to_bytes(2, "big")
            + bytes((self.source_prefix, scope_prefix))
            + self.raw_address
        )
        return b"\x00\x08" + len(body).to_bytes(2, "big") + body


def parse_client_subnet(data: bytes) -> ClientSubnet:
    """Validate and decode the payload of an ECS option (code 8)."""
    if len(data) < 4:
        raise EcsFormatError(f"ECS option of {len(data)} bytes (at least 4)")
    family = int.from_bytes(data[0:2], "big")
    source, scope = data[2], data[3]
    bits = FAMILY_BITS.get(family)
    if bits is None:
        raise EcsFormatError(f"ECS family {family} (1 or 2)")
    if source > bits:
        raise EcsFormatError(f"ECS source prefix /{source} longer than the family allows (/{bits})")
    if scope != 0:
        raise EcsFormatError(f"ECS scope prefix {scope} in a query (must be 0)")
    raw = data[4:]
    if len(raw) != (source + 7) // 8:
        raise EcsFormatError(f"ECS address of {len(raw)} bytes for /{source}")
    full = int.from_bytes(raw.ljust(bits // 8, b"\x00"), "big")
    if full & ((1 << (bits - source)) - 1):
        raise EcsFormatError(f"ECS address has bits set beyond /{source}")
    address: IPAddress = (
        ipaddress.IPv4Address(full) if family == 1 else ipaddress.IPv6Address(full)
    )
    return ClientSubnet(family, source, address, bytes(raw))


@dataclass(frozen=True, slots=True)
class Edns:
    """The OPT record of a query."""

    payload: int
    version: int
    do: bool
    nsid: bool  # the client asked for our NSID
    ecs: ClientSubnet | None
    cookie: bytes | None = None  # the first COOKIE option's data, well formed (RFC 7873 section 4)
    co: bool = False  # Compact Answers OK (RFC 9824 section 5.1): NXDOMAIN may keep its rcode when signed
