"""What steering knows of health: one read-only view, replaced whole when health changes.

The steering engine asks `member_state(zone, pool, address)` and nothing else. The health
engine (probers, quorum, overrides) builds a new `HealthView` and swaps it in, so a query
never sees half of an update; until anything reports, every member is unknown and steering
uses the pool's `initial` state.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from enum import StrEnum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class State(StrEnum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"


MemberKey = tuple[str, str, IPAddress]  # (zone origin text, pool name, address)


class HealthView:
    """Member states by (zone, pool, address); anything not listed is unknown."""

    __slots__ = ("_states", "generation")

    def __init__(self, states: Mapping[MemberKey, State] | None = None, generation: int = 0) -> None:
        self._states = dict(states or {})
        self.generation = generation

    def member_state(self, zone: str, pool: str, address: IPAddress) -> State:
        return self._states.get((zone, pool, address), State.UNKNOWN)

    def with_states(self, changes: Mapping[MemberKey, State]) -> HealthView:
        """A new view with some states changed (tests and the health engine build views this way)."""
        return HealthView({**self._states, **changes}, self.generation + 1)


UNKNOWN_VIEW = HealthView()
