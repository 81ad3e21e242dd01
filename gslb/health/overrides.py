"""Operator overrides (drain or force a member, pool or datacenter) and their audit log.

Both live in one small JSON file in the state folder. Every change is written to disk (atomically)
before it takes effect in memory, so an override the API confirmed survives a crash or restart, and
a failed write changes nothing. With a shared backend (Redis) the shared store is the truth and the
file is this server's mirror of it: `apply` and `replace` take changes the backend heard about, and
a failed write of the mirror is logged rather than refused, since the change is already shared.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gslb.common.statefile import write_atomically
from gslb.common.times import iso

log = logging.getLogger(__name__)

KINDS = ("datacenters", "pools", "members")
EVERY_ZONE = "*"  # the zone of a datacenter override that applies in every zone with that datacenter
AUDIT_LIMIT = 10_000  # oldest entries are dropped beyond this

OverrideKey = tuple[str, str, str, str | None]  # (zone without dot, kind, name, address)


@dataclass(frozen=True)
class Override:
    zone: str
    kind: str
    name: str
    address: str | None
    state: str  # "up" or "down"
    reason: str
    created: float
    expires: float | None = None
    by: str | None = None

    @property
    def key(self) -> OverrideKey:
        return (self.zone, self.kind, self.name, self.address)

    def to_json(self) -> dict[str, Any]:
        """As stored (state file, Redis): times in Unix seconds."""
        data = asdict(self)
        if self.address is None:
            del data["address"]
        if self.expires is None:
            del data["expires"]
        return data

    def to_api_json(self) -> dict[str, Any]:
        """As the HTTP API and explain show it: times in ISO 8601 UTC, like every time in /status."""
        data = self.to_json()
        data["created"] = iso(self.created)
        if self.expires is not None:
            data["expires"] = iso(self.expires)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Override:
        return cls(
            zone=str(data["zone"]), kind=str(data["kind"]), name=str(data["name"]),
            address=data.get("address"), state=str(data["state"]), reason=str(data.get("reason", "")),
            created=float(data["created"]), expires=data.get("expires"), by=data.get("by"),
        )


def _fields(event: str, override: Override, actor: str) -> dict[str, Any]:
    """The structured fields of an override log line (JSON log format)."""
    return {"event": event, "zone": override.zone, "kind": override.kind, "subject": override.name,
            "address": override.address, "state": override.state, "reason": override.reason, "actor": actor}


class OverrideBook:
    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._active: dict[OverrideKey, Override] = {}
        self.audit: list[dict[str, Any]] = []
        self._load()

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text())
            overrides = [Override.from_json(item) for item in data.get("overrides", [])]
            audit = [entry for entry in data.get("audit", []) if isinstance(entry, dict)]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Refuse to guess: an unreadable state file is kept aside for a person to look at.
            aside = self.path.with_suffix(f".unreadable-{int(self.clock())}")
            log.error("override state %s is unreadable (%s); moved to %s", self.path, exc, aside)
            self.path.rename(aside)
            return
        self._active = {o.key: o for o in overrides}
        self.audit = audit

    def _commit(self, active: dict[OverrideKey, Override], audit: list[dict[str, Any]], mirror: bool = False) -> None:
        audit = audit[-AUDIT_LIMIT:]
        if self.path is not None:
            document = {"overrides": [o.to_json() for o in active.values()], "audit": audit}
            try:
                write_atomically(self.path, json.dumps(document, indent=1))
            except OSError as exc:
                if not mirror:
                    raise
                log.error("cannot write the override mirror %s (%s): the shared backend still has it", self.path, exc)
        self._active, self.audit = active, audit

    def entry(self, action: str, actor: str, override: Override, when: float | None = None) -> dict[str, Any]:
        """One audit log entry: who did what to which override, and when."""
        return {"time": self.clock() if when is None else when, "action": action, "actor": actor,
                **override.to_json()}

    def active(self) -> list[Override]:
        return sorted(self._active.values(), key=lambda o: (*o.key[:3], o.address or ""))

    def set(self, override: Override, actor: str) -> None:
        active = {**self._active, override.key: override}
        self._commit(active, [*self.audit, self.entry("set", actor, override)])
        _log_set(actor, override)

    def delete(self, key: OverrideKey, actor: str) -> bool:
        if key not in self._active:
            return False
        old = self._active[key]
        active = {k: v for k, v in self._active.items() if k != key}
        self._commit(active, [*self.audit, self.entry("delete", actor, old)])
        _log_lifted(actor, old)
        return True

    def expire(self, audited: bool = True) -> list[Override]:
        """Drop overrides whose expiry has passed; returns them.

        `audited=False` leaves the audit entry to a shared backend, where only one server may
        write it however many expire the override at the same moment.
        """
        now = self.clock()
        gone = [o for o in self._active.values() if o.expires is not None and o.expires <= now]
        if gone:
            active = {k: v for k, v in self._active.items() if v not in gone}
            entries = [self.entry("expired", "gslb", o, now) for o in gone] if audited else []
            self._commit(active, [*self.audit, *entries], mirror=not audited)
            for o in gone:
                _log_expired(o)
        return gone

    def apply(self, key: OverrideKey, override: Override | None, entries: list[dict[str, Any]]) -> None:
        """A change made through the shared backend (by any server): set or lift one override."""
        active = dict(self._active)
        old = active.pop(key, None)
        if override is not None:
            active[key] = override
        self._commit(active, [*self.audit, *entries], mirror=True)
        actor = str(entries[-1].get("actor", "?")) if entries else "?"
        if override is not None and override != old:
            _log_set(actor, override)
        elif override is None and old is not None:
            _log_lifted(actor, old)

    def replace(self, overrides: list[Override], audit: list[dict[str, Any]]) -> None:
        """The whole state as the shared backend holds it (at start and after each reconnect)."""
        active = {o.key: o for o in overrides}
        if active != self._active:
            log.info("overrides loaded from the shared backend: %d active", len(active))
        self._commit(active, audit, mirror=True)

    def lookup(self, zone: str, kind: str, name: str, address: str | None = None) -> Override | None:
        return self._active.get((zone, kind, name, address))



def _log_set(actor: str, override: Override) -> None:
    log.info("override set by %s: %s %s/%s%s -> %s (%s)", actor, override.zone, override.kind, override.name,
             f"/{override.address}" if override.address else "", override.state, override.reason or "no reason",
             extra=_fields("override_set", override, actor))


def _log_lifted(actor: str, old: Override) -> None:
    log.info("override lifted by %s: %s %s/%s%s", actor, old.zone, old.kind, old.name,
             f"/{old.address}" if old.address else "", extra=_fields("override_lifted", old, actor))


def _log_expired(override: Override) -> None:
    log.info("override expired: %s %s/%s%s", override.zone, override.kind, override.name,
             f"/{override.address}" if override.address else "", extra=_fields("override_expired", override, "gslb"))
