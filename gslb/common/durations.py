"""Durations as operators write them in YAML: ``30s``, ``2m``, ``500ms``, ``1h`` or a number of seconds.

One parser shared by the server config, the zone files and the prober config, so that every file
accepts the same spellings and rejects the same mistakes.
"""

from __future__ import annotations

import math
import re

__all__ = ["format_duration", "parse_duration"]

_UNITS: dict[str, float] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_RE = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>ms|s|m|h)?\s*$")


def parse_duration(value: object) -> float:
    """Return ``value`` in seconds.

    Accepts an int or float (seconds) or a string: a non-negative number followed by ``ms``, ``s``,
    ``m`` or ``h`` (a bare number is seconds). Raises ``ValueError`` for negatives, NaN, infinity,
    booleans (YAML's ``yes`` is not a duration) and anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration (expected e.g. 500ms, 30s, 2m, 1h)")
        seconds = float(match["number"]) * _UNITS[match["unit"] or "s"]
    else:
        raise ValueError(f"{value!r} is not a duration (expected e.g. 500ms, 30s, 2m, 1h)")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{value!r} is not a duration (must be a finite number of seconds >= 0)")
    return seconds


def format_duration(seconds: float) -> str:
    """Render seconds the way an operator would write them, for messages and docs."""
    if seconds != 0 and seconds < 1:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s"
