"""When every verdict on a target is stale: the health monitor on a fake clock.

The target keeps the state its last verdicts gave and is marked stale; `initial` is only for a
target never judged. Silent probers and stale targets are logged once per change. The same with
a real prober that is killed, the real server and the status page: tests/test_prober_silence.py.
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

import pytest

from gslb.config.model import HealthConfig
from gslb.health.backend import LocalBackend
from gslb.health.monitor import HealthMonitor
from gslb.health.records import ProberInfo, Verdict
from gslb.health.reports import Report, Result
from gslb.health.view import HealthView, State
from gslb.zones.loader import load_zone_file
from gslb.zones.zoneset import ZoneSet
from tests.signing import Clock

STALE_AFTER = 30.0
ORIGIN = "stale.test."
WEB, DB = "127.70.0.1", "127.70.0.2"
ZONE = f"""
zone: {ORIGIN}
ns: [ns1.{ORIGIN}]
records:
  ns1: {{A: 127.0.0.53}}
  www: {{service: web}}
checks:
  web: {{type: http, port: 8080}}
pools:
  web-pool: {{members: [{WEB}, {DB}], check: web}}
services:
  web: {{method: failover, pools: [web-pool]}}
"""


@pytest.fixture
def clock() -> Clock:
    return Clock(1_000_000.0)


@pytest.fixture
def views() -> list[HealthView]:
    return []


@pytest.fixture
def monitor(tmp_path: Path, clock: Clock, views: list[HealthView]) -> HealthMonitor:
    path = tmp_path / "stale.test.yaml"
    path.write_text(ZONE)
    health = HealthMonitor(HealthConfig(stale_after=STALE_AFTER, quorum=0.5), None, views.append, LocalBackend(),
                           clock=clock)
    health.zones_changed(ZoneSet([load_zone_file(path)]))
    return health


def ids(monitor: HealthMonitor) -> dict[str, str]:
    return {t.address: t.id for t in monitor.index.targets.values()}


def report(monitor: HealthMonitor, prober: str, verdicts: dict[str, bool]) -> None:
    targets = ids(monitor)
    monitor.apply_report(Report(prober, None, None, tuple(Result(targets[a], up) for a, up in verdicts.items())))


def state(monitor: HealthMonitor, address: str) -> State:
    return monitor.view.member_state(ORIGIN, "web-pool", ipaddress.ip_address(address))


def stale(monitor: HealthMonitor, address: str) -> bool:
    return monitor.is_stale(ids(monitor)[address])


def test_a_dead_member_stays_down_when_its_only_prober_goes_silent(
    monitor: HealthMonitor, clock: Clock, views: list[HealthView]
) -> None:
    report(monitor, "p1", {WEB: False, DB: True})
    assert (state(monitor, WEB), stale(monitor, WEB)) == (State.DOWN, False)
    published = len(views)
    for _ in range(int(3 * STALE_AFTER)):  # three times stale_after, one tick a second
        clock.now += 1.0
        monitor.tick()
    assert (state(monitor, WEB), state(monitor, DB)) == (State.DOWN, State.UP)
    assert stale(monitor, WEB) and stale(monitor, DB)
    assert len(views) == published  # nothing steering reads changed: no new view, no cache flush
    report(monitor, "p1", {WEB: True, DB: True})
    assert (state(monitor, WEB), stale(monitor, WEB), stale(monitor, DB)) == (State.UP, False, False)


def test_never_judged_is_unknown_and_counts_as_initial(monitor: HealthMonitor, clock: Clock) -> None:
    report(monitor, "p1", {WEB: False})
    clock.now += 10 * STALE_AFTER
    monitor.tick()
    assert state(monitor, WEB) is State.DOWN and stale(monitor, WEB)
    assert state(monitor, DB) is State.UNKNOWN and not stale(monitor, DB)


def test_a_stale_verdict_drops_out_while_fresher_ones_exist(monitor: HealthMonitor, clock: Clock) -> None:
    report(monitor, "p1", {WEB: False})
    clock.now += 20.0
    report(monitor, "p2", {WEB: False})
    report(monitor, "p3", {WEB: True})  # 1 up of 3: down at quorum 0.5
    assert state(monitor, WEB) is State.DOWN
    clock.now += STALE_AFTER - 10.0  # p1 is stale now, p2 and p3 are not: 1 of 2 up is up
    monitor.tick()
    assert state(monitor, WEB) is State.UP and not stale(monitor, WEB)
    clock.now += 60.0  # all stale: the last quorum (p2 and p3, received last) stands, not p1's word
    monitor.tick()
    assert state(monitor, WEB) is State.UP and stale(monitor, WEB)


def test_verdicts_restored_from_a_shared_backend_count_as_judged(monitor: HealthMonitor, clock: Clock) -> None:
    """What a backend brings in at start (merge) is a verdict like any other, however old."""
    old = clock.now - 3600.0
    monitor.merge({"p-far": ProberInfo(old)}, [(ids(monitor)[WEB], "p-far", Verdict(False, old))])
    assert state(monitor, WEB) is State.DOWN and stale(monitor, WEB)
    assert monitor.blindness.silent == {"p-far"}


def test_silence_and_return_are_logged_once_each(
    monitor: HealthMonitor, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gslb.health")
    report(monitor, "p1", {WEB: False, DB: True})
    report(monitor, "p2", {WEB: False, DB: True})
    for _ in range(int(2 * STALE_AFTER)):
        clock.now += 1.0
        monitor.tick()
        if clock.now % 5 == 0:
            report(monitor, "p2", {WEB: False, DB: True})  # p2 keeps reporting: nothing goes stale
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"prober p1 silent for {int(STALE_AFTER) + 1} s (stale_after 30 s): its verdicts no longer count"]
    assert warnings[0].__dict__["event"] == "prober_silent"
    assert monitor.blindness.stale == frozenset()
    caplog.clear()
    for _ in range(int(2 * STALE_AFTER)):  # now p2 too: every verdict goes stale
        clock.now += 1.0
        monitor.tick()
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert messages == ["prober p2 silent for 31 s (stale_after 30 s): its verdicts no longer count",
                        f"2 target(s) have only stale verdicts and keep their last known state: {WEB}, {DB}"]
    caplog.clear()
    report(monitor, "p1", {WEB: True, DB: True})
    messages = [r.getMessage() for r in caplog.records if r.name == "gslb.health.staleness"]
    assert messages == ["prober p1 reports again after 120 s of silence",
                        "no target is stale any more: every judged target has a fresh verdict"]
