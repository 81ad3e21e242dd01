"""Counting on the hot path in plain integers; Prometheus families only when /metrics is scraped.

A labelled prometheus-client `inc()` per query costs more than answering the query, so the DNS
path bumps dictionary counters and a fixed-bucket histogram, and a custom collector turns them
into families at scrape time.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from gslb.dns.constants import rcode_name, type_name

if TYPE_CHECKING:
    from gslb.service import GslbServer

LATENCY_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)


class QueryStats:
    """Counters the DNS handler bumps per query."""

    __slots__ = ("ecs", "latency_counts", "latency_sum", "queries", "steered", "truncated")

    def __init__(self) -> None:
        self.queries: dict[tuple[str, int, int, str], int] = {}  # (zone, qtype, rcode, transport)
        self.ecs: dict[str, int] = {}  # transport -> queries with an ECS option
        self.truncated: dict[str, int] = {}  # transport -> replies sent with TC=1
        self.latency_counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.steered: dict[tuple[str, str, str], int] = {}  # (zone, service, pool) -> answers

    def count(self, zone: str, qtype: int, rcode: int, transport: str, truncated: bool, ecs: bool,
              seconds: float) -> None:
        key = (zone, qtype, rcode, transport)
        queries = self.queries
        queries[key] = queries.get(key, 0) + 1
        if truncated:
            self.truncated[transport] = self.truncated.get(transport, 0) + 1
        if ecs:
            self.ecs[transport] = self.ecs.get(transport, 0) + 1
        self.latency_counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    def total(self) -> int:
        return sum(self.queries.values())

    @classmethod
    def merged(cls, parts: list[QueryStats]) -> QueryStats:
        """The sum of several processes' counters (the main process and its DNS workers)."""
        result = cls()
        for part in parts:
            for mine, theirs in ((result.queries, part.queries), (result.ecs, part.ecs),
                                 (result.truncated, part.truncated), (result.steered, part.steered)):
                for key, count in theirs.items():
                    mine[key] = mine.get(key, 0) + count  # type: ignore[index]
            result.latency_counts = [a + b for a, b in zip(result.latency_counts, part.latency_counts, strict=True)]
            result.latency_sum += part.latency_sum
        return result

    def count_steered(self, pools: tuple[tuple[str, str, str], ...]) -> None:
        steered = self.steered
        for key in pools:
            steered[key] = steered.get(key, 0) + 1


class GslbCollector(Collector):
    """Reads the server's counters and health state at scrape time."""

    def __init__(self, server: GslbServer) -> None:
        self.server = server

    def collect(self) -> Iterator:  # type: ignore[override]
        server = self.server
        stats = server.query_stats()
        yield from _query_families(stats)
        answers = CounterMetricFamily("gslb_steering_answers", "Steered answers, by service and the pool answered from",
                                      labels=["zone", "service", "pool"])
        for (zone, service, pool), count in sorted(stats.steered.items()):
            answers.add_metric([zone, service, pool], count)
        yield answers
        yield from _health_families(server)
        reloads = CounterMetricFamily("gslb_zone_reloads", "Zone file loads, by result", labels=["result"])
        for result, count in sorted(server.reload_counts.items()):
            reloads.add_metric([result], count)
        yield reloads
        serial = GaugeMetricFamily("gslb_zone_serial", "SOA serial of each zone being served", labels=["zone"])
        for zone in server.state.zones:
            serial.add_metric([zone.origin.text], zone.serial)
        yield serial
        for name, help_text, labels, values in server.extra_metrics():
            family = CounterMetricFamily(name, help_text, labels=labels)
            for label_values, count in values:
                family.add_metric(label_values, count)
            yield family


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


def _health_families(server: GslbServer) -> Iterator:
    monitor = server.health
    members = GaugeMetricFamily("gslb_member_state", "1 for each member's current state (up, down, unknown)",
                                labels=["zone", "pool", "address", "state"])
    for (zone, pool, address), state in sorted(monitor.view.states().items(), key=lambda i: (i[0][0], i[0][1],
                                                                                               str(i[0][2]))):
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


def build_registry(server: GslbServer) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GslbCollector(server))
    return registry
