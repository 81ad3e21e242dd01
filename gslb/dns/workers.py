"""Worker processes that answer DNS on the same port as the main process (SO_REUSEPORT).

Python answers queries on one core per process, so `dns.workers: N` runs N processes: the main
one (zones, health, HTTP API, and DNS like the others) and N-1 workers that only answer DNS.
The kernel spreads incoming packets and connections over the sockets of the same port.

Workers never read zone files or talk to probers: the main process sends them each new zone set
and each new health view over a pipe the moment it has one, so every process answers from the
same state within a fraction of a second. The geo database is checked by the main process; a
worker maps the same file (the main process's private copy) when it starts and whenever the main
process says it changed. Each worker builds its query path with the same
`build_query_path` as the main process, and sends everything it counts (queries, rate limiting,
TCP limits) back every second, so /metrics and /status count the whole server. Rate limiting
itself is per process.

Dynamic updates are made in the main process only (one place decides their order and stores
them): a worker forwards an UPDATE over its pipe and sends back the reply it gets. The new zone
set an update produces goes to every worker, and the main process waits (up to a second) until
each has it before answering, so a client that reads right after its update sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
from dataclasses import dataclass, field
from typing import Any

from gslb.common.cpus import usable_cpus
from gslb.common.endpoint import Endpoint
from gslb.config.model import Config, DnsConfig
from gslb.dns.querypath import QueryPath, build_query_path
from gslb.dns.stats import DnsCounters
from gslb.dns.udp import UpdateHandle
from gslb.geo.database import GeoDatabase
from gslb.geo.errors import GeoDatabaseError
from gslb.health.view import HealthView
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger(__name__)

STATS_INTERVAL = 1.0
READY_TIMEOUT = 30.0
APPLY_TIMEOUT = 1.0  # how long an update waits for the workers to serve its zone set
FORWARD_TIMEOUT = 10.0  # how long a worker waits for the main process to answer an update

# The geo database as a worker opens it: (the path as configured, the file to map), None for none.
GeoFile = tuple[str, str] | None


def geo_file(database: GeoDatabase | None) -> GeoFile:
    return (database.path, database.file) if database is not None else None


def open_geo_file(geo: GeoFile) -> GeoDatabase | None:
    return GeoDatabase.open(geo[0], read_from=geo[1]) if geo is not None else None


def worker_count(config: DnsConfig) -> int:
    """How many processes answer DNS in all (the main one included); `auto`: one per CPU this process
    may use (its CPU affinity, capped by its cgroup's CPU quota), not one per CPU of the machine."""
    if config.workers == "auto":
        return usable_cpus()
    return int(config.workers)


@dataclass
class Worker:
    index: int
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    ready: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    counters: DnsCounters = field(default_factory=DnsCounters)
    applied: int = 0  # the generation of the latest zone set it confirmed (after a dynamic update)


class WorkerPool:
    """The main process's side: start workers, feed them state, collect their counters."""

    def __init__(self, config: Config, count: int, endpoints: list[Endpoint],
                 update: UpdateHandle | None = None) -> None:
        self.config = config
        self.count = count
        self.endpoints = endpoints
        self.update = update  # answers the UPDATEs workers forward
        self.workers: list[Worker] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self._applied = asyncio.Event()

    async def start(self, zones: ZoneSet, view: HealthView, geo: GeoDatabase | None) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited event loop
        loop = asyncio.get_running_loop()
        for index in range(1, self.count + 1):
            parent, child = context.Pipe()
            process = context.Process(
                target=worker_main, args=(self.config, self.endpoints, child, index, geo_file(geo)),
                name=f"gslb-dns-{index}",
                daemon=True,
            )
            process.start()
            child.close()
            worker = Worker(index, process, parent)
            self.workers.append(worker)
            loop.add_reader(parent.fileno(), self._receive, worker)
            parent.send(("zones", zones))
            parent.send(("health", view))
        pids = await asyncio.wait_for(asyncio.gather(*(w.ready for w in self.workers)), READY_TIMEOUT)
        log.info("%d DNS worker process(es) ready: pid %s", len(pids), ", ".join(map(str, pids)))

    def _receive(self, worker: Worker) -> None:
        try:
            kind, payload = worker.conn.recv()
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(worker.conn.fileno())
            if not worker.ready.done():
                worker.ready.set_exception(RuntimeError(f"DNS worker {worker.index} exited while starting"))
            else:
                log.error("DNS worker %d (pid %s) exited", worker.index, worker.process.pid)
            return
        if kind == "ready" and not worker.ready.done():
            worker.ready.set_result(payload)
        elif kind == "counters":
            worker.counters = payload
        elif kind == "applied":
            worker.applied = payload
            self._applied.set()
        elif kind == "update" and self.update is not None:
            task = asyncio.get_running_loop().create_task(self._answer_update(worker, *payload))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _answer_update(self, worker: Worker, ident: int, data: bytes, source: str, tcp: bool) -> None:
        assert self.update is not None
        reply = await self.update(data, ipaddress.ip_address(source), tcp)
        try:
            worker.conn.send(("update_reply", (ident, reply)))
        except (BrokenPipeError, OSError):
            log.error("DNS worker %d is gone; an update reply was not delivered", worker.index)

    def _send(self, message: tuple[str, Any]) -> None:
        for worker in self.workers:
            try:
                worker.conn.send(message)
            except (BrokenPipeError, OSError):
                log.error("DNS worker %d is gone; it missed an update", worker.index)

    def send_zones(self, zones: ZoneSet) -> None:
        self._send(("zones", zones))

    async def send_records(self, zones: ZoneSet) -> None:
        """A dynamic update's zone set: sent to every worker, then wait until each serves it."""
        self._send(("records", zones))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + APPLY_TIMEOUT
        while any(w.applied < zones.generation and w.process.is_alive() for w in self.workers):
            self._applied.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                log.warning("a DNS worker did not confirm the zones of a dynamic update within %.0f s", APPLY_TIMEOUT)
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._applied.wait(), remaining)

    def send_health(self, view: HealthView) -> None:
        self._send(("health", view))

    def send_geo(self, geo: GeoDatabase | None) -> None:
        """The main process swapped in another geo database: every worker maps the same file."""
        self._send(("geo", geo_file(geo)))

    def pids(self) -> list[int]:
        return [w.process.pid for w in self.workers if w.process.pid is not None]

    def status(self) -> list[dict[str, Any]]:
        return [
            {"index": w.index, "pid": w.process.pid, "alive": w.process.is_alive(),
             "queries": w.counters.queries.total()}
            for w in self.workers
        ]

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()
        self._send(("stop", None))
        for worker in self.workers:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(worker.conn.fileno())
        for worker in self.workers:
            await asyncio.to_thread(worker.process.join, 5)
            if worker.process.is_alive():
                worker.process.terminate()
            worker.conn.close()


def worker_main(config: Config, endpoints: list[Endpoint], conn: multiprocessing.connection.Connection,
                index: int, geo: GeoFile) -> None:
    """Entry point of a worker process."""
    from gslb.common.logsetup import setup_logging

    setup_logging(config.log.level, config.log.format)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when workers stop
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        asyncio.run(_serve(config, endpoints, conn, index, geo))
    else:
        uvloop.run(_serve(config, endpoints, conn, index, geo))


def _switch_geo(path: QueryPath, geo: GeoFile, index: int) -> None:
    """Map the database the main process swapped in; on failure keep the one in use (and say so)."""
    try:
        database = open_geo_file(geo)
    except GeoDatabaseError as exc:
        log.error("DNS worker %d cannot open the new geo database (%s): it keeps the previous one", index, exc)
        return
    old = path.steering.geo
    path.geo_changed(database)
    if old is not None:
        old.close()


class UpdateForwarder:
    """A worker's update handle: the UPDATE goes to the main process, its reply comes back."""

    def __init__(self, conn: multiprocessing.connection.Connection) -> None:
        self.conn = conn
        self.waiting: dict[int, asyncio.Future[bytes | None]] = {}
        self._ids = itertools.count()

    async def handle(self, data: bytes, source: ipaddress.IPv4Address | ipaddress.IPv6Address,
                     tcp: bool) -> bytes | None:
        ident = next(self._ids)
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self.waiting[ident] = future
        try:
            self.conn.send(("update", (ident, data, str(source), tcp)))
            return await asyncio.wait_for(future, FORWARD_TIMEOUT)
        except (BrokenPipeError, OSError, TimeoutError):
            return None  # the main process is gone or stuck: no answer is better than a wrong one
        finally:
            self.waiting.pop(ident, None)

    def replied(self, ident: int, reply: bytes | None) -> None:
        future = self.waiting.get(ident)
        if future is not None and not future.done():
            future.set_result(reply)


async def _serve(config: Config, endpoints: list[Endpoint], conn: multiprocessing.connection.Connection,
                 index: int, geo: GeoFile) -> None:
    forwarder = UpdateForwarder(conn) if config.updates is not None else None
    path = build_query_path(config, open_geo_file(geo), tuple(endpoints), reuse_port=True,
                            update=forwarder.handle if forwarder is not None else None)
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()

    def receive() -> None:
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError):  # the main process is gone: so are we
            stopped.set()
            return
        if kind == "zones":
            path.zones_changed(payload)
        elif kind == "records":
            path.records_changed(payload)
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(("applied", payload.generation))
        elif kind == "update_reply" and forwarder is not None:
            forwarder.replied(*payload)
        elif kind == "health":
            path.health_changed(payload)
        elif kind == "geo":
            _switch_geo(path, payload, index)
        elif kind == "stop":
            stopped.set()

    loop.add_reader(conn.fileno(), receive)
    await path.dns.start()
    conn.send(("ready", os.getpid()))
    while not stopped.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stopped.wait(), STATS_INTERVAL)
        with contextlib.suppress(BrokenPipeError, OSError):
            conn.send(("counters", path.counters()))
    await path.dns.close()
    log.info("DNS worker %d stopped", index)
