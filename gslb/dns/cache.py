"""The fast path: replies remembered by the exact bytes of the query that produced them.

Two queries whose bytes after the ID are equal get equal replies (ID aside) from the general
path, as long as the zones and the health view stay the same and no chance was involved: the
question is echoed byte for byte, flags are copied, and the EDNS options (ECS, NSID) are part
of the bytes. So a reply can be replayed by patching in the new ID, without parsing anything.
The one thing not in the bytes is who sent them: a steered answer decided by the source address
(no ECS option, or one with source prefix 0) is kept under the source address too.
Answers whose order rotates keep the reply of every rotation step, rendered at once; answers
decided by chance are not kept at all. Every reload or health change clears the cache; `version` lets a reply that was
computed before a clear be refused afterwards, so no stale reply can slip in.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from gslb.dns.ratelimit import Identity

DEFAULT_LIMIT = 100_000  # entries per transport; a full cache starts over rather than tracking age


@dataclass(slots=True)
class CachedReply:
    variants: list[bytes]  # reply bytes after the ID, one per rotation step
    zone: str
    qtype: int
    rcode: int
    truncated: bool
    ecs: bool
    steered: tuple[tuple[str, str, str], ...]
    identity: Identity | None  # for rate limiting: what the general path would have charged
    slip: bytes | None  # the TC=1 reply (after the ID) to send when rate limiting slips one


class ResponseCache:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.version = 0
        self.udp: dict[bytes, CachedReply] = {}
        self.tcp: dict[bytes, CachedReply] = {}
        self._turn = itertools.count()
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        """Forget every reply (zones or health changed). New dicts, so readers never see half a clear."""
        self.version += 1
        self.udp = {}
        self.tcp = {}

    def lookup(self, data: bytes, tcp: bool, source: bytes) -> tuple[CachedReply, bytes] | None:
        """The entry and the reply bytes after the ID for this query, or None (general path).

        `source` is the packed source address, for replies that depend on it.
        """
        table = self.tcp if tcp else self.udp
        key = data[2:]
        entry = table.get(key)
        if entry is None:
            entry = table.get(source + key)
        if entry is None:
            self.misses += 1
            return None
        variants = entry.variants
        tail = variants[0] if len(variants) == 1 else variants[next(self._turn) % len(variants)]
        self.hits += 1
        return entry, tail

    def store(self, data: bytes, tcp: bool, source: bytes | None, replies: list[bytes], version: int,
              **fields: object) -> None:
        """Keep the replies (one per rotation step) for these query bytes, and this source address when
        given, unless the cache was cleared since `version` was read. `fields` fill the `CachedReply`.
        """
        if version != self.version:
            return
        table = self.tcp if tcp else self.udp
        if len(table) >= self.limit:
            table.clear()
        key = data[2:] if source is None else source + data[2:]
        table[key] = CachedReply([reply[2:] for reply in replies], **fields)  # type: ignore[arg-type]
