"""Validating a prober's report (`POST /v1/reports`) before anything of it is applied.

A report is checked whole: one malformed result rejects the report (400) and changes nothing,
so a buggy or forged prober cannot half-apply its view of the world.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_RESULTS = 20_000
MAX_TEXT = 1_000
REPORT_KEYS = {"prober", "location", "datacenter", "results"}
RESULT_KEYS = {"id", "up", "rtt_ms", "status", "load", "error", "time"}


class ReportError(ValueError):
    """The report is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Result:
    id: str
    up: bool
    rtt_ms: float | None = None
    status: int | None = None
    load: float | None = None
    error: str | None = None
    time: float | None = None


@dataclass(frozen=True, slots=True)
class Report:
    prober: str
    location: tuple[float, float] | None
    datacenter: str | None
    results: tuple[Result, ...]


def _number(value: Any, where: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReportError(f"{where}: {value!r} is not a number")
    if minimum is not None and value < minimum:
        raise ReportError(f"{where}: {value!r} is below {minimum}")
    return float(value)


def _text(value: Any, where: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ReportError(f"{where}: expected text of 1 to {limit} characters")
    return value


def parse_report(body: Any) -> Report:
    if not isinstance(body, dict):
        raise ReportError("the body must be a JSON object")
    unknown = set(body) - REPORT_KEYS
    if unknown:
        raise ReportError(f"unknown keys: {', '.join(sorted(unknown))}")
    prober = _text(body.get("prober"), "prober", 128)
    location = None
    if body.get("location") is not None:
        value = body["location"]
        if not isinstance(value, list) or len(value) != 2:
            raise ReportError("location: expected [latitude, longitude]")
        lat, lon = _number(value[0], "location[0]"), _number(value[1], "location[1]")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ReportError("location: latitude or longitude out of range")
        location = (lat, lon)
    datacenter = _text(body["datacenter"], "datacenter", 128) if body.get("datacenter") is not None else None
    results = body.get("results")
    if not isinstance(results, list):
        raise ReportError("results: expected a list")
    if len(results) > MAX_RESULTS:
        raise ReportError(f"results: more than {MAX_RESULTS} in one report")
    return Report(prober, location, datacenter, tuple(_result(item, i) for i, item in enumerate(results)))


def _result(item: Any, index: int) -> Result:
    where = f"results[{index}]"
    if not isinstance(item, dict):
        raise ReportError(f"{where}: expected an object")
    unknown = set(item) - RESULT_KEYS
    if unknown:
        raise ReportError(f"{where}: unknown keys: {', '.join(sorted(unknown))}")
    ident = _text(item.get("id"), f"{where}.id", 64)
    up = item.get("up")
    if not isinstance(up, bool):
        raise ReportError(f"{where}.up: expected true or false")
    status = item.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise ReportError(f"{where}.status: expected a whole number")
    optional = {key: item.get(key) for key in ("rtt_ms", "load", "time")}
    return Result(
        ident,
        up,
        rtt_ms=_number(optional["rtt_ms"], f"{where}.rtt_ms", 0) if optional["rtt_ms"] is not None else None,
        status=status,
        load=_number(optional["load"], f"{where}.load") if optional["load"] is not None else None,
        error=_text(item["error"], f"{where}.error") if item.get("error") is not None else None,
        time=_number(optional["time"], f"{where}.time", 0) if optional["time"] is not None else None,
    )
