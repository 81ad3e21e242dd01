"""The additional section's addresses for the names records point at: NS, MX and SRV targets
(glue, for referrals) and SVCB/HTTPS targets (RFC 9460 section 4.1)."""

from __future__ import annotations

from collections.abc import Callable

from gslb.engine.answer import Answer
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.wire.records import RRset
from gslb.zones.model import Node, Zone

ADDRESS_TYPES = (RRType.A, RRType.AAAA)
# What steering gives this client for a steered target (node, target name, A or AAAA).
SteeredLookup = Callable[[Node, Name, int], RRset | None]


def add_target_addresses(zone: Zone, rrset: RRset, answer: Answer, self_target: Name | None = None,
                         steered: SteeredLookup | None = None) -> None:
    """A and AAAA of each target held in this zone, into the additional section, once each.

    `self_target`: what a target of "." in ServiceMode stands for (the SVCB owner), None for
    types whose targets are always names. `steered`: how a steered target gets its addresses;
    without it only static records are added (glue never depends on the client).
    """
    present = {(r.name.wire, r.rtype) for r in (*answer.answer, *answer.additional)}
    for rdata in rrset.rdatas:
        target = rdata.target
        if target is None and self_target is not None and rdata.parts[0][:2] != b"\x00\x00":  # type: ignore[index]
            target = self_target
        if target is None or not target.is_subdomain_of(zone.origin):
            continue
        node = zone.nodes.get(target.wire)
        if node is None:
            continue
        for rtype in ADDRESS_TYPES:
            if (target.wire, rtype) in present:
                continue
            extra = node.rrsets.get(rtype)
            if extra is None and steered is not None and node.service is not None:
                extra = steered(node, target, rtype)
            if extra is not None:
                present.add((target.wire, rtype))
                answer.additional.append(extra)
