"""The signed reply: the engine's `Answer` with signatures, keys and proofs of denial added.

For every query to a signed zone the apex answers DNSKEY, CDS and CDNSKEY questions from the keys.
For a query with the DO bit, every RRset of the answer is followed by its RRSIG, and:

- a **referral** carries the child's DS and its RRSIG, or an NSEC at the delegation without the DS
  bit (the proof that the child is unsigned); glue is never signed (RFC 4035 section 3.1.4);
- a **negative answer** carries the signed SOA and one signed NSEC at the name denied, whose next
  name is the name's immediate successor, so nothing of the zone can be walked:
  - the name exists without the type (NODATA): the bitmap lists the types that do exist there,
    the address types of a steered name's service included, the type asked never;
  - the name does not exist: compact denial (RFC 9824), NOERROR with the bitmap RRSIG NSEC
    NXNAME; with the CO flag in the query the rcode stays NXDOMAIN (section 5.1);
- a **wildcard** answer is signed as the name asked for (RFC 9824 section 3.3), like any answer.

A steered selection that must be shortened to fit keeps a valid signature: the renderer asks
`resign` for the signature of the shortened set (trim first, sign what is sent).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gslb.dnssec.records import nsec_rdata, successor, successor_beside
from gslb.dnssec.signer import Signer, ZoneSigning
from gslb.engine.answer import Answer
from gslb.engine.resolver import delegation_at_or_above, wildcard_node
from gslb.wire.constants import Rcode, RRType
from gslb.wire.name import Name
from gslb.wire.records import Rdata, RRset
from gslb.zones.model import Zone
from gslb.zones.zoneset import ZoneSet

APEX_KEY_TYPES = (RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY)
SIGNED_RCODES = (Rcode.NOERROR, Rcode.NXDOMAIN)
PROOF_TYPES = frozenset((RRType.RRSIG, RRType.NSEC))
ANSWER_FIELDS = tuple(field.name for field in dataclasses.fields(Answer))


@dataclass(slots=True)
class SignedAnswer(Answer):
    """An answer with DNSSEC records in its sections."""

    expires: float = math.inf  # UNIX time when a signature in it is due for renewal, or its keys change
    resign: Callable[[RRset], RRset] | None = None  # the RRSIG of a shortened steered selection

    @classmethod
    def from_answer(cls, engine: Answer, /, **changes: Any) -> SignedAnswer:
        """The engine's answer with some fields changed (`answer` among them) and the signing's own set."""
        fields = {name: getattr(engine, name) for name in ANSWER_FIELDS}
        fields.update(changes)
        return cls(**fields)


def secure(signer: Signer, zones: ZoneSet, qname: Name, qtype: int, answer: Answer, do: bool, co: bool) -> Answer:
    """The answer as it goes out from a server that signs (see the module docstring)."""
    if not signer.zones or answer.rcode not in SIGNED_RCODES or not answer.zone:
        return answer
    now = signer.clock()
    signer.refresh(now)
    if qtype in APEX_KEY_TYPES and not answer.answer and answer.rcode == Rcode.NOERROR:
        answer = _apex_keys(signer, zones, qname, qtype, answer)
    if not do:
        return answer
    return _Signing(signer, zones, now).answer(qname, qtype, answer, co)


def _apex_keys(signer: Signer, zones: ZoneSet, qname: Name, qtype: int, answer: Answer) -> Answer:
    """DNSKEY, CDS and CDNSKEY at a signed zone's apex come from its keys, not its file."""
    zone = zones.find(qname)
    signing = signer.signing_for(zone)
    if signing is None or zone is None or zone.origin != qname:
        return answer
    state = signing.state
    rrset = {RRType.DNSKEY: state.dnskey, RRType.CDS: state.cds, RRType.CDNSKEY: state.cdnskey}[qtype]
    if rrset is None:
        return answer
    return SignedAnswer.from_answer(answer, answer=[rrset], authority=[], owner=qname,
                                    expires=signer.next_change)  # the key set changes at the next timing moment


class _Signing:
    """One answer being signed: the sections built, and the earliest renewal among its signatures."""

    def __init__(self, signer: Signer, zones: ZoneSet, now: float) -> None:
        self.signer = signer
        self.zones = zones
        self.now = now
        self.expires = signer.next_change
        self.signed = False

    def sign(self, signing: ZoneSigning, rrset: RRset, original_ttl: int | None = None) -> RRset:
        rrsig, renew = self.signer.sign(signing, rrset, original_ttl, self.now)
        self.expires = min(self.expires, renew)
        self.signed = True
        return rrsig

    def answer(self, qname: Name, qtype: int, answer: Answer, co: bool) -> Answer:
        signer, zones = self.signer, self.zones
        records: list[RRset] = []
        trim_index = None
        resign = None
        for index, rrset in enumerate(answer.answer):
            if index == answer.trim_index:
                trim_index = len(records)
            records.append(rrset)
            signing = signer.zone_of(zones, rrset.name, rrset.rtype)
            if signing is not None:
                records.append(self.sign(signing, rrset))
                if index == answer.trim_index:
                    resign = _resigner(signer, signing)
        rcode = answer.rcode
        authority: list[RRset] = []
        if not answer.authoritative and answer.authority and answer.authority[0].rtype == RRType.NS:
            self._referral(answer.authority, authority)
        else:
            for rrset in answer.authority:
                authority.append(rrset)
                zone = zones.get(rrset.name) if rrset.rtype == RRType.SOA else zones.find(rrset.name)
                signing = signer.signing_for(zone)
                if signing is None or zone is None:
                    continue
                if rrset.rtype != RRType.SOA:
                    authority.append(self.sign(signing, rrset))
                    continue
                authority.append(self.sign(signing, rrset, zone.soa.ttl))
                authority += self._denial(zone, signing, _denied_name(qname, answer), qtype, rcode)
                if rcode == Rcode.NXDOMAIN and not co:
                    rcode = Rcode.NOERROR  # compact denial: the name "exists" with no data
        additional: list[RRset] = []
        for rrset in answer.additional:
            additional.append(rrset)
            zone = zones.find(rrset.name)
            signing = signer.signing_for(zone)
            # glue (at or below a delegation) is the child's data: the parent holds it but does not sign it
            if signing is not None and zone is not None and delegation_at_or_above(zone, rrset.name) is None:
                additional.append(self.sign(signing, rrset))
        if not self.signed:
            return answer
        return SignedAnswer.from_answer(answer, answer=records, authority=authority, additional=additional,
                                        rcode=rcode, trim_index=trim_index, expires=self.expires, resign=resign)

    def _referral(self, given: list[RRset], authority: list[RRset]) -> None:
        """NS (never signed), then the DS and its RRSIG, or the NSEC proving there is no DS."""
        ns = given[0]
        authority += given
        zone = self.zones.find(ns.name)
        signing = self.signer.signing_for(zone)
        if signing is None or zone is None:
            return
        cut = zone.nodes.get(ns.name.wire)
        ds = cut.rrsets.get(RRType.DS) if cut is not None else None
        if ds is None:
            ds = RRset(ns.name, RRType.NSEC, zone.negative_ttl, (_delegation_nsec(ns.name),))
        authority += (ds, self.sign(signing, ds))

    def _denial(self, zone: Zone, signing: ZoneSigning, name: Name, qtype: int, rcode: int) -> tuple[RRset, RRset]:
        """The NSEC at the denied name (RFC 9824) and its RRSIG."""
        if rcode == Rcode.NXDOMAIN:
            rdata = nsec_rdata(successor(name), (*PROOF_TYPES, RRType.NXNAME))
        elif name.wire in zone.cuts:
            rdata = _delegation_nsec(name)  # a DS asked at a delegation
        else:
            rdata = nsec_rdata(successor(name), _types_at(zone, signing, name) - {qtype} | PROOF_TYPES)
        nsec = RRset(name, RRType.NSEC, zone.negative_ttl, (rdata,))
        return nsec, self.sign(signing, nsec)


def _delegation_nsec(name: Name) -> Rdata:
    """The NSEC data at a delegation with no DS: the NS bit, no DS bit, a successor outside the child."""
    return nsec_rdata(successor_beside(name), (RRType.NS, *PROOF_TYPES))


def _resigner(signer: Signer, signing: ZoneSigning) -> Callable[[RRset], RRset]:
    def resign(rrset: RRset) -> RRset:
        return signer.sign(signing, rrset)[0]

    return resign


def _denied_name(qname: Name, answer: Answer) -> Name:
    """The name the negative answer is about: the question's, or the end of its CNAME chain."""
    name = qname
    for rrset in answer.answer:
        if rrset.rtype == RRType.CNAME and rrset.name == name and rrset.rdatas[0].target is not None:
            name = rrset.rdatas[0].target
    return name


def _types_at(zone: Zone, signing: ZoneSigning, name: Name) -> set[int]:
    """The types that exist at a name: an empty non-terminal has none, a wildcard's name its types."""
    node = zone.nodes.get(name.wire)
    if node is None and name.wire not in zone.existing:
        node = wildcard_node(zone, name)
    types: set[int] = set()
    if node is not None:
        types.update(node.rrsets)
        if node.service is not None:
            types |= signing.service_types(zone, node.service)
    if name == zone.origin:
        state = signing.state
        types.add(RRType.DNSKEY)
        if state.cds is not None:
            types |= {RRType.CDS, RRType.CDNSKEY}
    return types

