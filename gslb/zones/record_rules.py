"""Where the record types of delegated zones may stand, checked once the whole zone is read.

- DS is the parent's half of a secure delegation: it stands only at a delegation, beside its NS
  (RFC 4035 section 2.4). The zone's own DS belongs in its parent's zone, so a DS at the apex is
  refused too.
- SVCB/HTTPS hints taken from a service (`ipv4hint=service:web`) must name a service of this
  zone: the hints are what that service answers (see gslb.zones.svcb).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from gslb.common.problems import Problems
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.zones.model import Node
from gslb.zones.policy_references import unknown_service
from gslb.zones.svcb import IPV4HINT, HintedRdata


def check_record_rules(nodes: dict[bytes, Node], origin: Name, policy: Any,
                       hinted: list[tuple[HintedRdata, int, str]], problems: Problems,
                       written: Collection[str]) -> None:
    """Add a problem for each DS out of place and each hint from a service the zone lacks (`written`:
    the services the file defines, see `unknown_service`)."""
    for node in nodes.values():
        if RRType.DS not in node.rrsets:
            continue
        field = f"records.{node.name.relative_to(origin)}.DS"
        if node.name == origin:
            problems.add(node.line, field, "the zone's own DS goes in its parent zone; here DS stands only beside "
                                           "NS at a delegation (RFC 4035 section 2.4)")
        elif RRType.NS not in node.rrsets:
            problems.add(node.line, field, "DS stands only at a delegation, beside its NS (RFC 4035 section 2.4)")
    services = policy.services if policy is not None else {}
    for rdata, line, field in hinted:
        assert rdata.template is not None
        for key, name in rdata.template.services:
            known = unknown_service(name, services, written)
            if known is not None:
                hint = "ipv4hint" if key == IPV4HINT else "ipv6hint"
                problems.add(line, field, f"{hint}=service:{name}: no service '{name}' in this zone{known}")
