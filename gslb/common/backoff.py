"""Exponential backoff with jitter, for anything that retries a peer that went away.

Waits double from `first` up to `cap`, and each is spread by ±`jitter` so that many clients
that lost the same peer at the same moment do not all come back at the same moment. Written
once so the prober's report retries and the Redis backend's reconnects follow one rule.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """The waits between attempts: `first`, then twice the last, never more than `cap` (± jitter).

    `rng` is injectable so tests can pin the jitter; by default each Backoff has its own.
    """

    def __init__(self, first: float, cap: float, *, jitter: float = 0.2, rng: random.Random | None = None) -> None:
        if first <= 0 or cap < first:
            raise ValueError(f"backoff needs 0 < first <= cap, got first={first}, cap={cap}")
        if not 0 <= jitter < 1:
            raise ValueError(f"backoff jitter must be from 0 to below 1, got {jitter}")
        self.first = first
        self.cap = cap
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._base = first

    def next_delay(self) -> float:
        """The wait before the next attempt (jittered); the one after that will be twice as long."""
        delay = self._base * self._rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        self._base = min(self._base * 2.0, self.cap)
        return delay

    def reset(self) -> None:
        """Start again from `first`: the peer came back, so the next outage is a fresh one."""
        self._base = self.first
