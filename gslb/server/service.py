"""`gslb serve`: zones, health, the DNS listeners and the HTTP API in one process.

Reloads (SIGHUP, `POST /v1/reload`, the zone folder watcher) read and validate the files in a
worker thread, build a complete new `ZoneSet` off to the side and swap it in on the loop with
one assignment, so queries never wait for a reload and never see half of one. The geo database
is kept the same way by `GeoKeeper` (its own watcher, and SIGHUP and `POST /v1/reload`).

This is the composition root of the server: the query path comes from `build_query_path` (the
same function every DNS worker process calls), the health backend is chosen here and handed to
the monitor, and the HTTP API sees this object only through `gslb.api.control.ServerControl`.
With dynamic updates on (`updates` in the config), the update service answers UPDATE messages
and turns the zone files' `ZoneSet` into the one served (the files' zones with the dynamic
records merged in), on every reload and after every accepted update.
Optional parts that run beside the server (the embedded prober) are plugged in from outside as
`BackgroundService`s, so the server never imports them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from typing import Any, Protocol

from gslb.api.app import build_app
from gslb.api.control import ReloadOutcome
from gslb.common.endpoint import ListenError
from gslb.common.problems import Problem
from gslb.config.model import Config, HealthConfig, UpdatesConfig
from gslb.config.tokens import ApiTokens
from gslb.dns.querypath import build_query_path
from gslb.dns.stats import DnsCounters
from gslb.dns.workers import WorkerPool, worker_count
from gslb.geo.database import GeoDatabase
from gslb.health.backend import HealthBackend, LocalBackend
from gslb.health.monitor import HealthMonitor
from gslb.health.view import HealthView
from gslb.server.geo_keeper import GeoKeeper
from gslb.server.http_listener import HttpListener
from gslb.server.reload_log import log_reload
from gslb.server.sdnotify import Notifier
from gslb.server.settings_reload import reload_settings
from gslb.updates.service import UpdateService
from gslb.zones.attempts import AttemptBook
from gslb.zones.directory import LoadReport, reload_zones
from gslb.zones.errors import ZoneFileError
from gslb.zones.serials import SerialBook
from gslb.zones.watch import Snapshot, ZoneWatcher
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger("gslb")


class BackgroundService(Protocol):
    """Something that runs beside the server for its whole life (the embedded prober)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def zones_changed(self) -> None:
        """The zones were reloaded (the targets may have changed)."""
        ...


def open_backend(config: HealthConfig) -> HealthBackend:
    """The backend `health.backend` names (Redis is imported only when it is used)."""
    if config.backend == "local":
        return LocalBackend()
    from gslb.health.redis_backend import RedisBackend

    return RedisBackend(config.backend, config.redis_password_file)


def open_updates(config: UpdatesConfig, full: Config, serials: SerialBook) -> UpdateService:
    """The update service, sharing records through Redis when health is shared there."""
    service = UpdateService(config, full.state_dir, serials)
    if full.health.backend != "local":
        from gslb.updates.redis_store import RedisRecords

        service.shared = RedisRecords(full.health.backend, full.health.redis_password_file,
                                      lambda: dict(service.records), service.remote)
    return service


class GslbServer:
    def __init__(self, config: Config, tokens: ApiTokens) -> None:
        """Raises GeoDatabaseError or CertificateError when the geo database or the TLS files cannot
        be used, and KeyFileError when dynamic updates are on and their keys cannot be."""
        self.config = config
        self.tokens = tokens
        self.serials = SerialBook(config.state_dir / "serials.json")
        self.dns_process_count = worker_count(config.dns)
        self.updates = open_updates(config.updates, config, self.serials) if config.updates is not None else None
        self.file_zones = ZoneSet()  # as loaded from the files; served with the dynamic records merged in
        self.geo = GeoKeeper(config.geodb, config.state_dir, self._geo_changed)
        self.path = build_query_path(config, self.geo.open_at_start(), reuse_port=self.dns_process_count > 1,
                                     update=self.updates.handle if self.updates is not None else None)
        if self.updates is not None:
            self.updates.publish = self._publish_records
        self.steering = self.path.steering
        self.workers: WorkerPool | None = None
        # Health: verdicts and overrides become a HealthView that steering swaps in whole.
        self.health = HealthMonitor(config.health, config.state_dir, self._health_changed,
                                    backend=open_backend(config.health))
        self.background: list[BackgroundService] = []
        self.reload_counts: dict[str, int] = {"success": 0, "failure": 0}
        self.reload_attempts = AttemptBook()  # per zone file, its last reload attempt (for /status)
        listen = config.http.listen
        self.http = HttpListener(build_app(self), listen, config.http.tls) if listen is not None else None
        self._stop = asyncio.Event()
        # Reloads: one at a time; systemd hears about them; the zone folder is watched.
        self._reload_lock = asyncio.Lock()
        self._reload_tasks: set[asyncio.Task[ReloadOutcome]] = set()
        self.notifier = Notifier()
        self.ready = False
        self.watcher = ZoneWatcher(config.zones, lambda: self.reload_zones("watch"))

    # -- what the HTTP API reads (gslb.api.control.ServerControl) ------------------------------

    @property
    def zones(self) -> ZoneSet:
        return self.path.state.zones

    def dns_open(self) -> bool:
        return self.path.dns.is_open

    def counters(self) -> DnsCounters:
        """What every process answering DNS counted: this one and its workers."""
        mine = self.path.counters()
        if self.workers is None:
            return mine
        return DnsCounters.merged([mine, *(w.counters for w in self.workers.workers)])

    def dns_processes(self) -> list[dict[str, Any]]:
        return [{"index": 0, "pid": os.getpid(), "alive": True, "queries": self.path.handler.stats.total()},
                *(self.workers.status() if self.workers is not None else [])]

    def geodb_status(self) -> dict[str, Any] | None:
        return self.geo.status()

    # -- reloads -------------------------------------------------------------------------

    async def reload(self, trigger: str = "api") -> ReloadOutcome:
        """What SIGHUP and `POST /v1/reload` do: the settings a reload can apply (tokens, TLS files),
        the zone folder, then the geo database if its file changed. Whatever is rejected is logged
        and keeps serving its previous version."""
        settings = await reload_settings(self.config, self.http, trigger)
        if settings.tokens is not None:
            self.tokens = settings.tokens
        report = await self.reload_zones(trigger)
        geodb = await self.geo.reload(trigger)
        return ReloadOutcome(report, geodb, settings.to_json())

    def _geo_changed(self, geo: GeoDatabase | None) -> None:
        """A new geo database: every process locates clients with it from its next query on."""
        self.path.geo_changed(geo)
        if self.workers is not None:
            self.workers.send_geo(geo)

    async def reload_zones(self, trigger: str = "api") -> LoadReport:
        """Load the zone folder again; rejected files keep their serving version.

        `trigger` (signal, watch, api, start) is logged. The files are read and validated in
        a worker thread, so queries go on being answered meanwhile; the new `ZoneSet` is then
        swapped in on the loop thread with one assignment. Reloads never overlap.
        """
        async with self._reload_lock:
            log.info("reload requested by %s", trigger, extra={"event": "reload_requested", "trigger": trigger})
            if self.ready:
                self.notifier.reloading(f"reloading zones (requested by {trigger})")
            previous = self.zones
            zones, report, seen = await asyncio.to_thread(self._load_zones, self.file_zones)
            self.reload_attempts.record(report, trigger, time.time())
            self.file_zones = zones
            if self.updates is not None:
                self.updates.reload_keys()
                zones = self.updates.serve(zones)
            self.path.zones_changed(zones)
            if self.workers is not None:
                self.workers.send_zones(zones)
            self.health.zones_changed(zones)
            for service in self.background:
                service.zones_changed()
            self.reload_counts["success"] += len(report.loaded)
            self.reload_counts["failure"] += len(report.rejected)
            self.watcher.loaded(seen)
            summary = log_reload(trigger, report, previous, zones)
            if self.ready:
                self.notifier.ready(f"serving {len(zones)} zone(s); last reload: {summary}")
            return report

    async def _publish_records(self, zones: ZoneSet) -> None:
        """A dynamic update's zone set: served here at once, and by every worker before the reply."""
        self.path.records_changed(zones)
        if self.workers is not None:
            await self.workers.send_records(zones)

    def _health_changed(self, view: HealthView) -> None:
        """A new health view: steering reads it from the next query on, in every process."""
        self.path.health_changed(view)
        if self.workers is not None:
            self.workers.send_health(view)

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

    def request_reload(self, trigger: str) -> asyncio.Task[ReloadOutcome]:
        """Schedule a reload from synchronous code (the SIGHUP handler)."""
        task = asyncio.get_running_loop().create_task(self.reload(trigger), name=f"reload-{trigger}")
        self._reload_tasks.add(task)
        task.add_done_callback(self._reload_done)
        return task

    def _reload_done(self, task: asyncio.Task[ReloadOutcome]) -> None:
        self._reload_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("reload failed", exc_info=task.exception())

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await self.reload_zones("start")
        await self.health.start()  # a shared backend's state is loaded before the first answer
        if self.updates is not None and self.updates.shared is not None:
            await self.updates.shared.start()  # the shared dynamic records too
        if not len(self.zones):
            log.warning("no zone loaded from %s: every query will be REFUSED", self.config.zones)
        bound = await self.path.dns.start()
        if self.dns_process_count > 1:
            self.workers = WorkerPool(self.config, self.dns_process_count - 1, bound,
                                      update=self.updates.handle if self.updates is not None else None)
            await self.workers.start(self.zones, self.health.view, self.geo.database)
        http = "off"
        if self.http is not None:
            bound_http = await self.http.start()
            http = f"{bound_http} (TLS)" if self.http.scheme == "https" else str(bound_http)
        log.info("ready: dns %s (udp+tcp), http %s", " ".join(str(e) for e in bound), http,
                 extra={"event": "ready", "dns": [str(e) for e in bound], "http": http, "zones": len(self.zones)})
        self.ready = True
        self.notifier.ready(f"serving {len(self.zones)} zone(s)")
        self.watcher.start()
        self.geo.start()
        for service in self.background:
            await service.start()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, self.request_reload, "signal")
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        try:
            await self.start()
        except ListenError:
            await self.stop()  # whatever did start (sockets, tasks) stops cleanly
            raise
        await self._stop.wait()
        log.info("stopping", extra={"event": "stop"})
        await self.stop()

    async def stop(self) -> None:
        self.notifier.stopping("stopping")
        self.ready = False
        for service in self.background:
            await service.stop()
        await self.health.stop()
        if self.updates is not None and self.updates.shared is not None:
            await self.updates.shared.stop()
        await self.watcher.stop()
        await self.path.dns.close()
        if self.workers is not None:
            await self.workers.stop()
        await self.geo.stop()
        if self.http is not None:
            await self.http.stop()


def run_server(server: GslbServer) -> int:
    """Run until SIGINT or SIGTERM, on uvloop where it is installed; 1 when an address cannot be had."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency where it builds
        uvloop = None
    try:
        if uvloop is not None:
            uvloop.run(server.run())
        else:
            asyncio.run(server.run())
    except ListenError as exc:
        log.error("%s", exc, extra={"event": "listen_failed", "address": str(exc.endpoint)})
        return 1
    return 0
