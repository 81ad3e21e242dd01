"""Server-side health: verdicts from probers, quorum, staleness, overrides, and the view steering reads.

Per target the monitor keeps the latest verdict of each prober, stamped with the time this
server received it. A target is up when its fresh verdicts (younger than `stale_after`) meet the
quorum. When every verdict on it is stale it keeps the state its last verdicts gave, marked
stale (`health.staleness`), and it is unknown only when it has no verdict at all. Overrides win
over verdicts: a member override over a pool override over a datacenter override in the zone
over a datacenter override in every zone. Every change (a report, an override, a reload, and a
tick each second for staleness and expiry) rebuilds a complete `HealthView` off to the side and
hands it to `publish`, which swaps it in with one
assignment.

A backend (`health.backend`) shares verdicts and overrides with other servers: what this server
receives goes to the backend, and what the backend hears of comes in through `merge` and the
override book, under the same rule everywhere (the newest receive time wins), so every server
reaches the same state. The view is still built from this copy alone: queries never wait on it.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gslb.common.tasks import cancel_and_wait
from gslb.config.model import HealthConfig
from gslb.health.backend import HealthBackend
from gslb.health.overrides import EVERY_ZONE, Override, OverrideBook, OverrideKey
from gslb.health.records import ProberInfo, Verdict
from gslb.health.reports import Report
from gslb.health.staleness import Blindness, last_word
from gslb.health.targets import MemberKey, TargetIndex
from gslb.health.view import NO_MEASUREMENTS, HealthView, Measurements, State
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger(__name__)
MEASURED_METHODS = frozenset(("latency", "least-loaded"))
MEASUREMENT_PERIOD = 5.0  # seconds between views that change only measurements
TICK_SECONDS = 1.0


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
        backend: HealthBackend,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.stale_after = config.stale_after
        self.publish = publish
        self.clock = clock
        self.overrides = OverrideBook(state_dir / "overrides.json" if state_dir else None, clock)
        self.zones = ZoneSet()
        self.index = TargetIndex(())
        self.verdicts: dict[str, dict[str, Verdict]] = {}
        self.probers: dict[str, ProberInfo] = {}
        self.stats = MonitorStats()
        self.view = HealthView()
        self.blindness = Blindness()  # silent probers and stale targets, as of the last rebuild
        self._since: dict[MemberKey, tuple[State, float]] = {}
        self._measured = False  # some service uses latency or least-loaded
        self._measured_at = float("-inf")
        self._task: asyncio.Task[None] | None = None
        self.backend = backend
        backend.bind(self)

    # -- inputs --------------------------------------------------------------------------

    def zones_changed(self, zones: ZoneSet) -> None:
        """A reload: keep the verdicts of targets that still exist, drop the rest."""
        self.zones = zones
        self.index = TargetIndex(zones)
        self._measured = any(
            service.method in MEASURED_METHODS
            for zone in zones if zone.policy is not None for service in zone.policy.services.values()
        )
        self.verdicts = {ident: v for ident, v in self.verdicts.items() if ident in self.index.targets}
        self.backend.zones_changed()
        self.rebuild()

    def apply_report(self, report: Report) -> tuple[int, int]:
        """Record a validated report; returns (accepted, unknown target ids)."""
        now = self.clock()
        accepted = unknown = 0
        recorded: dict[str, Verdict] = {}
        for result in report.results:
            if result.id not in self.index.targets:
                unknown += 1
                continue
            accepted += 1
            verdict = Verdict(result.up, now, result.rtt_ms, result.status, result.load, result.error)
            if self._keep(result.id, report.prober, verdict):
                recorded[result.id] = verdict
        info = ProberInfo(now, report.location, report.datacenter)
        self._keep_prober(report.prober, info)
        self.backend.verdicts_recorded(report.prober, info, recorded)
        stats = self.stats
        stats.reports[report.prober] = stats.reports.get(report.prober, 0) + 1
        for outcome, count in (("accepted", accepted), ("unknown_target", unknown)):
            key = (report.prober, outcome)
            stats.results[key] = stats.results.get(key, 0) + count
        self.rebuild()
        return accepted, unknown

    def merge(self, probers: dict[str, ProberInfo], verdicts: list[tuple[str, str, Verdict]]) -> bool:
        """Verdicts another server received (through the backend); True when anything changed.

        The newest receive time wins per (target, prober), here as in the backend, so servers
        that hear the same things in a different order still end up with the same state.
        """
        changed = False
        for target, prober, verdict in verdicts:
            if target in self.index.targets:
                changed |= self._keep(target, prober, verdict)
        for name, info in probers.items():
            changed |= self._keep_prober(name, info)
        if changed:
            self.rebuild()
        return changed

    def _keep(self, target: str, prober: str, verdict: Verdict) -> bool:
        per_prober = self.verdicts.setdefault(target, {})
        current = per_prober.get(prober)
        if current is not None and current.received >= verdict.received:
            return False  # on a tie the first one stays, as in the backend
        per_prober[prober] = verdict
        return True

    def _keep_prober(self, name: str, info: ProberInfo) -> bool:
        current = self.probers.get(name)
        if current is not None and current.last_report >= info.last_report:
            return False
        self.probers[name] = info
        return True

    async def set_override(self, override: Override, actor: str) -> None:
        """Set an override through the backend (every server gets it); may raise BackendUnavailable."""
        await self.backend.set_override(override, actor)
        self.rebuild()

    async def lift_override(self, key: OverrideKey, actor: str) -> bool:
        """Lift an override through the backend; False when there was none."""
        lifted = await self.backend.lift_override(key, actor)
        self.rebuild()
        return lifted

    def count_rejected(self, reason: str) -> None:
        self.stats.rejected[reason] = self.stats.rejected.get(reason, 0) + 1

    # -- states --------------------------------------------------------------------------

    def fresh(self, target: str, now: float) -> dict[str, Verdict]:
        limit = self.config.stale_after
        return {p: v for p, v in self.verdicts.get(target, {}).items() if now - v.received <= limit}

    def target_state(self, target: str, now: float) -> State:
        """The quorum of the fresh verdicts; with only stale ones, of the last verdicts received."""
        return self._judge(target, self.fresh(target, now))

    def _judge(self, target: str, fresh: dict[str, Verdict]) -> State:
        verdicts = self.verdicts.get(target)
        if not verdicts:
            return State.UNKNOWN  # never judged since start (nor restored from a shared backend)
        judged = fresh or last_word(verdicts)
        ups = sum(v.up for v in judged.values())
        return State.UP if quorum_met(ups, len(judged), self.config.quorum) else State.DOWN

    def is_stale(self, target: str | None) -> bool:
        """Whether every verdict on the target was stale at the last rebuild."""
        return target in self.blindness.stale

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
        if not datacenter:
            return None
        return book.lookup(zone, "datacenters", datacenter) or book.lookup(EVERY_ZONE, "datacenters", datacenter)

    def member_state(self, key: MemberKey, fresh: dict[str, dict[str, Verdict]]) -> State:
        """The override, else the target's quorum; `fresh` holds each target's fresh verdicts."""
        override = self.override_for(key)
        if override is not None:
            return State(override.state)
        target = self.index.target_of.get(key)
        if target is None:
            return State.UP  # never probed: up unless an override says otherwise
        return self._judge(target, fresh.get(target, {}))

    # -- the view ------------------------------------------------------------------------

    def rebuild(self) -> None:
        now = self.clock()
        fresh = {target: self.fresh(target, now) for target in self.verdicts}  # judged once per rebuild
        states = {key: self.member_state(key, fresh) for key in self.index.target_of}
        stale = frozenset(target for target, verdicts in self.verdicts.items() if verdicts and not fresh[target])
        self.blindness.update(self.probers, stale, self.stale_after, now, self._address_of)
        for key, state in states.items():
            previous = self._since.get(key)
            if previous is None or previous[0] is not state:
                if previous is not None:
                    log.info("member %s pool %s %s: %s -> %s", key[0], key[1], key[2], previous[0].value, state.value,
                             extra={"event": "member_state", "zone": key[0], "pool": key[1], "address": str(key[2]),
                                    "previous": previous[0].value, "state": state.value})
                self._since[key] = (state, now)
        self._since = {key: value for key, value in self._since.items() if key in states}
        measurements = self.view.measurements
        if self._measured and (states != self.view.states() or now - self._measured_at >= MEASUREMENT_PERIOD):
            # RTTs differ in every report: taken in with state changes and at most once a period
            # otherwise, since every new view also clears the reply cache.
            measurements = self._measurements(fresh)
            self._measured_at = now
        elif not self._measured:
            measurements = NO_MEASUREMENTS
        if states == self.view.states() and measurements == self.view.measurements:
            return
        self.view = HealthView(states, self.view.generation + 1, measurements)
        self.publish(self.view)

    def _address_of(self, target: str) -> str:
        found = self.index.targets.get(target)
        return found.address if found is not None else target

    def since(self, key: MemberKey) -> float | None:
        found = self._since.get(key)
        return found[1] if found else None

    def _measurements(self, fresh: dict[str, dict[str, Verdict]]) -> Measurements:
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
            for zone_text, pool_name, _ in members:
                datacenter = self.index.datacenter_of.get((zone_text, pool_name))
                for prober, verdict in fresh.get(target, {}).items():
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
        self.backend.expire_overrides()
        self.rebuild()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                self.tick()
            except Exception:  # a bug here must not stop health from ticking
                log.exception("health tick failed")

    async def start(self) -> None:
        """Tick, and load the shared state (a shared backend waits a moment for it)."""
        self._task = asyncio.get_running_loop().create_task(self.run())
        await self.backend.start()

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self.backend.stop()
