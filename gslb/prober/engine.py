"""The prober engine: fetch targets, probe each distinct (address, check) on its own schedule, apply
rise/fall, and push verdicts to every server, whether it runs as ``gslb prober`` or inside the server.

Each server is a ``ServerLink`` (``gslb.prober.server_link``): where its targets come from and where
its verdicts go. It is told only about the target ids it listed itself, and has its own fetch loop
and its own push task (``gslb.prober.reporting``), so a server that is down or slow delays nobody
else. This module decides what to probe and when, and what each probe means.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from gslb.checks.spec import CheckSpec
from gslb.checks.target import ProbeKey, Target
from gslb.common.backoff import Backoff
from gslb.prober.config import ProberConfig, tls_context
from gslb.prober.probes import ProbeResult, make_probe_session, run_probe
from gslb.prober.reporting import LinkState, ReportPusher, ServerLinkStats, result_entry
from gslb.prober.risefall import RiseFall
from gslb.prober.server_link import HttpServerClient, ServerLink

__all__ = ["Prober", "ProberStats"]

log = logging.getLogger(__name__)


@dataclass
class ProberStats:
    """Counters over the prober's life; read them, never write them."""

    probes: int = 0
    probes_failed: int = 0
    state_changes: int = 0
    jobs_started: int = 0
    jobs_stopped: int = 0
    probes_by_address: Counter[str] = field(default_factory=Counter)
    links: dict[str, ServerLinkStats] = field(default_factory=dict)


@dataclass
class _Job:
    """One distinct (address, check) being probed, and what the prober thinks of it."""

    key: ProbeKey
    address: str
    check: CheckSpec
    state: RiseFall
    last: ProbeResult | None = None
    observed_at: float | None = None
    task: asyncio.Task[None] | None = None


class Prober:
    """Probes targets from one or more servers and reports verdicts back to each.

    ``run()`` works until ``stop()``. Timing knobs default to production values; tests shrink them.
    """

    def __init__(
        self,
        name: str,
        links: Sequence[ServerLink],
        *,
        datacenter: str | None = None,
        location: tuple[float, float] | None = None,
        refresh: float = 30.0,
        concurrency: int = 100,
        resend_interval: float = 10.0,
        coalesce: float = 0.2,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        jitter: float = 0.1,
        call_timeout: float = 15.0,
        rng: random.Random | None = None,
    ) -> None:
        names = [link.name for link in links]
        if len(set(names)) != len(names):
            raise ValueError(f"server link names must be unique: {names}")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not 0 < backoff_initial <= backoff_max:
            raise ValueError("backoff needs 0 < backoff_initial <= backoff_max")
        self.name = name
        self.datacenter = datacenter
        self.location = location
        self.refresh = refresh
        self.concurrency = concurrency
        self.resend_interval = resend_interval
        self.coalesce = coalesce
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.jitter = jitter
        self.call_timeout = call_timeout
        self.stats = ProberStats()
        self._rng = rng or random.Random()
        self._servers = [LinkState(link, self.stats.links.setdefault(link.name, ServerLinkStats())) for link in links]
        self._jobs: dict[ProbeKey, _Job] = {}
        self._stop = asyncio.Event()
        self._running = False
        self._session: aiohttp.ClientSession | None = None
        self._semaphore = asyncio.Semaphore(concurrency)

    @classmethod
    def from_config(cls, config: ProberConfig, **options: Any) -> Prober:
        """A standalone prober: every server in the config is an HTTP link named by its URL."""
        links = []
        tls = tls_context(config)
        for url in config.servers:
            client = HttpServerClient(url, config.token, tls=tls)
            links.append(ServerLink(url, client, client))
        return cls(
            config.name,
            links,
            datacenter=config.datacenter,
            location=config.location,
            refresh=config.refresh,
            concurrency=config.concurrency,
            **options,
        )

    # -- public control -------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask ``run()`` to finish; safe from a signal handler and before ``run()`` has started."""
        self._stop.set()

    def request_refresh(self) -> None:
        """Re-read the targets now instead of at the next ``refresh`` tick (e.g. after a zone reload)."""
        for server in self._servers:
            server.refresh_now.set()

    def probed_targets(self) -> list[tuple[str, CheckSpec]]:
        """The distinct (address, check) pairs being probed right now."""
        return [(job.address, job.check) for job in self._jobs.values()]

    def verdict(self, address: str, check: CheckSpec) -> bool | None:
        """The current verdict for one (address, check): True up, False down, None unknown or not probed."""
        job = self._jobs.get(Target("-", address, check).key)
        return None if job is None else job.state.up

    async def run(self) -> None:
        """Probe and report until ``stop()``; re-raises if an internal task fails (a bug, not a target)."""
        if self._running:
            raise RuntimeError("this prober is already running")
        self._running = True
        self._session = make_probe_session(limit=self.concurrency)
        tasks = [
            asyncio.create_task(self._refresh_loop(server), name=f"prober-refresh-{server.link.name}")
            for server in self._servers
        ]
        tasks += [
            asyncio.create_task(self._pusher(server).run(), name=f"prober-push-{server.link.name}")
            for server in self._servers
        ]
        stopper = asyncio.create_task(self._stop.wait(), name="prober-stop")
        try:
            done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                failure = None if task is stopper or task.cancelled() else task.exception()
                if failure is not None:
                    raise failure
        finally:
            await self._shutdown([stopper, *tasks])

    async def _shutdown(self, tasks: list[asyncio.Task[Any]]) -> None:
        for job in list(self._jobs.values()):
            self._stop_job(job)
        job_tasks = [job.task for job in self._jobs.values() if job.task is not None]
        self._jobs.clear()
        everything = [*tasks, *job_tasks]
        for task in everything:
            task.cancel()
        await asyncio.gather(*everything, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        closed: set[int] = set()
        for server in self._servers:
            for part in (server.link.source, server.link.sink):
                aclose = getattr(part, "aclose", None)
                if aclose is not None and id(part) not in closed:
                    closed.add(id(part))
                    with contextlib.suppress(Exception):
                        await aclose()
        self._running = False

    # -- targets ----------------------------------------------------------------------------------

    async def _refresh_loop(self, server: LinkState) -> None:
        """One loop per server, so a server that hangs delays nobody else's target list."""
        while True:
            server.refresh_now.clear()
            await self._fetch(server)
            self._reconcile()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.refresh):
                    await server.refresh_now.wait()

    async def refresh_once(self) -> None:
        """Fetch every server's list now (concurrently), then start and stop probes to match."""
        await asyncio.gather(*(self._fetch(server) for server in self._servers))
        self._reconcile()

    def _reconcile(self) -> None:
        """Probe exactly the union of the servers' last good lists: start what is new, stop what is gone."""
        wanted: dict[ProbeKey, Target] = {}
        for server in self._servers:
            for target in server.targets:
                wanted.setdefault(target.key, target)
        for key in [k for k in self._jobs if k not in wanted]:
            job = self._jobs.pop(key)
            self._stop_job(job)
            log.info("stopped probing %s (%s): no server lists it any more", job.address, _describe(job.check))
        for key, target in wanted.items():
            if key not in self._jobs:
                self._start_job(key, target)

    async def _fetch(self, server: LinkState) -> None:
        try:
            async with asyncio.timeout(self.call_timeout):
                fetched = await server.link.source.fetch()
        except Exception as exc:  # any failure of a source keeps its previous list
            server.stats.fetch_failures += 1
            server.mark_unreachable(exc)
            return
        server.stats.fetches += 1
        known_before = {i for ids in server.ids_by_key.values() for i in ids}
        targets: list[Target] = []
        seen: dict[str, ProbeKey] = {}
        for target in fetched:
            if target.id in seen:
                if seen[target.id] != target.key:
                    log.warning(
                        "%s: target id %r listed twice with different checks; keeping the first",
                        server.link.name,
                        target.id,
                    )
                continue
            seen[target.id] = target.key
            targets.append(target)
        server.targets = targets
        server.ids_by_key = {}
        for target in targets:
            server.ids_by_key.setdefault(target.key, []).append(target.id)
        server.stats.targets = len(targets)
        was_unreachable = server.stats.reachable is False
        server.mark_reachable()
        if was_unreachable:
            server.wake.set()  # cut a push backoff short: the server is back
        # A server that newly lists a target we already have a verdict for hears it at once.
        for target in targets:
            job = self._jobs.get(target.key)
            if target.id not in known_before and job is not None and job.state.up is not None:
                server.enqueue(_entry(target.id, job))

    def _start_job(self, key: ProbeKey, target: Target) -> None:
        check = target.check
        job = _Job(key=key, address=target.address, check=check, state=RiseFall(check.rise, check.fall))
        job.task = asyncio.create_task(self._job_loop(job), name=f"probe-{target.address}-{check.type}")
        job.task.add_done_callback(_log_crash)
        self._jobs[key] = job
        self.stats.jobs_started += 1

    def _stop_job(self, job: _Job) -> None:
        if job.task is not None and not job.task.done():
            job.task.cancel()
            self.stats.jobs_stopped += 1

    # -- probing ----------------------------------------------------------------------------------

    async def _job_loop(self, job: _Job) -> None:
        """Probe one target every interval (±jitter), the first time at a random point in the interval."""
        interval = job.check.interval
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self._rng.uniform(0.0, interval))
        while True:
            started = loop.time()
            async with self._semaphore:
                result = await run_probe(job.address, job.check, self._session)
            self._record(job, result)
            delay = interval * self._rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)
            await asyncio.sleep(max(0.0, started + delay - loop.time()))

    def _record(self, job: _Job, result: ProbeResult) -> None:
        before = job.state.up
        job.state = job.state.observe(result.ok)
        job.last = result
        job.observed_at = time.time()
        self.stats.probes += 1
        self.stats.probes_by_address[job.address] += 1
        if not result.ok:
            self.stats.probes_failed += 1
        if job.state.up != before:
            self.stats.state_changes += 1
            log.info(
                "%s (%s) is %s%s",
                job.address,
                _describe(job.check),
                "up" if job.state.up else "down",
                f": {result.error}" if result.error and not job.state.up else "",
            )
        for server in self._servers:
            for target_id in server.ids_by_key.get(job.key, ()):
                server.enqueue(_entry(target_id, job))

    # -- reporting --------------------------------------------------------------------------------

    def _pusher(self, server: LinkState) -> ReportPusher:
        """The push task of one server, with this prober's timing knobs and random source."""
        return ReportPusher(
            server,
            lambda: self._full_results(server),
            self._report,
            Backoff(self.backoff_initial, self.backoff_max, rng=self._rng),
            resend_interval=self.resend_interval,
            coalesce=self.coalesce,
            call_timeout=self.call_timeout,
        )

    def _full_results(self, server: LinkState) -> list[dict[str, Any]]:
        """The latest verdict of every target this server listed (for a full resend)."""
        results = []
        for target in server.targets:
            job = self._jobs.get(target.key)
            if job is not None and job.state.up is not None:
                results.append(_entry(target.id, job))
        return results

    def _report(self, results: list[dict[str, Any]]) -> dict[str, Any]:
        """A ``/v1/reports`` body: who and where this prober is, then the results."""
        report: dict[str, Any] = {"prober": self.name}
        if self.datacenter is not None:
            report["datacenter"] = self.datacenter
        if self.location is not None:
            report["location"] = [self.location[0], self.location[1]]
        report["results"] = results
        return report


def _entry(target_id: str, job: _Job) -> dict[str, Any]:
    """One job's latest verdict, as the ``results`` item for one of the ids servers know it by."""
    return result_entry(target_id, job.state.up, job.observed_at, job.last)


def _log_crash(task: asyncio.Task[None]) -> None:
    """A probe loop only ends by cancellation; anything else is a bug worth a loud log line."""
    if not task.cancelled() and task.exception() is not None:
        log.error("probe loop %s crashed", task.get_name(), exc_info=task.exception())


def _describe(check: CheckSpec) -> str:
    if check.type in ("http", "https"):
        return f"{check.type} :{check.port}{check.path}"
    if check.type == "none":
        return "none"
    return f"{check.type} :{check.port}"

