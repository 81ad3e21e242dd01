"""Server-side health: verdicts from probers, quorum, staleness, overrides, and the view steering reads.

Per target the monitor keeps the latest verdict of each prober, stamped with the time this
server received it. A target is up when its fresh verdicts (younger than `stale_after`) meet the
quorum, unknown when none is fresh. Overrides win over verdicts: a member override over a pool
override over a datacenter override. Every change (a report, an override, a reload, and a tick
each second for staleness and expiry) rebuilds a complete `HealthView` off to the side and hands
it to `publish`, which swaps it in with one assignment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gslb.config import HealthConfig
from gslb.health.overrides import OverrideBook
from gslb.health.reports import Report
from gslb.health.targets import MemberKey, TargetIndex
from gslb.health.view import HealthView, Measurements, State
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Verdict:
    up: bool
    received: float  # this server's clock, Unix seconds
    rtt_ms: float | None = None
    status: int | None = None
    load: float | None = None
    error: str | None = None


@dataclass
class ProberInfo:
    last_report: float
    location: tuple[float, float] | None = None
    datacenter: str | None = None


@dataclass
class MonitorStats:
    reports: dict[str, int] = field(default_factory=dict)  # prober -> reports accepted
    results: dict[tuple[str, str], int] = field(default_factory=dict)  # (prober, accepted|unknown_target)
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> reports rejected


def quorum_met(ups: int, total: int, quorum: float | str) -> bool:
    if total == 0:
        return False
    if quorum == "any":
        return ups >= 1
    if quorum == "all":
        return ups == total
    return ups / total >= float(quorum)


def _zone_key(origin_text: str) -> str:
    """Zones appear without their trailing dot in the API (`example.com`)."""
    return origin_text.rstrip(".")


class HealthMonitor:
    def __init__(
        self,
        config: HealthConfig,
        state_dir: Path | None,
        publish: Callable[[HealthView], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.publish = publish
        self.clock = clock
        self.overrides = OverrideBook(state_dir / "overrides.json" if state_dir else None, clock)
        self.zones = ZoneSet()
        self.index = TargetIndex(())
        self.verdicts: dict[str, dict[str, Verdict]] = {}
        self.probers: dict[str, ProberInfo] = {}
        self.stats = MonitorStats()
        self.view = HealthView()
        self._since: dict[MemberKey, tuple[State, float]] = {}
        self._task: asyncio.Task[None] | None = None

    # -- inputs --------------------------------------------------------------------------

    def zones_changed(self, zones: ZoneSet) -> None:
        """A reload: keep the verdicts of targets that still exist, drop the rest."""
        self.zones = zones
        self.index = TargetIndex(zones)
        self.verdicts = {ident: v for ident, v in self.verdicts.items() if ident in self.index.targets}
        self.rebuild()

    def apply_report(self, report: Report) -> tuple[int, int]:
        """Record a validated report; returns (accepted, unknown target ids)."""
        now = self.clock()
        accepted = unknown = 0
        for result in report.results:
            if result.id not in self.index.targets:
                unknown += 1
                continue
            accepted += 1
            self.verdicts.setdefault(result.id, {})[report.prober] = Verdict(
                result.up, now, result.rtt_ms, result.status, result.load, result.error
            )
        self.probers[report.prober] = ProberInfo(now, report.location, report.datacenter)
        stats = self.stats
        stats.reports[report.prober] = stats.reports.get(report.prober, 0) + 1
        for outcome, count in (("accepted", accepted), ("unknown_target", unknown)):
            key = (report.prober, outcome)
            stats.results[key] = stats.results.get(key, 0) + count
        self.rebuild()
        return accepted, unknown

    def count_rejected(self, reason: str) -> None:
        self.stats.rejected[reason] = self.stats.rejected.get(reason, 0) + 1

    # -- states --------------------------------------------------------------------------

    def fresh(self, target: str, now: float) -> dict[str, Verdict]:
        limit = self.config.stale_after
        return {p: v for p, v in self.verdicts.get(target, {}).items() if now - v.received <= limit}

    def target_state(self, target: str, now: float) -> State:
        fresh = self.fresh(target, now)
        if not fresh:
            return State.UNKNOWN
        ups = sum(v.up for v in fresh.values())
        return State.UP if quorum_met(ups, len(fresh), self.config.quorum) else State.DOWN

    def override_for(self, key: MemberKey) -> Any:
        zone_text, pool_name, address = key
        zone = _zone_key(zone_text)
        book = self.overrides
        member = book.lookup(zone, "members", pool_name, str(address))
        if member is not None:
            return member
        pool_override = book.lookup(zone, "pools", pool_name)
        if pool_override is not None:
            return pool_override
        datacenter = self.index.datacenter_of.get((zone_text, pool_name))
        return book.lookup(zone, "datacenters", datacenter) if datacenter else None

    def member_state(self, key: MemberKey, now: float) -> State:
        override = self.override_for(key)
        if override is not None:
            return State(override.state)
        target = self.index.target_of.get(key)
        if target is None:
            return State.UP  # never probed: up unless an override says otherwise
        return self.target_state(target, now)

    # -- the view ------------------------------------------------------------------------

    def rebuild(self) -> None:
        now = self.clock()
        states = {key: self.member_state(key, now) for key in self.index.target_of}
        for key, state in states.items():
            previous = self._since.get(key)
            if previous is None or previous[0] is not state:
                if previous is not None:
                    log.info("member %s pool %s %s: %s -> %s", key[0], key[1], key[2], previous[0].value, state.value)
                self._since[key] = (state, now)
        self._since = {key: value for key, value in self._since.items() if key in states}
        measurements = self._measurements(now)
        if states == self.view.states() and measurements == self.view.measurements:
            return
        self.view = HealthView(states, self.view.generation + 1, measurements)
        self.publish(self.view)

    def since(self, key: MemberKey) -> float | None:
        found = self._since.get(key)
        return found[1] if found else None

    def _measurements(self, now: float) -> Measurements:
        locations: dict[str, dict[str, tuple[float, float]]] = {}
        rtts: dict[str, dict[str, dict[str, list[float]]]] = {}
        loads: dict[str, dict[str, list[float]]] = {}
        for zone in self.zones:
            policy = zone.policy
            if policy is None:
                continue
            for name, info in self.probers.items():
                where = info.location
                if where is None and info.datacenter in policy.datacenters:
                    where = policy.datacenters[info.datacenter].location
                if where is not None:
                    locations.setdefault(zone.origin.text, {})[name] = where
        for target, members in self.index.members.items():
            fresh = self.fresh(target, now)
            if not fresh:
                continue
            for zone_text, pool_name, _ in members:
                datacenter = self.index.datacenter_of.get((zone_text, pool_name))
                for prober, verdict in fresh.items():
                    if verdict.rtt_ms is not None and datacenter is not None:
                        per_dc = rtts.setdefault(zone_text, {}).setdefault(prober, {})
                        per_dc.setdefault(datacenter, []).append(verdict.rtt_ms)
                    if verdict.load is not None:
                        loads.setdefault(zone_text, {}).setdefault(pool_name, []).append(verdict.load)
        return Measurements(
            prober_locations=locations,
            rtt_ms={z: {p: {dc: statistics.median(v) for dc, v in dcs.items()} for p, dcs in ps.items()}
                    for z, ps in rtts.items()},
            pool_load={z: {pool: statistics.fmean(v) for pool, v in pools.items()} for z, pools in loads.items()},
        )

    # -- the clock -----------------------------------------------------------------------

    def tick(self) -> None:
        """Expire overrides and stale verdicts: states change with time alone."""
        self.overrides.expire()
        self.rebuild()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                self.tick()
            except Exception:  # a bug here must not stop health from ticking
                log.exception("health tick failed")

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
