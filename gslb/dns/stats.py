"""What the DNS side counts, in plain integers on the hot path.

A labelled prometheus-client `inc()` per query costs more than answering the query, so the DNS
path bumps dictionary counters and a fixed-bucket histogram here, and the API's collector turns
them into Prometheus families only when /metrics is scraped. `DnsCounters` is everything one
process counts; worker processes send theirs to the main process, which sums them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, fields

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
        # Steered answers: (zone, service, pool, "") per pool answered from, and
        # (zone, service, "", why) per answer that is not the all-up one (Steered.counted).
        self.steered: dict[tuple[str, str, str, str], int] = {}

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

    def count_steered(self, counted: tuple[tuple[str, str, str, str], ...]) -> None:
        steered = self.steered
        for key in counted:
            steered[key] = steered.get(key, 0) + 1

    def total(self) -> int:
        return sum(self.queries.values())

    def add(self, other: QueryStats) -> None:
        """Add another process's counters to these."""
        for mine, theirs in ((self.queries, other.queries), (self.ecs, other.ecs),
                             (self.truncated, other.truncated), (self.steered, other.steered)):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count  # type: ignore[index]
        self.latency_counts = [a + b for a, b in zip(self.latency_counts, other.latency_counts, strict=True)]
        self.latency_sum += other.latency_sum


@dataclass
class RateLimitStats:
    """Response rate limiting since start-up (see gslb.dns.ratelimit)."""

    responses: int = 0  # UDP responses checked against the limit
    limited: int = 0  # over the limit: dropped + slipped
    dropped: int = 0  # over the limit and not sent
    slipped: int = 0  # over the limit and sent as an empty TC=1 reply
    evicted: int = 0  # accounts evicted because the table was full (a sign of a spoofed flood)


@dataclass
class TcpCounters:
    """TCP connections since start-up (see gslb.dns.tcp), and how many are open now."""

    open: int = 0  # connections open now (a gauge)
    rejected: int = 0  # closed at once: over max_connections
    idle_closed: int = 0  # closed after idle_timeout without a complete query (slowloris included)
    query_capped: int = 0  # closed after max_queries queries
    aborted: int = 0  # aborted because the client did not read its replies before the timeout
    bad_messages: int = 0  # closed on a message that is not a DNS query (no reply)


@dataclass
class UdpCounters:
    """UDP replies since start-up that the socket could not take (a full send buffer)."""

    replies_dropped: int = 0


@dataclass
class DnsCounters:
    """Everything one DNS process counts; what a worker process sends to the main one."""

    queries: QueryStats = field(default_factory=QueryStats)
    rate_limit: RateLimitStats = field(default_factory=RateLimitStats)
    tcp: TcpCounters = field(default_factory=TcpCounters)
    udp: UdpCounters = field(default_factory=UdpCounters)

    @classmethod
    def merged(cls, parts: list[DnsCounters]) -> DnsCounters:
        """The sum over processes (the main one and its workers)."""
        total = cls()
        for part in parts:
            total.queries.add(part.queries)
            for mine, theirs in ((total.rate_limit, part.rate_limit), (total.tcp, part.tcp), (total.udp, part.udp)):
                for item in fields(mine):
                    setattr(mine, item.name, getattr(mine, item.name) + getattr(theirs, item.name))
        return total
