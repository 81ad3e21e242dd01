"""What the HTTP API needs of the server it runs in, and nothing more.

The API is built on this Protocol rather than on the server class, so it sits below the server
in the layers (docs/architecture.md) and a test can serve it over any object of this shape.
"""

from __future__ import annotations

from typing import Any, Protocol

from gslb.dns.stats import DnsCounters
from gslb.health.monitor import HealthMonitor
from gslb.steering.engine import SteeringEngine
from gslb.updates.service import UpdateService
from gslb.zones.attempts import AttemptBook
from gslb.zones.directory import LoadReport
from gslb.zones.zoneset import ZoneSet


class ServerControl(Protocol):
    token: str | None  # the bearer token of the write and prober routes; None refuses them all
    health: HealthMonitor
    steering: SteeringEngine  # the main process's, for /v1/explain
    reload_counts: dict[str, int]  # zone file loads by result ("success", "failure")
    reload_attempts: AttemptBook  # per zone file, its last reload attempt
    updates: UpdateService | None  # dynamic updates; None when they are off

    @property
    def zones(self) -> ZoneSet:
        """The zone set being served now."""
        ...

    def dns_open(self) -> bool:
        """Whether every DNS socket is open (for /healthz)."""
        ...

    def counters(self) -> DnsCounters:
        """What every process answering DNS counted, summed."""
        ...

    def dns_processes(self) -> list[dict[str, Any]]:
        """One entry per process answering DNS: index, pid, alive, queries."""
        ...

    async def reload(self, trigger: str) -> LoadReport:
        """Reload the zone folder; rejected files keep serving their previous version."""
        ...
