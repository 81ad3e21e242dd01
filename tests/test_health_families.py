"""A dual-stack pool end to end: real probers, real backends on 127.x and ::1, the real server.

The situation of issue 13: a pool with an IPv4 and an IPv6 member, the IPv4 one hung. A queries
must go to the next pool while AAAA queries still get the live IPv6 member, and A must come back
when the IPv4 member recovers. The engine-level rules are in tests/test_family_health.py.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import health_zone
from tests.backends import Backends, HttpBackend
from tests.harness import RunningServer, wait_for
from tests.health_zone import FALL, INTERVAL, RISE, http, start_prober, start_zones_server
from tests.processes import stop_process

FRANKFURT_V4, FRANKFURT_V6, VIRGINIA_V4 = "127.50.2.1", "::1", "127.50.3.1"
NAME = "www.dual.test"


def zone_text(port: int) -> str:
    return f"""
zone: dual.test.
ns: [ns1.dual.test.]
records:
  ns1: {{A: 127.0.0.53}}
  www: {{service: web}}
datacenters:
  fra: {{location: [50.1, 8.7]}}
  iad: {{location: [38.9, -77.4]}}
checks:
  web: {{type: http, port: {port}, path: /health, expect_body: ok, interval: {INTERVAL}, timeout: 0.3,
        rise: {RISE}, fall: {FALL}}}
pools:
  frankfurt-lb: {{datacenter: fra, check: web, members: [{FRANKFURT_V4}, "{FRANKFURT_V6}"]}}
  virginia-lb:  {{datacenter: iad, check: web, members: [{VIRGINIA_V4}]}}
services:
  web:
    ttl: 40
    method: failover
    pools: [frankfurt-lb, virginia-lb]
"""


@pytest.fixture
def backends() -> Iterator[dict[str, HttpBackend]]:
    owner = Backends()
    yield {b.address: b for b in owner.start_http_on_one_port([FRANKFURT_V4, FRANKFURT_V6, VIRGINIA_V4])}
    owner.close()


def answer(server: RunningServer, rdtype: str) -> tuple[set[str], int]:
    """health_zone.answer for the dual-stack name."""
    return health_zone.answer(server, NAME, rdtype)


def pool(server: RunningServer, name: str) -> dict:
    [found] = [p for p in http(server, "GET", "/status")[1]["pools"] if p["name"] == name]
    return found


def explain_pool(server: RunningServer, rdtype: str) -> dict:
    query = urllib.parse.urlencode({"name": NAME, "type": rdtype, "client": "127.0.0.1"})
    report = http(server, "GET", f"/v1/explain?{query}")[1]
    return report["steering"][0]["steps"][0]["candidates"][0]


def test_a_goes_to_the_next_pool_while_aaaa_keeps_the_live_ipv6_member(
    tmp_path: Path, backends: dict[str, HttpBackend]
) -> None:
    port = backends[FRANKFURT_V4].port
    server = start_zones_server(tmp_path, {"dual.test": zone_text(port)})
    prober = start_prober(tmp_path, [f"http://{server.http}"])
    try:
        wait_for(lambda: all(m["state"] == "up" for name in ("frankfurt-lb", "virginia-lb")
                             for m in pool(server, name)["members"]), timeout=10)
        assert backends[FRANKFURT_V6].hits > 0  # the prober really checks the IPv6 member
        assert answer(server, "A") == ({FRANKFURT_V4}, 40)
        assert answer(server, "AAAA") == ({FRANKFURT_V6}, 40)

        backends[FRANKFURT_V4].delay = 1.0  # the IPv4 VIP hangs: past the 0.3 s timeout
        budget = INTERVAL * FALL + 1.0 + 0.3
        moved = wait_for(lambda: answer(server, "A")[0] == {VIRGINIA_V4}, timeout=budget + 2)
        assert moved <= budget, f"A moved after {moved:.2f} s, budget {budget} s"
        assert answer(server, "A") == ({VIRGINIA_V4}, 20)  # a fallback: TTL halved
        assert answer(server, "AAAA") == ({FRANKFURT_V6}, 40)  # what all-up gives: full TTL
        frankfurt = pool(server, "frankfurt-lb")
        assert frankfurt["state"] == "degraded"
        assert {f: v["state"] for f, v in frankfurt["families"].items()} == {"ipv4": "down", "ipv6": "up"}
        assert explain_pool(server, "A")["families"] == {"ipv4": "down", "ipv6": "up"}
        assert explain_pool(server, "A")["state"] == "down"
        assert explain_pool(server, "AAAA")["state"] == "up"
        datacenters = {d["name"]: d for d in http(server, "GET", "/status/datacenters")[1]["datacenters"]}
        assert (datacenters["fra"]["state"], datacenters["fra"]["families"]) == (
            "degraded", {"ipv4": "down", "ipv6": "up"})

        backends[FRANKFURT_V4].delay = 0.0  # it recovers: A comes back
        wait_for(lambda: answer(server, "A")[0] == {FRANKFURT_V4}, timeout=INTERVAL * RISE + 3)
        assert answer(server, "A") == ({FRANKFURT_V4}, 40)
        assert answer(server, "AAAA") == ({FRANKFURT_V6}, 40)
        assert pool(server, "frankfurt-lb")["state"] == "up"
    finally:
        stop_process(prober)
        server.stop()
