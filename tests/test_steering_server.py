"""Steering through the real server: queries from 127.x sources and with ECS, read with dnspython."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
import urllib.request
from collections import Counter

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import pytest

from tests import steering_zone
from tests.harness import RunningServer, start_server

SEOUL, FRANKFURT, CALIFORNIA, TOKYO, NOWHERE = "127.1.0.1", "127.2.0.1", "127.4.0.1", "127.5.0.1", "127.0.0.1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("steer-server")
    zones = workdir / "zones"
    zones.mkdir()
    (zones / "steer.test.yaml").write_text(steering_zone.TEXT)
    running = start_server(workdir, zones)
    yield running
    running.stop()


def a_records(reply: dns.message.Message) -> set[str]:
    return {rdata.to_text() for rrset in reply.answer if rrset.rdtype == 1 for rdata in rrset}


def with_ecs(server: RunningServer, name: str, subnet: str, source: str | None = None,
             rdtype: str = "A") -> dns.message.Message:
    address, prefix = subnet.split("/")
    option = dns.edns.ECSOption(address, int(prefix))
    return server.udp(dns.message.make_query(name, rdtype, use_edns=0, options=[option]), source=source)


def ecs_of(reply: dns.message.Message) -> dns.edns.ECSOption:
    [option] = [o for o in reply.options if isinstance(o, dns.edns.ECSOption)]
    return option


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (SEOUL, {"192.0.2.1", "192.0.2.2"}),
        (FRANKFURT, {"198.51.100.1"}),
        (CALIFORNIA, {"203.0.113.1", "203.0.113.2"}),
    ],
)
def test_geo_by_source_address(server: RunningServer, source: str, expected: set[str]) -> None:
    reply = server.ask("geo.steer.test", "A", source=source)
    assert reply.flags & dns.flags.AA
    assert a_records(reply) == expected
    assert reply.answer[0].ttl == 60


@pytest.mark.parametrize(
    ("name", "subnet", "expected", "scope"),
    [
        ("geo.steer.test", "127.1.0.0/24", {"192.0.2.1", "192.0.2.2"}, 16),
        ("geo.steer.test", "127.4.0.0/24", {"203.0.113.1", "203.0.113.2"}, 14),
        ("near.steer.test", "127.5.0.0/24", {"192.0.2.11"}, 16),
        ("net.steer.test", "127.21.0.0/24", {"192.0.2.1", "192.0.2.2"}, 16),
        ("net.steer.test", "127.30.0.0/24", {"203.0.113.1", "203.0.113.2"}, 13),
        ("order.steer.test", "127.1.0.0/24", {"203.0.113.99"}, 0),
    ],
)
def test_ecs_decides_and_scopes(server: RunningServer, name: str, subnet: str, expected: set[str], scope: int) -> None:
    # Sent from 127.2.0.1 (Frankfurt): the ECS subnet, not the source, decides.
    reply = with_ecs(server, name, subnet, source=FRANKFURT)
    assert a_records(reply) == expected
    option = ecs_of(reply)
    assert (option.address, option.srclen, option.scopelen) == (subnet.split("/")[0], 24, scope)


def test_static_answer_has_scope_zero(server: RunningServer) -> None:
    reply = with_ecs(server, "ns1.steer.test", "127.1.0.0/24")
    assert ecs_of(reply).scopelen == 0


def test_ecs_source_prefix_zero_decides_by_source_address(server: RunningServer) -> None:
    reply = with_ecs(server, "geo.steer.test", "0.0.0.0/0", source=SEOUL)
    assert a_records(reply) == {"192.0.2.1", "192.0.2.2"}
    assert ecs_of(reply).scopelen == 0


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00\x01\x18",  # shorter than 4 bytes
        b"\x00\x03\x18\x00\x7f\x01\x00",  # family 3
        b"\x00\x01\x21\x00\x7f\x01\x00\x00\x00",  # /33 for IPv4
        b"\x00\x02\x81\x00" + bytes(17),  # /129 for IPv6
        b"\x00\x01\x18\x10\x7f\x01\x00",  # non-zero scope in a query
        b"\x00\x01\x18\x00\x7f\x01",  # /24 needs 3 address bytes
        b"\x00\x01\x10\x00\x7f\x01\x05",  # /16 with 3 bytes
        b"\x00\x01\x17\x00\x7f\x01\x01",  # bits set beyond /23
    ],
    ids=["short", "family", "v4-prefix", "v6-prefix", "scope", "address-short", "address-long", "host-bits"],
)
def test_invalid_ecs_is_formerr(server: RunningServer, payload: bytes) -> None:
    query = dns.message.make_query("geo.steer.test", "A", use_edns=0)
    wire = bytearray(query.to_wire())
    option = b"\x00\x08" + len(payload).to_bytes(2, "big") + payload
    wire[-2:] = len(option).to_bytes(2, "big")  # the OPT record is last and had no options
    raw = server.raw_udp(bytes(wire) + option)
    assert raw is not None
    assert raw[3] & 0x0F == dns.rcode.FORMERR
    assert int.from_bytes(raw[6:8], "big") == 0  # no answer


def test_steered_answer_fitted_to_udp_size(server: RunningServer) -> None:
    plain = server.ask("big.steer.test", "A", use_edns=False)
    assert not plain.flags & dns.flags.TC
    assert 1 <= len(plain.answer[0]) < 60
    full = server.tcp(dns.message.make_query("big.steer.test", "A"))
    assert len(full.answer[0]) == 60


def test_nodata_for_a_family_without_members(server: RunningServer) -> None:
    reply = server.ask("v4only.steer.test", "AAAA")
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.answer == []
    assert reply.authority[0].rdtype == 6  # SOA


def test_aaaa_from_ipv6_members(server: RunningServer) -> None:
    reply = server.ask("geo.steer.test", "AAAA", source=SEOUL)
    assert {r.to_text() for r in reply.answer[0]} == {"2001:db8:1::1"}


def test_cname_into_a_steered_name(server: RunningServer) -> None:
    reply = server.ask("cname-to-geo.steer.test", "A", source=FRANKFURT)
    assert [rrset.rdtype for rrset in reply.answer] == [5, 1]
    assert a_records(reply) == {"198.51.100.1"}


def test_weighted_proportions_over_real_queries(server: RunningServer) -> None:
    runs = 1000
    canary = sum(a_records(server.ask("split.steer.test", "A")) == {"203.0.113.99"} for _ in range(runs))
    assert abs(canary - 200) < 5 * (runs * 0.2 * 0.8) ** 0.5


def test_sticky_over_real_queries(server: RunningServer) -> None:
    subnets = [f"127.50.{i}.0/24" for i in range(40)]
    first = {s: sorted(a_records(with_ecs(server, "split-sticky.steer.test", s))) for s in subnets}
    again = {s: sorted(a_records(with_ecs(server, "split-sticky.steer.test", s))) for s in subnets}
    assert first == again
    assert len({tuple(v) for v in first.values()}) >= 3  # spread over the pools
    assert ecs_of(with_ecs(server, "split-sticky.steer.test", subnets[0])).scopelen == 24


def test_composition_over_real_queries(server: RunningServer) -> None:
    answers = Counter(frozenset(a_records(server.ask("nested.steer.test", "A", source=SEOUL))) for _ in range(200))
    assert set(answers) == {frozenset({"203.0.113.1", "203.0.113.2"}), frozenset({"203.0.113.99"})}


def test_explain_api(server: RunningServer) -> None:
    query = urllib.parse.urlencode({"name": "geo.steer.test", "client": NOWHERE, "ecs": "127.1.0.0/24"})
    with urllib.request.urlopen(f"http://{server.http}/v1/explain?{query}", timeout=5) as response:
        report = json.load(response)
    assert report["client"]["location"]["country"] == "KR"
    assert report["client"]["geo_network"] == "127.1.0.0/16"
    [trace] = report["steering"]
    assert trace["service"] == "geo"
    step = trace["steps"][0]
    assert step["rule"] == "map KR"
    assert [c["name"] for c in step["candidates"]] == ["seoul", "tokyo"]
    assert step["candidates"][0]["state"] == "up"
    assert step["chosen"] == "seoul"
    assert (trace["ttl"], trace["scope"]) == (60, 16)
    assert sorted(report["answer"]) == ["geo.steer.test. 60 A 192.0.2.1", "geo.steer.test. 60 A 192.0.2.2"]


def test_explain_api_rejects_bad_input(server: RunningServer) -> None:
    for params in ({"name": "geo.steer.test"}, {"name": "geo.steer.test", "client": "nope"},
                   {"name": "geo.steer.test", "client": "127.0.0.1", "ecs": "127.1.0.1/24"},
                   {"name": "geo.steer.test", "client": "127.0.0.1", "type": "BOGUS"}):
        url = f"http://{server.http}/v1/explain?{urllib.parse.urlencode(params)}"
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url, timeout=5)
        assert caught.value.code == 400


def test_explain_command(server: RunningServer) -> None:
    args = [sys.executable, "-m", "gslb", "explain", "near.steer.test", "A", "--client", "127.9.0.1",
            "-c", str(server.config_path), "--server", str(server.http)]
    live = subprocess.run(args, capture_output=True, text=True, timeout=30, cwd=server.workdir)
    assert live.returncode == 0, live.stderr
    text = live.stdout
    assert "location: Paris" in text and "FR" in text and "europe" in text
    assert "service near (nearest): by distance" in text
    assert "chosen: frankfurt" in text
    assert "answer:   near.steer.test. 60 A 198.51.100.1" in text
    assert "health:   live" in text
    offline = subprocess.run([*args, "--offline", "--json"], capture_output=True, text=True, timeout=30,
                             cwd=server.workdir)
    report = json.loads(offline.stdout)
    assert report["health"].startswith("offline")
    assert report["answer"] == ["near.steer.test. 60 A 198.51.100.1"]
    distances = report["steering"][0]["steps"][0]["distances_km"]
    assert list(distances) == ["frankfurt", "virginia", "seoul", "tokyo"]
