"""A reader of the MMDB binary search tree, for questions the maxminddb API cannot answer.

`maxminddb` finds one address's record; the ECS scope needs the opposite view: every
network inside a block and which of them share a record. Both come straight from the
tree (https://maxmind.github.io/MaxMind-DB/): `node_count` nodes of two records each,
a record being a node number (< node_count), "no data" (== node_count) or a pointer
into the data section (> node_count). Equal pointers mean the same data record.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network, IPv6Network
from mmap import mmap

from gslb.geo.errors import GeoDatabaseError, GeoWalkLimitError

Network = IPv4Network | IPv6Network
Buffer = bytes | bytearray | memoryview | mmap

NO_DATA = -1
"""The key `walk` gives to addresses the database says nothing about."""

_DATA_SECTION_SEPARATOR = 16
_IPV4_IN_IPV6_BITS = 96


class SearchTree:
    """The search tree of one MMDB file, read from its bytes (e.g. an mmap)."""

    def __init__(self, buffer: Buffer, node_count: int, record_size: int, ip_version: int) -> None:
        if record_size not in (24, 28, 32):
            raise GeoDatabaseError(f"unsupported MMDB record size {record_size}")
        self._buffer = buffer
        self._node_count = node_count
        self._record_size = record_size
        self._ip_version = ip_version
        tree_bytes = node_count * record_size // 4
        self._pointer_limit = node_count + len(self._buffer) - tree_bytes
        if tree_bytes + _DATA_SECTION_SEPARATOR > len(self._buffer):
            raise GeoDatabaseError("MMDB search tree is larger than the file")
        # IPv4 lives under ::/96 in an IPv6 tree; a leaf or gap above it covers all of IPv4.
        self._ipv4_start, self._ipv4_depth = (0, 0)
        if ip_version == 6:
            self._ipv4_start, self._ipv4_depth = self._descend(0, 0, _IPV4_IN_IPV6_BITS)

    def record(self, node: int, bit: int) -> int:
        """The left (bit 0) or right (bit 1) record of a node."""
        buffer = self._buffer
        if self._record_size == 24:
            offset = node * 6 + bit * 3
            return int.from_bytes(buffer[offset : offset + 3])
        if self._record_size == 28:
            offset = node * 7
            if bit:
                return int.from_bytes(buffer[offset + 3 : offset + 7]) & 0x0FFFFFFF
            return ((buffer[offset + 3] & 0xF0) << 20) | int.from_bytes(buffer[offset : offset + 3])
        offset = node * 8 + bit * 4
        return int.from_bytes(buffer[offset : offset + 4])

    def walk(self, network: Network, limit: int) -> Iterator[tuple[Network, int]]:
        """Every database network or gap inside `network`, in address order, with its key.

        A database network wider than `network` is clipped to it, so the results always
        tile `network` exactly. The key is the record's data pointer (equal keys, same
        data) or NO_DATA. More than `limit` results raise GeoWalkLimitError.
        """
        bits = network.max_prefixlen
        if bits == 128 and self._ip_version == 4:
            yield network, NO_DATA
            return
        value = int(network.network_address)  # also its IPv4-compatible IPv6 form ::a.b.c.d
        if bits == 32 and self._ip_version == 6:
            start, depth, skip = self._ipv4_start, self._ipv4_depth, _IPV4_IN_IPV6_BITS
        else:
            start, depth, skip = 0, 0, 0
        record, reached = self._descend(start, value, network.prefixlen + skip, depth)
        if reached < network.prefixlen + skip:
            yield network, self._key(record)
            return
        yield from self._subtree(type(network), bits, record, value, network.prefixlen, limit)

    def _subtree(
        self, kind: type[Network], bits: int, record: int, value: int, prefix: int, limit: int
    ) -> Iterator[tuple[Network, int]]:
        """Depth-first, left before right: networks come out in address order."""
        stack = [(record, value, prefix)]
        found = 0
        while stack:
            record, value, prefix = stack.pop()
            if record < self._node_count:
                if prefix >= bits:
                    raise GeoDatabaseError("corrupt MMDB search tree: deeper than the address")
                half = 1 << (bits - prefix - 1)
                stack.append((self.record(record, 1), value | half, prefix + 1))
                stack.append((self.record(record, 0), value, prefix + 1))
                continue
            found += 1
            if found > limit:
                raise GeoWalkLimitError(f"more than {limit} database networks in the block")
            yield kind((value, prefix)), self._key(record)

    def _descend(self, record: int, value: int, length: int, depth: int = 0) -> tuple[int, int]:
        """Follow the first `length` bits of a 128- or 32-bit `value` from `depth` on.

        Returns the record reached and the depth at which it was reached, which is less
        than `length` when a leaf or a gap covers the whole prefix.
        """
        total = 128 if self._ip_version == 6 else 32
        while depth < length and record < self._node_count:
            record = self.record(record, (value >> (total - depth - 1)) & 1)
            depth += 1
        return record, depth

    def _key(self, record: int) -> int:
        if record == self._node_count:
            return NO_DATA
        if not self._node_count + _DATA_SECTION_SEPARATOR <= record < self._pointer_limit:
            raise GeoDatabaseError(f"corrupt MMDB search tree: record {record} points outside the data")
        return record
