"""Operator overrides (drain or force a member, pool or datacenter) and their audit log.

Both live in one small JSON file in the state folder. Every change is written to disk (atomically)
before it takes effect in memory, so an override the API confirmed survives a crash or restart, and
a failed write changes nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gslb.statefile import write_atomically

log = logging.getLogger(__name__)

KINDS = ("datacenters", "pools", "members")
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
        data = asdict(self)
        if self.address is None:
            del data["address"]
        if self.expires is None:
            del data["expires"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Override:
        return cls(
            zone=str(data["zone"]), kind=str(data["kind"]), name=str(data["name"]),
            address=data.get("address"), state=str(data["state"]), reason=str(data.get("reason", "")),
            created=float(data["created"]), expires=data.get("expires"), by=data.get("by"),
        )


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

    def _commit(self, active: dict[OverrideKey, Override], entries: list[dict[str, Any]]) -> None:
        audit = (self.audit + entries)[-AUDIT_LIMIT:]
        if self.path is not None:
            document = {"overrides": [o.to_json() for o in active.values()], "audit": audit}
            write_atomically(self.path, json.dumps(document, indent=1))
        self._active, self.audit = active, audit

    def active(self) -> list[Override]:
        return sorted(self._active.values(), key=lambda o: (*o.key[:3], o.address or ""))

    def set(self, override: Override, actor: str) -> None:
        active = {**self._active, override.key: override}
        self._commit(active, [{"time": self.clock(), "action": "set", "actor": actor, **override.to_json()}])
        log.info("override set by %s: %s %s/%s%s -> %s (%s)", actor, override.zone, override.kind, override.name,
                 f"/{override.address}" if override.address else "", override.state, override.reason or "no reason")

    def delete(self, key: OverrideKey, actor: str) -> bool:
        if key not in self._active:
            return False
        old = self._active[key]
        active = {k: v for k, v in self._active.items() if k != key}
        self._commit(active, [{"time": self.clock(), "action": "delete", "actor": actor, **old.to_json()}])
        log.info("override lifted by %s: %s %s/%s%s", actor, old.zone, old.kind, old.name,
                 f"/{old.address}" if old.address else "")
        return True

    def expire(self) -> list[Override]:
        """Drop overrides whose expiry has passed; returns them."""
        now = self.clock()
        gone = [o for o in self._active.values() if o.expires is not None and o.expires <= now]
        if gone:
            active = {k: v for k, v in self._active.items() if v not in gone}
            self._commit(active, [{"time": now, "action": "expired", "actor": "gslb", **o.to_json()} for o in gone])
            for o in gone:
                log.info("override expired: %s %s/%s%s", o.zone, o.kind, o.name, f"/{o.address}" if o.address else "")
        return gone

    def lookup(self, zone: str, kind: str, name: str, address: str | None = None) -> Override | None:
        return self._active.get((zone, kind, name, address))
