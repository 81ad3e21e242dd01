"""Response rate limiting: the accounts on their own (with a fake clock), then the real server.

Server tests count replies rather than time them: a flood of N queries sent within E seconds
from one /24 gets at most rate * (1 + E) + 1 full answers (one second of burst plus what the
account earns meanwhile), and the rest are split between slips (TC=1, empty) and silence.
"""

from __future__ import annotations

import ipaddress
import json
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import pytest

from gslb.config.model import RateLimit
from gslb.dns.ratelimit import DROP, SEND, SLIP, RateLimiter, client_network
from tests.harness import RunningServer, dig, numbered_queries, start_server, udp_flood
from tests.signing import Clock
from tests.testdata import EXAMPLE_ZONES, ROOT

RATE, WINDOW, SLIP_EVERY = 5, 2, 2


def _limiter(rate: float = 5, window: float = 2, slip: int = 2, **kwargs) -> tuple[RateLimiter, Clock]:
    clock = Clock(1000.0)
    return RateLimiter(RateLimit(rate, window, slip), clock=clock, **kwargs), clock


V4 = ipaddress.ip_address("192.0.2.10")
IDENTITY = (0, b"\x03www\x07example\x03com\x00", 1)


# -- the accounts ----------------------------------------------------------------------------


def test_burst_of_one_second_then_drop_and_slip_alternate() -> None:
    limiter, _ = _limiter()
    verdicts = [limiter.check(V4, IDENTITY) for _ in range(15)]
    assert verdicts[:5] == [SEND] * 5
    assert verdicts[5:] == [DROP, SLIP] * 5
    assert limiter.stats.dropped == 5 and limiter.stats.slipped == 5 and limiter.stats.limited == 10
    assert limiter.stats.responses == 15


def test_credits_are_earned_at_the_rate_and_capped_at_one_second() -> None:
    limiter, clock = _limiter(rate=5, window=2, slip=0)
    for _ in range(5):
        assert limiter.check(V4, IDENTITY) == SEND
    clock.now += 0.2  # one credit earned
    assert limiter.check(V4, IDENTITY) == SEND
    assert limiter.check(V4, IDENTITY) == DROP
    # Idle far longer than a second: still only one second's worth of burst.
    clock.now += 1.9
    sent = sum(limiter.check(V4, IDENTITY) == SEND for _ in range(20))
    assert sent == 5


def test_debt_keeps_a_sustained_flood_limited_until_it_stops() -> None:
    """BIND's scheme: limited responses still cost credits, down to -rate * window."""
    limiter, clock = _limiter(rate=5, window=2, slip=0)
    sent = 0
    for _ in range(300):  # 100 queries per second for 3 seconds
        clock.now += 0.01
        sent += limiter.check(V4, IDENTITY) == SEND
    assert sent == 5  # the first second's burst; the credits earned later only pay the debt
    # After the flood stops, the debt (-10) is paid at 5 credits a second: 2 s later it is 0.
    clock.now += 1.0
    assert limiter.check(V4, IDENTITY) == DROP
    clock.now += 2.2
    assert limiter.check(V4, IDENTITY) == SEND


def test_slip_zero_never_slips_and_slip_one_always_does() -> None:
    never, _ = _limiter(slip=0)
    always, _ = _limiter(slip=1)
    assert {never.check(V4, IDENTITY) for _ in range(20)} == {SEND, DROP}
    assert {always.check(V4, IDENTITY) for _ in range(20)} == {SEND, SLIP}


def test_a_rate_under_one_still_lets_one_response_out() -> None:
    limiter, _ = _limiter(rate=0.5, window=4, slip=0)
    assert limiter.check(V4, IDENTITY) == SEND
    assert limiter.check(V4, IDENTITY) == DROP


def test_identities_and_networks_are_separate_accounts() -> None:
    limiter, _ = _limiter(slip=0)
    for _ in range(5):
        assert limiter.check(V4, IDENTITY) == SEND
    assert limiter.check(V4, IDENTITY) == DROP
    # Same /24: same account.
    assert limiter.check(ipaddress.ip_address("192.0.2.200"), IDENTITY) == DROP
    # Another /24, another qtype, another name: fresh accounts.
    assert limiter.check(ipaddress.ip_address("192.0.3.10"), IDENTITY) == SEND
    assert limiter.check(V4, (0, IDENTITY[1], 28)) == SEND
    assert limiter.check(V4, (3, b"\x07example\x03com\x00", 0)) == SEND


def test_client_networks_are_slash_24_and_slash_56() -> None:
    net = client_network
    assert net(ipaddress.ip_address("192.0.2.1")) == net(ipaddress.ip_address("192.0.2.254"))
    assert net(ipaddress.ip_address("192.0.2.1")) != net(ipaddress.ip_address("192.0.3.1"))
    assert net(ipaddress.ip_address("::ffff:192.0.2.7")) == net(ipaddress.ip_address("192.0.2.1"))
    assert net(ipaddress.ip_address("2001:db8:0:ff::1")) == net(ipaddress.ip_address("2001:db8:0:aa:1::9"))
    assert net(ipaddress.ip_address("2001:db8:0:100::1")) != net(ipaddress.ip_address("2001:db8:0:ff::1"))
    # An IPv6 /56 never shares an account with an IPv4 /24.
    assert net(ipaddress.ip_address("::c000:200")) != net(ipaddress.ip_address("192.0.2.0"))


def test_the_table_is_bounded_under_a_spoofed_flood_from_random_networks() -> None:
    limiter, clock = _limiter(max_entries=1000)
    rng = random.Random(7)
    for network in rng.sample(range(1 << 24), 20_000):  # 20,000 distinct /24s
        source = ipaddress.IPv4Address((network << 8) | rng.getrandbits(8))
        limiter.check(source, IDENTITY)
    assert limiter.entries == 1000
    assert limiter.stats.evicted == 19_000
    # Accounts idle for longer than the window are forgotten at the next sweep.
    clock.now += WINDOW + 1.5
    limiter.check(V4, IDENTITY)
    assert limiter.entries == 1


# -- identities, through the query handler ---------------------------------------------------


@pytest.fixture(scope="module")
def handler():
    from gslb.config.model import DnsConfig
    from gslb.dns.handler import QueryHandler, ServingState
    from gslb.engine.resolver import Resolver
    from gslb.engine.respond import Responder
    from gslb.geo.database import GeoDatabase
    from gslb.steering.engine import SteeringEngine
    from gslb.zones.directory import load_zone_paths, zone_files
    from gslb.zones.zoneset import ZoneSet
    from tests.testdata import built_test_geodb

    report = load_zone_paths(zone_files(EXAMPLE_ZONES))
    steering = SteeringEngine(GeoDatabase.open(str(built_test_geodb())))
    return QueryHandler(ServingState(ZoneSet(report.loaded)), Responder(Resolver(steering)), DnsConfig())


def _sent(handler, questions: list[tuple[str, str]], source: str = "192.0.2.1") -> int:
    """How many of these queries (no time passing, rate 5) get their full answer."""
    limiter, _ = _limiter(rate=5, window=2, slip=0)
    full = 0
    for name, rdtype in questions:
        reply = handler.handle(dns.message.make_query(name, rdtype).to_wire(), ipaddress.ip_address(source),
                               False, limiter=limiter)
        full += reply is not None
    return full


@pytest.mark.parametrize(
    ("what", "questions"),
    [
        ("random names: one NXDOMAIN account per zone", [(f"n{i}.example.com", "A") for i in range(10)]),
        ("random types: NXDOMAIN ignores the type", [("nothing.example.com", t) for t in ["A", "MX", "TXT"] * 4]),
        ("names under a wildcard: the wildcard's account", [(f"n{i}.static.example.com", "A") for i in range(10)]),
        ("names below a delegation: the cut's account", [(f"n{i}.sub.example.com", "A") for i in range(10)]),
        ("random types at one name: one NODATA account", [("mail.example.com", f"TYPE{100 + i}") for i in range(10)]),
        ("errors: one account per network", [(f"n{i}.example.org", t) for i in range(5) for t in ("A", "TXT")]),
        ("the same answer", [("legacy.example.com", "A")] * 10),
    ],
)
def test_responses_that_share_an_account(handler, what: str, questions: list) -> None:
    assert _sent(handler, questions) == 5, what


def test_different_answers_have_their_own_accounts(handler) -> None:
    questions = [("legacy.example.com", "A"), ("legacy.example.com", "AAAA"), ("mail.example.com", "A"),
                 ("ns1.example.com", "A"), ("ns1.example.com", "AAAA"), ("example.com", "MX")] * 5
    assert _sent(handler, questions) == 30
    # The same NXDOMAIN account exists once per client network.
    limiter, _ = _limiter(rate=5, window=2, slip=0)
    wire = dns.message.make_query("x.example.com", "A").to_wire()
    for source in ["192.0.2.1", "192.0.3.1"]:
        full = [handler.handle(wire, ipaddress.ip_address(source), False, limiter=limiter) for _ in range(6)]
        assert sum(reply is not None for reply in full) == 5


def test_a_slip_is_an_empty_truncated_reply_with_the_question_and_opt(handler) -> None:
    limiter, _ = _limiter(rate=1, window=2, slip=1)
    query = dns.message.make_query("legacy.example.com", "A", use_edns=0, payload=1232)
    source = ipaddress.ip_address("192.0.2.1")
    first = dns.message.from_wire(handler.handle(query.to_wire(), source, False, limiter=limiter))
    slipped = dns.message.from_wire(handler.handle(query.to_wire(), source, False, limiter=limiter))
    assert not first.flags & dns.flags.TC and first.answer
    assert slipped.flags & dns.flags.TC and slipped.flags & dns.flags.AA == 0
    assert slipped.id == query.id and slipped.question == query.question
    assert slipped.answer == slipped.authority == [] and slipped.edns == 0
    # TCP never passes a limiter: the handler answers in full however often it is asked.
    for _ in range(10):
        assert not dns.message.from_wire(handler.handle(query.to_wire(), source, True)).flags & dns.flags.TC


# -- the real server -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("rrl")
    rate_limit = {"responses_per_second": RATE, "window": f"{WINDOW}s", "slip": SLIP_EVERY}
    server = start_server(workdir, EXAMPLE_ZONES, {"dns": {"rate_limit": rate_limit}})
    yield server
    server.stop()


def _split(replies: dict[int, dns.message.Message]) -> tuple[list, list]:
    full = [r for r in replies.values() if not r.flags & dns.flags.TC]
    slipped = [r for r in replies.values() if r.flags & dns.flags.TC]
    return full, slipped


def test_a_flood_from_one_network_is_cut_while_another_network_is_served(limited_server: RunningServer) -> None:
    flood = numbered_queries(["legacy.example.com"] * 200)
    # The other network asks 4 times (under the one-second burst of 5) in the middle of the flood.
    other_wires = numbered_queries(["legacy.example.com"] * 4, first_id=1000)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.8.0.1", 0))
        other.settimeout(2)

        def other_asks(index: int) -> None:
            if index % 50 == 25:
                other.sendto(other_wires[index // 50], (limited_server.host, limited_server.port))

        replies, elapsed = udp_flood(limited_server, "127.9.0.1", flood, after_send=other_asks)
        other_replies = [dns.message.from_wire(other.recv(65535)) for _ in other_wires]
    full, slipped = _split(replies)
    limited = len(flood) - len(full)
    assert 1 <= len(full) <= RATE * (1 + elapsed) + 1, (len(full), elapsed)
    assert all(r.rcode() == dns.rcode.NOERROR and len(r.answer[0]) == 2 for r in full)
    # Every slip-th limited response is an empty TC=1 reply that echoes the question.
    assert abs(len(slipped) - limited / SLIP_EVERY) <= 2, (len(slipped), limited)
    for reply in slipped:
        assert reply.answer == reply.authority == reply.additional == []
        assert reply.question[0].name.to_text() == "legacy.example.com."
    # The other /24 got every answer, in full, during the flood.
    assert sorted(r.id for r in other_replies) == [1000, 1001, 1002, 1003]
    assert all(not r.flags & dns.flags.TC and len(r.answer[0]) == 2 for r in other_replies)


def test_random_names_share_one_nxdomain_account(limited_server: RunningServer) -> None:
    rng = random.Random(1)
    names = [f"{rng.getrandbits(48):x}.example.com" for _ in range(100)]
    replies, elapsed = udp_flood(limited_server, "127.9.1.1", numbered_queries(names))
    full, slipped = _split(replies)
    assert all(r.rcode() == dns.rcode.NXDOMAIN for r in full)
    assert 1 <= len(full) <= RATE * (1 + elapsed) + 1, (len(full), elapsed)
    assert abs(len(slipped) - (100 - len(full)) / SLIP_EVERY) <= 2


def test_random_names_under_a_wildcard_share_the_wildcard_account(limited_server: RunningServer) -> None:
    rng = random.Random(2)
    names = [f"{rng.getrandbits(48):x}.static.example.com" for _ in range(100)]
    replies, elapsed = udp_flood(limited_server, "127.9.3.1", numbered_queries(names, "CNAME"))
    full, _ = _split(replies)
    assert all(r.rcode() == dns.rcode.NOERROR and r.answer for r in full)
    assert 1 <= len(full) <= RATE * (1 + elapsed) + 1, (len(full), elapsed)


def test_errors_share_one_account_per_network(limited_server: RunningServer) -> None:
    # REFUSED for names in no zone, whatever the name and type.
    rng = random.Random(3)
    names = [f"{rng.getrandbits(32):x}.example.org" for _ in range(100)]
    replies, elapsed = udp_flood(limited_server, "127.9.4.1", numbered_queries(names, "TXT"))
    full, _ = _split(replies)
    assert all(r.rcode() == dns.rcode.REFUSED for r in full)
    assert 1 <= len(full) <= RATE * (1 + elapsed) + 1, (len(full), elapsed)


def test_tcp_is_never_limited(limited_server: RunningServer) -> None:
    import struct

    # Exhaust the UDP account of this /24 first: TCP from the same network is still answered.
    udp_flood(limited_server, "127.9.2.1", numbered_queries(["legacy.example.com"] * 50), wait=0.3)
    with socket.create_connection((limited_server.host, limited_server.port), timeout=5,
                                  source_address=("127.9.2.1", 0)) as sock:
        for wire in numbered_queries(["legacy.example.com"] * 100):
            sock.sendall(struct.pack("!H", len(wire)) + wire)
        stream = sock.makefile("rb")
        replies = []
        for _ in range(100):
            (length,) = struct.unpack("!H", stream.read(2))
            replies.append(dns.message.from_wire(stream.read(length)))
    assert len(replies) == 100
    assert all(not r.flags & dns.flags.TC and len(r.answer[0]) == 2 for r in replies)


def test_without_rate_limiting_nothing_is_dropped(example_server: RunningServer) -> None:
    replies, _ = udp_flood(example_server, "127.9.5.1", numbered_queries(["legacy.example.com"] * 200))
    full, slipped = _split(replies)
    assert len(full) == 200 and not slipped


def test_dig_retries_over_tcp_after_a_slip(limited_server: RunningServer) -> None:
    """A real resolver caught in the limit: a slip makes it ask again over TCP and get the answer."""
    udp_flood(limited_server, "127.9.6.1", numbered_queries(["mail.example.com"] * 30), wait=0.3)
    # slip 2: of two limited queries in a row one is slipped; dig retries over TCP on TC=1.
    # Without a cookie: to a client that sends one the slip is BADCOOKIE (tests/test_cookies_server.py).
    outputs = []
    for _ in range(2):
        outputs.append(dig(limited_server, "-b", "127.9.6.2", "mail.example.com", "A", "+time=1", "+nocookie"))
    retried = [out for out in outputs if "Truncated, retrying in TCP mode" in out]
    assert retried, outputs
    assert "192.0.2.25" in retried[0]


# -- amplification ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def amplification() -> dict:
    out = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "amplification.py"), "--json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_no_udp_reply_exceeds_its_limit(amplification: dict) -> None:
    assert amplification["queries"] > 1000
    assert amplification["over_limit"] == []
    assert amplification["largest_reply"] <= 1232


def test_amplification_factors(amplification: dict) -> None:
    worst = amplification["worst"]
    # No DNSSEC, minimal ANY, small zones: the worst reply is a few times its query.
    assert 1 < worst["factor"] < 10, worst
    limited = amplification["rate_limited"]
    # Under a sustained flood, slips are about the size of the query and only every 2nd is sent.
    # Every 2nd limited query slips a reply about the size of the query; every one with slip 1.
    assert 0.4 < limited["slip_2"]["factor"] < 0.6, limited
    assert 0.9 < limited["slip_1"]["factor"] < 1.1, limited


def test_amplification_script_is_documented() -> None:
    text = (ROOT / "docs" / "security.md").read_text()
    assert "fuzz/amplification.py" in text
    assert Path(ROOT / "fuzz" / "fuzz_query.py").exists()
