"""Answering SVCB and HTTPS (RFC 9460): hints from a service filled in per client, and the
addresses of the target in the additional section, steered when the target is a steered name.

Both ask steering exactly as an A or AAAA query would (same client, same ECS), so the hints and
the additional addresses a client gets are the ones it would get by asking for them. An answer
that used steering depends on the client: it is marked so (`by_client`, the ECS scope), which
also keeps it out of the compiled path's ready answers.
"""

from __future__ import annotations

from collections.abc import Callable

from gslb.engine import targets
from gslb.engine.answer import Answer
from gslb.steering.client import Client
from gslb.steering.steered import Steered
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.wire.records import RRset
from gslb.zones.model import Node, Zone
from gslb.zones.svcb import IPV4HINT, HintedRdata

SVCB_TYPES = frozenset((RRType.SVCB, RRType.HTTPS))
Steer = Callable[[Zone, Node, Name, int, Client], Steered]


def complete_hints(steer: Steer | None, zone: Zone, rrset: RRset, owner: Name, client: Client,
                   answer: Answer) -> RRset:
    """The RRset with every hint from a service filled in for this client (as is when it has none)."""
    if not any(type(rdata) is HintedRdata for rdata in rrset.rdatas):
        return rrset
    rdatas = []
    for rdata in rrset.rdatas:
        template = rdata.template if type(rdata) is HintedRdata else None
        if template is None:
            rdatas.append(rdata)
            continue
        hints = {}
        for key, service in template.services:
            rtype = RRType.A if key == IPV4HINT else RRType.AAAA
            steered = _steer(steer, zone, Node(owner, {}, service), owner, rtype, client, answer)
            hints[key] = [address.parts[0] for address in steered.rdatas] if steered is not None else []
        rdatas.append(template.complete(hints))  # type: ignore[arg-type]
    return rrset.with_rdatas(tuple(rdatas))


def add_svcb_target_addresses(steer: Steer | None, zone: Zone, rrset: RRset, owner: Name, client: Client,
                              answer: Answer) -> None:
    """A and AAAA of each target held in this zone, into the additional section: static records, or
    what steering answers this client for a steered target. A target of "." in ServiceMode is the
    owner itself."""
    def steered(node: Node, target: Name, rtype: int) -> RRset | None:
        return _steer(steer, zone, node, target, rtype, client, answer)

    targets.add_target_addresses(zone, rrset, answer, owner, steered)


def _steer(steer: Steer | None, zone: Zone, node: Node, owner: Name, rtype: int, client: Client,
           answer: Answer) -> RRset | None:
    """The addresses steering gives this client, recording on the answer that it depends on the client."""
    if steer is None:
        return None
    steered = steer(zone, node, owner, rtype, client)
    answer.by_client = True
    answer.scope = max(answer.scope, steered.scope)
    if steered.variants == 0:
        answer.variants = 0
    return None if steered.servfail else steered.rrset
