"""Health-aware choice: from a client's decision to the pools that answer, then to addresses.

The rules of docs/steering.md: an ordered method takes the first candidate that is up; weighted
picks among the up candidates by weight (weight 0 is standby); `all` takes every up candidate.
Everything is judged for the asked address family (`steering.judge`): a pool is up for it while
enough of its members of that family are up, and a pool with no member of that family is no
candidate for it at all. When no candidate is up the service's `all_down` applies. Every step
can be recorded in a trace for `gslb explain`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import math
import random
from typing import Any

from gslb.geo.location import GeoLocation
from gslb.health.view import HealthView, State
from gslb.steering import judge
from gslb.steering.decide import Decision, decide
from gslb.steering.steered import Choice
from gslb.zones.policy_model import Member, Policy, Pool, Service

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
STICKY_BITS = {4: 24, 6: 56}


def client_bucket(address: IPAddress) -> bytes:
    """The client's /24 (IPv4) or /56 (IPv6): the unit of stickiness."""
    bits = STICKY_BITS[address.version]
    network = ipaddress.ip_network((address, bits), strict=False)
    return network.network_address.packed[: bits // 8]


def rendezvous_score(bucket: bytes, name: str, weight: float) -> float:
    """Weighted rendezvous (highest random weight) hashing: stable per bucket and name.

    Removing one name moves only the buckets that had chosen it.
    """
    digest = hashlib.blake2b(bucket + b"\x00" + name.encode(), digest_size=8).digest()
    unit = (int.from_bytes(digest, "big") + 1) / 2.0**64  # in (0, 1]
    if weight <= 0:
        return -math.inf
    return -weight / math.log(unit) if unit < 1.0 else math.inf


class Selector:
    """Chooses for one query; holds the client and the health view it was asked with."""

    def __init__(
        self,
        zone: str,
        policy: Policy,
        health: HealthView,
        location: GeoLocation | None,
        address: IPAddress,
        rng: random.Random,
        trace: list[dict[str, Any]] | None = None,
        family: int = 4,
    ) -> None:
        self.zone = zone
        self.family = family  # 4 for A, 6 for AAAA: what every pool is judged for
        self.policy = policy
        self.health = health
        self.location = location
        self.address = address
        self.rng = rng
        self.trace = trace
        self._bucket: bytes | None = None
        self._decisions: dict[str, Decision] = {}
        self.random = False  # a random pick was made: the same query may get another answer

    @property
    def bucket(self) -> bytes:
        if self._bucket is None:
            self._bucket = client_bucket(self.address)
        return self._bucket

    # -- health --------------------------------------------------------------------------

    def member_state(self, pool: Pool, member: Member) -> State:
        return judge.member_state(self.health, self.zone, pool, member)

    def member_up(self, pool: Pool, member: Member) -> bool:
        return judge.member_up(self.health, self.zone, pool, member)

    def pool_up(self, pool: Pool) -> bool:
        return judge.pool_up(self.health, self.zone, pool, self.family)

    def offers(self, name: str) -> bool:
        """Whether a candidate has any member of the asked family for this client (health aside).

        A candidate that does not is skipped without counting as down: it could not answer this
        family even with every member up.
        """
        pool = self.policy.pools.get(name)
        if pool is not None:
            return self.family in pool.by_family
        return any(self.offers(candidate) for candidate in self._decide(self.policy.services[name]).candidates)

    def _decide(self, service: Service) -> Decision:
        """The service's decision for this client, made once: `offers` and `_choose` ask it at every
        level of nesting, and it rests only on what this selector was built with (no chance)."""
        decision = self._decisions.get(service.name)
        if decision is None:
            decision = decide(self.policy, service, self.location, self.address, self.zone, self.health.measurements)
            self._decisions[service.name] = decision
        return decision

    # -- choosing pools ------------------------------------------------------------------

    def choose(self, service: Service) -> Choice:
        choice = self._choose(service, honour_health=True)
        if choice is not None:
            return choice
        if not self.offers(service.name):
            return Choice()  # nothing here has a member of the asked family: NODATA, as with all up
        self._note(service, {"all_down": service.all_down})
        if service.all_down == "servfail":
            return Choice(servfail=True, degraded=True, all_down="servfail")
        if service.all_down == "fail-open":
            fallback = self._choose(service, honour_health=False)
        else:
            fallback = self._choose_name(service.all_down, honour_health=False)
        # With health ignored the first candidate offering the family answers; a named all_down
        # pool without a member of the family gives NODATA.
        fallback = fallback or Choice()
        fallback.degraded = True
        fallback.all_down = "fail-open" if service.all_down == "fail-open" else "all-down"
        return fallback

    def _choose_name(self, name: str, honour_health: bool) -> Choice | None:
        pool = self.policy.pools.get(name)
        if pool is None:
            return self._choose(self.policy.services[name], honour_health)
        if self.family not in pool.by_family or (honour_health and not self.pool_up(pool)):
            return None
        short = honour_health and judge.pool_short(self.health, self.zone, pool, self.family)
        return Choice([(pool, not honour_health)], degraded=short)

    def _choose(self, service: Service, honour_health: bool) -> Choice | None:
        decision = self._decide(service)
        if self.trace is not None:
            self._note(service, {
                "method": service.method,
                "rule": decision.rule,
                "candidates": [self._describe(name) for name in decision.candidates],
                **({self._measure_label(service): dict(decision.distances)} if decision.distances else {}),
                **({} if honour_health else {"health": "ignored"}),
            })
        if service.method == "all":
            return self._choose_all(decision.candidates, honour_health)
        if service.method == "weighted":
            return self._choose_weighted(service, honour_health)
        passed = False  # a candidate offering the family was passed over: not the all-up answer
        for name in decision.candidates:
            if not self.offers(name):
                continue
            choice = self._choose_name(name, honour_health)
            if choice is not None:
                choice.degraded |= passed
                self._note(service, {"chosen": name})
                return choice
            passed = True
        return None

    def _choose_all(self, names: tuple[str, ...], honour_health: bool) -> Choice | None:
        combined = Choice()
        for name in names:
            if not self.offers(name):
                continue
            choice = self._choose_name(name, honour_health)
            if choice is None:
                combined.degraded = True
                continue
            combined.pools.extend(choice.pools)
            combined.degraded |= choice.degraded
        return combined if combined.pools else None

    def _choose_weighted(self, service: Service, honour_health: bool) -> Choice | None:
        weights = service.weights
        offered = [n for n in service.candidates if self.offers(n)]
        up = [n for n in offered if not honour_health or self._name_up(n)]
        active = [n for n in up if weights[n] > 0]
        degraded = len(active) < sum(1 for n in offered if weights[n] > 0)
        pick_from = active or up  # weight 0 = standby: only when no weighted candidate is up
        if not pick_from:
            return None
        pick_weights = [weights[n] if active else 1 for n in pick_from]
        if service.sticky:
            scored = zip(pick_from, pick_weights, strict=True)
            name = max(scored, key=lambda item: rendezvous_score(self.bucket, item[0], item[1]))[0]
        elif len(pick_from) == 1:  # nothing to draw: the same answer every time
            name = pick_from[0]
        else:
            name = self.rng.choices(pick_from, pick_weights)[0]
            self.random = True
        self._note(service, {"chosen": name})
        choice = self._choose_name(name, honour_health)
        assert choice is not None
        choice.degraded |= degraded or not active
        return choice

    def _name_up(self, name: str) -> bool:
        pool = self.policy.pools.get(name)
        if pool is not None:
            return self.pool_up(pool)
        trace, self.trace = self.trace, None  # probing a nested service is not part of the story
        try:
            return self._choose(self.policy.services[name], honour_health=True) is not None
        finally:
            self.trace = trace

    # -- choosing addresses ---------------------------------------------------------------

    def addresses(
        self, choice: Choice, family: int, service: Service, rotation: int
    ) -> tuple[list[IPAddress], int, int]:
        """The members to answer with (up members of the family, weighted, capped, ordered); how many
        different answers the same query can get (1 when fixed, k when the order rotates over k
        addresses, 0 when chance decides: see `Steered.variants`); and this answer's rotation step."""
        members: list[Member] = []
        seen: set[IPAddress] = set()
        for pool, forced in choice.pools:
            of_family = pool.of_family(family)
            # A pool chosen by health has at least one live member of the family (it is up for
            # it); a forced one (all_down) answers as if every member were up.
            for member in of_family if forced else [m for m in of_family if self.member_up(pool, m)]:
                if member.address not in seen:
                    seen.add(member.address)
                    members.append(member)
        active = [m for m in members if m.weight > 0] or members
        fixed = 0 if self.random else 1
        if not active:
            return [], fixed, 0
        most = min(service.answers_max or len(active), len(active))
        if service.sticky:
            ranked = sorted(active, key=lambda m: -rendezvous_score(self.bucket, str(m.address), m.weight or 1))
            return [m.address for m in ranked[:most]], fixed, 0
        if most < len(active):
            # Efraimidis-Spirakis: a weighted sample without replacement, new on every query.
            keyed = sorted(active, key=lambda m: -(self.rng.random() ** (1.0 / (m.weight or 1))))
            return [m.address for m in keyed[:most]], 0, 0
        start = rotation % len(active)
        return [m.address for m in itertools.chain(active[start:], active[:start])], fixed and len(active), start

    # -- trace ---------------------------------------------------------------------------

    def _describe(self, name: str) -> dict[str, Any]:
        pool = self.policy.pools.get(name)
        if pool is None:
            return {"name": name, "kind": "service"}
        families = judge.pool_states(self.health, self.zone, pool)
        # The state for the asked family; "skipped" when the pool has no member of it.
        state = families.get(judge.FAMILY_NAMES[self.family], "skipped")
        described: dict[str, Any] = {"name": name, "kind": "pool", "datacenter": pool.datacenter, "state": state}
        if len(families) > 1:  # dual-stack: how it stands for each family
            described["families"] = families
        return {
            **described,
            "members": [
                {"address": str(m.address), "weight": m.weight, "state": self.member_state(pool, m).value,
                 "counts_as": "up" if self.member_up(pool, m) else "down"}
                for m in pool.members
            ],
        }

    @staticmethod
    def _measure_label(service: Service) -> str:
        return "rtt_ms" if service.method == "latency" else "distances_km"

    def _note(self, service: Service, facts: dict[str, Any]) -> None:
        if self.trace is None:
            return
        for step in self.trace:
            if step.get("service") == service.name:
                step.update(facts)
                return
        self.trace.append({"service": service.name, **facts})
