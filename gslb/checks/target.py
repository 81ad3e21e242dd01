"""What a prober is asked to probe: one entry of `GET /v1/targets`.

The server lists targets (an id, an address and a check) and the prober parses them back; both
sides use this one type, so the list has one definition.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gslb.checks.spec import CheckSpec, CheckSpecError

# (normalised address, check content): two targets with equal keys are probed once.
ProbeKey = tuple[str, tuple[tuple[str, Any], ...]]


class TargetError(ValueError):
    """One entry of a target list is malformed."""


@dataclass(frozen=True)
class Target:
    """One thing to probe, as ``GET /v1/targets`` lists it: a stable id, an IP address and a check."""

    id: str
    address: str
    check: CheckSpec

    def __post_init__(self) -> None:
        """Targets are IP addresses only: a prober never resolves names it was handed."""
        if not isinstance(self.id, str) or not self.id:
            raise TargetError(f"id: {self.id!r} is not a non-empty string")
        try:
            ip = ipaddress.ip_address(self.address)
        except ValueError:
            raise TargetError(f"address: {self.address!r} is not an IP address") from None
        object.__setattr__(self, "address", str(ip))

    @property
    def key(self) -> ProbeKey:
        """What makes two targets the same probe, whatever their ids."""
        return (self.address, self.check.content_key())

    def to_json(self) -> dict[str, Any]:
        """The ``/v1/targets`` entry for this target."""
        return {"id": self.id, "address": self.address, "check": self.check.to_json()}

    @classmethod
    def from_json(cls, data: object) -> Target:
        """Parse one ``/v1/targets`` entry; raises ``TargetError`` naming the bad field."""
        if not isinstance(data, Mapping):
            raise TargetError(f"expected a mapping, got {type(data).__name__}")
        for key in ("id", "address", "check"):
            if key not in data:
                raise TargetError(f"{key}: required")
        try:
            check = CheckSpec.from_json(data["check"])
        except CheckSpecError as exc:
            raise TargetError(f"check.{exc}") from None
        return cls(id=data["id"], address=data["address"], check=check)
