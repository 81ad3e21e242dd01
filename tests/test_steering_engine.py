"""The steering engine with real inputs: a loaded zone, the test geo database, health set directly."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest

from gslb.dns.render import render_answer
from gslb.engine.answer import Answer
from gslb.geo.database import GeoDatabase
from gslb.health.view import UNKNOWN_VIEW, HealthView, State
from gslb.steering.client import Client
from gslb.steering.engine import SteeringEngine, degraded_ttl
from gslb.steering.steered import Steered
from gslb.wire.constants import Rcode, RRType
from gslb.wire.message import Header, Question
from gslb.wire.name import Name
from gslb.zones.model import Zone
from tests.ecs import ecs_for

ORIGIN = "steer.test."
SEOUL, FRANKFURT, VIRGINIA, CALIFORNIA = "127.1.0.1", "127.2.0.1", "127.3.0.1", "127.4.0.1"
TOKYO, SAO_PAULO, NAMIBIA, PARIS, NOWHERE = "127.5.0.1", "127.6.0.1", "127.8.0.1", "127.9.0.1", "127.0.0.1"


@pytest.fixture(scope="module")
def zone(steer_zone: Zone) -> Zone:
    return steer_zone


@pytest.fixture(scope="module")
def geo(test_geo: GeoDatabase) -> GeoDatabase:
    return test_geo


def make_engine(geo: GeoDatabase, down: tuple[tuple[str, str], ...] = (), up: tuple[tuple[str, str], ...] = ()):
    states = {(ORIGIN, pool, ipaddress.ip_address(a)): State.DOWN for pool, a in down}
    states |= {(ORIGIN, pool, ipaddress.ip_address(a)): State.UP for pool, a in up}
    return SteeringEngine(geo, HealthView(states) if states else UNKNOWN_VIEW, seed=7)


def steer(engine: SteeringEngine, zone: Zone, name: str, client: str = SEOUL, qtype: int = RRType.A,
          ecs: str | None = None) -> Steered:
    owner = Name.from_text(f"{name}.{ORIGIN}")
    node = zone.node(owner)
    assert node is not None and node.service, name
    return engine.steer(zone, node, owner, qtype, Client(ipaddress.ip_address(client), ecs_for(ecs) if ecs else None))


def addresses(steered: Steered) -> list[str]:
    assert steered.rrset is not None, steered
    return [r.text for r in steered.rrset.rdatas]


# -- geo -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        (SEOUL, {"192.0.2.1", "192.0.2.2"}),  # KR
        (CALIFORNIA, {"203.0.113.1", "203.0.113.2"}),  # US-CA: the subdivision
        (PARIS, {"198.51.100.1"}),  # FR: the continent, europe
        (FRANKFURT, {"198.51.100.1"}),
        (NAMIBIA, {"203.0.113.1", "203.0.113.2"}),  # country NA is Namibia, not north-america: default
        (NOWHERE, {"203.0.113.1", "203.0.113.2"}),  # no location: default
        ("127.11.5.9", {"192.0.2.1", "192.0.2.2"}),  # a KR network inside a US one
    ],
)
def test_geo_most_specific_match_wins(zone: Zone, geo: GeoDatabase, client: str, expected: set[str]) -> None:
    assert set(addresses(steer(make_engine(geo), zone, "geo", client))) == expected


def test_geo_list_is_a_failover_order_and_halves_the_ttl(zone: Zone, geo: GeoDatabase) -> None:
    healthy = steer(make_engine(geo), zone, "geo", SEOUL)
    assert healthy.rrset is not None and healthy.rrset.ttl == 60
    engine = make_engine(geo, down=(("seoul", "192.0.2.1"), ("seoul", "192.0.2.2"), ("seoul", "2001:db8:1::1")))
    moved = steer(engine, zone, "geo", SEOUL)
    assert addresses(moved) == ["192.0.2.11"]  # tokyo
    assert moved.rrset is not None and moved.rrset.ttl == 30


def test_pool_short_of_members_answers_with_the_live_ones_at_half_ttl(zone: Zone, geo: GeoDatabase) -> None:
    engine = make_engine(geo, down=(("seoul", "192.0.2.1"),))
    steered = steer(engine, zone, "geo", SEOUL)
    assert addresses(steered) == ["192.0.2.2"]
    assert steered.rrset is not None and steered.rrset.ttl == 30


def test_min_healthy_takes_a_pool_down(zone: Zone, geo: GeoDatabase) -> None:
    # virginia needs 2 live members; with one down the split service sends everyone to canary.
    engine = make_engine(geo, down=(("virginia", "203.0.113.1"),))
    picks = {tuple(addresses(steer(engine, zone, "split", NOWHERE))) for _ in range(50)}
    assert picks == {("203.0.113.99",)}


# -- nearest -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        (SEOUL, {"192.0.2.1", "192.0.2.2"}),
        (TOKYO, {"192.0.2.11"}),
        (PARIS, {"198.51.100.1"}),
        (VIRGINIA, {"203.0.113.1", "203.0.113.2"}),
        (SAO_PAULO, {"203.0.113.1", "203.0.113.2"}),  # 7,600 km to Virginia, 9,800 to Frankfurt
    ],
)
def test_nearest_by_great_circle(zone: Zone, geo: GeoDatabase, client: str, expected: set[str]) -> None:
    assert set(addresses(steer(make_engine(geo), zone, "near", client))) == expected


def test_nearest_skips_a_down_pool(zone: Zone, geo: GeoDatabase) -> None:
    engine = make_engine(geo, down=(("tokyo", "192.0.2.11"),))
    assert set(addresses(steer(engine, zone, "near", TOKYO))) == {"192.0.2.1", "192.0.2.2"}  # Seoul next


def test_nearest_bias_subtracts_kilometres(zone: Zone, geo: GeoDatabase) -> None:
    engine = make_engine(geo)
    # virginia has a 9,000 km bias: Frankfurt (6,500 km away) now prefers it; Seoul (11,100 km) does not.
    assert set(addresses(steer(engine, zone, "near-sticky", FRANKFURT))) == {"203.0.113.1", "203.0.113.2"}
    assert set(addresses(steer(engine, zone, "near-sticky", SEOUL))) == {"192.0.2.1", "192.0.2.2"}


# -- weighted, failover, all, cidr ----------------------------------------------------------


def test_weighted_proportions(zone: Zone, geo: GeoDatabase) -> None:
    engine = make_engine(geo)
    runs = 4000
    canary = sum(addresses(steer(engine, zone, "split", NOWHERE)) == ["203.0.113.99"] for _ in range(runs))
    # 20 % expected; the binomial standard deviation is about 25, so allow five of them.
    assert abs(canary - runs * 0.2) < 5 * (runs * 0.2 * 0.8) ** 0.5


def test_weight_zero_is_standby(zone: Zone, geo: GeoDatabase) -> None:
    assert {tuple(addresses(steer(make_engine(geo), zone, "standby"))) for _ in range(30)} == {("203.0.113.99",)}
    engine = make_engine(geo, down=(("canary", "203.0.113.99"),))
    steered = steer(engine, zone, "standby")
    assert addresses(steered) == ["203.0.113.200"]
    assert steered.rrset is not None and steered.rrset.ttl == 150


def test_failover_takes_the_first_up_pool(zone: Zone, geo: GeoDatabase) -> None:
    assert addresses(steer(make_engine(geo), zone, "order")) == ["203.0.113.99"]
    engine = make_engine(geo, down=(("canary", "203.0.113.99"),))
    assert addresses(steer(engine, zone, "order")) == ["203.0.113.200"]


def test_all_answers_every_healthy_member(zone: Zone, geo: GeoDatabase) -> None:
    everything = steer(make_engine(geo), zone, "every")
    assert sorted(addresses(everything)) == ["192.0.2.1", "192.0.2.11", "192.0.2.2", "198.51.100.1"]
    engine = make_engine(geo, down=(("frankfurt", "198.51.100.1"), ("frankfurt", "2001:db8:2::1")))
    assert sorted(addresses(steer(engine, zone, "every"))) == ["192.0.2.1", "192.0.2.11", "192.0.2.2"]
    six = steer(make_engine(geo), zone, "every", qtype=RRType.AAAA)
    assert sorted(addresses(six)) == ["2001:db8:1::1", "2001:db8:2::1"]


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("127.20.1.1", ["198.51.100.1"]),
        ("127.21.0.1", ["192.0.2.1", "192.0.2.2"]),  # the more specific /16 inside the /14
        ("127.23.255.1", ["198.51.100.1"]),
        ("127.30.0.1", ["203.0.113.1", "203.0.113.2"]),  # default
        ("::1", ["192.0.2.11"]),
    ],
)
def test_cidr_longest_prefix(zone: Zone, geo: GeoDatabase, client: str, expected: list[str]) -> None:
    assert sorted(addresses(steer(make_engine(geo), zone, "net", client))) == expected


def test_composition_uses_a_service_where_a_pool_may_stand(zone: Zone, geo: GeoDatabase) -> None:
    engine = make_engine(geo)
    seen = Counter(tuple(sorted(addresses(steer(engine, zone, "nested", SEOUL)))) for _ in range(400))
    assert set(seen) == {("203.0.113.1", "203.0.113.2"), ("203.0.113.99",)}  # the weighted split
    assert addresses(steer(engine, zone, "nested", FRANKFURT)) == ["203.0.113.99"]  # default -> order


# -- all down, initial ----------------------------------------------------------------------


def test_all_down_fail_open_answers_as_if_up(zone: Zone, geo: GeoDatabase) -> None:
    engine = make_engine(geo, down=(("canary", "203.0.113.99"), ("spare", "203.0.113.200")))
    steered = steer(engine, zone, "order")
    assert addresses(steered) == ["203.0.113.99"]
    assert steered.rrset is not None and steered.rrset.ttl == 150


def test_all_down_servfail(zone: Zone, geo: GeoDatabase) -> None:
    engine = make_engine(geo, down=(("canary", "203.0.113.99"),))
    assert steer(engine, zone, "strict").servfail
    assert not steer(make_engine(geo), zone, "strict").servfail


def test_all_down_named_pool(zone: Zone, geo: GeoDatabase) -> None:
    engine = make_engine(geo, down=(("canary", "203.0.113.99"), ("tokyo", "192.0.2.11")))
    assert addresses(steer(engine, zone, "fallback")) == ["203.0.113.200"]


def test_initial_down_until_a_verdict_says_up(zone: Zone, geo: GeoDatabase) -> None:
    assert addresses(steer(make_engine(geo), zone, "cold-first")) == ["203.0.113.200"]
    engine = make_engine(geo, up=(("cold", "198.51.100.250"),))
    assert addresses(steer(engine, zone, "cold-first")) == ["198.51.100.250"]


# -- members ---------------------------------------------------------------------------------


def test_members_by_weight_with_answers_max(zone: Zone, geo: GeoDatabase) -> None:
    engine = make_engine(geo)
    counts = Counter(addresses(steer(engine, zone, "capped"))[0] for _ in range(4000))
    assert counts["192.0.2.103"] == 0  # weight 0: never while others are up
    share = counts["192.0.2.102"] / 4000  # weight 3 of 4
    assert 0.70 < share < 0.80


def test_order_rotates_between_queries(zone: Zone, geo: GeoDatabase) -> None:
    engine = make_engine(geo)
    orders = {tuple(addresses(steer(engine, zone, "geo", SEOUL))) for _ in range(6)}
    assert orders == {("192.0.2.1", "192.0.2.2"), ("192.0.2.2", "192.0.2.1")}


def test_no_member_of_the_family_is_nodata(zone: Zone, geo: GeoDatabase) -> None:
    steered = steer(make_engine(geo), zone, "v4only", qtype=RRType.AAAA)
    assert steered.rrset is None and not steered.servfail


def test_degraded_ttl_rule() -> None:
    assert [degraded_ttl(t) for t in (0, 3, 5, 8, 9, 60, 61)] == [0, 3, 5, 5, 5, 30, 30]


# -- sticky ----------------------------------------------------------------------------------


def _assignment(engine: SteeringEngine, zone: Zone, clients: list[str]) -> dict[str, str]:
    """Which pool each client's sticky answer comes from."""
    pool_of = {str(m.address): p.name for p in zone.policy.pools.values() for m in p.members}
    return {client: pool_of[addresses(steer(engine, zone, "split-sticky", client))[0]] for client in clients}


def test_sticky_is_stable_per_client_subnet_and_moves_only_the_lost_pool(zone: Zone, geo: GeoDatabase) -> None:
    clients = [f"127.{40 + i // 250}.{i % 250}.9" for i in range(600)]
    engine = make_engine(geo)
    first = _assignment(engine, zone, clients)
    assert first == _assignment(engine, zone, clients)  # stable
    # the same /24 gets the same answer, in the same order, whatever the host part
    assert addresses(steer(engine, zone, "split-sticky", "127.40.3.200")) == addresses(
        steer(engine, zone, "split-sticky", "127.40.3.9"))
    shares = Counter(first.values())
    assert len(shares) == 4 and min(shares.values()) > 90  # four equal weights spread the clients
    # Tokyo goes down: only its clients move.
    after = _assignment(make_engine(geo, down=(("tokyo", "192.0.2.11"),)), zone, clients)
    moved = {c for c in clients if first[c] != after[c]}
    assert moved == {c for c in clients if first[c] == "tokyo"}


# -- ECS scope -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ecs", "scope"),
    [
        ("geo", "127.1.0.0/24", 16),  # KR covers exactly 127.1/16
        ("geo", "127.4.0.0/24", 14),  # US-CA, JP, BR and AU all decide [virginia]: merged to 127.4/14
        ("geo", "127.10.0.0/24", 16),  # two Berlin /17 records merge; 127.11 (US) decides otherwise
        ("geo", "127.0.0.0/24", 16),  # a default answer depends on the client too
        ("geo", "127.11.5.0/24", 24),  # a KR /24 inside a US /16
        ("geo", "127.11.6.0/24", 23),  # next to it: the widest US network avoiding the KR /24
        ("net", "127.20.1.0/24", 16),  # the /14 entry minus its more specific /16 at 127.21
        ("net", "127.22.0.0/24", 15),
        ("net", "127.21.0.0/24", 16),
        ("net", "127.30.0.0/24", 13),  # default up to the /14 entry
        ("near-sticky", "127.1.0.0/24", 24),  # sticky: decided per /24
        ("split", "127.1.0.0/24", 0),  # a random weighted pick: no client property decides
        ("order", "127.1.0.0/24", 0),
        ("nested", "127.1.0.0/24", 16),
    ],
)
def test_ecs_scope(zone: Zone, geo: GeoDatabase, name: str, ecs: str, scope: int) -> None:
    client = ecs.split("/")[0]
    assert steer(make_engine(geo), zone, name, client, ecs=ecs).scope == scope


def test_ecs_scope_ipv6(zone: Zone, geo: GeoDatabase) -> None:
    steered = steer(make_engine(geo), zone, "geo", "2001:db8:1::", ecs="2001:db8:1::/56")
    assert steered.scope == 48


def test_no_scope_without_ecs(zone: Zone, geo: GeoDatabase) -> None:
    assert steer(make_engine(geo), zone, "geo", SEOUL).scope == 0


# -- fitting ---------------------------------------------------------------------------------


def test_steered_answer_is_fitted_not_truncated(zone: Zone, geo: GeoDatabase) -> None:
    steered = steer(make_engine(geo), zone, "big")
    assert steered.rrset is not None and len(steered.rrset.rdatas) == 60
    answer = Answer(answer=[steered.rrset], trim_index=0)
    question = Question(Name.from_text("big.steer.test."), RRType.A, 1, b"\x03big\x05steer\x04test\x00\x00\x01\x00\x01")
    wire = render_answer(Header(1, 0), question, answer, 512, None)
    assert len(wire) <= 512
    assert not wire[2] & 0x02  # no TC
    count = int.from_bytes(wire[6:8], "big")
    assert 1 <= count < 60 and count == (512 - 12 - len(question.wire)) // 16
    assert Rcode(wire[3] & 0xF) == Rcode.NOERROR
