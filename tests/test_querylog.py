"""The sampled query log: every field at sample 1, nothing at 0, about half at 0.5."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import dns.edns
import dns.message

from tests.harness import RunningServer, start_server
from tests.testdata import EXAMPLE_ZONES

SEOUL = "127.1.0.0/24"  # the test geo database puts this in Seoul: www goes to seoul-web


def ecs_query(name: str, subnet: str, rdtype: str = "A") -> dns.message.Message:
    address, prefix = subnet.split("/")
    return dns.message.make_query(name, rdtype, use_edns=0, options=[dns.edns.ECSOption(address, int(prefix))])


def ask_the_four(server: RunningServer) -> None:
    """A steered name with ECS, over TCP without it, a static name and a missing one."""
    server.udp(ecs_query("www.example.com", SEOUL))
    server.tcp(dns.message.make_query("api.example.com", "A"))
    server.ask("legacy.example.com", "AAAA")
    server.ask("nope.example.com")


def query_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "gslb.queries" in line]


def test_plain_query_log_at_sample_one(tmp_path: Path) -> None:
    server = start_server(tmp_path, EXAMPLE_ZONES, {"log": {"queries": {"sample": 1.0}}})
    try:
        ask_the_four(server)
    finally:
        server.stop()
    lines = [line.split(" gslb.queries: ", 1)[1] for line in query_lines(server.log_text())]
    assert len(lines) == 4, server.log_text()
    steered = re.fullmatch(
        r'query client=127\.0\.0\.1 ecs=127\.1\.0\.0/24 scope=(\d+) name=www\.example\.com\. type=A '
        r'rcode=NOERROR answers=192\.0\.2\.10,192\.0\.2\.11 decision="service web -> seoul-web" transport=udp',
        lines[0])
    assert steered and int(steered.group(1)) > 0, lines[0]
    assert lines[1] == ('query client=127.0.0.1 name=api.example.com. type=A rcode=NOERROR answers=192.0.2.30 '
                        'decision="service api -> seoul-api" transport=tcp')
    assert lines[2] == ("query client=127.0.0.1 name=legacy.example.com. type=AAAA rcode=NOERROR "
                        "answers=2001:db8:80::1 transport=udp")
    assert lines[3] == "query client=127.0.0.1 name=nope.example.com. type=A rcode=NXDOMAIN answers=- transport=udp"


def test_json_query_log_to_its_own_file(tmp_path: Path) -> None:
    query_file = tmp_path / "logs" / "queries.log"
    server = start_server(tmp_path / "srv", EXAMPLE_ZONES,
                          {"log": {"format": "json", "queries": {"sample": 1, "file": str(query_file)}}})
    try:
        ask_the_four(server)
        server.udp(ecs_query("www.example.com", "127.2.0.0/24"))  # Frankfurt
    finally:
        server.stop()
    assert not query_lines(server.log_text())  # the file only, not the main log
    records = [json.loads(line) for line in query_file.read_text().splitlines()]
    assert [r["event"] for r in records] == ["query"] * 5
    assert all(r["logger"] == "gslb.queries" and r["level"] == "INFO" for r in records)
    first = records[0]
    assert {k: first[k] for k in ("client", "ecs", "qname", "qtype", "rcode", "answers", "decision", "transport")} == {
        "client": "127.0.0.1", "ecs": "127.1.0.0/24", "qname": "www.example.com.", "qtype": "A",
        "rcode": "NOERROR", "answers": ["192.0.2.10", "192.0.2.11"], "decision": "service web -> seoul-web",
        "transport": "udp",
    }
    assert isinstance(first["scope"], int) and first["scope"] > 0
    assert (records[1]["ecs"], records[1]["scope"], records[1]["transport"]) == (None, None, "tcp")
    assert (records[3]["rcode"], records[3]["answers"], records[3]["decision"]) == ("NXDOMAIN", [], None)
    assert records[4]["decision"] == "service web -> frankfurt-web"
    assert records[4]["answers"] == ["198.51.100.10"]


def test_no_query_log_at_sample_zero(tmp_path: Path) -> None:
    server = start_server(tmp_path, EXAMPLE_ZONES, {"log": {"queries": {"sample": 0}}})
    try:
        for _ in range(20):
            ask_the_four(server)
    finally:
        server.stop()
    assert query_lines(server.log_text()) == []


def test_sampling_at_one_half(tmp_path: Path) -> None:
    server = start_server(tmp_path, EXAMPLE_ZONES, {"log": {"queries": {"sample": 0.5}}})
    try:
        for _ in range(400):
            server.ask("legacy.example.com")
    finally:
        server.stop()
    logged = len(query_lines(server.log_text()))
    assert 140 <= logged <= 260, logged  # 200 expected; the standard deviation is 10


def test_decisions_and_names_as_written_in_the_log() -> None:
    from gslb.dns.querylog import presentable
    from gslb.steering.steered import Choice
    from gslb.zones.policy_model import Member, Pool

    seoul = Pool("seoul-web", "seoul", None, (Member(ipaddress.ip_address("192.0.2.10")),))
    tokyo = Pool("tokyo-web", "tokyo", None, (Member(ipaddress.ip_address("192.0.2.20")),))
    assert Choice([(seoul, False)]).describe("web") == "service web -> seoul-web"
    assert Choice([(tokyo, False)], degraded=True).describe("web") == "service web -> tokyo-web (fallback)"
    assert Choice([(seoul, True), (tokyo, True)], degraded=True).describe("web") == (
        "service web -> seoul-web (fail-open), tokyo-web (fail-open) (fallback)")
    assert Choice(servfail=True).describe("web") == "service web -> servfail (all down)"
    assert presentable("www.example.com.") == "www.example.com."
    assert presentable('a\nb c"d.') == "a\\010b\\032c\\034d."
