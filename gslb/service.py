"""`gslb serve`: zones, answer engine, DNS listeners and the HTTP API in one process.

Reloads (SIGHUP, `POST /v1/reload`, the zone folder watcher) read and validate the files in a
worker thread, build a complete new `ZoneSet` off to the side and swap it in on the loop with
one assignment, so queries never wait for a reload and never see half of one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket

from aiohttp import web

from gslb.api.app import build_app
from gslb.config import Config, Endpoint
from gslb.dns.handler import DnsOptions, QueryHandler, ServingState
from gslb.dns.ratelimit import RateLimiter
from gslb.dns.server import DnsServer
from gslb.dns.workers import WorkerPool, worker_count
from gslb.engine.resolver import Resolver
from gslb.geo.database import GeoDatabase
from gslb.geo.errors import GeoDatabaseError
from gslb.health.monitor import HealthMonitor
from gslb.health.prober import Endpoint as ProberEndpoint
from gslb.health.prober import FunctionSink, FunctionSource, Prober
from gslb.health.reports import parse_report
from gslb.health.status import datacenters_status, iso, pools_status, probers_status
from gslb.health.view import HealthView
from gslb.metrics import QueryStats
from gslb.querylog import open_query_log
from gslb.sdnotify import Notifier
from gslb.steering.engine import SteeringEngine
from gslb.zones.directory import LoadReport, reload_zones
from gslb.zones.errors import Problem, ZoneFileError
from gslb.zones.serials import SerialBook
from gslb.zones.watch import Snapshot, ZoneWatcher
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger("gslb")


def open_geodb(spec: str) -> GeoDatabase | None:
    """The configured geo database; without one, geo-steered clients get their `default`."""
    try:
        database = GeoDatabase.open(spec)
    except GeoDatabaseError as exc:
        log.error("geo database unavailable (%s): clients have no location", exc)
        return None
    log.info("geo database: %s", database.summary)
    return database


class GslbServer:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.state = ServingState()
        self.serials = SerialBook(config.state_dir / "serials.json")
        self.steering = SteeringEngine(open_geodb(config.geodb))
        self.resolver = Resolver(self.steering)
        self.handler = QueryHandler(
            self.state, self.resolver, DnsOptions(config.dns.max_udp_size, config.dns.nsid)
        )
        self.handler.query_log = open_query_log(config.log.queries, config.log.format)
        self.rate_limiter = RateLimiter(config.dns.rate_limit) if config.dns.rate_limit is not None else None
        self.dns_processes = worker_count(config.dns)
        self.dns = DnsServer(self.handler.handle, config.dns, reuse_port=self.dns_processes > 1,
                             rate_limiter=self.rate_limiter)
        self.workers: WorkerPool | None = None
        # Health: verdicts and overrides become a HealthView that steering swaps in whole.
        self.token = config.token()
        self.health = HealthMonitor(config.health, config.state_dir, self._health_changed)
        self.local_prober: Prober | None = None
        self.reload_counts: dict[str, int] = {"success": 0, "failure": 0}
        self.http_runner: web.AppRunner | None = None
        self.http_bound: Endpoint | None = None
        self._stop = asyncio.Event()
        # Reloads: one at a time; systemd hears about them; the zone folder is watched.
        self._reload_lock = asyncio.Lock()
        self._reload_tasks: set[asyncio.Task[LoadReport]] = set()
        self.notifier = Notifier()
        self.ready = False
        self.watcher = ZoneWatcher(config.zones, lambda: self.reload("watch"))

    # -- zones ---------------------------------------------------------------------------

    async def reload(self, trigger: str = "api") -> LoadReport:
        """Load the zone folder again; rejected files keep their serving version.

        `trigger` (signal, watch, api, start) is logged. The files are read and validated in
        a worker thread, so queries go on being answered meanwhile; the new `ZoneSet` is then
        swapped in on the loop thread with one assignment. Reloads never overlap.
        """
        async with self._reload_lock:
            log.info("reload requested by %s", trigger, extra={"event": "reload_requested", "trigger": trigger})
            if self.ready:
                self.notifier.reloading(f"reloading zones (requested by {trigger})")
            previous = self.state.zones
            zones, report, seen = await asyncio.to_thread(self._load_zones, previous)
            self.state.zones = zones
            self.steering.zones_changed()
            self.handler.invalidate()
            if self.workers is not None:
                self.workers.send_zones(zones)
            self.health.zones_changed(zones)
            if self.local_prober is not None:
                self.local_prober.request_refresh()
            self.reload_counts["success"] += len(report.loaded)
            self.reload_counts["failure"] += len(report.rejected)
            self.watcher.loaded(seen)
            for zone in report.loaded:
                log.info("zone %s loaded from %s (serial %d)", zone.origin.text, zone.file, zone.serial, extra={
                    "event": "zone_loaded", "zone": zone.origin.text, "file": zone.file, "serial": zone.serial})
            for error in report.rejected:
                for problem in error.problems:
                    log.error("zone file rejected: %s", problem, extra={
                        "event": "zone_rejected", "file": problem.file, "line": problem.line,
                        "field": problem.field, "problem": problem.message})
            for zone in report.kept:
                log.warning("zone %s keeps serving its previous version (serial %d)", zone.origin.text, zone.serial,
                            extra={"event": "zone_kept", "zone": zone.origin.text, "serial": zone.serial})
            summary = (
                f"{len(report.loaded)} loaded, {len(report.rejected)} rejected, {len(report.kept)} kept;"
                f" serving {len(zones)} zone(s)"
            )
            log.info("reload done (%s): %s", trigger, summary, extra={
                "event": "reload", "trigger": trigger, "loaded": len(report.loaded),
                "rejected": len(report.rejected), "kept": len(report.kept), "zones": len(zones)})
            if self.ready:
                self.notifier.ready(f"serving {len(zones)} zone(s); last reload: {summary}")
            return report

    def _health_changed(self, view: HealthView) -> None:
        """A new health view: steering reads it from the next query on; remembered replies go."""
        self.steering.set_health(view)
        self.handler.invalidate()
        if self.workers is not None:
            self.workers.send_health(view)

    def query_stats(self) -> QueryStats:
        """Query counters of every process that answers DNS."""
        if self.workers is None:
            return self.handler.stats
        return QueryStats.merged([self.handler.stats, *(w.stats for w in self.workers.workers)])

    def _load_zones(self, previous: ZoneSet) -> tuple[ZoneSet, LoadReport, Snapshot | None]:
        """The blocking part of a reload (runs in a worker thread): files to a new ZoneSet."""
        location = self.config.zones
        seen = self.watcher.take()  # before reading: a change after this is seen by the watcher
        # A folder that vanished (moved away during a deploy?) is not "every zone removed".
        problem = "no such file or folder" if not location.exists() else None
        if problem is None:
            try:
                zones, report = reload_zones(location, previous, self.serials.serial_for)
                return zones, report, seen
            except Exception as exc:  # an unreadable folder, or a bug: keep serving what we have
                log.exception("cannot load zones from %s", location)
                problem = f"cannot load: {exc}"
        if len(previous):
            problem += ": every zone keeps serving its current version"
        error = ZoneFileError(str(location), [Problem(str(location), 0, "", problem)])
        return previous, LoadReport(kept=list(previous), rejected=[error]), seen

    def request_reload(self, trigger: str) -> asyncio.Task[LoadReport]:
        """Schedule a reload from synchronous code (the SIGHUP handler)."""
        task = asyncio.get_running_loop().create_task(self.reload(trigger), name=f"reload-{trigger}")
        self._reload_tasks.add(task)
        task.add_done_callback(self._reload_done)
        return task

    def _reload_done(self, task: asyncio.Task[LoadReport]) -> None:
        self._reload_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("zone reload failed", exc_info=task.exception())

    def status(self) -> dict:
        zones = self.state.zones
        return {
            "health_backend": self.health.backend.describe(),
            "zones": [
                {
                    "zone": zone.origin.text,
                    "serial": zone.serial,
                    "loaded_at": iso(zone.loaded_at),
                    "file": zone.file,
                }
                for zone in zones
            ],
            "datacenters": datacenters_status(zones, self.health),
            "pools": pools_status(zones, self.health),
            "probers": probers_status(self.health),
            "dns_processes": [{"index": 0, "pid": os.getpid(), "alive": True, "queries": self.handler.stats.total()},
                              *(self.workers.status() if self.workers is not None else [])],
        }

    def extra_metrics(self) -> list[tuple[str, str, list[str], list[tuple[list[str], int]]]]:
        """Counter families from optional parts (rate limiting): (name, help, labels, values)."""
        limits = self.dns.limits
        families = [(
            "gslb_dns_tcp_connections_closed", "TCP connections closed by a limit, by reason", ["reason"],
            [([reason], getattr(limits, attribute)) for reason, attribute in (
                ("connection_cap", "rejected"), ("idle", "idle_closed"), ("query_cap", "query_capped"),
                ("not_reading", "aborted"), ("bad_message", "bad_messages"))],
        )]
        stats = self.rate_limiter.stats if self.rate_limiter is not None else None
        families.append((
            "gslb_dns_rate_limited_responses", "UDP replies held back by rate limiting, by what was done",
            ["action"], [(["dropped"], stats.dropped if stats else 0), (["slipped"], stats.slipped if stats else 0)],
        ))
        return families

    def _start_local_prober(self) -> None:
        """The embedded prober: the same code as `gslb prober`, talking to this process directly."""
        name = f"local-{self.config.dns.nsid or socket.gethostname()}"
        endpoint = ProberEndpoint(
            "local",
            FunctionSource(lambda: list(self.health.index.targets.values())),
            FunctionSink(lambda body: self.health.apply_report(parse_report(body))),
        )
        self.local_prober = Prober(name, [endpoint], refresh=5.0)
        self._prober_task = asyncio.get_running_loop().create_task(self.local_prober.run(), name="local-prober")
        log.info("embedded prober %s started", name)

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await self.reload("start")
        await self.health.start()  # a shared backend's state is loaded before the first answer
        if not len(self.state.zones):
            log.warning("no zone loaded from %s: every query will be REFUSED", self.config.zones)
        bound = await self.dns.start()
        if self.dns_processes > 1:
            self.workers = WorkerPool(self.config, self.dns_processes - 1, bound)
            await self.workers.start(self.state.zones, self.health.view)
        if self.config.http.listen is not None:
            self.http_runner = web.AppRunner(build_app(self), access_log=None)
            await self.http_runner.setup()
            site = web.TCPSite(self.http_runner, self.config.http.listen.host, self.config.http.listen.port)
            await site.start()
            sockets = site._server.sockets if site._server else []
            port = sockets[0].getsockname()[1] if sockets else self.config.http.listen.port
            self.http_bound = Endpoint(self.config.http.listen.host, port)
        log.info(
            "ready: dns %s (udp+tcp), http %s",
            " ".join(str(e) for e in bound),
            self.http_bound or "off",
            extra={"event": "ready", "dns": [str(e) for e in bound], "http": str(self.http_bound or "off"),
                   "zones": len(self.state.zones)},
        )
        self.ready = True
        self.notifier.ready(f"serving {len(self.state.zones)} zone(s)")
        self.watcher.start()
        if self.config.health.local_prober:
            self._start_local_prober()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, self.request_reload, "signal")
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        await self.start()
        await self._stop.wait()
        log.info("stopping", extra={"event": "stop"})
        await self.stop()

    async def stop(self) -> None:
        self.notifier.stopping("stopping")
        self.ready = False
        if self.local_prober is not None:
            self.local_prober.stop()
            await asyncio.wait_for(self._prober_task, timeout=10)
        await self.health.stop()
        await self.watcher.stop()
        await self.dns.close()
        if self.workers is not None:
            await self.workers.stop()
        if self.http_runner is not None:
            await self.http_runner.cleanup()


def serve(config: Config) -> int:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency where it builds
        uvloop = None
    server = GslbServer(config)
    if uvloop is not None:
        uvloop.run(server.run())
    else:
        asyncio.run(server.run())
    return 0
