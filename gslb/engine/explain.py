"""`gslb explain` and `GET /v1/explain`: the answer for one client, and why.

The query goes through the same resolver and steering engine as real queries, with a
steering wrapper that records each decision, so the explanation cannot drift from what the
server actually answers. Asked of the running server, it also names the operator override that
decided each member (who set it, why, until when), since an override is the one thing in a
decision that no probe explains.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from gslb.engine.answer import Answer
from gslb.engine.resolver import Resolver
from gslb.engine.respond import Responder
from gslb.health.overrides import Override
from gslb.health.targets import MemberKey
from gslb.steering.client import Client
from gslb.steering.engine import SteeringEngine
from gslb.steering.steered import Steered
from gslb.wire.constants import RRClass, RRType, rcode_name, type_name
from gslb.wire.edns import ClientSubnet, EcsFormatError, parse_client_subnet
from gslb.wire.name import BadNameError, Name
from gslb.zones.model import Node, Zone
from gslb.zones.zoneset import ZoneSet


class ExplainError(ValueError):
    """A question that cannot be explained (bad name, type, address or subnet)."""


OverrideLookup = Callable[[MemberKey], Override | None]  # the override deciding a member, if any


class _TracingSteering:
    """Steering that also keeps the engine's decision trace for every steered name."""

    def __init__(self, engine: SteeringEngine, overrides: OverrideLookup | None) -> None:
        self.engine = engine
        self.overrides = overrides
        self.traces: list[dict[str, Any]] = []

    def steer(self, zone: Zone, node: Node, owner: Name, qtype: int, client: Client) -> Steered:
        steps: list[dict[str, Any]] = []
        steered = self.engine.steer_traced(zone, node, owner, qtype, client, steps)
        if self.overrides is not None:
            _name_overrides(steps, zone.origin.text, self.overrides)
        service = zone.policy.services[node.service or ""]
        self.traces.append({
            "name": owner.text,
            "service": node.service,
            "steps": steps,
            "answer": [r.text for r in steered.rrset.rdatas] if steered.rrset else [],
            "ttl": steered.rrset.ttl if steered.rrset else None,
            # The scope a resolver sending ECS for this client would get.
            "scope": self.engine.compute_scope(zone, service, client.address),
            "servfail": steered.servfail,
        })
        return steered


def _name_overrides(steps: list[dict[str, Any]], zone: str, lookup: OverrideLookup) -> None:
    """Add to each member of each pool considered the override that decides it, or None."""
    for step in steps:
        for candidate in step.get("candidates", []):
            if candidate["kind"] != "pool":
                continue
            for member in candidate["members"]:
                override = lookup((zone, candidate["name"], ipaddress.ip_address(member["address"])))
                member["override"] = override.to_api_json() if override is not None else None


def parse_ecs(text: str) -> ClientSubnet:
    """'203.0.113.0/24' -> the ClientSubnet a resolver would send."""
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ExplainError(f"--ecs {text!r}: {exc}") from None
    prefix = network.prefixlen
    raw = network.network_address.packed[: (prefix + 7) // 8]
    family = 1 if network.version == 4 else 2
    try:
        return parse_client_subnet(family.to_bytes(2, "big") + bytes((prefix, 0)) + raw)
    except EcsFormatError as exc:  # pragma: no cover - a strict network is always a valid option
        raise ExplainError(str(exc)) from None


def explain(
    zones: ZoneSet, engine: SteeringEngine, name: str, qtype: str = "A", client: str = "127.0.0.1",
    ecs: str | None = None, overrides: OverrideLookup | None = None,
) -> dict[str, Any]:
    """The report; `overrides` (the server's, when it is asked) names what decided each member."""
    try:
        qname = Name.from_text(name)
    except BadNameError as exc:
        raise ExplainError(f"name {name!r}: {exc}") from None
    try:
        rtype = RRType[qtype.upper()]
    except KeyError:
        raise ExplainError(f"type {qtype!r} is not one of {', '.join(t.name for t in RRType)}") from None
    try:
        source = ipaddress.ip_address(client)
    except ValueError:
        raise ExplainError(f"client {client!r} is not an IP address") from None
    subnet = parse_ecs(ecs) if ecs else None
    who = Client(source, subnet)
    tracing = _TracingSteering(engine, overrides)
    answer = Responder(Resolver(tracing)).respond(zones, qname, rtype, RRClass.IN, who)
    location, network = engine.geo.lookup(who.address) if engine.geo is not None else (None, None)
    return {
        "question": {"name": qname.text, "type": type_name(rtype)},
        "client": {
            "source": str(source),
            "ecs": str(subnet.network) if subnet else None,
            "decides_by": str(who.address),
            "geo_network": str(network) if network is not None else None,
            "location": _location(location),
        },
        "rcode": rcode_name(answer.rcode),
        "answer": [
            f"{rrset.name.text} {rrset.ttl} {type_name(rrset.rtype)} {rdata.text}"
            for rrset in answer.answer for rdata in rrset.rdatas
        ],
        "steering": tracing.traces,
        "dynamic": _dynamic(zones, answer),
        "scope": answer.scope,
    }


def _dynamic(zones: ZoneSet, answer: Answer) -> list[dict[str, Any]]:
    """The answer's RRsets that dynamic updates made, with the key that last changed each."""
    found = []
    for index, rrset in enumerate(answer.answer):
        zone = zones.find(rrset.name)
        if zone is None or zone.dynamic is None:
            continue
        owner = answer.owner if index == 0 and answer.owner is not None else rrset.name
        entry = zone.dynamic.rrsets.get((owner.wire, rrset.rtype))
        if entry is not None:
            record = entry.to_json()
            found.append({field: record[field] for field in ("name", "type", "key", "changed")})
    return found


def _location(location: Any) -> dict[str, Any] | None:
    if location is None:
        return None
    return {
        "country": location.country,
        "subdivision": location.subdivision,
        "continent": location.continent,
        "latitude": location.latitude,
        "longitude": location.longitude,
        "city": location.city,
    }


def format_explain(report: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    lines = []
    question = report["question"]
    client = report["client"]
    lines.append(f"question: {question['name']} {question['type']}")
    by = client["decides_by"] + (f" (ECS {client['ecs']}, source {client['source']})" if client["ecs"] else "")
    lines.append(f"client:   {by}")
    location = client["location"]
    if location:
        place = ", ".join(str(v) for v in (location["city"], location["subdivision"], location["country"],
                                           location["continent"]) if v)
        lines.append(f"location: {place} ({location['latitude']}, {location['longitude']}) "
                     f"from network {client['geo_network']}")
    else:
        lines.append(f"location: unknown (network {client['geo_network']})")
    for trace in report["steering"]:
        lines.append(f"steered:  {trace['name']} -> service {trace['service']}")
        for step in trace["steps"]:
            lines.append(f"  service {step['service']} ({step.get('method')}): {step.get('rule')}")
            for candidate in step.get("candidates", []):
                if candidate["kind"] == "service":
                    lines.append(f"    - {candidate['name']}: service")
                    continue
                lines.append(f"    - {candidate['name']} [{candidate['datacenter']}]: {_pool_text(candidate)}")
                lines.extend(f"      override: {text}" for text in _overrides_text(candidate))
            if "distances_km" in step:
                lines.append("    distances (km, after bias): " +
                             ", ".join(f"{k} {v}" for k, v in step["distances_km"].items()))
            if "all_down" in step:
                lines.append(f"    every candidate down: all_down = {step['all_down']}")
            if "chosen" in step:
                lines.append(f"    chosen: {step['chosen']}")
        lines.append(f"  ttl {trace['ttl']}, ECS scope /{trace['scope']}")
    for record in report.get("dynamic", []):
        lines.append(f"dynamic:  {record['name']} {record['type']}: last changed by key {record['key']} "
                     f"at {record['changed']}")
    if "health" in report:
        lines.append(f"health:   {report['health']}")
    lines.append(f"rcode:    {report['rcode']}")
    lines.extend(f"answer:   {record}" for record in report["answer"] or ["(none)"])
    return "\n".join(lines)


def _pool_text(candidate: dict[str, Any]) -> str:
    """'up (192.0.2.1 up)', or for a dual-stack pool 'down [ipv4 down, ipv6 up] (127.50.2.1 down, ::1 up)'."""
    state = candidate["state"]
    if state == "skipped":
        state = "skipped, no member of the asked family"
    elif "families" in candidate:
        state += " [" + ", ".join(f"{family} {value}" for family, value in candidate["families"].items()) + "]"
    members = ", ".join(f"{m['address']} {m['state']}" for m in candidate["members"])
    return f"{state} ({members})"


def _overrides_text(candidate: dict[str, Any]) -> list[str]:
    """Each override deciding members of the pool, once: 'down (pool eu) by ops: fibre cut, until ...'."""
    lines: list[str] = []
    for member in candidate["members"]:
        override = member.get("override")
        if not override:
            continue
        where = {"members": f"member {override.get('address')}", "pools": f"pool {override['name']}",
                 "datacenters": f"datacenter {override['name']}"}[override["kind"]]
        text = f"{override['state']} ({where}) by {override.get('by') or 'someone unnamed'}"
        text += f": {override['reason']}" if override.get("reason") else ": no reason given"
        text += f", until {override['expires']}" if override.get("expires") else ", until lifted"
        text += f", set {override['created']}"
        if text not in lines:
            lines.append(text)
    return lines
