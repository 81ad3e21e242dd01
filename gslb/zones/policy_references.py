"""Checks across a whole steering policy: references resolve, names do not clash, no cycles.

Run after every section is read, so the order of sections in a zone file does not matter, and
each problem is reported at the reference that causes it (`services.web.map.KR[1]`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from gslb.common.problems import Problems
from gslb.common.yamldoc import YList, YMap
from gslb.wire.name import Name
from gslb.zones.model import Node
from gslb.zones.policy_model import Policy, Service


def _broken(defined: dict[str, set[str]], section: str, name: str, parsed: dict[str, Any]) -> bool:
    """A name the file defines whose definition had problems of its own (already reported)."""
    return name in defined[section] and name not in parsed


def unknown_service(name: str, services: Mapping[str, Service], written: Collection[str]) -> str | None:
    """None when `name` is a service of the zone, or one the file defines (`written`) whose definition
    had problems of its own (already reported); else the end of the message: the services there are."""
    if name in services or name in written:
        return None
    return f" (services: {', '.join(sorted(services))})" if services else " (the zone has no services)"


def check_references(policy: Policy | None, nodes: dict[bytes, Node], origin: Name, problems: Problems,
                     written: Collection[str] = frozenset()) -> None:
    """Every `service:` on a name must point at a service of this zone."""
    services = policy.services if policy is not None else {}
    for node in nodes.values():
        if node.service is not None and (known := unknown_service(node.service, services, written)) is not None:
            problems.add(node.line, f"records.{node.name.relative_to(origin)}.service",
                         f"unknown service '{node.service}'{known}")


def check_services(policy: Policy, raw: Any, problems: Problems, defined: dict[str, set[str]]) -> None:
    """Names resolve, pools and services do not share names, no cycles, nearest has coordinates.

    Each problem is reported at the reference that causes it (`services.web.map.KR[1]`).
    """
    raw_lines = raw if isinstance(raw, YMap) else None

    def line_of(name: str) -> int:
        return raw_lines.line_of(name) if raw_lines is not None else 0

    for name in policy.services:
        if name in policy.pools:
            problems.add(line_of(name), f"services.{name}", f"'{name}' is also a pool name (they share one namespace)")
    for service in policy.services.values():
        spec = raw_lines.get(service.name) if raw_lines is not None else None
        if not isinstance(spec, YMap):
            continue
        for target, field, line in _references(service, spec, f"services.{service.name}"):
            known = target in policy.pools or target in policy.services
            if not known:
                if not (_broken(defined, "pools", target, policy.pools)
                        or _broken(defined, "services", target, policy.services)):
                    problems.add(line, field, f"unknown pool or service '{target}'")
                continue
            if service.method not in ("nearest", "latency") or field.endswith(".all_down"):
                continue
            pool = policy.pools.get(target)
            if target in policy.services:
                problems.add(line, field, f"{service.method} chooses by datacenter location: '{target}' is a service")
            elif pool is not None and service.method == "nearest":
                dc = policy.datacenters.get(pool.datacenter or "")
                if (dc is None or dc.location is None) and not _broken(defined,
                        "datacenters", pool.datacenter or "", policy.datacenters):
                    problems.add(line, field, f"pool '{target}' needs a datacenter with a location for nearest")
    for cycle in _cycles(policy):
        problems.add(line_of(cycle[0]), f"services.{cycle[0]}", "cycle: " + " -> ".join(cycle))


def _references(service: Service, spec: YMap, field: str) -> list[tuple[str, str, int]]:
    """Each name a parsed service refers to, with the field and line where the file says it."""
    sites: list[tuple[str, str, int]] = []

    def names(value: Any, where: str, line: int) -> None:
        if isinstance(value, str):
            sites.append((value, where, line))
        elif isinstance(value, YList):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    sites.append((item, f"{where}[{index}]", value.line_of(index)))

    if service.method in ("geo", "cidr"):
        table = spec.get("map")
        if isinstance(table, YMap):
            for key, targets in table.items():
                names(targets, f"{field}.map.{key}", table.line_of(key))
    else:
        pools = spec.get("pools")
        if isinstance(pools, YMap):
            if service.method == "weighted":
                sites.extend((name, f"{field}.pools.{name}", pools.line_of(name)) for name in pools)
        else:
            names(pools, f"{field}.pools", spec.line_of("pools"))
    if service.all_down not in ("fail-open", "servfail"):
        sites.append((service.all_down, f"{field}.all_down", spec.line_of("all_down")))
    return sites


def _cycles(policy: Policy) -> list[list[str]]:
    """Each service cycle once, as the path that closes it."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name):], name]
            if not any(set(cycle) == set(other) for other in found):
                found.append(cycle)
            return
        if name in done or name not in policy.services:
            return
        for target in policy.services[name].referenced():
            visit(target, [*path, name])
        done.add(name)

    for name in policy.services:
        visit(name, [])
    return found
