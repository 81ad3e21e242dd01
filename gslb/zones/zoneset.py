"""The set of zones a server answers for, found by the longest matching suffix.

A `ZoneSet` is immutable: reloading builds a new one from the zones that loaded plus the
old versions of those that failed, and the server replaces its reference in one step.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from gslb.wire.name import Name
from gslb.zones.model import Zone


class ZoneSet:
    __slots__ = ("_by_wire", "generation")

    def __init__(self, zones: Iterable[Zone] = (), generation: int = 0) -> None:
        self._by_wire: dict[bytes, Zone] = {zone.origin.wire: zone for zone in zones}
        self.generation = generation

    def find(self, name: Name) -> Zone | None:
        """The most specific zone that contains `name`, or None."""
        wire = name.wire
        by_wire = self._by_wire
        pos = 0
        while True:
            zone = by_wire.get(wire[pos:])
            if zone is not None:
                return zone
            length = wire[pos]
            if length == 0:
                return None
            pos += length + 1

    def __iter__(self) -> Iterator[Zone]:
        return iter(sorted(self._by_wire.values(), key=lambda z: z.origin.text))

    def __len__(self) -> int:
        return len(self._by_wire)

    def get(self, origin: Name) -> Zone | None:
        return self._by_wire.get(origin.wire)
