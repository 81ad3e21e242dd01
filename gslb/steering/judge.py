"""Whether a member and a pool count as up: the rules steering answers by, in one place.

The selector asks these for every steered query, and `/status`, the status page and the metrics
ask the same functions of the same health view, so what an operator reads is what steering does.

A pool is judged per address family: an A answer holds only IPv4 members and an AAAA answer only
IPv6 ones, so an IPv6 member that is up says nothing about the IPv4 address a client would get.
"""

from __future__ import annotations

from gslb.health.view import HealthView, State, counts_as_up
from gslb.zones.policy_model import Member, Pool

FAMILY_NAMES = {4: "ipv4", 6: "ipv6"}  # how /status, explain and the metrics name a family


def member_state(view: HealthView, zone: str, pool: Pool, member: Member) -> State:
    return view.member_state(zone, pool.name, member.address)


def member_up(view: HealthView, zone: str, pool: Pool, member: Member) -> bool:
    """Up, or never judged in a pool whose `initial` state is up."""
    return counts_as_up(view.member_state(zone, pool.name, member.address), pool.initial)


def pool_up(view: HealthView, zone: str, pool: Pool, family: int) -> bool:
    """Enough members of the family up (`Pool.needed`); a pool with none of that family is not up for it."""
    members = pool.of_family(family)
    return bool(members) and sum(member_up(view, zone, pool, m) for m in members) >= pool.needed(family)


def pool_states(view: HealthView, zone: str, pool: Pool) -> dict[str, str]:
    """Each family the pool has, lowest first, named and judged up or down: as explain and /status show it."""
    return {
        FAMILY_NAMES[family]: "up" if pool_up(view, zone, pool, family) else "down" for family in sorted(pool.by_family)
    }


def pool_short(view: HealthView, zone: str, pool: Pool, family: int) -> bool:
    """Some member of the family is not up: the answer is not the one every member up would give."""
    return not all(member_up(view, zone, pool, m) for m in pool.of_family(family))
