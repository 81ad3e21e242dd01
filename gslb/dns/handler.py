"""One query in, one reply out: the glue between the wire layer and the answer engine.

`QueryHandler.handle` is what both transports call. It reads the current `ZoneSet` once per
query (a reload swaps that reference, so a query sees one complete version), never raises,
and returns None when the packet deserves silence.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from time import perf_counter

from gslb.dns.constants import PLAIN_UDP_LIMIT, TCP_LIMIT, Rcode, RRClass, RRType
from gslb.dns.name import Name
from gslb.dns.query import DropPacket, Query, QueryError, parse_header, parse_query
from gslb.dns.ratelimit import ERROR_IDENTITY, SEND, RateLimiter, limited_reply, response_identity
from gslb.dns.render import opt_for, render_answer, render_error
from gslb.engine.answer import Answer, Client
from gslb.engine.resolver import Resolver
from gslb.metrics import QueryStats
from gslb.zones.model import Rdata, RRset
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
CHAOS_ID_NAMES = frozenset((Name.from_text("id.server.").wire, Name.from_text("hostname.bind.").wire))


@dataclass(frozen=True)
class DnsOptions:
    max_udp_size: int = 1232
    nsid: str | None = None


class ServingState:
    """What queries read: the zone set, swapped whole on reload."""

    def __init__(self, zones: ZoneSet | None = None) -> None:
        self.zones = zones or ZoneSet()


class QueryHandler:
    def __init__(self, state: ServingState, resolver: Resolver, options: DnsOptions) -> None:
        self.state = state
        self.resolver = resolver
        self.options = options
        self.nsid = options.nsid.encode() if options.nsid else None
        self.stats = QueryStats()
        self._chaos_rdata = (
            Rdata((bytes((len(self.nsid[:255]),)) + self.nsid[:255],), options.nsid or "") if self.nsid else None
        )

    def handle(self, data: bytes, source: IPAddress, tcp: bool, limiter: RateLimiter | None = None) -> bytes | None:
        """The reply to send, or None for silence (or when `limiter`, given for UDP only, drops it)."""
        started = perf_counter()
        try:
            reply, zone, qtype, ecs = self._handle(data, source, tcp, limiter)
        except Exception:
            log.exception("internal error answering a query from %s", source)
            reply, zone, qtype, ecs = self._servfail(data), "", 0, False
        if reply is not None:
            self.stats.count(zone, qtype, reply[3] & 0x0F, "tcp" if tcp else "udp", bool(reply[2] & 0x02), ecs,
                             perf_counter() - started)
        return reply

    def _handle(
        self, data: bytes, source: IPAddress, tcp: bool, limiter: RateLimiter | None
    ) -> tuple[bytes | None, str, int, bool]:
        """The reply, and for the counters: the zone, the query type, whether ECS was sent."""
        try:
            query = parse_query(data)
        except DropPacket:
            return None, "", 0, False
        except QueryError as exc:
            opt = opt_for(exc.edns, self.options.max_udp_size, exc.rcode, self.nsid, 0)
            qtype = exc.question.qtype if exc.question is not None else 0
            if limiter is not None and (verdict := limiter.check(source, ERROR_IDENTITY)) != SEND:
                return limited_reply(exc.header, exc.question, exc.rcode, opt, verdict), "", qtype, False
            return render_error(exc.header, exc.question, exc.rcode, opt), "", qtype, False
        question = query.question
        answer = self._answer(query, source)
        edns = query.edns
        if tcp:
            limit = TCP_LIMIT
        elif edns is None:
            limit = PLAIN_UDP_LIMIT
        else:
            limit = max(PLAIN_UDP_LIMIT, min(edns.payload, self.options.max_udp_size))
        scope = answer.scope if edns is not None and edns.ecs is not None and edns.ecs.source_prefix else 0
        opt = opt_for(edns, self.options.max_udp_size, answer.rcode, self.nsid, scope)
        if limiter is not None:  # rate limiting (UDP): decided before encoding, so a drop costs no encoding
            verdict = limiter.check(source, response_identity(self.state.zones, question, answer))
            if verdict != SEND:
                reply = limited_reply(query.header, question, answer.rcode, opt, verdict)
                return reply, answer.zone, question.qtype, edns is not None and edns.ecs is not None
        reply = render_answer(query.header, question, answer, limit, opt)
        return reply, answer.zone, question.qtype, edns is not None and edns.ecs is not None

    def _answer(self, query: Query, source: IPAddress) -> Answer:
        question = query.question
        if question.qclass == RRClass.CH:
            return self._chaos(question.name, question.qtype)
        if question.qclass != RRClass.IN:
            return Answer(rcode=Rcode.REFUSED, authoritative=False)
        qtype = question.qtype
        if qtype in (RRType.AXFR, RRType.IXFR):
            return Answer(rcode=Rcode.REFUSED, authoritative=False)
        if qtype in (RRType.MAILA, RRType.MAILB):
            return Answer(rcode=Rcode.NOTIMP, authoritative=False)
        if qtype == RRType.OPT:
            return Answer(rcode=Rcode.FORMERR, authoritative=False)
        ecs = query.edns.ecs if query.edns is not None else None
        return self.resolver.resolve(self.state.zones, question.name, qtype, Client(source, ecs))

    def _chaos(self, name: Name, qtype: int) -> Answer:
        """id.server and hostname.bind tell which server answered; nothing else is told."""
        if self._chaos_rdata is None or name.wire not in CHAOS_ID_NAMES or qtype not in (RRType.TXT, RRType.ANY):
            return Answer(rcode=Rcode.REFUSED, authoritative=False)
        rrset = RRset(name, RRType.TXT, 0, (self._chaos_rdata,), RRClass.CH)
        return Answer(answer=[rrset])

    @staticmethod
    def _servfail(data: bytes) -> bytes | None:
        try:
            header = parse_header(data)
        except DropPacket:
            return None
        return render_error(header, None, Rcode.SERVFAIL, None)
