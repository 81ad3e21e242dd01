"""The steering part of a zone file: datacenters, checks, pools and services.

Static zones need none of it; names that say `service: NAME` must find that service here.
"""

from __future__ import annotations

from typing import Any

from gslb.dns.name import Name
from gslb.zones.errors import Problems
from gslb.zones.model import Node
from gslb.zones.yamldoc import YMap

SECTIONS: tuple[str, ...] = ()


def parse_policy(doc: YMap, origin: Name, problems: Problems) -> Any:
    """Parse the steering sections; None when the zone has none."""
    return None


def check_references(policy: Any, nodes: dict[bytes, Node], origin: Name, problems: Problems) -> None:
    """Every `service:` on a name must point at a service of this zone."""
    services = getattr(policy, "services", {}) if policy is not None else {}
    for node in nodes.values():
        if node.service is not None and node.service not in services:
            problems.add(node.line, f"records.{node.name.relative_to(origin)}.service",
                         f"unknown service '{node.service}'")
