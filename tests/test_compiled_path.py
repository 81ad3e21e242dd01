"""The compiled path gives byte-identical replies to the general path, ID aside.

Two handlers answer the same stream of random queries from the same zones: one with the
compiled path, one with the general path only. Both steering engines start from the same seed
and see the same health views at the same moments, so round-robin steps and weighted picks line
up query by query. The stream mixes letter case (0x20), cookies, NSID requests, DO, payload
sizes, ECS of every prefix length for both families, IPv6 and IPv4 sources, UDP and TCP, every
kind of name (static, steered by every method, wildcard, CNAME chains, delegations, NXDOMAIN,
NODATA, other zones) and health changes between queries. Two of the zones are signed (one with
a combined ECDSA key, one with an Ed25519 KSK/ZSK split), so DO=1 queries, with and without the
CO flag, get signed answers on both paths; each handler has its own signer on the same clock.
"""

from __future__ import annotations

import ipaddress
import os
import random
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import pytest

from gslb.config.model import DnsConfig, DnssecConfig
from gslb.dns.cookies import ServerCookies
from gslb.dns.handler import QueryHandler, ServingState
from gslb.dnssec.algorithms import ECDSAP256SHA256, ED25519, PrivateKey
from gslb.dnssec.keyfiles import write_key
from gslb.dnssec.records import SEP, ZONE_KEY
from gslb.dnssec.signer import Signer
from gslb.engine.resolver import Resolver
from gslb.engine.respond import Responder
from gslb.geo.database import GeoDatabase
from gslb.health.view import HealthView, Measurements, State
from gslb.steering.engine import SteeringEngine
from gslb.wire.name import Name
from gslb.zones.directory import load_zone_paths
from gslb.zones.zoneset import ZoneSet
from tests import steering_zone, types_zone
from tests.testdata import EXAMPLE_ZONES, ROOT, built_test_geodb

NAMES = [
    "legacy.example.com", "example.com", "mail.example.com", "x.static.example.com", "a.b.static.example.com",
    "nope.example.com", "host.sub.example.com", "sub.example.com", "_sip._tcp.example.com", "_tcp.example.com",
    "api.example.com", "www.example.com", "docs.example.com", "ns1.example.com",
    "geo.steer.test", "near.steer.test", "near-sticky.steer.test", "split.steer.test", "split-sticky.steer.test",
    "standby.steer.test", "order.steer.test", "net.steer.test", "every.steer.test", "nested.steer.test",
    "strict.steer.test", "fallback.steer.test", "big.steer.test", "capped.steer.test", "v4only.steer.test",
    "cold-first.steer.test", "fast.steer.test", "light.steer.test", "cname-to-geo.steer.test",
    "static.example.test", "big.example.test", "www.example.test", "near.example.test", "nothing.example.test",
    "www.example.org", "id.server",
    "types.test", "www.types.test", "alias.types.test", "svc.types.test", "sub.types.test", "x.sub.types.test",
    "host.types.test", "_443._tcp.www.types.test", "sip.types.test",
]
TYPES = ["A", "A", "A", "AAAA", "AAAA", "TXT", "MX", "NS", "SOA", "ANY", "SRV", "CNAME", "CAA", "PTR", "DS",
         "HTTPS", "HTTPS", "SVCB", "TLSA", "SSHFP", "NAPTR", "DNSKEY", "CDS"]
SAMPLE = int(os.environ.get("GSLB_EQUIVALENCE_SAMPLE", "30000"))


@pytest.fixture(scope="module")
def zones(tmp_path_factory: pytest.TempPathFactory) -> ZoneSet:
    folder = tmp_path_factory.mktemp("compiled")
    (folder / "steer.test.yaml").write_text("dnssec: true\n" + steering_zone.TEXT)
    (folder / "example.com.yaml").write_text("dnssec: true\n" + (EXAMPLE_ZONES / "example.com.yaml").read_text())
    (folder / f"{types_zone.ZONE}.yaml").write_text(types_zone.TEXT)
    paths = [folder / "example.com.yaml", folder / "steer.test.yaml", ROOT / "bench/zones/example.test.yaml",
             folder / f"{types_zone.ZONE}.yaml"]
    report = load_zone_paths([Path(p) for p in paths])
    assert not report.rejected
    return ZoneSet(report.loaded)


SECRET = bytes.fromhex("e5e973e5a6b2a43f48e7dc849e37bfcf")
NOW = [1_800_000_000.0]  # the clock both handlers' cookies read: they stamp and check alike
RRSIG_TYPE = b"\x00\x2e\x00\x01"  # type RRSIG, class IN
CLOCK = 1_800_000_000.0  # one moment for both signers: equal signatures, ECDSA signing deterministically


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("compiled-keys")
    write_key(folder, Name.from_text("example.com"), PrivateKey.generate(ECDSAP256SHA256), ZONE_KEY | SEP, {})
    write_key(folder, Name.from_text("steer.test"), PrivateKey.generate(ED25519), ZONE_KEY | SEP, {})
    write_key(folder, Name.from_text("steer.test"), PrivateKey.generate(ED25519), ZONE_KEY, {})
    return folder


def handler(zones: ZoneSet, compiled: bool, keys: Path) -> QueryHandler:
    engine = SteeringEngine(GeoDatabase.open(str(built_test_geodb())), seed=7)
    responder = Responder(Resolver(engine), "ns-test")
    cookies = ServerCookies((SECRET,), clock=lambda: NOW[0])
    signer = Signer(DnssecConfig(keys=keys), clock=lambda: CLOCK)
    built = QueryHandler(ServingState(zones), responder, DnsConfig(nsid="ns-test"), engine if compiled else None,
                         cookies, signer)
    built.zones_changed(zones)
    assert len(signer.zones) == 2
    return built


def random_cookie(rng: random.Random, source: str) -> dns.edns.CookieOption:
    """A client cookie alone, or with a server cookie that is ours and valid, ours and stale, from
    another server, of another version, or tampered with; now and then a malformed length."""
    client = rng.randbytes(8)
    roll = rng.random()
    if roll < 0.4:
        return dns.edns.CookieOption(client, b"")
    if roll < 0.75:
        age = rng.choice((0, 10, 1799, 1801, 3600, 3601, -300, -301))
        made = ServerCookies((SECRET,), clock=lambda: NOW[0] - age).answer(client, ipaddress.ip_address(source))[1]
        if rng.random() < 0.1:
            made = made[:-1] + bytes((made[-1] ^ 1,))
        return dns.edns.CookieOption(client, made[8:])
    if roll < 0.95:
        return dns.edns.CookieOption(client, rng.randbytes(rng.choice((8, 16, 32))))
    return dns.edns.GenericOption(10, rng.randbytes(rng.choice((0, 5, 9, 15, 41))))  # malformed: FORMERR


def random_ecs(rng: random.Random) -> dns.edns.ECSOption:
    if rng.random() < 0.7:
        prefix = rng.randrange(0, 33)
        address = ipaddress.IPv4Address(rng.choice((127 << 24, 10 << 24, 0)) | rng.getrandbits(24))
    else:
        prefix = rng.randrange(0, 129)
        address = ipaddress.IPv6Address((0x20010DB8 << 96) | rng.getrandbits(96) if rng.random() < 0.7 else 1)
    network = ipaddress.ip_network((address, prefix), strict=False)
    return dns.edns.ECSOption(str(network.network_address), prefix)


def random_query(rng: random.Random) -> tuple[bytes, str, bool]:
    name = rng.choice(NAMES)
    name = "".join(c.upper() if rng.random() < 0.5 else c for c in name)  # 0x20
    rdclass = "CH" if name.lower() == "id.server" else "IN"
    rdtype = "TXT" if rdclass == "CH" else rng.choice(TYPES)
    options: list[dns.edns.Option] = []
    if rng.random() < 0.6:
        options.append(random_ecs(rng))
    source = rng.choice(("127.0.0.1", "127.1.2.3", "127.2.0.9", "127.20.1.1", "127.11.5.7", "::1", "2001:db8:1::5"))
    if rng.random() < 0.33:
        options.append(random_cookie(rng, source))
    if rng.random() < 0.15:
        options.append(dns.edns.GenericOption(3, b""))  # NSID
    if rng.random() < 0.05:
        options.append(dns.edns.GenericOption(12, bytes(rng.randrange(0, 40))))  # padding
    use_edns = 0 if options or rng.random() < 0.6 else False
    query = dns.message.make_query(name, rdtype, rdclass=rdclass, use_edns=use_edns, options=options,
                                   payload=rng.choice((512, 600, 1232, 4096)), want_dnssec=rng.random() < 0.3)
    if query.edns >= 0 and rng.random() < 0.1:
        query.ednsflags |= 0x4000  # CO: compact answers OK (RFC 9824)
    if rng.random() < 0.3:
        query.flags &= ~dns.flags.RD
    if rng.random() < 0.1:
        query.flags |= dns.flags.CD
    return query.to_wire(), source, rng.random() < 0.15


def random_view(rng: random.Random, zones: ZoneSet, generation: int) -> HealthView:
    """A health view with random members down or up (and some left unknown) and random loads."""
    states = {}
    loads: dict[str, dict[str, float]] = {}
    for zone in zones:
        if zone.policy is None:
            continue
        for pool in zone.policy.pools.values():
            for member in pool.members:
                roll = rng.random()
                if roll < 0.25:
                    states[(zone.origin.text, pool.name, member.address)] = State.DOWN
                elif roll < 0.6:
                    states[(zone.origin.text, pool.name, member.address)] = State.UP
            loads.setdefault(zone.origin.text, {})[pool.name] = rng.random()
    return HealthView(states, generation, Measurements(pool_load=loads))


def test_compiled_and_general_paths_give_the_same_bytes(zones: ZoneSet, keys: Path) -> None:
    compiled, general = handler(zones, True, keys), handler(zones, False, keys)
    signed_ready = 0  # compiled-path replies that carry an RRSIG (a rough test: the type's bytes appear)
    rng = random.Random(20261204)
    generation = 0
    for index in range(SAMPLE):
        if rng.random() < 0.01:
            generation += 1
            view = random_view(rng, zones, generation)
            compiled.responder.resolver.steering.set_health(view)  # type: ignore[attr-defined]
            general.responder.resolver.steering.set_health(view)  # type: ignore[attr-defined]
        NOW[0] += rng.random() * 0.5
        data, source, tcp = random_query(rng)
        address = ipaddress.ip_address(source)
        assert compiled.compiled is not None
        before = compiled.compiled.answered
        fast = compiled.handle(data, address, tcp)
        slow = general.handle(data, address, tcp)
        assert (fast is None) == (slow is None), index
        if fast is not None and slow is not None:
            assert fast[:2] == data[:2]
            assert fast[2:] == slow[2:], (index, dns.message.from_wire(data), dns.message.from_wire(slow))
            if compiled.compiled.answered > before and RRSIG_TYPE in fast:
                signed_ready += 1
    assert compiled.compiled.answered > SAMPLE // 2, "most queries should come from the compiled path"
    assert signed_ready > SAMPLE // 20, "signed answers should come from the compiled path too"


def test_the_compiled_path_counts_like_the_general_path(zones: ZoneSet, keys: Path) -> None:
    compiled, general = handler(zones, True, keys), handler(zones, False, keys)
    rng = random.Random(5)
    for _ in range(3000):
        data, source, tcp = random_query(rng)
        compiled.handle(data, ipaddress.ip_address(source), tcp)
        general.handle(data, ipaddress.ip_address(source), tcp)
    assert compiled.stats.queries == general.stats.queries
    assert compiled.stats.ecs == general.stats.ecs
    assert compiled.stats.steered == general.stats.steered
    assert compiled.stats.truncated == general.stats.truncated


def test_a_health_change_recomputes_only_what_is_asked(zones: ZoneSet, keys: Path) -> None:
    """After a new view the next answer follows it, and the answers not asked for cost nothing."""
    fast = handler(zones, True, keys)
    query = dns.message.make_query("order.steer.test", "A").to_wire()
    source = ipaddress.ip_address("127.0.0.1")
    before = dns.message.from_wire(fast.handle(query, source, False) or b"")
    assert [r.to_text() for r in before.answer[0]] == ["203.0.113.99"]
    steering = fast.responder.resolver.steering  # type: ignore[attr-defined]
    steering.set_health(HealthView({("steer.test.", "canary", ipaddress.ip_address("203.0.113.99")): State.DOWN}, 1))
    after = dns.message.from_wire(fast.handle(query, source, False) or b"")
    assert [r.to_text() for r in after.answer[0]] == ["203.0.113.200"]  # the spare pool


def test_rate_limiting_charges_and_slips_as_the_general_path_does(zones: ZoneSet, keys: Path) -> None:
    """Both paths charge, drop and slip alike; a valid server cookie exempts in both, and a client
    that sent a cookie is slipped BADCOOKIE instead of TC=1 in both."""
    from gslb.config.model import RateLimit
    from gslb.dns.ratelimit import RateLimiter

    compiled, general = handler(zones, True, keys), handler(zones, False, keys)
    now = [0.0]
    limits = [RateLimiter(RateLimit(5, 2, 2), clock=lambda: now[0]) for _ in range(2)]
    rng = random.Random(11)
    outcomes = {"slipped": 0, "badcookie": 0, "exempt": 0}
    source = ipaddress.ip_address("127.1.2.3")
    proven = ServerCookies((SECRET,), clock=lambda: NOW[0]).answer(b"C" * 8, source)[1]
    for _ in range(4000):
        now[0] += 0.01
        name = rng.choice(("legacy.example.com", "geo.steer.test", "nope.example.com", "order.steer.test"))
        options: list[dns.edns.Option] = [random_ecs(rng)] if rng.random() < 0.5 else []
        roll = rng.random()
        if roll < 0.2:
            options.append(dns.edns.CookieOption(proven[:8], proven[8:]))
        elif roll < 0.4:
            options.append(dns.edns.CookieOption(rng.randbytes(8), b""))
        query = dns.message.make_query("".join(c.upper() if rng.random() < 0.5 else c for c in name), "A",
                                       use_edns=0, options=options)
        data = query.to_wire()
        before = limits[0].stats.responses
        fast = compiled.handle(data, source, False, limiter=limits[0])
        slow = general.handle(data, source, False, limiter=limits[1])
        assert (fast is None) == (slow is None)
        if roll < 0.2:
            assert fast is not None and limits[0].stats.responses == before  # never charged
            outcomes["exempt"] += 1
        if fast is not None and slow is not None:
            assert fast[2:] == slow[2:]
            reply = dns.message.from_wire(fast)
            outcomes["slipped"] += bool(reply.flags & dns.flags.TC)
            outcomes["badcookie"] += reply.rcode() == dns.rcode.BADCOOKIE
    assert limits[0].stats == limits[1].stats
    assert limits[0].stats.dropped > 0 and all(outcomes.values()), outcomes
