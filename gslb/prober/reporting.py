"""What the prober keeps per server, and how it reports verdicts to that server.

Each server (a ``ServerLink``) gets its own ``LinkState`` and its own ``ReportPusher`` task, so a
server that is down, slow or refusing the token delays nobody else. Results go out as they come
(coalesced), the full set every ``resend_interval`` (servers forget stale verdicts, and a
restarted one has none), and after a failure the full set again once a backoff has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gslb.checks.target import ProbeKey, Target
from gslb.common.backoff import Backoff
from gslb.prober.probes import ProbeResult
from gslb.prober.server_link import ServerLink

__all__ = ["MAX_RESULTS_PER_REPORT", "LinkState", "ReportPusher", "ServerLinkStats", "result_entry"]

log = logging.getLogger(__name__)

MAX_RESULTS_PER_REPORT = 1000

Results = list[dict[str, Any]]


@dataclass
class ServerLinkStats:
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
class LinkState:
    """The prober's side of one server: its target list, its unsent results, its reachability."""

    link: ServerLink
    stats: ServerLinkStats
    targets: list[Target] = field(default_factory=list)
    ids_by_key: dict[ProbeKey, list[str]] = field(default_factory=dict)
    pending: Results = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    refresh_now: asyncio.Event = field(default_factory=asyncio.Event)
    needs_full: bool = False

    def enqueue(self, entry: dict[str, Any]) -> None:
        """Queue one result; dropped while the server is being retried (it gets the full set then)."""
        if self.needs_full:
            return
        self.pending.append(entry)
        self.wake.set()

    def mark_reachable(self) -> None:
        """The server answered; log it only if it had not been answering."""
        previous = self.stats.reachable
        self.stats.reachable = True
        if previous is False:
            log.info("server %s is reachable again", self.link.name)

    def mark_unreachable(self, exc: BaseException) -> None:
        """The server failed us; one log line per change, not one per failed attempt."""
        previous = self.stats.reachable
        error = _error_text(exc)
        self.stats.reachable = False
        self.stats.last_error = error
        if previous is not False:
            log.warning("server %s is unreachable: %s (retrying with backoff)", self.link.name, error)


def result_entry(
    target_id: str, up: bool | None, observed_at: float | None, last: ProbeResult | None
) -> dict[str, Any]:
    """One ``results`` item: absent measurements are left out rather than sent as null."""
    entry: dict[str, Any] = {"id": target_id, "up": bool(up), "time": round(observed_at or 0.0, 3)}
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


class ReportPusher:
    """Sends one server its results until cancelled.

    ``full_results`` gives the latest verdict of every target the server listed; ``make_report``
    wraps results in a ``/v1/reports`` body. While the server fails, new results for it are not
    queued: after a backoff (or sooner, when a fetch from it succeeds and sets ``wake``) it gets
    the full current set instead, which is all a restarted server needs.
    """

    def __init__(
        self,
        server: LinkState,
        full_results: Callable[[], Results],
        make_report: Callable[[Results], dict[str, Any]],
        backoff: Backoff,
        *,
        resend_interval: float,
        coalesce: float,
        call_timeout: float,
    ) -> None:
        self.server = server
        self._full_results = full_results
        self._make_report = make_report
        self._backoff = backoff
        self.resend_interval = resend_interval
        self.coalesce = coalesce
        self.call_timeout = call_timeout

    async def run(self) -> None:
        server = self.server
        loop = asyncio.get_running_loop()
        next_full = loop.time() + self.resend_interval
        while True:
            if not server.needs_full:
                await self._wait_for_work(next_full)
            server.wake.clear()
            full = server.needs_full or loop.time() >= next_full
            results, server.pending = server.pending, []
            if full:
                # Everything pending goes out in order, then the latest verdict of every other target.
                already = {(r["id"], r["time"]) for r in results}
                results += [r for r in self._full_results() if (r["id"], r["time"]) not in already]
            if not results:
                if full:
                    next_full = loop.time() + self.resend_interval
                    server.needs_full = False
                continue
            try:
                await self._send(results)
            except Exception as exc:  # any sink failure: back off and resend everything later
                server.stats.report_failures += 1
                server.needs_full = True
                server.pending = []
                server.mark_unreachable(exc)
                await self._back_off()
                continue
            if full:
                server.stats.full_resends += 1
                next_full = loop.time() + self.resend_interval
            server.needs_full = False
            self._backoff.reset()
            server.mark_reachable()

    async def _send(self, results: Results) -> None:
        """Send in reports of at most ``MAX_RESULTS_PER_REPORT`` results; raise on the first failure."""
        server = self.server
        for start in range(0, len(results), MAX_RESULTS_PER_REPORT):
            batch = results[start : start + MAX_RESULTS_PER_REPORT]
            async with asyncio.timeout(self.call_timeout):
                await server.link.sink.send(self._make_report(batch))
            server.stats.reports += 1
            server.stats.results += len(batch)

    async def _back_off(self) -> None:
        """Wait out the backoff, or less if a successful fetch says the server is back."""
        delay = self._backoff.next_delay()
        self.server.wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self.server.wake.wait()

    async def _wait_for_work(self, next_full: float) -> None:
        """Return when results are pending (after the coalescing window) or a full resend is due."""
        server = self.server
        if not server.pending:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(next_full):
                    await server.wake.wait()
        if server.pending and self.coalesce > 0:
            await asyncio.sleep(self.coalesce)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
