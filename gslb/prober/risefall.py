"""Rise/fall: turning a stream of probe results into an up/down verdict that does not flap.

Semantics (also in docs/prober.md):

- A target starts ``UNKNOWN`` and the prober reports nothing for it, so the server uses the pool's
  ``initial`` state.
- The first observation sets the state directly: one success is ``UP``, one failure is ``DOWN``.
  Waiting for ``rise`` successes from an unknown state would only delay the first verdict after a
  (re)start, and the server already has ``initial`` for the time before any verdict exists.
- After that, ``fall`` consecutive failures turn an ``UP`` target ``DOWN`` and ``rise`` consecutive
  successes turn a ``DOWN`` target ``UP``. An observation that agrees with the state resets the
  count, so the failures (or successes) must be consecutive.

The machine is a frozen value: ``observe`` returns the next one, nothing here does I/O or keeps time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

__all__ = ["Health", "RiseFall"]


class Health(enum.Enum):
    """A prober's verdict about one target."""

    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class RiseFall:
    """The rise/fall state of one target.

    ``streak`` counts consecutive observations that contradict ``state``; it reaches ``rise`` (while
    down) or ``fall`` (while up) exactly when the state flips, and then starts again at zero.
    """

    rise: int
    fall: int
    state: Health = Health.UNKNOWN
    streak: int = 0

    def __post_init__(self) -> None:
        """Thresholds below one would make the machine flip on nothing."""
        for name in ("rise", "fall"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")

    @property
    def up(self) -> bool | None:
        """True or False once known; None while no observation has been made."""
        if self.state is Health.UNKNOWN:
            return None
        return self.state is Health.UP

    def observe(self, ok: bool) -> RiseFall:
        """Return the state after one more probe result."""
        if self.state is Health.UNKNOWN:
            return replace(self, state=Health.UP if ok else Health.DOWN, streak=0)
        agrees = ok == (self.state is Health.UP)
        if agrees:
            return self if self.streak == 0 else replace(self, streak=0)
        streak = self.streak + 1
        threshold = self.fall if self.state is Health.UP else self.rise
        if streak >= threshold:
            return replace(self, state=Health.UP if ok else Health.DOWN, streak=0)
        return replace(self, streak=streak)
