"""What the update service needs of a place that shares dynamic records between servers (Redis).

The service commits a change there first, with the version it started from; the store refuses
when another server changed the zone meanwhile (StoreConflict: the service reads the newer
records and tries again) or when it is out of reach (StoreUnavailable: the update is answered
SERVFAIL and nothing changes anywhere, the same rule as for overrides).
"""

from __future__ import annotations

from typing import Any, Protocol

from gslb.zones.model import DynamicRecords


class StoreUnavailable(Exception):
    """The shared store cannot take a change now; nothing was changed."""


class StoreConflict(Exception):
    """Another server changed the zone first; `current` is what the store holds now."""

    def __init__(self, current: DynamicRecords | None) -> None:
        super().__init__("the zone changed meanwhile")
        self.current = current


class SharedStore(Protocol):
    @property
    def connected(self) -> bool: ...

    async def start(self) -> None:
        """Connect and load the shared records (an empty store is seeded with this server's)."""
        ...

    async def stop(self) -> None: ...

    async def commit(self, old: DynamicRecords, new: DynamicRecords) -> None:
        """Store `new` if the zone is still at `old.version`; raises StoreConflict or StoreUnavailable."""
        ...

    def describe(self) -> dict[str, Any]:
        """For /status: the kind and whether it is reachable."""
        ...
