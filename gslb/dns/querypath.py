"""The query path, built from the config in one place: steering, engine, handler, sockets.

The main process and every DNS worker process call `build_query_path`, so they answer with the
same parts wired the same way; only the listening sockets (SO_REUSEPORT for workers) and where
zones, health and the geo database come from differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from gslb.common.endpoint import Endpoint
from gslb.config.model import Config
from gslb.dns.cookies import ServerCookies
from gslb.dns.handler import QueryHandler, ServingState
from gslb.dns.querylog import open_query_log
from gslb.dns.ratelimit import RateLimiter
from gslb.dns.server import DnsServer
from gslb.dns.stats import DnsCounters, RateLimitStats
from gslb.dns.udp import UpdateHandle
from gslb.dnssec.signer import Signer
from gslb.engine.resolver import Resolver
from gslb.engine.respond import Responder
from gslb.geo.database import GeoDatabase
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

    def records_changed(self, zones: ZoneSet) -> None:
        """A new zone set that differs only in records (a dynamic update): the policies are the
        same objects, so steering keeps its caches; ready answers go."""
        self.state.zones = zones
        self.handler.zones_changed()

    def geo_changed(self, geo: GeoDatabase | None) -> None:
        """A new geo database: locate clients with it from the next query on. Decisions and scopes
        cached from the old one are dropped, and the new decision epoch makes the compiled path
        decide each client subnet again."""
        self.steering.geo_changed(geo)

    def health_changed(self, view: HealthView) -> None:
        """A new health view: steer by it on the next query (ready answers made under the old
        one are recomputed as they are next asked for)."""
        self.steering.set_health(view)

    def counters(self) -> DnsCounters:
        """What this process counted so far (shared with the main process by workers)."""
        limiter = self.rate_limiter
        return DnsCounters(self.handler.stats, limiter.stats if limiter is not None else RateLimitStats(),
                           self.dns.limits.counters, self.dns.udp_counters)


def build_query_path(config: Config, geo: GeoDatabase | None, listen: tuple[Endpoint, ...] | None = None,
                     reuse_port: bool = False, update: UpdateHandle | None = None) -> QueryPath:
    """The query path of one process over `geo` (opened by the caller); `listen` overrides
    dns.listen (workers get the bound ports).

    `update` answers UPDATE messages (dynamic updates on): the update service in the main
    process, a forwarder to it in a worker.
    """
    state = ServingState()
    steering = SteeringEngine(geo)
    responder = Responder(Resolver(steering), config.dns.nsid)
    handler = QueryHandler(state, responder, config.dns, steering, ServerCookies.from_config(config),
                           Signer(config.dnssec))
    handler.query_log = open_query_log(config.log.queries, config.log.format)
    limiter = RateLimiter(config.dns.rate_limit) if config.dns.rate_limit is not None else None
    dns = DnsServer(handler.handle, config.dns, listen or config.dns.listen, reuse_port=reuse_port,
                    rate_limiter=limiter, update=update)
    return QueryPath(state, steering, handler, limiter, dns)
