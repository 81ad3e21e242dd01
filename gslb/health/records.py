"""What the server records of its probers: their verdicts and what it knows of each prober.

Plain values shared by the monitor, the shared backends and their storage codec, so none of
those has to import another to know the shape of a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    """One prober's latest word on one target, stamped with when this server (or the server
    that shared it) received it."""

    up: bool
    received: float  # the receiving server's clock, Unix seconds
    rtt_ms: float | None = None
    status: int | None = None
    load: float | None = None
    error: str | None = None


@dataclass
class ProberInfo:
    last_report: float
    location: tuple[float, float] | None = None
    datacenter: str | None = None
