"""What steering knows of health: one read-only view, replaced whole when health changes.

The steering engine asks `member_state(zone, pool, address)`, and for the `latency` and
`least-loaded` methods the measurements below. The health monitor (probers, quorum,
overrides) builds a new `HealthView` and swaps it in with one assignment, so a query never
sees half of an update. Until anything reports, every probed member is unknown and steering
uses its pool's `initial` state.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class State(StrEnum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"


MemberKey = tuple[str, str, IPAddress]  # (zone origin text, pool name, address)


def counts_as_up(state: State, initial: str) -> bool:
    """Whether steering treats a member as up: unknown counts as its pool's `initial` state."""
    return state is State.UP or (state is State.UNKNOWN and initial == "up")


@dataclass(frozen=True)
class Measurements:
    """Round-trip times and loads, per zone, as the `latency` and `least-loaded` methods read them."""

    # zone -> prober -> (latitude, longitude): where each prober stands
    prober_locations: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=dict)
    # zone -> prober -> datacenter -> milliseconds (median of that prober's fresh RTTs to the datacenter)
    rtt_ms: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)
    # zone -> pool -> load (mean of the fresh loads its members' checks reported)
    pool_load: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


NO_MEASUREMENTS = Measurements()


class HealthView:
    """Member states by (zone, pool, address) plus measurements; anything not listed is unknown."""

    __slots__ = ("_states", "generation", "measurements")

    def __init__(
        self,
        states: Mapping[MemberKey, State] | None = None,
        generation: int = 0,
        measurements: Measurements = NO_MEASUREMENTS,
    ) -> None:
        self._states = dict(states or {})
        self.generation = generation
        self.measurements = measurements

    def member_state(self, zone: str, pool: str, address: IPAddress) -> State:
        return self._states.get((zone, pool, address), State.UNKNOWN)

    def states(self) -> Mapping[MemberKey, State]:
        return self._states


UNKNOWN_VIEW = HealthView()
