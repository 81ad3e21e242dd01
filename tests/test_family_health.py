"""Pools judged per address family: the steering engine on a zone of dual-stack pools, health set directly.

An A answer holds only IPv4 members and an AAAA answer only IPv6 ones, so a pool is up for a
family while enough members of that family are up; a pool without a member of the family is no
candidate for it. The end-to-end version, with real probers, is in tests/test_health_families.py.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from gslb.engine.explain import explain, format_explain
from gslb.health.view import HealthView, State
from gslb.steering.client import Client
from gslb.steering.engine import SteeringEngine
from gslb.steering.steered import Steered
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.zones.loader import load_zone_file
from gslb.zones.model import Zone
from gslb.zones.zoneset import ZoneSet

ORIGIN = "family.test."
CLIENT = "127.0.0.1"
DUAL_V4, DUAL_V4_B, DUAL_V6 = "127.60.0.1", "127.60.0.2", "fd00:60::1"
NEXT_V4, NEXT_V6 = "127.61.0.1", "fd00:61::1"
ONLY_V4 = "127.62.0.1"

TEXT = f"""
zone: {ORIGIN}
ttl: 60
ns: [ns1.{ORIGIN}]
records:
  ns1: {{A: 127.0.0.53}}
  www: {{service: web}}
  v4first: {{service: v4first}}
  strict4: {{service: strict4}}
  open: {{service: open}}
  split: {{service: split}}
  every: {{service: every}}
datacenters:
  fra: {{}}
  iad: {{}}
pools:
  dual:   {{datacenter: fra, members: [{DUAL_V4}, {DUAL_V4_B}, "{DUAL_V6}"], min_healthy: 2}}
  next:   {{datacenter: iad, members: [{NEXT_V4}, "{NEXT_V6}"]}}
  only4:  {{datacenter: iad, members: [{ONLY_V4}]}}
services:
  web: {{method: failover, pools: [dual, next]}}
  v4first: {{method: failover, pools: [only4, dual]}}
  strict4: {{method: failover, pools: [only4], all_down: servfail}}
  open: {{method: failover, pools: [dual, only4]}}
  split: {{method: weighted, pools: {{only4: 1, dual: 1}}}}
  every: {{method: all, pools: [only4, dual]}}
"""


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Zone:
    path: Path = tmp_path_factory.mktemp("family") / "family.test.yaml"
    path.write_text(TEXT)
    return load_zone_file(path)


def engine_with(down: tuple[tuple[str, str], ...] = ()) -> SteeringEngine:
    states = {(ORIGIN, pool, ipaddress.ip_address(address)): State.DOWN for pool, address in down}
    return SteeringEngine(None, HealthView(states, generation=1), seed=3)


def steer(engine: SteeringEngine, zone: Zone, name: str, qtype: int) -> Steered:
    owner = Name.from_text(f"{name}.{ORIGIN}")
    node = zone.node(owner)
    assert node is not None
    return engine.steer(zone, node, owner, qtype, Client(ipaddress.ip_address(CLIENT), None))


def answer(steered: Steered) -> tuple[set[str], int]:
    """The addresses and the TTL; (set(), -1) for NODATA."""
    if steered.rrset is None:
        return set(), -1
    return {r.text for r in steered.rrset.rdatas}, steered.rrset.ttl


def test_every_member_up_answers_each_family_from_the_first_pool(zone: Zone) -> None:
    engine = engine_with()
    assert answer(steer(engine, zone, "www", RRType.A)) == ({DUAL_V4, DUAL_V4_B}, 60)
    # min_healthy 2 is capped at the one IPv6 member the pool has: it is up for AAAA.
    assert answer(steer(engine, zone, "www", RRType.AAAA)) == ({DUAL_V6}, 60)


def test_ipv4_members_down_send_a_to_the_next_pool_and_leave_aaaa_alone(zone: Zone) -> None:
    engine = engine_with(down=(("dual", DUAL_V4), ("dual", DUAL_V4_B)))
    a = steer(engine, zone, "www", RRType.A)
    assert answer(a) == ({NEXT_V4}, 30)  # a fallback: TTL halved
    assert a.counted == ((ORIGIN, "web", "next", ""), (ORIGIN, "web", "", "fallback"))
    aaaa = steer(engine, zone, "www", RRType.AAAA)
    assert answer(aaaa) == ({DUAL_V6}, 60)  # what every member up would give: full TTL
    assert aaaa.counted == ((ORIGIN, "web", "dual", ""),)


def test_min_healthy_counts_members_of_the_asked_family(zone: Zone) -> None:
    # One IPv4 member of two down: the pool needs 2, so A moves; the IPv6 side is untouched.
    engine = engine_with(down=(("dual", DUAL_V4),))
    assert answer(steer(engine, zone, "www", RRType.A)) == ({NEXT_V4}, 30)
    assert answer(steer(engine, zone, "www", RRType.AAAA)) == ({DUAL_V6}, 60)


def test_ipv6_member_down_moves_only_aaaa(zone: Zone) -> None:
    engine = engine_with(down=(("dual", DUAL_V6),))
    assert answer(steer(engine, zone, "www", RRType.A)) == ({DUAL_V4, DUAL_V4_B}, 60)
    assert answer(steer(engine, zone, "www", RRType.AAAA)) == ({NEXT_V6}, 30)


def test_a_pool_without_the_family_is_skipped_without_halving_the_ttl(zone: Zone) -> None:
    engine = engine_with()
    assert answer(steer(engine, zone, "v4first", RRType.AAAA)) == ({DUAL_V6}, 60)
    assert answer(steer(engine, zone, "v4first", RRType.A)) == ({ONLY_V4}, 60)
    # weighted and all leave the IPv4-only pool out of AAAA the same way
    for _ in range(20):
        assert answer(steer(engine, zone, "split", RRType.AAAA)) == ({DUAL_V6}, 60)
    assert answer(steer(engine, zone, "every", RRType.AAAA)) == ({DUAL_V6}, 60)


def test_a_service_with_no_member_of_the_family_is_nodata_not_all_down(zone: Zone) -> None:
    steered = steer(engine_with(down=(("only4", ONLY_V4),)), zone, "strict4", RRType.AAAA)
    assert answer(steered) == (set(), -1) and not steered.servfail
    assert steered.counted == ()
    # for A the pool is down and all_down: servfail applies, and is counted as such
    four = steer(engine_with(down=(("only4", ONLY_V4),)), zone, "strict4", RRType.A)
    assert four.servfail and four.counted == ((ORIGIN, "strict4", "", "servfail"),)


def test_all_down_applies_per_family(zone: Zone) -> None:
    # No live IPv6 member anywhere in `open` (only4 has none): AAAA fails open to dual's member;
    # A still has live IPv4 members in dual and is answered normally.
    engine = engine_with(down=(("dual", DUAL_V6),))
    aaaa = steer(engine, zone, "open", RRType.AAAA)
    assert answer(aaaa) == ({DUAL_V6}, 30)
    assert aaaa.counted == ((ORIGIN, "open", "dual", ""), (ORIGIN, "open", "", "fail-open"))
    assert answer(steer(engine, zone, "open", RRType.A)) == ({DUAL_V4, DUAL_V4_B}, 60)


def test_explain_shows_each_family_of_a_dual_stack_pool(zone: Zone) -> None:
    engine = engine_with(down=(("dual", DUAL_V4), ("dual", DUAL_V4_B)))
    report = explain(ZoneSet([zone]), engine, f"www.{ORIGIN}", "A", CLIENT)
    [step] = report["steering"][0]["steps"]
    dual, following = step["candidates"]
    assert (dual["state"], dual["families"]) == ("down", {"ipv4": "down", "ipv6": "up"})
    assert step["chosen"] == "next" and following["state"] == "up"
    assert report["answer"] == [f"www.{ORIGIN} 30 A {NEXT_V4}"]
    text = format_explain(report)
    assert f"- dual [fra]: down [ipv4 down, ipv6 up] ({DUAL_V4} down, {DUAL_V4_B} down, {DUAL_V6} unknown)" in text
    skipped = explain(ZoneSet([zone]), engine, f"v4first.{ORIGIN}", "AAAA", CLIENT)["steering"][0]["steps"][0]
    assert skipped["candidates"][0]["state"] == "skipped" and "families" not in skipped["candidates"][0]
    assert f"- only4 [iad]: skipped, no member of the asked family ({ONLY_V4} unknown)" in format_explain(
        explain(ZoneSet([zone]), engine, f"v4first.{ORIGIN}", "AAAA", CLIENT))
