"""How health state is written in a shared backend: small JSON texts, one per hash field.

Kept apart from the connection code so that the layout (documented in docs/scale-out.md) is in
one place. Times are Unix seconds as Python writes floats, so they survive the round trip
exactly; Lua never re-encodes them (its JSON encoder would round them to 14 digits).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gslb.common.digits import is_decimal
from gslb.health.overrides import Override, OverrideKey
from gslb.health.records import ProberInfo, Verdict


class CodecError(ValueError):
    """A stored entry or a message is not in the layout this version writes."""


# -- verdicts: one hash, field "<target id>/<prober name>" ------------------------------------


def verdict_field(target: str, prober: str) -> str:
    """Target ids are hex digests, so the first "/" always ends the target."""
    return f"{target}/{prober}"


def split_verdict_field(field: str) -> tuple[str, str]:
    target, sep, prober = field.partition("/")
    if not sep or not target or not prober:
        raise CodecError(f"verdict field {field!r} is not TARGET/PROBER")
    return target, prober


def verdict_data(verdict: Verdict) -> dict[str, Any]:
    data: dict[str, Any] = {"up": verdict.up, "received": verdict.received}
    for name in ("rtt_ms", "status", "load", "error"):
        value = getattr(verdict, name)
        if value is not None:
            data[name] = value
    return data


def encode_verdict(verdict: Verdict) -> str:
    return json.dumps(verdict_data(verdict), separators=(",", ":"))


def decode_verdict(text: str) -> Verdict:
    return verdict_from(_object(text, "verdict"))


def verdict_from(data: Any) -> Verdict:
    try:
        return Verdict(
            bool(data["up"]), float(data["received"]), _optional(data, "rtt_ms", float),
            _optional(data, "status", int), _optional(data, "load", float), _optional(data, "error", str),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CodecError(f"verdict {str(data)[:200]!r}: {exc}") from None


# -- probers: one hash, field = the prober's name --------------------------------------------


def prober_data(info: ProberInfo) -> dict[str, Any]:
    data: dict[str, Any] = {"last_report": info.last_report}
    if info.location is not None:
        data["location"] = list(info.location)
    if info.datacenter is not None:
        data["datacenter"] = info.datacenter
    return data


def encode_prober(info: ProberInfo) -> str:
    return json.dumps(prober_data(info), separators=(",", ":"))


def decode_prober(text: str) -> ProberInfo:
    return prober_from(_object(text, "prober"))


def prober_from(data: Any) -> ProberInfo:
    try:
        location = data.get("location")
        where = (float(location[0]), float(location[1])) if location is not None else None
        return ProberInfo(float(data["last_report"]), where, _optional(data, "datacenter", str))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise CodecError(f"prober {str(data)[:200]!r}: {exc}") from None


# -- overrides: one hash, field = the key as a JSON list; the audit log: a list ---------------


def override_field(key: OverrideKey) -> str:
    return json.dumps(list(key), separators=(",", ":"))


def decode_override_key(value: Any) -> OverrideKey:
    if not isinstance(value, list) or len(value) != 4 or not all(isinstance(v, str) for v in value[:3]):
        raise CodecError(f"override key {value!r} is not [zone, kind, name, address]")
    address = value[3]
    if address is not None and not isinstance(address, str):
        raise CodecError(f"override key {value!r}: the address is not text")
    return (value[0], value[1], value[2], address)


def encode_override(override: Override) -> str:
    return json.dumps(override.to_json(), separators=(",", ":"))


def decode_override(text: str) -> Override:
    try:
        return Override.from_json(_object(text, "override"))
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"override {text[:200]!r}: {exc}") from None


def encode_entry(entry: dict[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":"))


def decode_entry(text: str) -> dict[str, Any]:
    return _object(text, "audit entry")


# -- messages on the channel: "<seq> <json>" ------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One change announced on the channel.

    `seq` orders override changes (a counter in Redis, so every server applies them in the
    same order); verdict messages carry 0, since the newest receive time wins whatever the order.
    """

    seq: int
    origin: str
    body: dict[str, Any]


def verdicts_message(origin: str, probers: dict[str, ProberInfo], verdicts: dict[tuple[str, str], Verdict]) -> str:
    body = {
        "origin": origin,
        "probers": {name: prober_data(info) for name, info in probers.items()},
        "verdicts": [[target, prober, verdict_data(v)] for (target, prober), v in verdicts.items()],
    }
    return "0 " + json.dumps(body, separators=(",", ":"))


def override_message_body(origin: str, key: OverrideKey, override: Override | None,
                          entry: dict[str, Any]) -> str:
    """The JSON part of an override message; the Lua script puts the sequence number before it."""
    body = {"origin": origin, "key": list(key), "override": override.to_json() if override else None,
            "audit": [entry]}
    return json.dumps(body, separators=(",", ":"))


def parse_message(data: str) -> Message:
    seq_text, sep, rest = data.partition(" ")
    if not sep or not is_decimal(seq_text):
        raise CodecError(f"message {data[:80]!r} is not '<seq> <json>'")
    body = _object(rest, "message")
    return Message(int(seq_text), str(body.get("origin", "")), body)


def message_verdicts(body: dict[str, Any]) -> tuple[dict[str, ProberInfo], list[tuple[str, str, Verdict]]]:
    """The probers and verdicts of a verdict message."""
    try:
        probers = {str(name): prober_from(info) for name, info in body.get("probers", {}).items()}
        verdicts = [(str(t), str(p), verdict_from(v)) for t, p, v in body.get("verdicts", [])]
    except (AttributeError, TypeError, ValueError) as exc:
        raise CodecError(f"verdict message: {exc}") from None
    return probers, verdicts


def message_override(body: dict[str, Any]) -> tuple[OverrideKey, Override | None, list[dict[str, Any]]]:
    """The key, the new override (None: lifted) and the audit entries of an override message."""
    key = decode_override_key(body.get("key"))
    data = body.get("override")
    try:
        override = Override.from_json(data) if data is not None else None
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"override message: {exc}") from None
    audit = [entry for entry in body.get("audit", []) if isinstance(entry, dict)]
    return key, override, audit


# -- a full load: everything read at (re)connection, decoded in one go ----------------------


@dataclass
class LoadedState:
    """The shared state as a full load read it; `bad` counts entries this version cannot read."""

    verdicts: list[tuple[str, str, Verdict]] = field(default_factory=list)
    probers: dict[str, ProberInfo] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    expired: list[Override] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    bad: int = 0


def decode_state(verdicts: dict[str, str], probers: dict[str, str], overrides: dict[str, str],
                 audit: list[str], now: float) -> LoadedState:
    """What a full load read, decoded; entries this version cannot read are counted and skipped."""
    state = LoadedState()
    for field_name, text in verdicts.items():
        try:
            target, prober = split_verdict_field(field_name)
            state.verdicts.append((target, prober, decode_verdict(text)))
        except CodecError:
            state.bad += 1
    for name, text in probers.items():
        try:
            state.probers[name] = decode_prober(text)
        except CodecError:
            state.bad += 1
    for text in overrides.values():
        try:
            override = decode_override(text)
        except CodecError:
            state.bad += 1
            continue
        expired = override.expires is not None and override.expires <= now
        (state.expired if expired else state.overrides).append(override)
    for text in audit:
        try:
            state.audit.append(decode_entry(text))
        except CodecError:
            state.bad += 1
    return state


def _object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise CodecError(f"{what} {text[:200]!r} is not JSON") from None
    if not isinstance(data, dict):
        raise CodecError(f"{what} {text[:200]!r} is not a JSON object")
    return data


def _optional(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    return kind(value) if value is not None else None
