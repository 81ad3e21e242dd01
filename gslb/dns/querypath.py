"""The query path, built from the config in one place: geo database, steering, engine, handler.

The main process and every DNS worker process call `build_query_path`, so they answer with the
same parts wired the same way; only the listening sockets (SO_REUSEPORT for workers) and where
zones and health come from differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from gslb.common.endpoint import Endpoint
from gslb.config.model import Config
from gslb.dns.handler import QueryHandler, ServingState
from gslb.dns.querylog import open_query_log
from gslb.dns.ratelimit import RateLimiter
from gslb.dns.server import DnsServer
from gslb.dns.stats import DnsCounters, RateLimitStats
from gslb.dnssec.signer import Signer
from gslb.engine.resolver import Resolver
from gslb.engine.respond import Responder
from gslb.geo.database import open_geodb
from gslb.health.view import HealthView
from gslb.steering.engine import SteeringEngine
from gslb.zones.zoneset import ZoneSet


@dataclass
class QueryPath:
    """Everything between a socket and a reply, for one process."""

    state: ServingState
    steering: SteeringEngine
    handler: QueryHandler
    rate_limiter: RateLimiter | None
    dns: DnsServer

    def zones_changed(self, zones: ZoneSet) -> None:
        """A new zone set: answer from it on the next query."""
        self.state.zones = zones
        self.steering.zones_changed()
        self.handler.zones_changed(zones)

    def health_changed(self, view: HealthView) -> None:
        """A new health view: steer by it on the next query (ready answers made under the old
        one are recomputed as they are next asked for)."""
        self.steering.set_health(view)

    def counters(self) -> DnsCounters:
        """What this process counted so far (shared with the main process by workers)."""
        limiter = self.rate_limiter
        return DnsCounters(self.handler.stats, limiter.stats if limiter is not None else RateLimitStats(),
                           self.dns.limits.counters, self.dns.udp_counters)


def build_query_path(config: Config, listen: tuple[Endpoint, ...] | None = None, reuse_port: bool = False) -> QueryPath:
    """The query path of one process; `listen` overrides dns.listen (workers get the bound ports)."""
    state = ServingState()
    steering = SteeringEngine(open_geodb(config.geodb))
    responder = Responder(Resolver(steering), config.dns.nsid)
    handler = QueryHandler(state, responder, config.dns, steering, Signer(config.dnssec))
    handler.query_log = open_query_log(config.log.queries, config.log.format)
    limiter = RateLimiter(config.dns.rate_limit) if config.dns.rate_limit is not None else None
    dns = DnsServer(handler.handle, config.dns, listen or config.dns.listen, reuse_port=reuse_port,
                    rate_limiter=limiter)
    return QueryPath(state, steering, handler, limiter, dns)
