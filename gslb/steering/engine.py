"""The steering engine: answers names that point at a service (the `Steering` of the resolver).

Per query: look the client up in the geo database (only when the service tree uses location),
let a `Selector` choose pools and addresses under the current health view, and, when the query
carries ECS, attach the scope of the decision. Scopes and location decisions are cached per
(zone, service, client network) and dropped when the zones or the geo database change; health
changes do not touch them because the decision is taken before health.
"""

from __future__ import annotations

import ipaddress
import itertools
import random
from typing import Any

from gslb.geo.database import GeoDatabase
from gslb.geo.location import GeoLocation
from gslb.health.view import UNKNOWN_VIEW, HealthView
from gslb.steering.client import Client
from gslb.steering.decide import decision_key
from gslb.steering.scope import STICKY_PREFIX, widest_uniform_prefix
from gslb.steering.select import Selector
from gslb.steering.steered import Choice, Steered
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.wire.records import Rdata, RRset
from gslb.zones.model import Node, Zone
from gslb.zones.policy_model import Policy, Service

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MIN_DEGRADED_TTL = 5
SCOPE_CACHE_LIMIT = 200_000


def _counted(zone: str, service: str, choice: Choice) -> tuple[tuple[str, str, str, str], ...]:
    """The counter keys of one steered answer (see `Steered.counted`)."""
    keys = [(zone, service, pool.name, "") for pool, _ in choice.pools]
    if choice.fallback:
        keys.append((zone, service, "", choice.fallback))
    return tuple(keys)


def degraded_ttl(ttl: int) -> int:
    """Half the TTL while answering from a fallback, not below 5 s (a TTL under 5 s stays)."""
    return ttl if ttl < MIN_DEGRADED_TTL else max(MIN_DEGRADED_TTL, ttl // 2)


class SteeringEngine:
    def __init__(self, geo: GeoDatabase | None, health: HealthView = UNKNOWN_VIEW, seed: int | None = None) -> None:
        self.geo = geo
        self.health = health  # replaced whole by the health engine
        self.rng = random.Random(seed)
        # The next step of the round-robin order: one per steered answer, whichever path gives it.
        self.next_rotation = itertools.count().__next__
        self._scopes: dict[tuple[str, str, IPAddress | IPNetwork], int] = {}
        self._decisions: dict[tuple[str, str, GeoLocation | None], tuple] = {}  # see client_decision
        # Bumped whenever a client's decision may have changed without the health view changing:
        # new policies (a reload), a new geo database or probers standing elsewhere (latency). Whoever caches
        # decisions (the compiled path) compares it.
        self.decision_epoch = 0

    def zones_changed(self) -> None:
        """Drop cached scopes and decisions (they were computed from the previous policies or data)."""
        self._scopes.clear()
        self._decisions.clear()
        self.decision_epoch += 1

    def geo_changed(self, geo: GeoDatabase | None) -> None:
        """Steer by another geo database from the next query on; whatever was learnt from the old one goes.

        Locations, database networks and so scopes and decisions may all differ in the new data.
        """
        self.geo = geo
        self.zones_changed()

    def set_health(self, view: HealthView) -> None:
        """Swap in a new health view (one assignment: a query sees the old view or the new one).

        Scopes rest on decisions, which health does not change, except where the probers stand
        (the `latency` method decides by the nearest prober): when that changes, scopes go too.
        """
        if view.measurements.prober_locations != self.health.measurements.prober_locations:
            self._scopes.clear()
            self._decisions.clear()
            self.decision_epoch += 1
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
        profile = policy.profiles[service.name]
        by_client = profile.by_client
        location, network = self.geo.lookup(address) if profile.by_location and self.geo is not None else (None, None)
        family = 4 if qtype == RRType.A else 6
        selector = Selector(zone.origin.text, policy, self.health, location, address, self.rng, trace, family)
        choice = selector.choose(service)
        with_scope = client.ecs is not None and client.ecs.source_prefix
        scope = self._scope(zone, service, address, network) if with_scope else 0
        counted = _counted(zone.origin.text, service.name, choice)
        if choice.servfail:
            variants = 0 if selector.random else 1
            return Steered(service.name, choice, None, scope, variants=variants, by_client=by_client, counted=counted)
        addresses, variants, rotation = selector.addresses(choice, family, service, self.next_rotation())
        if not addresses:
            return Steered(service.name, choice, None, scope, variants=variants, by_client=by_client, counted=counted)
        ttl = node.ttl if node.ttl is not None else service.ttl if service.ttl is not None else zone.default_ttl
        if choice.degraded:
            ttl = degraded_ttl(ttl)
        rdatas = tuple(Rdata((a.packed,), str(a)) for a in addresses)
        rrset = RRset(owner, qtype, ttl, rdatas)
        return Steered(service.name, choice, rrset, scope, variants=variants, rotation=rotation, by_client=by_client,
                       counted=counted)

    def client_decision(self, zone: Zone, service: Service, address: IPAddress, with_scope: bool) -> tuple[tuple, int]:
        """What this client's properties decide in the service (before health), and the ECS scope.

        Two clients with equal decision keys get the same answer from the same health view, so a
        decision key can stand for every client that has it (the compiled path keys answers by it).
        """
        policy: Policy = zone.policy
        profile = policy.profiles[service.name]
        location, network = self.geo.lookup(address) if profile.by_location and self.geo is not None else (None, None)
        # Where only the location decides, every client of one location shares the decision.
        shared = (zone.origin.text, service.name, location) if not profile.by_address and not profile.by_load else None
        key = self._decisions.get(shared) if shared is not None else None
        if key is None:
            key = decision_key(policy, service, location, address, zone.origin.text, self.health.measurements)
            if shared is not None:
                if len(self._decisions) >= SCOPE_CACHE_LIMIT:
                    self._decisions.clear()
                self._decisions[shared] = key
        scope = self._scope(zone, service, address, network) if with_scope else 0
        return key, scope

    # -- ECS scope -----------------------------------------------------------------------

    def _scope(self, zone: Zone, service: Service, address: IPAddress, network: IPNetwork | None) -> int:
        """The scope for this client, remembered per geo database network where that is exact.

        Every address of the scope network gets the same scope (a wider uniform network around one
        of them would contain the others'). So when the scope network holds the client's whole geo
        network, the result holds for every client of that geo network, and millions of client
        subnets cost one computation per database network; otherwise it is kept per address.
        """
        by_network = (zone.origin.text, service.name, network) if network is not None else None
        by_address = (zone.origin.text, service.name, address)
        scopes = self._scopes
        cached = scopes.get(by_network) if by_network is not None else None
        if cached is None:
            cached = scopes.get(by_address)
        if cached is not None:
            return cached
        scope = self.compute_scope(zone, service, address)
        if len(scopes) >= SCOPE_CACHE_LIMIT:
            scopes.clear()
        fits = network is not None and scope <= network.prefixlen
        scopes[by_network if fits else by_address] = scope  # type: ignore[index]
        return scope

    def compute_scope(self, zone: Zone, service: Service, address: IPAddress) -> int:
        """The widest prefix around the address in which every client gets the same decision."""
        policy: Policy = zone.policy
        profile = policy.profiles[service.name]
        minimum = STICKY_PREFIX[address.version] if profile.sticky else 0
        if not profile.by_location and not profile.by_address:
            return minimum

        measurements = self.health.measurements
        zone_text = zone.origin.text

        def key_of(location: GeoLocation | None, at: IPAddress) -> tuple:
            return decision_key(policy, service, location, at, zone_text, measurements)

        geo = self.geo if profile.by_location else None
        return widest_uniform_prefix(address, key_of, geo, profile.cidr_networks, minimum)
