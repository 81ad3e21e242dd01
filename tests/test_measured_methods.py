"""latency and least-loaded: from prober reports to measurements to answers."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from gslb.config.model import HealthConfig
from gslb.geo.database import GeoDatabase
from gslb.health.backend import LocalBackend
from gslb.health.monitor import HealthMonitor
from gslb.health.reports import Report, Result
from gslb.health.view import HealthView, Measurements
from gslb.steering.client import Client
from gslb.steering.engine import SteeringEngine
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.zones.loader import load_zone_file
from gslb.zones.model import Zone
from gslb.zones.zoneset import ZoneSet
from tests import steering_zone
from tests.ecs import ecs_for

ORIGIN = "steer.test."
MEASURED = Measurements(
    prober_locations={ORIGIN: {"p-asia": (37.5, 127.0), "p-east": (38.9, -77.4)}},
    rtt_ms={ORIGIN: {"p-asia": {"seoul": 2.0, "frankfurt": 200.0, "virginia": 150.0},
                     "p-east": {"virginia": 1.0, "frankfurt": 80.0, "seoul": 180.0}}},
    pool_load={ORIGIN: {"seoul": 0.9, "frankfurt": 0.2, "virginia": 0.5}},
)


@pytest.fixture(scope="module")
def zone(steer_zone: Zone) -> Zone:
    return steer_zone


@pytest.fixture(scope="module")
def geo(test_geo: GeoDatabase) -> GeoDatabase:
    return test_geo


def first_address(engine: SteeringEngine, zone: Zone, name: str, client: str, ecs: str | None = None):
    owner = Name.from_text(f"{name}.{ORIGIN}")
    steered = engine.steer(zone, zone.node(owner), owner, RRType.A,
                           Client(ipaddress.ip_address(client), ecs_for(ecs) if ecs else None))
    return sorted(r.text for r in steered.rrset.rdatas), steered.scope


def test_latency_without_probers_is_the_list_order(zone: Zone, geo: GeoDatabase) -> None:
    assert first_address(SteeringEngine(geo), zone, "fast", "127.2.0.1")[0] == ["192.0.2.1", "192.0.2.2"]


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("127.2.0.1", ["203.0.113.1", "203.0.113.2"]),  # Frankfurt: p-east is nearer; it sees virginia fastest
        ("127.5.0.1", ["192.0.2.1", "192.0.2.2"]),  # Tokyo: p-asia sees seoul fastest
    ],
)
def test_latency_uses_the_prober_nearest_to_the_client(zone: Zone, geo: GeoDatabase, client: str,
                                                       expected: list[str]) -> None:
    engine = SteeringEngine(geo, HealthView(measurements=MEASURED))
    assert first_address(engine, zone, "fast", client)[0] == expected


def test_latency_scope_follows_the_nearest_prober(zone: Zone, geo: GeoDatabase) -> None:
    engine = SteeringEngine(geo, HealthView(measurements=MEASURED))
    # 127.1/16 (Seoul) is nearest p-asia; 127.0/16 has no location: no prober; so /16.
    assert first_address(engine, zone, "fast", "127.1.0.0", "127.1.0.0/24")[1] == 16


def test_least_loaded(zone: Zone, geo: GeoDatabase) -> None:
    engine = SteeringEngine(geo, HealthView(measurements=MEASURED))
    assert first_address(engine, zone, "light", "127.1.0.1", "127.1.0.0/24") == (["198.51.100.1"], 0)
    assert first_address(SteeringEngine(geo), zone, "light", "127.1.0.1")[0] == ["192.0.2.1", "192.0.2.2"]


def test_monitor_turns_reports_into_measurements(zone: Zone) -> None:
    views: list[HealthView] = []
    monitor = HealthMonitor(HealthConfig(), None, views.append, LocalBackend())
    monitor.zones_changed(ZoneSet([zone]))
    # steer.test has no checks, so every member is never probed: give one pool a check through a zone of its own
    assert monitor.index.targets == {}
    checked = zone_with_check(zone)
    monitor.zones_changed(ZoneSet([checked]))
    ids = {t.address: t.id for t in monitor.index.targets.values()}
    monitor.apply_report(Report("p-east", None, "virginia", (
        Result(ids["203.0.113.1"], True, rtt_ms=3.0, load=0.5), Result(ids["203.0.113.2"], True, rtt_ms=5.0, load=0.7),
        Result(ids["198.51.100.1"], True, rtt_ms=90.0, load=0.1),
    )))
    measurements = views[-1].measurements
    assert measurements.prober_locations[ORIGIN] == {"p-east": (38.95, -77.45)}  # the datacenter's location
    assert measurements.rtt_ms[ORIGIN]["p-east"] == {"virginia": 4.0, "frankfurt": 90.0}
    assert measurements.pool_load[ORIGIN]["virginia"] == pytest.approx(0.6)
    assert measurements.pool_load[ORIGIN]["frankfurt"] == pytest.approx(0.1)


def zone_with_check(zone: Zone, text: str = steering_zone.TEXT) -> Zone:
    text = text.replace(
        "pools:\n", "checks:\n  web: {type: http, port: 8080, load: header}\npools:\n", 1
    ).replace(
        "members: [203.0.113.1, 203.0.113.2], min_healthy: 2", "check: web, members: [203.0.113.1, 203.0.113.2]"
    ).replace("members: [198.51.100.1, \"2001:db8:2::1\"]", "check: web, members: [198.51.100.1]")
    path = Path(zone.file).with_name("checked") / "steer.test.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return load_zone_file(path)


def test_rtt_alone_does_not_renew_the_view_more_than_once_a_period(zone: Zone) -> None:
    """Every new view clears the reply cache, and RTTs differ in every report."""
    now = [1000.0]
    views: list[HealthView] = []
    monitor = HealthMonitor(HealthConfig(), None, views.append, LocalBackend(), clock=lambda: now[0])
    monitor.zones_changed(ZoneSet([zone_with_check(zone)]))
    ident = next(t.id for t in monitor.index.targets.values() if t.address == "203.0.113.1")
    published = len(views)
    for step, rtt in enumerate((3.0, 4.0, 5.0, 6.0)):
        now[0] += 1.0
        monitor.apply_report(Report("p-east", None, "virginia", (Result(ident, True, rtt_ms=rtt),)))
        if step == 0:
            assert len(views) == published + 1  # unknown -> up: a new view at once
    assert len(views) == published + 1  # three RTT-only changes within 5 s: no new view
    now[0] += 5.0
    monitor.tick()
    assert len(views) == published + 2
    assert views[-1].measurements.rtt_ms[ORIGIN]["p-east"]["virginia"] == 6.0


def test_zones_without_measured_methods_ignore_rtt(zone: Zone) -> None:
    text = steering_zone.TEXT.replace("method: latency", "method: failover").replace(
        "method: least-loaded", "method: failover")
    plain = zone_with_check(zone, text)
    views: list[HealthView] = []
    monitor = HealthMonitor(HealthConfig(), None, views.append, LocalBackend())
    monitor.zones_changed(ZoneSet([plain]))
    ident = next(t.id for t in monitor.index.targets.values() if t.address == "203.0.113.1")
    published = len(views)
    for rtt in (3.0, 9.0, 27.0):
        monitor.apply_report(Report("p-east", None, "virginia", (Result(ident, True, rtt_ms=rtt),)))
    assert len(views) == published + 1  # only the change from unknown to up
    assert views[-1].measurements.rtt_ms == {}
