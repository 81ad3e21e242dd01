"""`GET /metrics`: Prometheus families made at scrape time from the server's plain counters.

The DNS path counts in plain integers (`gslb.dns.stats`); this collector reads them, summed over
every process that answers DNS, together with the health state (`api.metrics_health`), only when
/metrics is asked for. docs/metrics.md lists every family.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from gslb.api.control import ServerControl
from gslb.api.metrics_health import health_families
from gslb.dns.stats import LATENCY_BUCKETS, DnsCounters, QueryStats
from gslb.geo.database import GeoDatabase
from gslb.wire.constants import rcode_name, type_name
from gslb.zones.zoneset import ZoneSet

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
        yield from _steering_families(counters.queries, server.zones)
        yield from _limit_families(counters)
        yield from health_families(server.zones, server.health)
        reloads = CounterMetricFamily("gslb_zone_reloads", "Zone file loads, by result", labels=["result"])
        for result, count in sorted(server.reload_counts.items()):
            reloads.add_metric([result], count)
        yield reloads
        serial = GaugeMetricFamily("gslb_zone_serial", "SOA serial of each zone being served", labels=["zone"])
        for zone in server.zones:
            serial.add_metric([zone.origin.text], zone.serial)
        yield serial
        yield GaugeMetricFamily("gslb_zone_files_rejected",
                                "Zone files whose last reload was rejected: what serves from them is older or nothing",
                                value=len(server.reload_attempts.rejected()))
        yield from _geo_families(server.steering.geo, server.health.clock())
        updates = CounterMetricFamily("gslb_dns_updates", "Dynamic updates (RFC 2136), by result", labels=["result"])
        for result, count in sorted(server.updates.results.items() if server.updates is not None else ()):
            updates.add_metric([result], count)
        yield updates


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


def _steering_families(stats: QueryStats, zones: ZoneSet) -> Iterator:
    """Steered answers by pool (with the pool's datacenter, looked up now in the zones served),
    and the answers that were not the all-up one, by why (see `Steered.counted`)."""
    datacenters = {(zone.origin.text, name): pool.datacenter or ""
                   for zone in zones if zone.policy is not None for name, pool in zone.policy.pools.items()}
    answers = CounterMetricFamily("gslb_steering_answers", "Steered answers, by service and the pool answered from",
                                  labels=["zone", "service", "pool", "datacenter"])
    fallback = CounterMetricFamily("gslb_steering_fallback_answers",
                                   "Steered answers not what every member up would give, by why",
                                   labels=["zone", "service", "reason"])
    for (zone, service, pool, reason), count in sorted(stats.steered.items()):
        if pool:
            answers.add_metric([zone, service, pool, datacenters.get((zone, pool), "")], count)
        else:
            fallback.add_metric([zone, service, reason], count)
    yield answers
    yield fallback


def _geo_families(geo: GeoDatabase | None, now: float) -> Iterator:
    """How old the geo database is: locations drift as address blocks move between networks."""
    if geo is None:
        return
    age = GaugeMetricFamily("gslb_geodb_age_seconds", "Seconds since the geo database in use was built",
                            labels=["type"])
    age.add_metric([geo.database_type], max(0.0, now - geo.build_epoch))
    yield age


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
    yield CounterMetricFamily("gslb_dns_udp_replies_dropped",
                              "UDP replies the socket could not take (send buffer full)",
                              value=counters.udp.replies_dropped)


def build_registry(server: ServerControl) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GslbCollector(server))
    return registry
