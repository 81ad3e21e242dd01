"""The metric families for alerting, scraped from the real server after real queries and reports.

No prober runs: verdicts come from the test's own reports, so each state is exactly the one the
test set. Every count is checked against the number of queries sent, over both answer paths
(the first query of a kind goes the general path, the rest the compiled one).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gslb.geo.database import GeoDatabase
from tests.harness import RunningServer
from tests.health_zone import http, report, start_zones_server
from tests.http_api import Samples, scrape_metrics
from tests.testdata import built_test_geodb

FRA_V4, FRA_V6, IAD_V4, SPARE = "127.80.0.1", "::1", "127.80.1.1", "127.80.2.1"
ORIGIN = "metrics.test."
ZONE = f"""
zone: {ORIGIN}
ns: [ns1.{ORIGIN}]
records:
  ns1: {{A: 127.0.0.53}}
  www: {{service: web}}
  strict: {{service: strict}}
  named: {{service: named}}
datacenters:
  fra: {{}}
  iad: {{}}
checks:
  web: {{type: http, port: 9, interval: 30}}
pools:
  frankfurt: {{datacenter: fra, check: web, members: [{FRA_V4}, "{FRA_V6}"]}}
  virginia:  {{datacenter: iad, check: web, members: [{IAD_V4}]}}
  spare:     {{datacenter: iad, members: [{SPARE}]}}
services:
  web: {{method: failover, pools: [frankfurt, virginia]}}
  strict: {{method: failover, pools: [virginia], all_down: servfail}}
  named: {{method: failover, pools: [virginia], all_down: spare}}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_zones_server(tmp_path, {"metrics.test": ZONE})
    yield running
    running.stop()


def ask(server: RunningServer, name: str, rdtype: str, times: int) -> None:
    for _ in range(times):
        server.ask(f"{name}.{ORIGIN}", rdtype)


def labelled(samples: Samples, metric: str, **labels: str) -> float:
    return samples[(metric, tuple(sorted(labels.items())))]


def states(samples: Samples, metric: str, **labels: str) -> set[str]:
    """The states a state-set family marks 1 for the labels given."""
    found = set()
    for (name, pairs), value in samples.items():
        mine = dict(pairs)
        if name == metric and value == 1 and all(mine.get(k) == v for k, v in labels.items()):
            found.add(mine["state"])
    return found


def test_pool_and_datacenter_states_per_family(server: RunningServer) -> None:
    report(server, "p1", {FRA_V4: False, FRA_V6: True, IAD_V4: True})
    samples = scrape_metrics(server)
    assert states(samples, "gslb_pool_state", zone=ORIGIN, pool="frankfurt", family="ipv4") == {"down"}
    assert states(samples, "gslb_pool_state", zone=ORIGIN, pool="frankfurt", family="ipv6") == {"up"}
    assert states(samples, "gslb_pool_state", zone=ORIGIN, pool="virginia", family="ipv4") == {"up"}
    assert not states(samples, "gslb_pool_state", pool="virginia", family="ipv6")  # no IPv6 member: no series
    assert labelled(samples, "gslb_pool_state", zone=ORIGIN, pool="frankfurt", family="ipv4", state="up") == 0
    assert states(samples, "gslb_datacenter_state", datacenter="fra", family="ipv4") == {"down"}
    assert states(samples, "gslb_datacenter_state", datacenter="fra", family="ipv6") == {"up"}
    report(server, "p1", {IAD_V4: False})
    assert states(scrape_metrics(server), "gslb_datacenter_state", datacenter="iad", family="ipv4") == {"degraded"}


def test_answers_by_pool_with_datacenter_and_fallbacks_by_why(server: RunningServer) -> None:
    report(server, "p1", {FRA_V4: False, FRA_V6: True, IAD_V4: True})
    ask(server, "www", "A", 3)  # frankfurt is down for A: virginia, a fallback
    ask(server, "www", "AAAA", 2)  # frankfurt is up for AAAA: the preferred answer
    report(server, "p1", {IAD_V4: False})
    ask(server, "www", "A", 4)  # nothing live for A: fail-open to frankfurt
    ask(server, "strict", "A", 2)  # all_down: servfail
    ask(server, "named", "A", 1)  # all_down: spare
    samples = scrape_metrics(server)

    def answers(service: str, pool: str, datacenter: str) -> float:
        return labelled(samples, "gslb_steering_answers_total", zone=ORIGIN, service=service, pool=pool,
                        datacenter=datacenter)

    def fallbacks(service: str, reason: str) -> float:
        return labelled(samples, "gslb_steering_fallback_answers_total", zone=ORIGIN, service=service, reason=reason)

    assert answers("web", "virginia", "iad") == 3
    assert answers("web", "frankfurt", "fra") == 2 + 4
    assert answers("named", "spare", "iad") == 1
    assert (fallbacks("web", "fallback"), fallbacks("web", "fail-open")) == (3, 4)
    assert (fallbacks("strict", "servfail"), fallbacks("named", "all-down")) == (2, 1)
    assert not [key for key in samples if key[0] == "gslb_steering_fallback_answers_total"
                and ("reason", "fallback") in key[1] and ("service", "strict") in key[1]]


def test_active_overrides_are_counted(server: RunningServer) -> None:
    assert not [key for key in scrape_metrics(server) if key[0] == "gslb_overrides_active"]
    http(server, "PUT", "/v1/overrides/metrics.test/pools/frankfurt", {"state": "down"})
    http(server, "PUT", "/v1/overrides/metrics.test/datacenters/iad", {"state": "down"})
    http(server, "PUT", f"/v1/overrides/metrics.test/members/spare/{SPARE}", {"state": "down"})
    samples = scrape_metrics(server)
    assert labelled(samples, "gslb_overrides_active", zone=ORIGIN, kind="pools", state="down") == 1
    assert labelled(samples, "gslb_overrides_active", zone=ORIGIN, kind="datacenters", state="down") == 1
    assert labelled(samples, "gslb_overrides_active", zone=ORIGIN, kind="members", state="down") == 1
    http(server, "DELETE", "/v1/overrides/metrics.test/pools/frankfurt")
    assert ("gslb_overrides_active", (("kind", "pools"), ("state", "down"), ("zone", ORIGIN))) not in scrape_metrics(
        server)


def test_prober_age_grows_and_stale_targets_are_counted(tmp_path: Path) -> None:
    running = start_zones_server(tmp_path, {"metrics.test": ZONE}, extra={"health": {"stale_after": "1s"}})
    try:
        report(running, "p1", {FRA_V4: False, IAD_V4: True})
        first = labelled(scrape_metrics(running), "gslb_prober_last_report_age_seconds", prober="p1")
        assert labelled(scrape_metrics(running), "gslb_stale_targets") == 0
        time.sleep(2.5)  # past stale_after, and the monitor's one-second tick
        samples = scrape_metrics(running)
        assert labelled(samples, "gslb_prober_last_report_age_seconds", prober="p1") >= first + 2.0
        assert labelled(samples, "gslb_stale_targets") == 2
        report(running, "p1", {FRA_V4: False, IAD_V4: True})
        samples = scrape_metrics(running)
        assert labelled(samples, "gslb_prober_last_report_age_seconds", prober="p1") < 1.0
        assert labelled(samples, "gslb_stale_targets") == 0
    finally:
        running.stop()


def test_geo_database_age(server: RunningServer) -> None:
    with GeoDatabase.open(str(built_test_geodb())) as geo:
        built, kind = geo.build_epoch, geo.database_type
    age = labelled(scrape_metrics(server), "gslb_geodb_age_seconds", type=kind)
    assert age == pytest.approx(time.time() - built, abs=5)
