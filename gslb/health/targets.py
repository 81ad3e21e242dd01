"""Probe targets: one per distinct (address, check settings) across every zone.

Two checks with the same settings are one target whatever their names, and a target's id is
derived from its content, so it is the same on every server and across reloads: a reload keeps
the verdicts of every target that still exists simply because its id does not change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
from collections.abc import Iterable

from gslb.checks.spec import CheckSpec
from gslb.checks.target import Target
from gslb.zones.model import Zone

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MemberKey = tuple[str, str, IPAddress]


def target_id(address: IPAddress, check: CheckSpec) -> str:
    content = json.dumps([str(address), check.to_json()], sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(content.encode(), digest_size=8).hexdigest()


def _effective_check(check: CheckSpec, zone: Zone) -> CheckSpec:
    """A dns check without a question asks for the zone's own SOA (an authoritative server
    refuses names outside its zones, so '.' would mark every member down)."""
    if check.type == "dns" and check.qname == ".":
        return dataclasses.replace(check, qname=zone.origin.text, name=None)
    return dataclasses.replace(check, name=None)


class TargetIndex:
    """Targets and which pool members each one decides, for one version of the zone set."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self.targets: dict[str, Target] = {}
        self.members: dict[str, list[MemberKey]] = {}  # target id -> members it decides
        self.target_of: dict[MemberKey, str | None] = {}  # member -> target id, None: never probed
        self.datacenter_of: dict[tuple[str, str], str | None] = {}  # (zone, pool) -> datacenter
        for zone in zones:
            policy = zone.policy
            if policy is None:
                continue
            for pool in policy.pools.values():
                self.datacenter_of[(zone.origin.text, pool.name)] = pool.datacenter
                check = pool.check
                for member in pool.members:
                    key = (zone.origin.text, pool.name, member.address)
                    if check is None or not check.probed:
                        self.target_of[key] = None
                        continue
                    effective = _effective_check(check, zone)
                    ident = target_id(member.address, effective)
                    self.targets.setdefault(ident, Target(ident, str(member.address), effective))
                    self.members.setdefault(ident, []).append(key)
                    self.target_of[key] = ident

    def __len__(self) -> int:
        return len(self.targets)
