"""The health part of `GET /metrics`: states, probers, overrides and staleness, read at scrape time.

States come from the same view and the same rules as `/status` (`api.states`): a pool shown
down for ipv4 here is one A queries pass over. Every state family is a state set (1 for the
current state, 0 for the others), so an alert can say `== 1` and a missing series means the
thing is gone, not that it is down.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from gslb.api.states import datacenter_counts, pool_families, steered_zones
from gslb.health.monitor import HealthMonitor
from gslb.zones.zoneset import ZoneSet

MEMBER_STATES = ("up", "down", "unknown")
POOL_STATES = ("up", "down")
DATACENTER_STATES = ("up", "degraded", "down")


def health_families(zones: ZoneSet, monitor: HealthMonitor) -> Iterator:
    yield from _state_families(zones, monitor)
    yield from _prober_families(monitor)
    overrides = GaugeMetricFamily("gslb_overrides_active", "Operator overrides in force, by zone, kind and state",
                                  labels=["zone", "kind", "state"])
    counted: dict[tuple[str, str, str], int] = {}
    for override in monitor.overrides.active():
        key = (override.zone + ".", override.kind, override.state)  # zones end in a dot, as in every family
        counted[key] = counted.get(key, 0) + 1
    for key, count in sorted(counted.items()):
        overrides.add_metric(list(key), count)
    yield overrides
    backend = GaugeMetricFamily("gslb_health_backend_connected", "1 when the shared health backend is reachable",
                                labels=["kind"])
    backend.add_metric([monitor.backend.kind], 1.0 if monitor.backend.connected else 0.0)
    yield backend


def _state_families(zones: ZoneSet, monitor: HealthMonitor) -> Iterator:
    view = monitor.view
    members = GaugeMetricFamily("gslb_member_state", "1 for each member's current state (up, down, unknown)",
                                labels=["zone", "pool", "address", "state"])
    for (zone, pool, address), state in sorted(view.states().items(),
                                               key=lambda item: (item[0][0], item[0][1], str(item[0][2]))):
        for name in MEMBER_STATES:
            members.add_metric([zone, pool, str(address), name], 1.0 if state.value == name else 0.0)
    yield members
    pools = GaugeMetricFamily("gslb_pool_state", "1 for each pool's state per address family, as steering judges it",
                              labels=["zone", "pool", "family", "state"])
    datacenters = GaugeMetricFamily("gslb_datacenter_state",
                                    "1 for each datacenter's state per address family (up, degraded, down)",
                                    labels=["zone", "datacenter", "family", "state"])
    for zone in steered_zones(zones):
        origin = zone.origin.text
        for pool in zone.policy.pools.values():
            for family, judged in pool_families(view, zone, pool).items():
                for name in POOL_STATES:
                    pools.add_metric([origin, pool.name, family, name], 1.0 if judged["state"] == name else 0.0)
        for datacenter, (_, families) in datacenter_counts(view, zone).items():
            for family, count in families.items():
                for name in DATACENTER_STATES:
                    datacenters.add_metric([origin, datacenter, family, name], 1.0 if count.state == name else 0.0)
    yield pools
    yield datacenters
    yield GaugeMetricFamily("gslb_stale_targets", "Targets whose every verdict is stale, kept at their last state",
                            value=len(monitor.blindness.stale))


def _prober_families(monitor: HealthMonitor) -> Iterator:
    reports = CounterMetricFamily("gslb_prober_reports", "Reports accepted from each prober", labels=["prober"])
    for prober, count in sorted(monitor.stats.reports.items()):
        reports.add_metric([prober], count)
    yield reports
    results = CounterMetricFamily("gslb_prober_results", "Results in accepted reports, by outcome",
                                  labels=["prober", "outcome"])
    for (prober, outcome), count in sorted(monitor.stats.results.items()):
        results.add_metric([prober, outcome], count)
    yield results
    rejected = CounterMetricFamily("gslb_prober_reports_rejected", "Reports refused (401, 400), by reason",
                                   labels=["reason"])
    for reason, count in sorted(monitor.stats.rejected.items()):
        rejected.add_metric([reason], count)
    yield rejected
    now = monitor.clock()
    age = GaugeMetricFamily("gslb_prober_last_report_age_seconds",
                            "Seconds since this server last heard from each prober", labels=["prober"])
    for prober, info in sorted(monitor.probers.items()):
        age.add_metric([prober], max(0.0, now - info.last_report))
    yield age
