"""Malformed packets of every shape: the handler never raises and the server keeps answering.

The handler turns any exception into SERVFAIL and logs it, so "never raises" is not enough: the
in-process tests also fail when it logged an internal error (see tests/handler_errors.py).
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import dns.message
import dns.rcode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gslb.config.model import DnsConfig
from gslb.dns.handler import QueryHandler, ServingState
from gslb.engine.resolver import Resolver
from gslb.engine.respond import Responder
from gslb.geo.database import GeoDatabase
from gslb.steering.engine import SteeringEngine
from gslb.zones.directory import load_zone_paths, zone_files
from gslb.zones.zoneset import ZoneSet
from tests.handler_errors import no_internal_errors
from tests.harness import RunningServer
from tests.testdata import EXAMPLE_ZONES, built_test_geodb

VALID = [
    dns.message.make_query("www.example.com", "A").to_wire(),
    dns.message.make_query("a.static.example.com", "AAAA", use_edns=0, payload=4096).to_wire(),
    dns.message.make_query("x.sub.example.com", "NS", use_edns=False).to_wire(),
    dns.message.make_query("example.com", "ANY", use_edns=0).to_wire(),
]


def _handler() -> QueryHandler:
    report = load_zone_paths(zone_files(Path(EXAMPLE_ZONES)))
    state = ServingState(ZoneSet(report.loaded))
    steering = SteeringEngine(GeoDatabase.open(str(built_test_geodb())))
    return QueryHandler(state, Responder(Resolver(steering), "fuzz"), DnsConfig(nsid="fuzz"))


HANDLER = _handler()
SOURCE = ipaddress.ip_address("127.0.0.1")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid query with bytes flipped, cut short, or extended with junk."""
    packet = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 6))):
        index = draw(st.integers(0, len(packet) - 1))
        packet[index] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(packet)))
    tail = draw(st.binary(max_size=40))
    return bytes(packet[:cut]) + tail


packets = st.one_of(st.binary(max_size=600), mutated())


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packets, st.booleans())
def test_handler_never_raises(packet: bytes, tcp: bool) -> None:
    with no_internal_errors():
        reply = HANDLER.handle(packet, SOURCE, tcp)
    if reply is not None:
        assert len(reply) >= 12
        assert reply[:2] == packet[:2]  # the ID is always echoed
        assert reply[2] & 0x80  # QR
        if not tcp:
            assert len(reply) <= 1232


def test_handler_logged_no_internal_errors() -> None:
    with no_internal_errors():
        for packet in VALID:
            assert HANDLER.handle(packet, SOURCE, False) is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(packets, min_size=1, max_size=20))
def test_server_keeps_answering_after_garbage(example_server: RunningServer, batch: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for packet in batch:
            sock.sendto(packet, (example_server.host, example_server.port))
    reply = example_server.ask("www.example.com", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert example_server.alive()
    assert "internal error" not in example_server.log_text()
