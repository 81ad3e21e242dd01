"""The prober engine: fetch targets, probe each distinct (address, check) on its own schedule, apply
rise/fall, and push verdicts to every server, whether it runs as ``gslb prober`` or inside the server.

Where targets come from and where reports go are pluggable (``TargetSource`` / ``ReportSink``): the
standalone prober talks HTTP to ``/v1/targets`` and ``/v1/reports``; the server's embedded prober
passes in-process objects. Each server is an ``Endpoint`` (one source and one sink): it is told only
about the target ids it listed itself, and has its own push task, so a server that is down or slow
delays nobody else.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import aiohttp

from gslb.checks.spec import CheckSpec
from gslb.checks.target import ProbeKey, Target, TargetError
from gslb.prober.config import ProberConfig
from gslb.prober.probes import ProbeResult, describe_error, make_probe_session, run_probe
from gslb.prober.risefall import RiseFall

__all__ = [
    "Endpoint",
    "EndpointStats",
    "FunctionSink",
    "FunctionSource",
    "HttpServerClient",
    "Prober",
    "ProberStats",
    "ReportSink",
    "ServerRequestError",
    "TargetSource",
]

log = logging.getLogger(__name__)


MAX_RESULTS_PER_REPORT = 1000


class ServerRequestError(Exception):
    """A server could not be reached, refused us, or answered with something unusable."""


@runtime_checkable
class TargetSource(Protocol):
    """Where a prober learns what to probe."""

    async def fetch(self) -> list[Target]:
        """The current target list; raise on failure (the previous list is then kept)."""
        ...


@runtime_checkable
class ReportSink(Protocol):
    """Where a prober's verdicts go."""

    async def send(self, report: dict[str, Any]) -> None:
        """Deliver one ``/v1/reports`` body; raise on failure (it is retried with backoff)."""
        ...


@dataclass(frozen=True)
class Endpoint:
    """One server as the prober sees it: its targets come from ``source``, its verdicts go to ``sink``."""

    name: str
    source: TargetSource
    sink: ReportSink


class FunctionSource:
    """A ``TargetSource`` over a plain callable (sync or async), for the server's embedded prober."""

    def __init__(self, fn: Callable[[], Sequence[Target] | Awaitable[Sequence[Target]]]) -> None:
        self._fn = fn

    async def fetch(self) -> list[Target]:
        result = self._fn()
        if inspect.isawaitable(result):
            result = await result
        return list(result)


class FunctionSink:
    """A ``ReportSink`` over a plain callable (sync or async), for the server's embedded prober."""

    def __init__(self, fn: Callable[[dict[str, Any]], object]) -> None:
        self._fn = fn

    async def send(self, report: dict[str, Any]) -> None:
        result = self._fn(report)
        if inspect.isawaitable(result):
            await result


class HttpServerClient:
    """Both halves of a remote server: ``GET /v1/targets`` and ``POST /v1/reports`` with a bearer token.

    Malformed entries in a target list are skipped (and logged) rather than failing the whole list:
    a server newer than this prober may list checks it does not understand yet.
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self.rejected_targets = 0
        self._last_rejects: tuple[str, ...] = ()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers={"Authorization": f"Bearer {self._token}", "User-Agent": "gslb-prober"},
                trust_env=False,
            )
        return self._session

    async def fetch(self) -> list[Target]:
        url = f"{self.base_url}/v1/targets"
        try:
            async with self._client().get(url) as response:
                if response.status != 200:
                    raise ServerRequestError(f"GET /v1/targets: {_status_text(response.status)}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ServerRequestError(f"GET /v1/targets: {describe_error(exc)}") from exc
        except ValueError as exc:
            raise ServerRequestError(f"GET /v1/targets: body is not JSON: {exc}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("targets"), list):
            raise ServerRequestError('GET /v1/targets: body is not {"targets": [...]}')
        targets: list[Target] = []
        rejects: list[str] = []
        for i, entry in enumerate(body["targets"]):
            try:
                targets.append(Target.from_json(entry))
            except TargetError as exc:
                rejects.append(f"targets[{i}]: {exc}")
        self.rejected_targets += len(rejects)
        if rejects and tuple(rejects) != self._last_rejects:
            log.warning("%s: skipped %d malformed target(s): %s", self.base_url, len(rejects), "; ".join(rejects[:5]))
        self._last_rejects = tuple(rejects)
        return targets

    async def send(self, report: dict[str, Any]) -> None:
        url = f"{self.base_url}/v1/reports"
        try:
            async with self._client().post(url, json=report) as response:
                if not 200 <= response.status < 300:
                    detail = (await response.text())[:200].strip()
                    message = _status_text(response.status) + (f": {detail}" if detail else "")
                    raise ServerRequestError(f"POST /v1/reports: {message}")
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ServerRequestError(f"POST /v1/reports: {describe_error(exc)}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _status_text(status: int) -> str:
    if status == 401:
        return "HTTP 401 (token rejected)"
    return f"HTTP {status}"


@dataclass
class EndpointStats:
    """What happened between the prober and one server (for tests, logs and /status)."""

    fetches: int = 0
    fetch_failures: int = 0
    reports: int = 0
    report_failures: int = 0
    results: int = 0
    full_resends: int = 0
    targets: int = 0
    reachable: bool | None = None
    last_error: str | None = None


@dataclass
class ProberStats:
    """Counters over the prober's life; read them, never write them."""

    probes: int = 0
    probes_failed: int = 0
    state_changes: int = 0
    jobs_started: int = 0
    jobs_stopped: int = 0
    probes_by_address: Counter[str] = field(default_factory=Counter)
    endpoints: dict[str, EndpointStats] = field(default_factory=dict)


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


@dataclass
class _EndpointState:
    """The prober's side of one server: its target list, its unsent results, its reachability."""

    endpoint: Endpoint
    stats: EndpointStats
    targets: list[Target] = field(default_factory=list)
    ids_by_key: dict[ProbeKey, list[str]] = field(default_factory=dict)
    pending: list[dict[str, Any]] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    refresh_now: asyncio.Event = field(default_factory=asyncio.Event)
    needs_full: bool = False


class Prober:
    """Probes targets from one or more servers and reports verdicts back to each.

    ``run()`` works until ``stop()``. Timing knobs default to production values; tests shrink them.
    """

    def __init__(
        self,
        name: str,
        endpoints: Sequence[Endpoint],
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
        names = [e.name for e in endpoints]
        if len(set(names)) != len(names):
            raise ValueError(f"endpoint names must be unique: {names}")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
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
        self._endpoints = [
            _EndpointState(e, self.stats.endpoints.setdefault(e.name, EndpointStats())) for e in endpoints
        ]
        self._jobs: dict[ProbeKey, _Job] = {}
        self._stop = asyncio.Event()
        self._running = False
        self._session: aiohttp.ClientSession | None = None
        self._semaphore = asyncio.Semaphore(concurrency)

    @classmethod
    def from_config(cls, config: ProberConfig, **options: Any) -> Prober:
        """A standalone prober: every server in the config is an HTTP endpoint named by its URL."""
        endpoints = []
        for url in config.servers:
            client = HttpServerClient(url, config.token)
            endpoints.append(Endpoint(url, client, client))
        return cls(
            config.name,
            endpoints,
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
        for ep in self._endpoints:
            ep.refresh_now.set()

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
            asyncio.create_task(self._refresh_loop(ep), name=f"prober-refresh-{ep.endpoint.name}")
            for ep in self._endpoints
        ]
        tasks += [
            asyncio.create_task(self._push_loop(ep), name=f"prober-push-{ep.endpoint.name}") for ep in self._endpoints
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
        for ep in self._endpoints:
            for part in (ep.endpoint.source, ep.endpoint.sink):
                aclose = getattr(part, "aclose", None)
                if aclose is not None and id(part) not in closed:
                    closed.add(id(part))
                    with contextlib.suppress(Exception):
                        await aclose()
        self._running = False

    # -- targets ----------------------------------------------------------------------------------

    async def _refresh_loop(self, ep: _EndpointState) -> None:
        """One loop per server, so a server that hangs delays nobody else's target list."""
        while True:
            ep.refresh_now.clear()
            await self._fetch(ep)
            self._reconcile()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.refresh):
                    await ep.refresh_now.wait()

    async def refresh_once(self) -> None:
        """Fetch every server's list now (concurrently), then start and stop probes to match."""
        await asyncio.gather(*(self._fetch(ep) for ep in self._endpoints))
        self._reconcile()

    def _reconcile(self) -> None:
        """Probe exactly the union of the servers' last good lists: start what is new, stop what is gone."""
        wanted: dict[ProbeKey, Target] = {}
        for ep in self._endpoints:
            for target in ep.targets:
                wanted.setdefault(target.key, target)
        for key in [k for k in self._jobs if k not in wanted]:
            job = self._jobs.pop(key)
            self._stop_job(job)
            log.info("stopped probing %s (%s): no server lists it any more", job.address, _describe(job.check))
        for key, target in wanted.items():
            if key not in self._jobs:
                self._start_job(key, target)

    async def _fetch(self, ep: _EndpointState) -> None:
        try:
            async with asyncio.timeout(self.call_timeout):
                fetched = await ep.endpoint.source.fetch()
        except Exception as exc:  # any failure of a source keeps its previous list
            ep.stats.fetch_failures += 1
            self._set_reachable(ep, False, _error_text(exc))
            return
        ep.stats.fetches += 1
        known_before = {i for ids in ep.ids_by_key.values() for i in ids}
        targets: list[Target] = []
        seen: dict[str, ProbeKey] = {}
        for target in fetched:
            if target.id in seen:
                if seen[target.id] != target.key:
                    log.warning(
                        "%s: target id %r listed twice with different checks; keeping the first",
                        ep.endpoint.name,
                        target.id,
                    )
                continue
            seen[target.id] = target.key
            targets.append(target)
        ep.targets = targets
        ep.ids_by_key = {}
        for target in targets:
            ep.ids_by_key.setdefault(target.key, []).append(target.id)
        ep.stats.targets = len(targets)
        was_unreachable = ep.stats.reachable is False
        self._set_reachable(ep, True, None)
        if was_unreachable:
            ep.wake.set()  # cut a push backoff short: the server is back
        # A server that newly lists a target we already have a verdict for hears it at once.
        for target in targets:
            job = self._jobs.get(target.key)
            if target.id not in known_before and job is not None and job.state.up is not None:
                self._enqueue(ep, self._result_entry(target.id, job))

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
        for ep in self._endpoints:
            for target_id in ep.ids_by_key.get(job.key, ()):
                self._enqueue(ep, self._result_entry(target_id, job))

    def _result_entry(self, target_id: str, job: _Job) -> dict[str, Any]:
        """One ``results`` item: absent measurements are left out rather than sent as null."""
        entry: dict[str, Any] = {"id": target_id, "up": bool(job.state.up), "time": round(job.observed_at or 0.0, 3)}
        last = job.last
        if last is not None:
            if last.rtt_ms is not None:
                entry["rtt_ms"] = round(last.rtt_ms, 3)
            if last.status is not None:
                entry["status"] = last.status
            if last.load is not None:
                entry["load"] = last.load
            if last.error is not None:
                entry["error"] = last.error
        return entry

    # -- reporting --------------------------------------------------------------------------------

    def _enqueue(self, ep: _EndpointState, entry: dict[str, Any]) -> None:
        if ep.needs_full:
            return  # the server is being retried; it will get the full set when it is back
        ep.pending.append(entry)
        ep.wake.set()

    def _full_results(self, ep: _EndpointState) -> list[dict[str, Any]]:
        results = []
        for target in ep.targets:
            job = self._jobs.get(target.key)
            if job is not None and job.state.up is not None:
                results.append(self._result_entry(target.id, job))
        return results

    def _report(self, results: list[dict[str, Any]]) -> dict[str, Any]:
        report: dict[str, Any] = {"prober": self.name}
        if self.datacenter is not None:
            report["datacenter"] = self.datacenter
        if self.location is not None:
            report["location"] = [self.location[0], self.location[1]]
        report["results"] = results
        return report

    async def _push_loop(self, ep: _EndpointState) -> None:
        """Send results as they come (coalesced), the full set every ``resend_interval``, retry on failure.

        While a server fails, new results for it are not queued: after a backoff (doubling up to
        ``backoff_max``, or sooner when a fetch from it succeeds) it gets the full current set instead,
        which is all a restarted server needs.
        """
        loop = asyncio.get_running_loop()
        backoff = self.backoff_initial
        next_full = loop.time() + self.resend_interval
        while True:
            if not ep.needs_full:
                await self._wait_for_work(ep, next_full)
            ep.wake.clear()
            full = ep.needs_full or loop.time() >= next_full
            results, ep.pending = ep.pending, []
            if full:
                # Everything pending goes out in order, then the latest verdict of every other target.
                already = {(r["id"], r["time"]) for r in results}
                results += [r for r in self._full_results(ep) if (r["id"], r["time"]) not in already]
            if not results:
                if full:
                    next_full = loop.time() + self.resend_interval
                    ep.needs_full = False
                continue
            try:
                for start in range(0, len(results), MAX_RESULTS_PER_REPORT):
                    batch = results[start : start + MAX_RESULTS_PER_REPORT]
                    async with asyncio.timeout(self.call_timeout):
                        await ep.endpoint.sink.send(self._report(batch))
                    ep.stats.reports += 1
                    ep.stats.results += len(batch)
            except Exception as exc:  # any sink failure: back off and resend everything later
                ep.stats.report_failures += 1
                ep.needs_full = True
                ep.pending = []
                self._set_reachable(ep, False, _error_text(exc))
                delay = backoff * self._rng.uniform(0.8, 1.2)
                backoff = min(backoff * 2.0, self.backoff_max)
                ep.wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await ep.wake.wait()
                continue
            if full:
                ep.stats.full_resends += 1
                next_full = loop.time() + self.resend_interval
            ep.needs_full = False
            backoff = self.backoff_initial
            self._set_reachable(ep, True, None)

    async def _wait_for_work(self, ep: _EndpointState, next_full: float) -> None:
        """Return when results are pending (after the coalescing window) or a full resend is due."""
        if not ep.pending:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(next_full):
                    await ep.wake.wait()
        if ep.pending and self.coalesce > 0:
            await asyncio.sleep(self.coalesce)

    def _set_reachable(self, ep: _EndpointState, reachable: bool, error: str | None) -> None:
        """Track a server's reachability; log one line per change, not one per failed attempt."""
        previous = ep.stats.reachable
        ep.stats.reachable = reachable
        if error is not None:
            ep.stats.last_error = error
        if reachable and previous is False:
            log.info("server %s is reachable again", ep.endpoint.name)
        elif not reachable and previous is not False:
            log.warning("server %s is unreachable: %s (retrying with backoff)", ep.endpoint.name, error)


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


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
