"""What the HTTP API needs of the server it runs in, and nothing more.

The API is built on this Protocol rather than on the server class, so it sits below the server
in the layers (docs/architecture.md) and a test can serve it over any object of this shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from gslb.config.tokens import ApiTokens
from gslb.dns.stats import DnsCounters
from gslb.health.monitor import HealthMonitor
from gslb.steering.engine import SteeringEngine
from gslb.updates.service import UpdateService
from gslb.zones.attempts import AttemptBook
from gslb.zones.directory import LoadReport
from gslb.zones.zoneset import ZoneSet


@dataclass
class ReloadOutcome:
    """What a reload by signal or `POST /v1/reload` did: the settings, the zones, the geo database."""

    zones: LoadReport
    geodb: dict[str, Any] = field(default_factory=lambda: {"reloaded": False, "error": None})
    settings: dict[str, list[str]] = field(default_factory=lambda: {"problems": [], "restart_needed": []})

    @property
    def ok(self) -> bool:
        return not self.zones.rejected and self.geodb.get("error") is None and not self.settings["problems"]


class ServerControl(Protocol):
    tokens: ApiTokens  # the bearer token of each role (gslb.api.auth); replaced whole on SIGHUP
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

    def geodb_status(self) -> dict[str, Any] | None:
        """The geo database in use (path, type, build date), None without one."""
        ...

    async def reload(self, trigger: str) -> ReloadOutcome:
        """Reload the zone folder and, if its file changed, the geo database; whatever is rejected
        keeps serving its previous version."""
        ...
