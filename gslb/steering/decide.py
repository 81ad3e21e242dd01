"""What a client's properties select, before health: the ordered candidates of a service.

This is "the decision" of server.md's ECS rules: two clients with equal decision keys get the
same answer whatever the health, so the ECS scope is the widest network in which every address
has the same key. Decisions are pure functions of the policy, the client's geo location and
its address.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from gslb.geo.location import GeoLocation
from gslb.steering.model import Policy, Service

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Decision:
    """The candidates a client gets from one service, in order of preference."""

    service: str
    rule: str  # why: "map KR", "map default", "cidr 10.0.0.0/8", "by distance", "list"
    candidates: tuple[str, ...]
    distances: tuple[tuple[str, float], ...] = ()  # nearest: km after bias, for explain


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def decide(policy: Policy, service: Service, location: GeoLocation | None, address: IPAddress) -> Decision:
    method = service.method
    if method == "geo":
        return _geo(service, location)
    if method == "cidr":
        return _cidr(service, address)
    if method == "nearest":
        return _nearest(policy, service, location)
    return Decision(service.name, "list", service.candidates)


def _geo(service: Service, location: GeoLocation | None) -> Decision:
    if location is not None:
        for key in (location.subdivision, location.country, location.continent):
            if key is not None and key in service.geo_map:
                return Decision(service.name, f"map {key}", service.geo_map[key])
    return Decision(service.name, "map default", service.default)


def _cidr(service: Service, address: IPAddress) -> Decision:
    for network, names in service.cidr_map:  # longest prefix first
        if address.version == network.version and address in network:
            return Decision(service.name, f"cidr {network}", names)
    return Decision(service.name, "cidr default", service.default)


def _nearest(policy: Policy, service: Service, location: GeoLocation | None) -> Decision:
    if location is None or location.latitude is None or location.longitude is None:
        return Decision(service.name, "list (client location unknown)", service.candidates)
    here = (location.latitude, location.longitude)
    scored = []
    for index, name in enumerate(service.candidates):
        pool = policy.pools[name]
        datacenter = policy.datacenters[pool.datacenter or ""]
        assert datacenter.location is not None  # validated: nearest pools have coordinates
        km = haversine_km(here, datacenter.location) - service.bias.get(name, 0.0)
        scored.append((km, index, name))
    scored.sort()
    return Decision(
        service.name,
        "by distance",
        tuple(name for _, _, name in scored),
        tuple((name, round(km, 1)) for km, _, name in scored),
    )


def decision_key(policy: Policy, service: Service, location: GeoLocation | None, address: IPAddress) -> tuple:
    """Everything the client's properties decide in this service and the services below it."""
    decision = decide(policy, service, location, address)
    nested = tuple(
        decision_key(policy, policy.services[name], location, address)
        for name in _reachable(service, decision)
        if name in policy.services
    )
    return (decision.candidates, nested)


def _reachable(service: Service, decision: Decision) -> tuple[str, ...]:
    """Candidates the decision can lead to, including the all_down fallback."""
    if service.all_down not in ("fail-open", "servfail"):
        return (*decision.candidates, service.all_down)
    return decision.candidates


def service_tree(policy: Policy, service: Service) -> list[Service]:
    """The service and every service it can reach, each once."""
    found: dict[str, Service] = {}
    stack = [service]
    while stack:
        current = stack.pop()
        if current.name in found:
            continue
        found[current.name] = current
        stack.extend(policy.services[name] for name in current.referenced() if name in policy.services)
    return list(found.values())


def depends_on(policy: Policy, service: Service) -> tuple[bool, bool, bool]:
    """(location, address, sticky): what of the client this service's answers depend on."""
    tree = service_tree(policy, service)
    return (
        any(s.method in ("geo", "nearest", "latency") for s in tree),
        any(s.method == "cidr" for s in tree),
        any(s.sticky for s in tree),
    )
