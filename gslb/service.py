"""`gslb serve`: zones, answer engine, DNS listeners and the HTTP API in one process.

Reloads (SIGHUP) build a complete new `ZoneSet` off to the side and swap it in with one
assignment, so queries never wait for a reload and never see half of one.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime

from aiohttp import web

from gslb.api.app import build_app
from gslb.config import Config, Endpoint
from gslb.dns.handler import DnsOptions, QueryHandler, ServingState
from gslb.dns.server import DnsServer
from gslb.engine.resolver import Resolver
from gslb.geo.database import GeoDatabase
from gslb.geo.errors import GeoDatabaseError
from gslb.steering.engine import SteeringEngine
from gslb.zones.directory import LoadReport, reload_zones
from gslb.zones.serials import SerialBook

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
        self.dns = DnsServer(self.handler.handle, config.dns)
        self.http_runner: web.AppRunner | None = None
        self.http_bound: Endpoint | None = None
        self._stop = asyncio.Event()

    # -- zones ---------------------------------------------------------------------------

    def reload(self) -> LoadReport:
        """Load the zone folder again; rejected files keep their serving version."""
        zones, report = reload_zones(self.config.zones, self.state.zones, self.serials.serial_for)
        self.state.zones = zones
        self.steering.zones_changed()
        for zone in report.loaded:
            log.info("zone %s loaded from %s (serial %d)", zone.origin.text, zone.file, zone.serial)
        for error in report.rejected:
            for problem in error.problems:
                log.error("zone file rejected: %s", problem)
        for zone in report.kept:
            log.warning("zone %s keeps serving its previous version", zone.origin.text)
        return report

    def status(self) -> dict:
        return {
            "health_backend": {"kind": "local", "connected": True},
            "zones": [
                {
                    "zone": zone.origin.text,
                    "serial": zone.serial,
                    "loaded_at": datetime.fromtimestamp(zone.loaded_at, UTC).isoformat(),
                    "file": zone.file,
                }
                for zone in self.state.zones
            ],
        }

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self.reload()
        if not len(self.state.zones):
            log.warning("no zone loaded from %s: every query will be REFUSED", self.config.zones)
        bound = await self.dns.start()
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
        )

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        await self.start()
        await self._stop.wait()
        log.info("stopping")
        await self.stop()

    async def stop(self) -> None:
        await self.dns.close()
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
