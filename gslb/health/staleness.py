"""When the monitoring goes quiet: probers silent past `stale_after`, and targets with only stale verdicts.

Losing the probers is not evidence that a dead server came back. So a target whose verdicts have
all gone stale keeps the state its last fresh verdicts gave (`last_word`), marked stale, instead
of falling back to its pool's `initial` state; `initial` is only for a target never judged.

What the monitor must also do is say so. `Blindness` keeps which probers are silent and which
targets are stale, and logs one WARNING line per change (a prober going silent or coming back,
targets going stale), never one line per target per second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from gslb.health.records import ProberInfo, Verdict

log = logging.getLogger(__name__)
NAMED_IN_LOG = 5  # stale targets named in the log line; the rest are counted


def last_word(verdicts: Mapping[str, Verdict]) -> dict[str, Verdict]:
    """The verdicts received last, which were the target's only fresh ones just before every
    verdict went stale: its last quorum is taken over these."""
    newest = max(verdict.received for verdict in verdicts.values())
    return {prober: verdict for prober, verdict in verdicts.items() if verdict.received == newest}


class Blindness:
    """Silent probers and stale targets as of the last `update`, with a log line per change."""

    def __init__(self) -> None:
        self.silent: frozenset[str] = frozenset()  # probers that reported before, silent past stale_after
        self.stale: frozenset[str] = frozenset()  # target ids whose every verdict is stale
        self._last_heard: dict[str, float] = {}  # a silent prober's last report, for the "back" line

    def update(self, probers: Mapping[str, ProberInfo], stale: frozenset[str], stale_after: float, now: float,
               address_of: Callable[[str], str]) -> None:
        silent = frozenset(name for name, info in probers.items() if now - info.last_report > stale_after)
        for name in sorted(silent - self.silent):
            heard = probers[name].last_report
            self._last_heard[name] = heard
            log.warning("prober %s silent for %.0f s (stale_after %g s): its verdicts no longer count",
                        name, now - heard, stale_after,
                        extra={"event": "prober_silent", "prober": name, "silent_seconds": round(now - heard, 1)})
        for name in sorted(self.silent - silent):
            quiet = now - self._last_heard.pop(name, now)
            log.warning("prober %s reports again after %.0f s of silence", name, quiet,
                        extra={"event": "prober_back", "prober": name, "silent_seconds": round(quiet, 1)})
        if stale and not self.stale:
            named = sorted(address_of(target) for target in stale)
            more = f" and {len(named) - NAMED_IN_LOG} more" if len(named) > NAMED_IN_LOG else ""
            log.warning("%d target(s) have only stale verdicts and keep their last known state: %s%s",
                        len(stale), ", ".join(named[:NAMED_IN_LOG]), more,
                        extra={"event": "targets_stale", "count": len(stale)})
        elif self.stale and not stale:
            log.info("no target is stale any more: every judged target has a fresh verdict",
                        extra={"event": "targets_fresh"})
        self.silent, self.stale = silent, stale
