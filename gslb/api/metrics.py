"""`GET /metrics`: Prometheus families made at scrape time from the server's plain counters.

The DNS path counts in plain integers (`gslb.dns.stats`); this collector reads them, summed over
every process that answers DNS, together with the health state, only when /metrics is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from gslb.api.control import ServerControl
from gslb.dns.stats import LATENCY_BUCKETS, DnsCounters, QueryStats
from gslb.health.monitor import HealthMonitor
from gslb.wire.constants import rcode_name, type_name

TCP_CLOSE_REASONS = (("connection_cap", "rejected"), ("idle", "idle_closed"), ("query_cap", "query_capped"),
                     ("not_reading", "aborted"), ("bad_message", "bad_messages"))


class GslbCollector(Collector):
    """Reads the server's counters and health state at scrape time."""

    def __init__(self, server: ServerControl) -> None:
        self.server = server

    def collect(self) -> Iterator:  # type: ignore[override]
        server = self.server
        counters = server.counters()
        yield from _query_families(counters.queries)
        yield from _limit_families(counters)
        yield from _health_families(server.health)
        reloads = CounterMetricFamily("gslb_zone_reloads", "Zone file loads, by result", labels=["result"])
        for result, count in sorted(server.reload_counts.items()):
            reloads.add_metric([result], count)
        yield reloads
        serial = GaugeMetricFamily("gslb_zone_serial", "SOA serial of each zone being served", labels=["zone"])
        for zone in server.zones:
            serial.add_metric([zone.origin.text], zone.serial)
        yield serial


def _query_families(stats: QueryStats) -> Iterator:
    queries = CounterMetricFamily("gslb_dns_queries", "DNS queries answered, by zone, type, rcode and transport",
                                  labels=["zone", "qtype", "rcode", "transport"])
    for (zone, qtype, rcode, transport), count in sorted(stats.queries.items()):
        queries.add_metric([zone, type_name(qtype), rcode_name(rcode), transport], count)
    yield queries
    for name, help_text, table in (
        ("gslb_dns_ecs_queries", "Queries that carried an EDNS Client Subnet option", stats.ecs),
        ("gslb_dns_truncated_responses", "Replies sent with TC=1", stats.truncated),
    ):
        family = CounterMetricFamily(name, help_text, labels=["transport"])
        for transport, count in sorted(table.items()):
            family.add_metric([transport], count)
        yield family
    buckets, running = [], 0
    for bound, count in zip((*LATENCY_BUCKETS, float("inf")), stats.latency_counts, strict=True):
        running += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
    yield HistogramMetricFamily("gslb_dns_query_duration_seconds", "Time from a query's arrival to its reply",
                                buckets=buckets, sum_value=stats.latency_sum)
    answers = CounterMetricFamily("gslb_steering_answers", "Steered answers, by service and the pool answered from",
                                  labels=["zone", "service", "pool"])
    for (zone, service, pool, _), count in sorted(stats.steered.items()):
        if pool:
            answers.add_metric([zone, service, pool], count)
    yield answers


def _limit_families(counters: DnsCounters) -> Iterator:
    closed = CounterMetricFamily("gslb_dns_tcp_connections_closed", "TCP connections closed by a limit, by reason",
                                 labels=["reason"])
    for reason, attribute in TCP_CLOSE_REASONS:
        closed.add_metric([reason], getattr(counters.tcp, attribute))
    yield closed
    limited = CounterMetricFamily("gslb_dns_rate_limited_responses",
                                  "UDP replies held back by rate limiting, by what was done", labels=["action"])
    limited.add_metric(["dropped"], counters.rate_limit.dropped)
    limited.add_metric(["slipped"], counters.rate_limit.slipped)
    yield limited


def _health_families(monitor: HealthMonitor) -> Iterator:
    members = GaugeMetricFamily("gslb_member_state", "1 for each member's current state (up, down, unknown)",
                                labels=["zone", "pool", "address", "state"])
    for (zone, pool, address), state in sorted(monitor.view.states().items(),
                                               key=lambda item: (item[0][0], item[0][1], str(item[0][2]))):
        for name in ("up", "down", "unknown"):
            members.add_metric([zone, pool, str(address), name], 1.0 if state.value == name else 0.0)
    yield members
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
    backend = GaugeMetricFamily("gslb_health_backend_connected", "1 when the shared health backend is reachable",
                                labels=["kind"])
    backend.add_metric([monitor.backend.kind], 1.0 if monitor.backend.connected else 0.0)
    yield backend
    now = monitor.clock()
    age = GaugeMetricFamily("gslb_prober_last_report_age_seconds",
                            "Seconds since this server last heard from each prober", labels=["prober"])
    for prober, info in sorted(monitor.probers.items()):
        age.add_metric([prober], max(0.0, now - info.last_report))
    yield age
    yield GaugeMetricFamily("gslb_stale_targets", "Targets whose every verdict is stale, kept at their last state",
                            value=len(monitor.blindness.stale))


def build_registry(server: ServerControl) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GslbCollector(server))
    return registry
