"""Where health state is shared: nowhere (`local`), or Redis so that several servers agree.

The monitor keeps its own copy of everything (verdicts, probers, overrides) and builds the view
steering reads from that copy alone, so no query ever waits on a backend. A backend only feeds
that copy: it hears of what this server recorded (to share it), it carries override changes (so
that every server applies the same ones), and it applies what other servers shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol

from gslb.health.overrides import Override, OverrideBook, OverrideKey
from gslb.health.records import ProberInfo, Verdict


class BackendHost(Protocol):
    """What a backend sees of the health monitor it feeds: its copy of the state, and two calls."""

    overrides: OverrideBook
    verdicts: dict[str, dict[str, Verdict]]  # target id -> prober -> its latest verdict
    probers: dict[str, ProberInfo]
    clock: Callable[[], float]
    stale_after: float

    def merge(self, probers: dict[str, ProberInfo], verdicts: list[tuple[str, str, Verdict]]) -> bool:
        """Take verdicts another server received; True when anything changed."""
        ...

    def rebuild(self) -> None:
        """Build and publish a new health view from the current copy."""
        ...


class BackendUnavailable(Exception):
    """The shared backend cannot take a change now; nothing was changed."""


class HealthBackend(ABC):
    kind: str = ""

    def __init__(self) -> None:
        self.monitor: BackendHost | None = None

    def bind(self, monitor: BackendHost) -> None:
        self.monitor = monitor

    @property
    @abstractmethod
    def connected(self) -> bool:
        """Whether the shared state is reachable now (always true for `local`)."""

    def describe(self) -> dict[str, Any]:
        """The `health_backend` object of /status."""
        return {"kind": self.kind, "connected": self.connected}

    async def start(self) -> None:
        """Begin sharing; may wait briefly for the first copy of the shared state."""
        return None  # nothing to do by default

    async def stop(self) -> None:
        """Stop sharing and let go of connections."""
        return None  # nothing to do by default

    def verdicts_recorded(self, prober: str, info: ProberInfo, verdicts: dict[str, Verdict]) -> None:
        """This server received a report: share it. Must not block (it is called on receipt)."""
        return None  # nothing to do by default

    def zones_changed(self) -> None:
        """A reload may have added targets whose verdicts another server already shared."""
        return None  # nothing to do by default

    @abstractmethod
    async def set_override(self, override: Override, actor: str) -> None:
        """Record an override everywhere, or raise BackendUnavailable and change nothing."""

    @abstractmethod
    async def lift_override(self, key: OverrideKey, actor: str) -> bool:
        """Lift an override everywhere; False when there is none. May raise BackendUnavailable."""

    @abstractmethod
    def expire_overrides(self) -> None:
        """Drop overrides whose time is up (called by the monitor's one-second tick)."""


class LocalBackend(HealthBackend):
    """Today's single-server behaviour: the state file in `state_dir` is all there is."""

    kind = "local"

    @property
    def connected(self) -> bool:
        return True

    def _book(self) -> OverrideBook:
        assert self.monitor is not None, "bind() first"
        return self.monitor.overrides

    async def set_override(self, override: Override, actor: str) -> None:
        self._book().set(override, actor)

    async def lift_override(self, key: OverrideKey, actor: str) -> bool:
        return self._book().delete(key, actor)

    def expire_overrides(self) -> None:
        self._book().expire()
