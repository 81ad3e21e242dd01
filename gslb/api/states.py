"""Pool and datacenter states, overall and per address family, as `/status` and `/metrics` show them.

Both read the same health view through the rules steering answers by (`steering.judge`), so a
pool shown down for IPv4 is one that A queries pass over.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gslb.health.view import HealthView, State
from gslb.steering import judge
from gslb.zones.model import Zone
from gslb.zones.policy_model import Pool
from gslb.zones.zoneset import ZoneSet


def summary(states: Iterable[str]) -> str:
    """One state for several: up or down when they agree, else degraded."""
    distinct = set(states)
    return distinct.pop() if len(distinct) == 1 else "degraded"


def pool_families(view: HealthView, zone: Zone, pool: Pool) -> dict[str, dict[str, Any]]:
    """Per family the pool has: its state for that family, members up, members, members needed."""
    origin = zone.origin.text
    states = judge.pool_states(view, origin, pool)
    families: dict[str, dict[str, Any]] = {}
    for family, members in sorted(pool.by_family.items()):
        name = judge.FAMILY_NAMES[family]
        families[name] = {
            "state": states[name],
            "members_up": sum(judge.member_up(view, origin, pool, m) for m in members),
            "members_total": len(members),
            "needed": pool.needed(family),
        }
    return families


@dataclass
class DatacenterCount:
    """Members of one datacenter (of one family, or all), counted the way steering counts them."""

    total: int = 0
    up: int = 0  # judged up
    unknown: int = 0  # never judged
    live: int = 0  # counting as up (unknown counts as the pool's initial state)

    @property
    def state(self) -> str:
        return "up" if self.live == self.total else "down" if self.live == 0 else "degraded"


Counts = tuple[DatacenterCount, dict[str, DatacenterCount]]  # every member, and the same per family


def datacenter_counts(view: HealthView, zone: Zone) -> dict[str, Counts]:
    """Per datacenter of the zone, in its order: the members of its pools, overall and per family."""
    counts: dict[str, Counts] = {name: (DatacenterCount(), {}) for name in zone.policy.datacenters}
    origin = zone.origin.text
    for pool in zone.policy.pools.values():
        if pool.datacenter not in counts:
            continue
        overall, families = counts[pool.datacenter]
        for member in pool.members:
            state = judge.member_state(view, origin, pool, member)
            live = judge.member_up(view, origin, pool, member)
            family = families.setdefault(judge.FAMILY_NAMES[member.family], DatacenterCount())
            for count in (overall, family):
                count.total += 1
                count.up += state is State.UP
                count.unknown += state is State.UNKNOWN
                count.live += live
    return {name: (overall, dict(sorted(families.items()))) for name, (overall, families) in counts.items()}


def steered_zones(zones: ZoneSet) -> Iterator[Zone]:
    return (zone for zone in zones if zone.policy is not None)
