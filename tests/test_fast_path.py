"""The fast path (replies replayed by query bytes) gives the same bytes as the general path."""

from __future__ import annotations

import ipaddress
import random
import struct
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import pytest

from gslb.config.model import DnsConfig
from gslb.dns.handler import QueryHandler, ServingState
from gslb.engine.resolver import Resolver
from gslb.engine.respond import Responder
from gslb.geo.database import GeoDatabase
from gslb.health.view import HealthView, State
from gslb.steering.engine import SteeringEngine
from gslb.zones.directory import load_zone_paths
from gslb.zones.zoneset import ZoneSet
from tests import steering_zone
from tests.testdata import EXAMPLE_ZONES, ROOT, built_test_geodb

# Names whose answers no chance decides (weighted picks and answers.max samples are left out:
# those are never replayed, see test_chance_is_never_replayed).
NAMES = [
    "legacy.example.com", "example.com", "mail.example.com", "x.static.example.com",
    "nope.example.com", "host.sub.example.com", "_sip._tcp.example.com", "api.example.com", "static.example.com",
    "geo.steer.test", "near.steer.test", "near-sticky.steer.test", "split-sticky.steer.test", "order.steer.test",
    "net.steer.test", "every.steer.test", "v4only.steer.test", "cname-to-geo.steer.test",
    "fast.steer.test", "light.steer.test", "static.example.test", "big.example.test", "www.example.test",
    "near.example.test", "nothing.example.test", "www.example.org", "id.server",
]
TYPES = ["A", "AAAA", "TXT", "MX", "NS", "SOA", "ANY", "SRV", "CNAME", "CAA"]


@pytest.fixture(scope="module")
def zones(tmp_path_factory: pytest.TempPathFactory) -> ZoneSet:
    folder = tmp_path_factory.mktemp("fast")
    (folder / "steer.test.yaml").write_text(steering_zone.TEXT)
    paths = [EXAMPLE_ZONES / "example.com.yaml", folder / "steer.test.yaml", ROOT / "bench/zones/example.test.yaml"]
    report = load_zone_paths([Path(p) for p in paths])
    assert not report.rejected
    return ZoneSet(report.loaded)


def handler(zones: ZoneSet, cache: bool) -> QueryHandler:
    engine = SteeringEngine(GeoDatabase.open(str(built_test_geodb())), seed=1)
    down = {("steer.test.", "tokyo", ipaddress.ip_address("192.0.2.11")): State.DOWN}
    engine.set_health(HealthView(down))
    responder = Responder(Resolver(engine), "ns-fast")
    return QueryHandler(ServingState(zones), responder, DnsConfig(nsid="ns-fast"), cache=cache)


def random_query(rng: random.Random) -> tuple[bytes, str, bool]:
    name = rng.choice(NAMES)
    name = "".join(c.upper() if rng.random() < 0.3 else c for c in name)
    rdclass = "CH" if name.lower() == "id.server" else "IN"
    rdtype = "TXT" if rdclass == "CH" else rng.choice(TYPES)
    options = []
    if rng.random() < 0.5:
        family = rng.choice((4, 6))
        if family == 4:
            address = f"127.{rng.randrange(0, 32)}.{rng.randrange(256)}.0"
            prefix = rng.choice((0, 16, 20, 24, 32))
        else:
            address, prefix = f"2001:db8:{rng.randrange(1, 4)}::", rng.choice((0, 48, 56))
        if prefix == 0:
            address = "0.0.0.0" if family == 4 else "::"
        options.append(dns.edns.ECSOption(address, prefix))
    if rng.random() < 0.2:
        options.append(dns.edns.GenericOption(3, b""))  # NSID
    use_edns = 0 if options or rng.random() < 0.5 else False
    query = dns.message.make_query(name, rdtype, rdclass=rdclass, use_edns=use_edns, options=options,
                                   payload=rng.choice((512, 1232, 4096)), want_dnssec=rng.random() < 0.2)
    if rng.random() < 0.3:
        query.flags &= ~dns.flags.RD
    source = f"127.{rng.randrange(0, 12)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    return query.to_wire(), source, rng.random() < 0.2


def _variants(fast: QueryHandler, data: bytes, source: ipaddress.IPv4Address, tcp: bool) -> int:
    """How many rotation steps the cache keeps for this query (0: not kept)."""
    assert fast.cache is not None
    table = fast.cache.tcp if tcp else fast.cache.udp
    entry = table.get(data[2:]) or table.get(source.packed + data[2:])
    return len(entry.variants) if entry else 0


def test_fast_and_general_paths_give_the_same_bytes(zones: ZoneSet) -> None:
    rng = random.Random(20261127)
    general, fast = handler(zones, cache=False), handler(zones, cache=True)
    rotating = 0
    for _ in range(3000):
        data, source_text, tcp = random_query(rng)
        source = ipaddress.ip_address(source_text)
        first = fast.handle(data, source, tcp)  # fills the cache
        steps = _variants(fast, data, source, tcp)
        assert steps >= 1, (source_text, data)  # every one of these names is replayable
        # k consecutive general answers show every step of a rotation over k addresses.
        expected = {general.handle(data, source, tcp)[2:] for _ in range(steps)}
        got = {first[2:]} | {fast.handle(data, source, tcp)[2:] for _ in range(2 * steps + 2)}
        assert got == expected, (source_text, data)  # the same replies, every rotation step included
        rotating += steps > 1
    assert fast.cache is not None and fast.cache.hits > 10000
    assert rotating > 50


def test_reply_carries_the_new_id(zones: ZoneSet) -> None:
    fast = handler(zones, cache=True)
    source = ipaddress.ip_address("127.1.0.1")
    query = dns.message.make_query("geo.steer.test", "A")
    for qid in (1, 2, 0xBEEF):
        query.id = qid
        reply = fast.handle(query.to_wire(), source, False)
        assert reply is not None and struct.unpack("!H", reply[:2])[0] == qid


def test_the_source_address_decides_without_ecs(zones: ZoneSet) -> None:
    fast = handler(zones, cache=True)
    data = dns.message.make_query("geo.steer.test", "A").to_wire()
    seoul = {fast.handle(data, ipaddress.ip_address("127.1.0.1"), False) for _ in range(3)}
    paris = {fast.handle(data, ipaddress.ip_address("127.9.0.1"), False) for _ in range(3)}
    assert all(b"\xc0\x00\x02" in reply for reply in seoul)  # 192.0.2.x
    assert all(b"\xc6\x33\x64\x01" in reply for reply in paris)  # 198.51.100.1


def test_chance_is_never_replayed(zones: ZoneSet) -> None:
    fast = handler(zones, cache=True)
    data = dns.message.make_query("split.steer.test", "A").to_wire()
    answers = {fast.handle(data, ipaddress.ip_address("127.0.0.1"), False)[2:] for _ in range(300)}
    assert len(answers) >= 2  # the 80/20 split keeps splitting (and virginia's two addresses rotate)
    assert fast.cache is not None and fast.cache.hits == 0


def test_long_rotations_are_not_replayed(zones: ZoneSet) -> None:
    fast = handler(zones, cache=True)
    data = dns.message.make_query("big.steer.test", "A").to_wire()  # 60 addresses: 60 rotation steps
    orders = {fast.handle(data, ipaddress.ip_address("127.0.0.1"), True)[2:] for _ in range(60)}
    assert len(orders) == 60
    assert fast.cache is not None and fast.cache.hits == 0


def test_health_change_clears_the_cache(zones: ZoneSet) -> None:
    fast = handler(zones, cache=True)
    data = dns.message.make_query("order.steer.test", "A").to_wire()
    source = ipaddress.ip_address("127.0.0.1")
    before = fast.handle(data, source, False)
    assert fast.handle(data, source, False) == before
    canary = ("steer.test.", "canary", ipaddress.ip_address("203.0.113.99"))
    fast.responder.resolver.steering.set_health(HealthView({canary: State.DOWN}))
    fast.invalidate()
    after = fast.handle(data, source, False)
    assert after != before and b"\xcb\x00\x71\xc8" in after  # 203.0.113.200: the spare pool


def test_replays_are_rate_limited_with_slips(zones: ZoneSet) -> None:
    from gslb.config.model import RateLimit
    from gslb.dns.ratelimit import RateLimiter

    fast = handler(zones, cache=True)
    now = [0.0]
    limiter = RateLimiter(RateLimit(5, 2, 2), clock=lambda: now[0])
    data = dns.message.make_query("legacy.example.com", "A").to_wire()
    source = ipaddress.ip_address("127.0.0.1")
    fast.handle(data, source, False)  # cached without a limiter in the way
    replies = [fast.handle(data, source, False, limiter=limiter) for _ in range(40)]
    full = [r for r in replies if r is not None and not r[2] & 0x02]
    slipped = [r for r in replies if r is not None and r[2] & 0x02]
    assert len(full) == 5  # the rate's one second of credit
    assert len(slipped) == 17 and all(r[7] == 0 for r in slipped)  # every 2nd limited one, TC=1, no answers
    assert fast.cache is not None and fast.cache.hits >= 40
