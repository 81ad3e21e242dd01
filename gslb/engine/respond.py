"""The answer to one question: what the server refuses or does not implement, then the lookup.

This is the query policy of docs/dns-behaviour.md, kept beside the resolver rather than in the
wire glue so every path that answers (UDP, TCP, the compiled path, `gslb explain`) applies the
same rules:

- class CH: `id.server` and `hostname.bind` tell which server answered (the NSID); nothing else
  is told (REFUSED, so no version leaks);
- a class other than IN and CH: REFUSED;
- AXFR and IXFR: REFUSED (zone transfers are not offered);
- MAILA and MAILB: NOTIMP (obsolete, RFC 2505 section 3);
- a question of type OPT: FORMERR (OPT is a pseudo-record, never a question, RFC 6891 section 6.1.1);
- a question of type NXNAME: FORMERR (a meta-type of compact denial, RFC 9824 section 3.5);
- everything else: the resolver.
"""

from __future__ import annotations

from gslb.engine.answer import Answer
from gslb.engine.resolver import Resolver
from gslb.steering.client import Client
from gslb.wire.constants import Rcode, RRClass, RRType
from gslb.wire.name import Name
from gslb.wire.records import Rdata, RRset
from gslb.zones.zoneset import ZoneSet

CHAOS_ID_NAMES = frozenset((Name.from_text("id.server.").wire, Name.from_text("hostname.bind.").wire))
NOT_OFFERED = {RRType.AXFR: Rcode.REFUSED, RRType.IXFR: Rcode.REFUSED, RRType.MAILA: Rcode.NOTIMP,
               RRType.MAILB: Rcode.NOTIMP, RRType.OPT: Rcode.FORMERR, RRType.NXNAME: Rcode.FORMERR}


class Responder:
    def __init__(self, resolver: Resolver, nsid: str | None = None) -> None:
        self.resolver = resolver
        encoded = nsid.encode()[:255] if nsid else b""
        self._chaos_rdata = Rdata((bytes((len(encoded),)) + encoded,), nsid or "") if nsid else None

    def respond(self, zones: ZoneSet, name: Name, qtype: int, qclass: int, client: Client) -> Answer:
        if qclass == RRClass.CH:
            return self._chaos(name, qtype)
        if qclass != RRClass.IN:
            return Answer(rcode=Rcode.REFUSED, authoritative=False)
        refusal = NOT_OFFERED.get(qtype)
        if refusal is not None:
            return Answer(rcode=refusal, authoritative=False)
        return self.resolver.resolve(zones, name, qtype, client)

    def _chaos(self, name: Name, qtype: int) -> Answer:
        """id.server and hostname.bind tell which server answered; nothing else is told."""
        if self._chaos_rdata is None or name.wire not in CHAOS_ID_NAMES or qtype not in (RRType.TXT, RRType.ANY):
            return Answer(rcode=Rcode.REFUSED, authoritative=False)
        rrset = RRset(name, RRType.TXT, 0, (self._chaos_rdata,), RRClass.CH)
        return Answer(answer=[rrset], owner=name)
