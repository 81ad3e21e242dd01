"""In-process signed serving for the DNSSEC unit tests: a handler over signed zones, and checks.

`signed_handler` builds the query path the server builds (steering, engine, signer, compiled path)
over zone texts and a key folder, on a clock the test moves. `verify` checks every signature of a
reply with dnspython against the zone's DNSKEY set, as a validator would.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dns.dnssec
import dns.edns
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset

from gslb.config.model import DnsConfig, DnssecConfig
from gslb.dns.handler import QueryHandler, ServingState
from gslb.dnssec.signer import Signer
from gslb.engine.resolver import Resolver
from gslb.engine.respond import Responder
from gslb.geo.database import GeoDatabase
from gslb.steering.engine import SteeringEngine
from gslb.zones.directory import load_zone_paths
from gslb.zones.zoneset import ZoneSet
from tests.harness import write_zones
from tests.testdata import built_test_geodb

START = 1_800_000_000.0  # 2027-01-15 08:00 UTC


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def signed_handler(folder: Path, texts: dict[str, str], keys: Path, clock: Clock, *, compiled: bool = True,
                   cache: int = 100_000) -> QueryHandler:
    """A handler serving the zones `texts` (zone name -> file text) signed with the keys in `keys`."""
    report = load_zone_paths(sorted(write_zones(folder, texts).glob("*.yaml")))
    assert not report.rejected, [str(p) for e in report.rejected for p in e.problems]
    zones = ZoneSet(report.loaded)
    steering = SteeringEngine(GeoDatabase.open(str(built_test_geodb())), seed=3)
    signer = Signer(DnssecConfig(keys=keys, signature_cache=cache), clock=clock)
    handler = QueryHandler(ServingState(zones), Responder(Resolver(steering)), DnsConfig(),
                           steering if compiled else None, signer=signer)
    handler.zones_changed(zones)
    return handler


def ask(handler: QueryHandler, name: str, rdtype: str = "A", *, do: bool = True, co: bool = False, payload: int = 1232,
        source: str = "127.0.0.1", ecs: str | None = None, tcp: bool = False) -> dns.message.Message:
    options = [dns.edns.ECSOption.from_text(ecs)] if ecs else []
    query = dns.message.make_query(name, rdtype, want_dnssec=do, use_edns=0, payload=payload, options=options)
    if co:
        query.ednsflags |= 0x4000
    reply = handler.handle(query.to_wire(), ipaddress.ip_address(source), tcp)
    assert reply is not None
    return dns.message.from_wire(reply)


def keyring(handler: QueryHandler, *zones: str) -> dict[dns.name.Name, dns.rrset.RRset]:
    """The DNSKEY sets of the zones, as the handler answers them."""
    return {dns.name.from_text(zone): ask(handler, zone, "DNSKEY").answer[0] for zone in zones}


def verify(reply: dns.message.Message, keys: dict[dns.name.Name, dns.rrset.RRset], now: float) -> list[str]:
    """Check every RRSIG of the reply; the RRsets that have none, as 'name TYPE' (raises when one fails)."""
    unsigned = []
    for section in (reply.answer, reply.authority, reply.additional):
        for rrset in section:
            if rrset.rdtype == dns.rdatatype.RRSIG:
                continue
            signature = next((s for s in section if s.rdtype == dns.rdatatype.RRSIG and s.name == rrset.name
                              and s.covers == rrset.rdtype), None)
            if signature is None:
                unsigned.append(f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)}")
                continue
            dns.dnssec.validate(rrset, signature, keys, now=now)
    return unsigned
