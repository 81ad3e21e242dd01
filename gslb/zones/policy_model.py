"""The steering policy of a zone, as loaded: datacenters, pools, services.

Everything here is immutable and validated by `gslb.zones.policy`; the steering engine reads
it and never changes it. Pool and service names share one namespace, so a candidate in a
service is just a name that resolves to either.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from gslb.checks.spec import CheckSpec
from gslb.common.problems import Problems
from gslb.common.yamldoc import YMap

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METHODS = ("geo", "nearest", "weighted", "failover", "cidr", "all", "latency", "least-loaded")
# Methods whose candidate order depends on where the client is.
LOCATION_METHODS = frozenset(("geo", "nearest", "latency"))
# The sections a folder's shared file may hold (gslb.zones.shared).
SHARED_SECTIONS = ("datacenters", "checks", "pools")


@dataclass(frozen=True, slots=True)
class Datacenter:
    name: str
    location: tuple[float, float] | None  # (latitude, longitude)


@dataclass(frozen=True, slots=True)
class Member:
    address: IPAddress
    weight: int = 1

    @property
    def family(self) -> int:
        return self.address.version


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    datacenter: str | None
    check: CheckSpec | None  # None: never probed, up unless overridden
    members: tuple[Member, ...]
    min_healthy: int = 1
    initial: str = "up"  # state of members never judged since start
    # Derived once here, not on every query: the members of each address family (4, 6).
    by_family: dict[int, tuple[Member, ...]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        grouped: dict[int, tuple[Member, ...]] = {}
        for member in self.members:
            grouped[member.family] = (*grouped.get(member.family, ()), member)
        object.__setattr__(self, "by_family", grouped)

    def of_family(self, family: int) -> tuple[Member, ...]:
        """The members of one address family (4 or 6), in listed order."""
        return self.by_family.get(family, ())

    def needed(self, family: int) -> int:
        """How many members of the family must be up: `min_healthy`, capped at how many it has.

        A pool is judged per family because A and AAAA answers are separate answers: an IPv6
        member that is up says nothing about the IPv4 address a client would be sent to.
        """
        return min(self.min_healthy, len(self.of_family(family)))


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    method: str
    candidates: tuple[str, ...] = ()  # pools or services, in order (failover, nearest, all, ...)
    weights: dict[str, int] = field(default_factory=dict)  # weighted
    geo_map: dict[str, tuple[str, ...]] = field(default_factory=dict)  # geo: key -> ordered candidates
    cidr_map: tuple[tuple[IPNetwork, tuple[str, ...]], ...] = ()  # cidr: longest prefix first
    default: tuple[str, ...] = ()  # geo and cidr
    bias: dict[str, float] = field(default_factory=dict)  # nearest: km subtracted per candidate
    ttl: int | None = None
    answers_max: int | None = None
    sticky: bool = False
    all_down: str = "fail-open"  # fail-open | servfail | a pool or service name

    def referenced(self) -> tuple[str, ...]:
        """Every candidate name this service can choose, each once, in first-seen order."""
        names: list[str] = []
        groups: list[tuple[str, ...]] = [self.candidates, tuple(self.weights), *self.geo_map.values()]
        groups += [entry for _, entry in self.cidr_map]
        groups.append(self.default)
        if self.all_down not in ("fail-open", "servfail"):
            groups.append((self.all_down,))
        for group in groups:
            for name in group:
                if name not in names:
                    names.append(name)
        return tuple(names)


@dataclass(frozen=True, slots=True)
class ServiceProfile:
    """What of the client a service's answers depend on, over it and every service it can reach."""

    by_location: bool  # geo, nearest or latency somewhere in the tree
    by_address: bool  # cidr somewhere in the tree
    sticky: bool
    cidr_networks: tuple[IPNetwork, ...]  # every cidr entry in the tree: boundaries for ECS scopes
    by_load: bool = False  # least-loaded somewhere in the tree: decisions follow reported loads

    @property
    def by_client(self) -> bool:
        return self.by_location or self.by_address or self.sticky


@dataclass(frozen=True, slots=True)
class Policy:
    datacenters: dict[str, Datacenter]
    checks: dict[str, CheckSpec]
    pools: dict[str, Pool]
    services: dict[str, Service]
    # Derived once here, not on every query: the profile of each service.
    profiles: dict[str, ServiceProfile] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "profiles", {name: self._profile(s) for name, s in self.services.items()})

    def service_tree(self, service: Service) -> list[Service]:
        """The service and every service it can reach, each once (cycles are rejected elsewhere)."""
        found: dict[str, Service] = {}
        stack = [service]
        while stack:
            current = stack.pop()
            if current.name in found:
                continue
            found[current.name] = current
            stack.extend(self.services[name] for name in current.referenced() if name in self.services)
        return list(found.values())

    def _profile(self, service: Service) -> ServiceProfile:
        tree = self.service_tree(service)
        return ServiceProfile(
            by_location=any(s.method in LOCATION_METHODS for s in tree),
            by_address=any(s.method == "cidr" for s in tree),
            sticky=any(s.sticky for s in tree),
            cidr_networks=tuple(network for s in tree for network, _ in s.cidr_map),
            by_load=any(s.method == "least-loaded" for s in tree),
        )


@dataclass(frozen=True)
class SharedDefinitions:
    """A folder's shared file as loaded (gslb.zones.shared): its definitions, where each is written,
    and a digest of its bytes (part of the content of every zone that uses it)."""

    file: str
    datacenters: dict[str, Datacenter]
    checks: dict[str, CheckSpec]
    pools: dict[str, Pool]
    lines: dict[tuple[str, str], int] = field(default_factory=dict)  # (section, name) -> line
    digest: bytes = b""

    def section(self, name: str) -> dict[str, Any]:
        return {"datacenters": self.datacenters, "checks": self.checks, "pools": self.pools}[name]

    def merged(self, section: str, own: dict[str, Any], raw: Any, problems: Problems) -> dict[str, Any]:
        """The shared definitions of `section` plus the zone's own (`raw`: the zone's section as written);
        each name defined in both places is a problem at the zone's line, naming the shared one."""
        if isinstance(raw, YMap):
            for name in raw:
                line = self.lines.get((section, name))
                if line is not None:
                    problems.add(raw.line_of(name), f"{section}.{name}",
                                 f"'{name}' is also defined in {self.file}:{line} (a name is defined once)")
        return {**self.section(section), **own}
