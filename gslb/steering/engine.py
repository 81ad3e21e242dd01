"""The steering engine: answers names that point at a service (the `Steering` of the resolver).

Per query: look the client up in the geo database (only when the service tree uses location),
let a `Selector` choose pools and addresses under the current health view, and, when the query
carries ECS, attach the scope of the decision. Scopes are cached per (zone, service, client
address) and the cache is dropped on reload; health changes do not touch it because the
decision is taken before health.
"""

from __future__ import annotations

import ipaddress
import itertools
import random
from typing import Any

from gslb.dns.constants import RRType
from gslb.dns.name import Name
from gslb.engine.answer import Client, Steered
from gslb.geo.database import GeoDatabase
from gslb.geo.location import GeoLocation
from gslb.health.view import UNKNOWN_VIEW, HealthView
from gslb.steering.decide import decision_key, depends_on, service_tree
from gslb.steering.model import Policy, Service
from gslb.steering.scope import STICKY_PREFIX, widest_uniform_prefix
from gslb.steering.select import Selector
from gslb.zones.model import Node, Rdata, RRset, Zone

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MIN_DEGRADED_TTL = 5
SCOPE_CACHE_LIMIT = 200_000


def degraded_ttl(ttl: int) -> int:
    """Half the TTL while answering from a fallback, not below 5 s (a TTL under 5 s stays)."""
    return ttl if ttl < MIN_DEGRADED_TTL else max(MIN_DEGRADED_TTL, ttl // 2)


class SteeringEngine:
    def __init__(self, geo: GeoDatabase | None, health: HealthView = UNKNOWN_VIEW, seed: int | None = None) -> None:
        self.geo = geo
        self.health = health  # replaced whole by the health engine
        self.rng = random.Random(seed)
        self._rotation = itertools.count()
        self._scopes: dict[tuple[str, str, IPAddress], int] = {}
        self.answer_counts: dict[tuple[str, str, str], int] = {}  # (zone, service, pool) -> answers

    def zones_changed(self) -> None:
        """Drop cached scopes: they were computed from the previous policies."""
        self._scopes.clear()

    def set_health(self, view: HealthView) -> None:
        """Swap in a new health view (one assignment: a query sees the old view or the new one).

        Scopes rest on decisions, which health does not change, except where the probers stand
        (the `latency` method decides by the nearest prober): when that changes, scopes go too.
        """
        if view.measurements.prober_locations != self.health.measurements.prober_locations:
            self._scopes.clear()
        self.health = view

    # -- the Steering protocol -----------------------------------------------------------

    def steer(self, zone: Zone, node: Node, owner: Name, qtype: int, client: Client) -> Steered:
        return self.steer_traced(zone, node, owner, qtype, client, None)

    def steer_traced(
        self, zone: Zone, node: Node, owner: Name, qtype: int, client: Client, trace: list[dict[str, Any]] | None
    ) -> Steered:
        """Steer, appending each decision to `trace` when one is given (for explain)."""
        policy: Policy = zone.policy
        service = policy.services[node.service or ""]
        address = client.address
        uses_location, _, _ = depends_on(policy, service)
        location = self._locate(address) if uses_location else None
        selector = Selector(zone.origin.text, policy, self.health, location, address, self.rng, trace)
        choice = selector.choose(service)
        scope = self._scope(zone, service, address) if client.ecs is not None and client.ecs.source_prefix else 0
        if choice.servfail:
            return Steered(None, scope, servfail=True)
        counts = self.answer_counts
        for pool, _ in choice.pools:
            key = (zone.origin.text, service.name, pool.name)
            counts[key] = counts.get(key, 0) + 1
        family = 4 if qtype == RRType.A else 6
        addresses = selector.addresses(choice, family, service, next(self._rotation))
        if not addresses:
            return Steered(None, scope)
        ttl = node.ttl if node.ttl is not None else service.ttl if service.ttl is not None else zone.default_ttl
        if choice.degraded:
            ttl = degraded_ttl(ttl)
        rdatas = tuple(Rdata((a.packed,), str(a)) for a in addresses)
        return Steered(RRset(owner, qtype, ttl, rdatas), scope)

    def _locate(self, address: IPAddress) -> GeoLocation | None:
        if self.geo is None:
            return None
        return self.geo.lookup(address)[0]

    # -- ECS scope -----------------------------------------------------------------------

    def _scope(self, zone: Zone, service: Service, address: IPAddress) -> int:
        key = (zone.origin.text, service.name, address)
        cached = self._scopes.get(key)
        if cached is not None:
            return cached
        scope = self.compute_scope(zone, service, address)
        if len(self._scopes) >= SCOPE_CACHE_LIMIT:
            self._scopes.clear()
        self._scopes[key] = scope
        return scope

    def compute_scope(self, zone: Zone, service: Service, address: IPAddress) -> int:
        """The widest prefix around the address in which every client gets the same decision."""
        policy: Policy = zone.policy
        uses_location, uses_address, sticky = depends_on(policy, service)
        minimum = STICKY_PREFIX[address.version] if sticky else 0
        if not uses_location and not uses_address:
            return minimum
        cidr = tuple(
            network
            for other in service_tree(policy, service)
            for network, _ in other.cidr_map
        )

        measurements = self.health.measurements
        zone_text = zone.origin.text

        def key_of(location: GeoLocation | None, at: IPAddress) -> tuple:
            return decision_key(policy, service, location, at, zone_text, measurements)

        geo = self.geo if uses_location else None
        return widest_uniform_prefix(address, key_of, geo, cidr, minimum)
