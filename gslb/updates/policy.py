"""The update policy: what each key may change, and nothing else (deny by default).

Grants come from `updates.policy` in gslb.yaml (checked there, see `gslb.config.updates`).
A change is allowed when one grant of the request's key, for the request's zone, matches both
the owner name and the type. The file's names are protected elsewhere, whatever the policy says
(`gslb.zones.dynamic.why_not_updatable`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gslb.config.model import UpdateGrant
from gslb.wire.constants import RRType
from gslb.wire.name import Name


@dataclass(frozen=True)
class NamePattern:
    """A grant's name, relative to its zone: exact, `*.rest`, `prefix.*`, `*` or `@`."""

    labels: tuple[bytes, ...]
    below: bool = False  # `*.rest`: strictly below `rest`
    above: bool = False  # `prefix.*`: `prefix` on top of any name, the apex included

    @classmethod
    def parse(cls, text: str) -> NamePattern:
        if text == "*":
            return cls((), above=True)
        if text == "@":
            return cls(())
        labels = tuple(label.encode("ascii") for label in text.split("."))
        if labels[0] == b"*":
            return cls(labels[1:], below=True)
        if labels[-1] == b"*":
            return cls(labels[:-1], above=True)
        return cls(labels)

    def matches(self, relative: tuple[bytes, ...]) -> bool:
        size = len(self.labels)
        if self.below:
            return len(relative) > size and relative[len(relative) - size:] == self.labels
        if self.above:
            return len(relative) >= size and relative[:size] == self.labels
        return relative == self.labels


@dataclass(frozen=True)
class Grant:
    names: tuple[NamePattern, ...]
    types: frozenset[int]


class UpdatePolicy:
    def __init__(self, grants: Iterable[UpdateGrant]) -> None:
        self._grants: dict[tuple[str, str], list[Grant]] = {}
        for grant in grants:
            compiled = Grant(tuple(NamePattern.parse(n) for n in grant.names),
                             frozenset(RRType[t] for t in grant.types))
            self._grants.setdefault((grant.key, grant.zone), []).append(compiled)

    def keys(self) -> set[str]:
        """The key names the policy mentions (each must be in a key file)."""
        return {key for key, _ in self._grants}

    def has_grant(self, key: Name, zone: Name) -> bool:
        """Whether the key may change anything at all in the zone."""
        return (key.text, zone.text) in self._grants

    def allows(self, key: Name, zone: Name, name: Name, rtype: int) -> bool:
        """Whether the key may change records of type `rtype` at `name` in `zone`."""
        grants = self._grants.get((key.text, zone.text))
        if not grants or not name.is_subdomain_of(zone):
            return False
        relative = name.labels[:len(name.labels) - len(zone.labels)]
        return any(rtype in grant.types and any(p.matches(relative) for p in grant.names) for grant in grants)
