"""The authoritative lookup (RFC 1034 section 4.3.2, RFC 4592 wildcards, RFC 2308 negatives).

Given a question and a client, build the answer from an immutable `ZoneSet`. Nothing here
knows about the wire format or sockets, so the same code serves UDP, TCP, `gslb explain`
and tests.
"""

from __future__ import annotations

from typing import Protocol

from gslb.engine.answer import Answer
from gslb.engine.svcb import SVCB_TYPES, add_svcb_target_addresses, complete_hints
from gslb.engine.targets import ADDRESS_TYPES, add_target_addresses
from gslb.steering.client import Client
from gslb.steering.steered import Steered
from gslb.wire.constants import Rcode, RRType
from gslb.wire.name import WILDCARD_LABEL, Name
from gslb.wire.records import RRset
from gslb.zones.model import Node, Zone
from gslb.zones.zoneset import ZoneSet

MAX_CHAIN = 8  # CNAME hops followed inside our zones before giving up
TARGET_TYPES = frozenset((RRType.NS, RRType.MX, RRType.SRV))


def wildcard_node(zone: Zone, qname: Name) -> Node | None:
    """The wildcard at the closest encloser, if there is one (RFC 4592 section 3.3.1)."""
    encloser = qname.parent()
    while encloser.wire not in zone.existing:
        if encloser == zone.origin or not encloser.labels:
            return None
        encloser = encloser.parent()
    return zone.nodes.get(encloser.prepend(WILDCARD_LABEL).wire)


def delegation_at_or_above(zone: Zone, name: Name) -> Node | None:
    """The highest delegation point at or above `name` below the apex: where the zone's own data ends."""
    if zone.cuts:
        for each in name.ancestors_below(zone.origin):
            if each.wire in zone.cuts:
                return zone.nodes[each.wire]
    return None


class Steering(Protocol):
    """Answers names that point at a service; the resolver asks it and nothing else does."""

    def steer(self, zone: Zone, node: Node, owner: Name, qtype: int, client: Client) -> Steered: ...


class Resolver:
    def __init__(self, steering: Steering | None = None) -> None:
        self.steering = steering

    def resolve(self, zones: ZoneSet, qname: Name, qtype: int, client: Client) -> Answer:
        zone = zones.find(qname)
        if zone is None:
            return Answer(rcode=Rcode.REFUSED, authoritative=False)
        if qtype == RRType.DS and qname == zone.origin and qname.labels:
            # DS is the parent's (RFC 4035 section 3.1.4.1): answered from the parent when it is ours too.
            parent = zones.find(qname.parent())
            if parent is not None and qname.wire in parent.cuts:
                zone = parent
        answer = Answer(zone=zone.origin.text)
        seen: set[bytes] = set()
        name = qname
        for step in range(MAX_CHAIN + 1):
            seen.add(name.wire)
            target = self._resolve_in_zone(zone, name, qtype, client, answer, step == 0)
            if target is None or target.wire in seen:
                break
            next_zone = zones.find(target)
            if next_zone is None:
                break
            zone, name = next_zone, target
        return answer

    # -- one step of the chain -----------------------------------------------------------

    def _resolve_in_zone(
        self, zone: Zone, qname: Name, qtype: int, client: Client, answer: Answer, first: bool
    ) -> Name | None:
        """Fill `answer` for qname in zone; return a CNAME target to follow, if any.

        `first`: qname is the question's own name, whose matching owner the answer records.
        """
        cut = self._delegation(zone, qname, qtype)
        if cut is not None:
            if not answer.answer:
                self._referral(zone, cut, answer)
            return None
        node = zone.nodes.get(qname.wire)
        if node is None:
            if qname.wire in zone.existing:  # an empty non-terminal: NODATA at the name itself
                if first:
                    answer.owner = qname
                self._negative(zone, answer, Rcode.NOERROR)
                return None
            node = wildcard_node(zone, qname)
            if node is None:
                self._negative(zone, answer, Rcode.NXDOMAIN)
                return None
        if first:
            answer.owner = node.name
        return self._answer_from_node(zone, node, qname, qtype, client, answer)

    @staticmethod
    def _delegation(zone: Zone, qname: Name, qtype: int) -> Node | None:
        """The delegation point at or above qname, if the name is not ours to answer."""
        cut = delegation_at_or_above(zone, qname)
        if cut is not None and qtype == RRType.DS and cut.name == qname:
            return None  # DS lives on the parent side of a cut (RFC 4035 section 3.1.4.1)
        return cut

    def _answer_from_node(
        self, zone: Zone, node: Node, owner: Name, qtype: int, client: Client, answer: Answer
    ) -> Name | None:
        rrsets = node.rrsets
        cname = rrsets.get(RRType.CNAME)
        if cname is not None and qtype != RRType.CNAME:
            answer.answer.append(cname.renamed(owner))
            return cname.rdatas[0].target
        if qtype == RRType.ANY:
            qtype = self._minimal_any_type(node)
        if node.service is not None and qtype in ADDRESS_TYPES:
            self._steer(zone, node, owner, qtype, client, answer)
            return None
        rrset = rrsets.get(qtype)
        if rrset is None:
            self._negative(zone, answer, Rcode.NOERROR)
            return None
        if qtype in SVCB_TYPES:  # hints from a service, and steered targets, are chosen for this client
            steer = self.steering.steer if self.steering is not None else None
            rrset = complete_hints(steer, zone, rrset, owner, client, answer)
            answer.answer.append(rrset.renamed(owner) if rrset.name != owner else rrset)
            add_svcb_target_addresses(steer, zone, rrset, owner, client, answer)
            return None
        answer.answer.append(rrset.renamed(owner) if rrset.name != owner else rrset)
        if qtype in TARGET_TYPES:
            add_target_addresses(zone, rrset, answer)
        return None

    @staticmethod
    def _minimal_any_type(node: Node) -> int:
        """RFC 8482: answer ANY with one RRset; a steered name answers with its A set."""
        if node.service is not None:
            return RRType.A
        types = sorted(t for t in node.rrsets if t != RRType.SOA) or sorted(node.rrsets)
        return types[0] if types else RRType.A

    def _steer(self, zone: Zone, node: Node, owner: Name, qtype: int, client: Client, answer: Answer) -> None:
        if self.steering is None:
            answer.rcode = Rcode.SERVFAIL
            return
        steered = self.steering.steer(zone, node, owner, qtype, client)
        answer.scope = max(answer.scope, steered.scope)
        answer.variants = steered.variants
        answer.rotation = steered.rotation
        answer.by_client = steered.by_client
        answer.steered = steered
        if steered.servfail:
            answer.rcode = Rcode.SERVFAIL
            return
        if steered.rrset is None:
            self._negative(zone, answer, Rcode.NOERROR)
            return
        answer.trim_index = len(answer.answer)
        answer.answer.append(steered.rrset)

    # -- sections ------------------------------------------------------------------------

    @staticmethod
    def _negative(zone: Zone, answer: Answer, rcode: int) -> None:
        """NXDOMAIN or NODATA: the SOA with the RFC 2308 negative TTL in authority."""
        answer.rcode = rcode
        soa = zone.soa
        answer.authority.append(RRset(soa.name, soa.rtype, zone.negative_ttl, soa.rdatas))

    def _referral(self, zone: Zone, cut: Node, answer: Answer) -> None:
        ns = cut.rrsets[RRType.NS]
        answer.authoritative = False
        answer.authority.append(ns)
        add_target_addresses(zone, ns, answer)
