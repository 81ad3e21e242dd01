"""The steering part of a zone file: datacenters, checks, pools and services.

Parsed into the immutable `gslb.zones.policy_model.Policy`. Like the rest of the loader, every
problem is collected with its line and field; references (unknown pools, cycles, a service
without candidates) are checked after all sections are read, so the order of sections in the
file does not matter.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
from typing import Any

from gslb.checks.spec import CheckSpec, CheckSpecError
from gslb.common.problems import Problems
from gslb.common.yamldoc import YList, YMap
from gslb.geo.subdivisions import CONTINENTS, continent_name, is_country_code, is_subdivision_code
from gslb.wire.name import Name
from gslb.zones.policy_model import (
    METHODS,
    SHARED_SECTIONS,
    Datacenter,
    Member,
    Policy,
    Pool,
    Service,
    SharedDefinitions,
)
from gslb.zones.policy_references import check_services

SECTIONS: tuple[str, ...] = ("datacenters", "checks", "pools", "services")
DATACENTER_KEYS = ("location",)
POOL_KEYS = ("datacenter", "check", "members", "min_healthy", "initial")
MEMBER_KEYS = ("address", "weight")
SERVICE_KEYS = ("method", "ttl", "map", "pools", "bias", "sticky", "answers", "all_down")
MAX_TTL = 2**31 - 1
# Which service keys each method takes; anything else is a mistake worth naming.
METHOD_KEYS = {
    "geo": {"map"},
    "cidr": {"map"},
    "nearest": {"pools", "bias"},
    "weighted": {"pools"},
    "failover": {"pools"},
    "all": {"pools"},
    "latency": {"pools"},
    "least-loaded": {"pools"},
}
COMMON_SERVICE_KEYS = {"method", "ttl", "sticky", "answers", "all_down"}


def parse_policy(doc: YMap, origin: Name, problems: Problems,
                 shared: SharedDefinitions | None = None) -> Policy | None:
    """Parse the steering sections, with the folder's `shared` definitions; None when the zone has none."""
    if not any(section in doc for section in SECTIONS):
        return None
    reader = _PolicyReader(problems)
    if shared is not None:
        for section in SHARED_SECTIONS:
            reader.defined[section].update(shared.section(section))
    datacenters, checks, pools = reader.shareable(doc, shared)
    services = reader.section(doc, "services", reader.service)
    policy = Policy(datacenters, checks, pools, services)
    check_services(policy, doc.get("services"), problems, reader.defined)
    return policy


def parse_shared_sections(doc: YMap, problems: Problems) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The datacenters, checks and pools of a shared file (gslb.zones.shared), read like a zone's."""
    return _PolicyReader(problems).shareable(doc)


class _PolicyReader:
    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.datacenters: dict[str, Datacenter] = {}
        self.checks: dict[str, CheckSpec] = {}
        # Every name each section defines, valid or not: a definition with its own problems
        # is not reported again as unknown wherever it is used.
        self.defined: dict[str, set[str]] = {section: set() for section in SECTIONS}

    def add(self, line: int, field: str, message: str) -> None:
        self.problems.add(line, field, message)

    def section(self, doc: YMap, name: str, parse: Any) -> dict[str, Any]:
        value = doc.get(name)
        if value is None:
            return {}
        if not isinstance(value, YMap):
            self.add(doc.line_of(name), name, "must be a mapping of names to settings")
            return {}
        result: dict[str, Any] = {}
        self.defined[name].update(value)
        for key, item in value.items():
            parsed = parse(key, item, f"{name}.{key}", value.line_of(key))
            if parsed is not None:
                result[key] = parsed
        return result

    def shareable(self, doc: YMap, shared: SharedDefinitions | None = None
                  ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The datacenters, checks and pools, each with the folder's `shared` ones merged in; in that
        order, since a pool looks up its datacenter and check."""

        def section(name: str, parse: Any) -> dict[str, Any]:
            own = self.section(doc, name, parse)
            return shared.merged(name, own, doc.get(name), self.problems) if shared is not None else own

        datacenters = section("datacenters", self.datacenter)
        checks = section("checks", self.check)
        self.datacenters, self.checks = datacenters, checks
        return datacenters, checks, section("pools", self.pool)

    def mapping(self, value: Any, field: str, line: int, keys: tuple[str, ...]) -> YMap | None:
        if not isinstance(value, YMap):
            self.add(line, field, f"must be a mapping with: {', '.join(keys)}")
            return None
        for key in value:
            if key not in keys:
                self.add(value.line_of(key), f"{field}.{key}", f"unknown key (expected one of: {', '.join(keys)})")
        return value

    # -- sections ------------------------------------------------------------------------

    def datacenter(self, name: str, value: Any, field: str, line: int) -> Datacenter | None:
        value = self.mapping(value, field, line, DATACENTER_KEYS)
        if value is None:
            return None
        location = None
        if "location" in value:
            location = self.coordinates(value["location"], f"{field}.location", value.line_of("location"))
            if location is None:
                return None
        return Datacenter(name, location)

    def coordinates(self, value: Any, field: str, line: int) -> tuple[float, float] | None:
        if not isinstance(value, list) or len(value) != 2 or not all(_is_number(v) for v in value):
            self.add(line, field, f"'{value}' is not [latitude, longitude]")
            return None
        latitude, longitude = float(value[0]), float(value[1])
        valid = True
        if not -90 <= latitude <= 90:
            self.add(line, field, f"latitude {value[0]} is out of range (-90 to 90)")
            valid = False
        if not -180 <= longitude <= 180:
            self.add(line, field, f"longitude {value[1]} is out of range (-180 to 180)")
            valid = False
        return (latitude, longitude) if valid else None

    def check(self, name: str, value: Any, field: str, line: int) -> CheckSpec | None:
        if not isinstance(value, YMap):
            self.add(line, field, "must be a mapping (type, port, path, interval, ...)")
            return None
        if "name" in value:
            self.add(value.line_of("name"), f"{field}.name", "unknown field")
            return None
        try:
            return CheckSpec.from_json({**value, "name": name} if name else dict(value))
        except CheckSpecError as exc:
            key = exc.field.split("[", 1)[0]
            self.add(value.line_of(key) if key in value else line, f"{field}.{exc.field}", exc.message)
            return None

    def pool(self, name: str, value: Any, field: str, line: int) -> Pool | None:
        value = self.mapping(value, field, line, POOL_KEYS)
        if value is None:
            return None
        datacenter = value.get("datacenter")
        if datacenter is not None and not (isinstance(datacenter, str) and datacenter in self.defined["datacenters"]):
            self.add(value.line_of("datacenter"), f"{field}.datacenter", f"unknown datacenter '{datacenter}'")
            datacenter = None
        check = self.pool_check(value, field)
        raw_members = value.get("members")
        members_line = value.line_of("members") if "members" in value else line
        members = self.members(raw_members, f"{field}.members", members_line)
        listed = len(raw_members) if isinstance(raw_members, list) else 0
        min_healthy = value.get("min_healthy", 1)
        if isinstance(min_healthy, bool) or not isinstance(min_healthy, int) or min_healthy < 1:
            self.add(value.line_of("min_healthy"), f"{field}.min_healthy",
                     f"'{min_healthy}' is not a whole number >= 1")
            min_healthy = 1
        elif listed and min_healthy > listed:
            self.add(value.line_of("min_healthy"), f"{field}.min_healthy",
                     f"{min_healthy} is more than the pool's {listed} member{'s' if listed > 1 else ''}")
        initial = value.get("initial", "up")
        if initial not in ("up", "down"):
            self.add(value.line_of("initial"), f"{field}.initial", f"'{initial}' is not up or down")
            initial = "up"
        if not members:
            return None
        return Pool(name, datacenter, check, members, min_healthy, initial)

    def pool_check(self, value: YMap, field: str) -> CheckSpec | None:
        check = value.get("check")
        line = value.line_of("check")
        if check is None:
            return None
        if isinstance(check, YMap):
            return self.check("", check, f"{field}.check", line)
        if not isinstance(check, str) or check not in self.checks:
            if not (isinstance(check, str) and check in self.defined["checks"]):
                self.add(line, f"{field}.check", f"unknown check '{check}'")
            return None
        return self.checks[check]

    def members(self, value: Any, field: str, line: int) -> tuple[Member, ...]:
        if not isinstance(value, list) or not value:
            self.add(line, field, "needs a list of at least one member address")
            return ()
        members: list[Member] = []
        seen: set[Any] = set()
        for index, item in enumerate(value):
            item_line = value.line_of(index) if isinstance(value, YList) else line
            item_field = f"{field}[{index}]"
            weight: Any = 1
            if isinstance(item, YMap):
                if self.mapping(item, item_field, item_line, MEMBER_KEYS) is None:
                    continue
                if "address" not in item:
                    self.add(item_line, f"{item_field}.address", "required")
                    continue
                address_text = item.get("address")
                weight = item.get("weight", 1)
                if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
                    self.add(item.line_of("weight"), f"{item_field}.weight",
                             f"'{weight}' is not a whole number >= 0 (0: standby)")
                    continue
                item_field += ".address"
            else:
                address_text = item
            try:
                address = ipaddress.ip_address(str(address_text).strip()) if isinstance(address_text, str) else None
            except ValueError:
                address = None
            if address is None:
                self.add(item_line, item_field, f"'{address_text}' is not an IP address")
                continue
            if address in seen:
                self.add(item_line, item_field, f"{address} is listed twice")
                continue
            seen.add(address)
            members.append(Member(address, weight))
        return tuple(members)

    def service(self, name: str, value: Any, field: str, line: int) -> Service | None:
        value = self.mapping(value, field, line, SERVICE_KEYS)
        if value is None:
            return None
        method = value.get("method")
        if method not in METHODS:
            self.add(value.line_of("method") if "method" in value else line, f"{field}.method",
                     _unknown_method(method) if method is not None else "required")
            return None
        for key in value:
            if key in SERVICE_KEYS and key not in COMMON_SERVICE_KEYS and key not in METHOD_KEYS[method]:
                self.add(value.line_of(key), f"{field}.{key}", f"does not apply to method {method}")
        kwargs: dict[str, Any] = {"name": name, "method": method}
        if "ttl" in value:
            ttl = value["ttl"]
            if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL:
                self.add(value.line_of("ttl"), f"{field}.ttl",
                         f"'{ttl}' is not a TTL (whole seconds from 0 to {MAX_TTL})")
            else:
                kwargs["ttl"] = ttl
        if "sticky" in value:
            if not isinstance(value["sticky"], bool):
                self.add(value.line_of("sticky"), f"{field}.sticky", f"'{value['sticky']}' is not true or false")
            else:
                kwargs["sticky"] = value["sticky"]
        if "answers" in value:
            answers = self.mapping(value["answers"], f"{field}.answers", value.line_of("answers"), ("max",))
            if answers is not None and "max" in answers:
                most = answers["max"]
                if isinstance(most, bool) or not isinstance(most, int) or most < 1:
                    self.add(answers.line_of("max"), f"{field}.answers.max", f"'{most}' is not a whole number >= 1")
                else:
                    kwargs["answers_max"] = most
        if "all_down" in value:
            all_down = value["all_down"]
            if not isinstance(all_down, str) or not all_down:
                self.add(value.line_of("all_down"), f"{field}.all_down",
                         f"'{all_down}' is not fail-open, servfail or a pool or service name")
            else:
                kwargs["all_down"] = all_down
        if method in ("geo", "cidr"):
            self.service_map(method, value, field, line, kwargs)
        else:
            self.service_pools(method, value, field, line, kwargs)
        return Service(**kwargs)

    def name_list(self, value: Any, field: str, line: int) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(item, str) and item for item in items):
            self.add(line, field, f"'{value}' is not a pool or service name, or a list of them")
            return ()
        if len(set(items)) != len(items):
            self.add(line, field, "lists the same name twice")
        return tuple(items)

    def service_map(self, method: str, value: YMap, field: str, line: int, kwargs: dict[str, Any]) -> None:
        table = value.get("map")
        if not isinstance(table, YMap) or not table:
            self.add(value.line_of("map") if "map" in value else line, f"{field}.map",
                     "required: a mapping of client locations to pool lists, with a default")
            return
        entries: dict[str, tuple[str, ...]] = {}
        networks: list[tuple[Any, tuple[str, ...]]] = []
        for key, targets in table.items():
            key_line = table.line_of(key)
            names = self.name_list(targets, f"{field}.map.{key}", key_line)
            if key == "default":
                kwargs["default"] = names
            elif method == "geo":
                problem = _geo_key_problem(key)
                if problem:
                    self.add(key_line, f"{field}.map.{key}", problem)
                else:
                    entries[key] = names
            else:
                problem = _cidr_key_problem(key)
                if problem:
                    self.add(key_line, f"{field}.map.{key}", problem)
                else:
                    networks.append((ipaddress.ip_network(key), names))
        if "default" not in table:
            self.add(value.line_of("map"), f"{field}.map",
                     "needs a 'default' entry for clients that match nothing else")
        if method == "geo":
            kwargs["geo_map"] = entries
        else:
            networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
            kwargs["cidr_map"] = tuple(networks)

    def service_pools(self, method: str, value: YMap, field: str, line: int, kwargs: dict[str, Any]) -> None:
        pools = value.get("pools")
        pools_line = value.line_of("pools") if "pools" in value else line
        if pools is None or pools == [] or pools == {}:
            self.add(pools_line, f"{field}.pools", "required: at least one pool or service")
            return
        if method == "weighted":
            if not isinstance(pools, YMap):
                self.add(pools_line, f"{field}.pools", "weighted needs a mapping of pool names to weights")
                return
            weights: dict[str, int] = {}
            for name, weight in pools.items():
                if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
                    self.add(pools.line_of(name), f"{field}.pools.{name}",
                             f"'{weight}' is not a whole number >= 0 (0: standby)")
                    continue
                weights[name] = weight
            kwargs["weights"] = weights
            kwargs["candidates"] = tuple(weights)
            return
        if isinstance(pools, YMap):
            self.add(pools_line, f"{field}.pools", f"{method} needs a list of pool names (weights are for weighted)")
            return
        kwargs["candidates"] = self.name_list(pools, f"{field}.pools", pools_line)
        bias = value.get("bias")
        if bias is not None and method == "nearest":
            if not isinstance(bias, YMap):
                self.add(value.line_of("bias"), f"{field}.bias", "must map pool names to kilometres")
                return
            parsed: dict[str, float] = {}
            for name, km in bias.items():
                if name not in kwargs["candidates"]:
                    self.add(bias.line_of(name), f"{field}.bias.{name}", f"'{name}' is not one of this service's pools")
                elif not _is_number(km):
                    self.add(bias.line_of(name), f"{field}.bias.{name}", f"'{km}' is not a number of kilometres")
                else:
                    parsed[name] = float(km)
            kwargs["bias"] = parsed


def _unknown_method(method: Any) -> str:
    """The message for a method that is none of METHODS, with the nearest spelling when there is one."""
    close = difflib.get_close_matches(str(method).lower(), METHODS, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"'{method}' is not one of: {', '.join(METHODS)}{hint}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _geo_key_problem(key: str) -> str | None:
    if key in CONTINENTS:
        return None
    if "-" in key and key.upper() == key:
        return None if is_subdivision_code(key) else f"'{key}' is not an ISO 3166-2 subdivision code"
    if len(key) == 2 and key.isupper():
        if is_country_code(key):
            return None
        continent = continent_name(key)
        hint = f" (continents are spelled out: {continent})" if continent else ""
        return f"'{key}' is not an ISO 3166-1 country code{hint}"
    if key.lower() in CONTINENTS:
        return f"'{key}' is not a continent (continents are lower case: {key.lower()})"
    return (
        f"'{key}' is neither a country (KR), a subdivision (US-CA) nor a continent "
        f"({', '.join(sorted(CONTINENTS))})"
    )


def _cidr_key_problem(key: str) -> str | None:
    try:
        ipaddress.ip_network(key, strict=True)
    except ValueError:
        pass
    else:
        return None
    try:
        network = ipaddress.ip_network(key, strict=False)
    except ValueError:
        return f"'{key}' is not a network in CIDR form (e.g. 10.0.0.0/8 or 2001:db8::/32)"
    return f"'{key}' has host bits set (the network is {network})"
