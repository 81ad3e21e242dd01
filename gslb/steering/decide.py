"""What a client's properties select, before health: the ordered candidates of a service.

This is "the decision" of the ECS rules in docs/steering.md: two clients with equal decision
keys get the same answer whatever the health, so the ECS scope is the widest network in which
every address has the same key. Decisions are pure functions of the policy, the client's geo
location and its address.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from typing import Any

from gslb.geo.location import GeoLocation
from gslb.health.view import NO_MEASUREMENTS, Measurements
from gslb.zones.policy_model import Policy, Service

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Decision:
    """The candidates a client gets from one service, in order of preference."""

    service: str
    rule: str  # why: "map KR", "map default", "cidr 10.0.0.0/8", "by distance", "list"
    candidates: tuple[str, ...]
    distances: tuple[tuple[str, float], ...] = ()  # nearest: km after bias; latency: ms, for explain


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def decide(
    policy: Policy,
    service: Service,
    location: GeoLocation | None,
    address: IPAddress,
    zone: str = "",
    measurements: Measurements = NO_MEASUREMENTS,
) -> Decision:
    method = service.method
    if method == "geo":
        return _geo(service, location)
    if method == "cidr":
        return _cidr(service, address)
    if method == "nearest":
        return _nearest(policy, service, location)
    if method == "latency":
        return _latency(policy, service, location, zone, measurements)
    if method == "least-loaded":
        return _least_loaded(service, measurements.pool_load.get(zone, {}))
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


def nearest_prober(
    location: GeoLocation | None, probers: dict[str, tuple[float, float]] | Any
) -> str | None:
    """The prober standing closest to the client (ties: the first name in order)."""
    if location is None or location.latitude is None or location.longitude is None or not probers:
        return None
    here = (location.latitude, location.longitude)
    return min(sorted(probers), key=lambda name: haversine_km(here, probers[name]))


def _latency(
    policy: Policy, service: Service, location: GeoLocation | None, zone: str, measurements: Measurements
) -> Decision:
    prober = nearest_prober(location, measurements.prober_locations.get(zone, {}))
    if prober is None:
        return Decision(service.name, "list (no prober near the client)", service.candidates)
    rtts = measurements.rtt_ms.get(zone, {}).get(prober, {})
    measured = []
    for index, name in enumerate(service.candidates):
        pool = policy.pools.get(name)
        rtt = rtts.get(pool.datacenter or "") if pool is not None else None
        measured.append((rtt if rtt is not None else float("inf"), index, name))
    measured.sort()
    return Decision(
        service.name,
        f"by round-trip time from prober {prober}",
        tuple(name for _, _, name in measured),
        tuple((name, round(ms, 2)) for ms, _, name in measured if ms != float("inf")),
    )


def _least_loaded(service: Service, loads: dict[str, float] | Any) -> Decision:
    ranked = sorted(
        enumerate(service.candidates), key=lambda item: (loads.get(item[1], float("inf")), item[0])
    )
    return Decision(service.name, "by reported load", tuple(name for _, name in ranked))


def decision_key(
    policy: Policy,
    service: Service,
    location: GeoLocation | None,
    address: IPAddress,
    zone: str = "",
    measurements: Measurements = NO_MEASUREMENTS,
) -> tuple:
    """Everything the client's properties decide in this service and the services below it.

    For `latency` that is the prober nearest to the client, not the order its measurements give:
    measurements change over time, so a scope must not rest on two regions' orders being equal.
    """
    if service.method == "latency":
        own: tuple = ("prober", nearest_prober(location, measurements.prober_locations.get(zone, {})))
        candidates = service.candidates
    else:
        decision = decide(policy, service, location, address, zone, measurements)
        own, candidates = decision.candidates, decision.candidates
    reachable = (*candidates, service.all_down) if service.all_down not in ("fail-open", "servfail") else candidates
    nested = tuple(
        decision_key(policy, policy.services[name], location, address, zone, measurements)
        for name in reachable
        if name in policy.services
    )
    return (own, nested)
