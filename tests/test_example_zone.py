"""The example zone in zones/ with the bundled DB-IP database, as `make serve` runs it."""

from __future__ import annotations

import dns.edns
import dns.message
import pytest

from tests.harness import RunningServer, start_server
from tests.testdata import EXAMPLE_ZONES

# Real resolver subnets, placed by DB-IP City Lite; only carried in the ECS option.
SEOUL, FRANKFURT, VIRGINIA = "175.223.10.0", "3.120.0.0", "52.0.0.0"


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory):
    server = start_server(tmp_path_factory.mktemp("bundled"), EXAMPLE_ZONES, {"geodb": "bundled"})
    yield server
    server.stop()


def ask(server: RunningServer, name: str, subnet: str) -> set[str]:
    option = dns.edns.ECSOption(subnet, 24)
    reply = server.udp(dns.message.make_query(name, "A", use_edns=0, options=[option]))
    return {rdata.to_text() for rrset in reply.answer for rdata in rrset}


def test_www_differs_for_seoul_frankfurt_and_virginia(bundled: RunningServer) -> None:
    assert ask(bundled, "www.example.com", SEOUL) == {"192.0.2.10", "192.0.2.11"}  # KR: seoul-web
    assert ask(bundled, "www.example.com", FRANKFURT) == {"198.51.100.10"}  # europe: frankfurt-web
    # US-VA matches no key: default -> the 95/5 split between virginia-web and canary-web
    assert ask(bundled, "www.example.com", VIRGINIA) <= {"203.0.113.10", "203.0.113.11", "203.0.113.99"}


def test_api_goes_to_the_nearest_datacenter(bundled: RunningServer) -> None:
    assert ask(bundled, "api.example.com", SEOUL) == {"192.0.2.30"}
    assert ask(bundled, "api.example.com", FRANKFURT) == {"198.51.100.30"}
    assert ask(bundled, "api.example.com", VIRGINIA) == {"203.0.113.30"}
