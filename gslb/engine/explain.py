"""`gslb explain` and `GET /v1/explain`: the answer for one client, and why.

The query goes through the same resolver and steering engine as real queries, with a
steering wrapper that records each decision, so the explanation cannot drift from what the
server actually answers.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from gslb.engine.resolver import Resolver
from gslb.engine.respond import Responder
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


class _TracingSteering:
    """Steering that also keeps the engine's decision trace for every steered name."""

    def __init__(self, engine: SteeringEngine) -> None:
        self.engine = engine
        self.traces: list[dict[str, Any]] = []

    def steer(self, zone: Zone, node: Node, owner: Name, qtype: int, client: Client) -> Steered:
        steps: list[dict[str, Any]] = []
        steered = self.engine.steer_traced(zone, node, owner, qtype, client, steps)
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
    ecs: str | None = None,
) -> dict[str, Any]:
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
    tracing = _TracingSteering(engine)
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
        "scope": answer.scope,
    }


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
            if "distances_km" in step:
                lines.append("    distances (km, after bias): " +
                             ", ".join(f"{k} {v}" for k, v in step["distances_km"].items()))
            if "all_down" in step:
                lines.append(f"    every candidate down: all_down = {step['all_down']}")
            if "chosen" in step:
                lines.append(f"    chosen: {step['chosen']}")
        lines.append(f"  ttl {trace['ttl']}, ECS scope /{trace['scope']}")
    if "health" in report:
        lines.append(f"health:   {report['health']}")
    lines.append(f"rcode:    {report['rcode']}")
    lines.extend(f"answer:   {record}" for record in report["answer"] or ["(none)"])
    return "\n".join(lines)


def _pool_text(candidate: dict[str, Any]) -> str:
    """'down for this family (ipv4 down, ipv6 up): 127.50.2.1 down, ::1 up'."""
    state = candidate["state"]
    if state == "skipped":
        state = "skipped: no member of the asked family"
    elif "families" in candidate:
        state += " (" + ", ".join(f"{family} {value}" for family, value in candidate["families"].items()) + ")"
    members = ", ".join(f"{m['address']} {m['state']}" for m in candidate["members"])
    return f"{state}: {members}"
