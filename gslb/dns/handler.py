"""One query in, one reply out: the glue between the wire layer and the answer engine.

`QueryHandler.handle` is what both transports call. It never raises, and returns None when the
packet deserves silence. An ordinary query is answered by the compiled path from ready bytes
(`gslb.dns.compiled`); anything else, and anything the compiled path has not seen yet, by the
general path: parse, ask the engine (`gslb.engine.respond`), rate limit, fit and encode. The
general path is the reference: it files what it answered with the compiled path when the same
bytes can answer others, and the two give byte-identical replies (tests/test_compiled_path.py).
Either way the current `ZoneSet` is read once per query, so a query sees one complete version.
"""

from __future__ import annotations

import ipaddress
import logging
from time import perf_counter, time

from gslb.config.model import DnsConfig
from gslb.dns.compiled.path import CompiledPath
from gslb.dns.compiled.scan import Scanned
from gslb.dns.cookies import ServerCookies
from gslb.dns.querylog import QueryLog
from gslb.dns.ratelimit import ERROR_IDENTITY, SEND, SLIP, RateLimiter, limited_reply, response_identity
from gslb.dns.render import render_answer
from gslb.dns.stats import QueryStats
from gslb.dnssec.secure import secure
from gslb.dnssec.signer import Signer
from gslb.engine.respond import Responder
from gslb.steering.client import Client
from gslb.steering.engine import SteeringEngine
from gslb.wire.constants import PLAIN_UDP_LIMIT, TCP_LIMIT, Rcode
from gslb.wire.edns import Edns
from gslb.wire.message import CookieOnlyQuery, DropPacket, Header, QueryError, Question, parse_header, parse_query
from gslb.wire.writer import opt_for, render_error
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Counted = tuple[bytes | None, str, int, bool, tuple[tuple[str, str, str, str], ...]]


class ServingState:
    """What queries read: the zone set, swapped whole on reload."""

    def __init__(self, zones: ZoneSet | None = None) -> None:
        self.zones = zones or ZoneSet()


class QueryHandler:
    def __init__(self, state: ServingState, responder: Responder, config: DnsConfig,
                 steering: SteeringEngine | None = None, cookies: ServerCookies | None = None,
                 signer: Signer | None = None) -> None:
        """`steering`: the engine behind `responder`, for the compiled path; None: general path only.
        `cookies`: DNS cookies (RFC 7873) are answered; None: COOKIE options are ignored.
        `signer`: signs the answers of zones with `dnssec: true` (gslb.dnssec)."""
        self.state = state
        self.signer = signer
        self.responder = responder
        self.max_udp_size = config.max_udp_size
        self.nsid = config.nsid.encode() if config.nsid else None
        self.cookies = cookies
        self.stats = QueryStats()
        self.query_log: QueryLog | None = None  # set when log.queries.sample > 0
        self.compiled = None
        if steering is not None:
            clock = signer.clock if signer is not None else time
            self.compiled = CompiledPath(steering, config.max_udp_size, self.nsid, cookies, clock)

    def zones_changed(self, zones: ZoneSet | None = None) -> None:
        """New zones: ready answers made from the old ones go (health changes need nothing here),
        and the signed zones' keys are read again."""
        if self.signer is not None and zones is not None:
            for problem in self.signer.zones_changed(zones):
                log.error("DNSSEC: %s", problem, extra={"event": "dnssec_keys", "problem": problem})
        if self.compiled is not None:
            self.compiled.clear()

    def handle(self, data: bytes, source: IPAddress, tcp: bool, limiter: RateLimiter | None = None) -> bytes | None:
        """The reply to send, or None for silence (or when `limiter`, given for UDP only, drops it)."""
        started = perf_counter()
        try:
            found = None
            compiled = self.compiled
            if compiled is not None and self.query_log is None:
                result = compiled.answer(data, source, tcp, limiter)
                if result is not None:
                    reply, zone, qtype, ecs, counted = result
                    return self._count(reply, zone, qtype, ecs, counted, tcp, started)
                found = compiled.missed
            reply, zone, qtype, ecs, counted = self._handle(data, source, tcp, limiter, found)
        except Exception:
            log.exception("internal error answering a query from %s", source)
            reply, zone, qtype, ecs, counted = self._servfail(data), "", 0, False, ()
        return self._count(reply, zone, qtype, ecs, counted, tcp, started)

    def _count(self, reply: bytes | None, zone: str, qtype: int, ecs: bool,
               counted: tuple[tuple[str, str, str, str], ...], tcp: bool, started: float) -> bytes | None:
        if reply is not None:
            stats = self.stats
            stats.count(zone, qtype, reply[3] & 0x0F, "tcp" if tcp else "udp", bool(reply[2] & 0x02), ecs,
                        perf_counter() - started)
            if counted:
                stats.count_steered(counted)
        return reply

    def _handle(
        self, data: bytes, source: IPAddress, tcp: bool, limiter: RateLimiter | None, found: Scanned | None
    ) -> Counted:
        """The general path: the reply, and for the counters the zone, type, whether ECS was sent, steering keys.

        `found`: the compiled path scanned this query and could not answer it; what is answered
        here is filed with it for next time.
        """
        try:
            query = parse_query(data)
        except DropPacket:
            return None, "", 0, False, ()
        except CookieOnlyQuery as exc:
            return self._cookie_only(exc, source, limiter), "", 0, exc.edns.ecs is not None, ()
        except QueryError as exc:
            opt = opt_for(exc.edns, self.max_udp_size, exc.rcode, self.nsid, 0)
            qtype = exc.question.qtype if exc.question is not None else 0
            if limiter is not None and (verdict := limiter.check(source, ERROR_IDENTITY)) != SEND:
                return limited_reply(exc.header, exc.question, exc.rcode, opt, verdict), "", qtype, False, ()
            return render_error(exc.header, exc.question, exc.rcode, opt), "", qtype, False, ()
        question = query.question
        edns = query.edns
        ecs = edns.ecs if edns is not None else None
        zones = self.state.zones
        answer = self.responder.respond(zones, question.name, question.qtype, question.qclass, Client(source, ecs))
        sent = answer  # the engine's answer, or the signed one
        if self.signer is not None:
            sent = secure(self.signer, zones, question.name, question.qtype, answer,
                          edns is not None and edns.do, edns is not None and edns.co)
        identity = response_identity(question, answer) if sent is not answer or limiter is not None else None
        if found is not None and self.compiled is not None:
            self.compiled.learn(found, zones, question, sent, source, identity)
        if tcp:
            limit = TCP_LIMIT
        elif edns is None:
            limit = PLAIN_UDP_LIMIT
        else:
            limit = max(PLAIN_UDP_LIMIT, min(edns.payload, self.max_udp_size))
        scope = answer.scope if ecs is not None and ecs.source_prefix > 0 else 0
        proven, cookie = self._cookie(edns, source)
        opt = opt_for(edns, self.max_udp_size, sent.rcode, self.nsid, scope, cookie)
        if self.query_log is not None:
            self.query_log.record(source, query, answer, scope, tcp)
        # Rate limiting (UDP): decided before encoding, so a drop costs no encoding. A valid server
        # cookie proves the source is not spoofed: such a client is never limited (RFC 7873 section 5.2.5).
        if limiter is not None and not proven:
            verdict = limiter.check(source, identity)  # type: ignore[arg-type]
            if verdict != SEND:
                reply = self._limited(query.header, question, sent.rcode, edns, scope, opt, cookie, verdict)
                return reply, answer.zone, question.qtype, ecs is not None, answer.counted
        reply = render_answer(query.header, question, sent, limit, opt)
        return reply, answer.zone, question.qtype, ecs is not None, answer.counted

    def _cookie(self, edns: Edns | None, source: IPAddress) -> tuple[bool, bytes | None]:
        """Whether the query showed a valid server cookie, and the COOKIE option data to send back."""
        if edns is None or edns.cookie is None or self.cookies is None:
            return False, None
        return self.cookies.answer(edns.cookie, source)

    def _limited(self, header: Header, question: Question | None, rcode: int, edns: Edns | None, scope: int,
                 opt: bytes | None, cookie: bytes | None, verdict: int) -> bytes | None:
        """What goes out for a limited response: nothing, an empty TC=1 reply, or, to a client that
        sent a cookie, BADCOOKIE with a fresh server cookie, so it asks again over UDP with a cookie
        that exempts it (RFC 7873 section 5.2.3 lets rate limiting choose BADCOOKIE; BIND does the same)."""
        if verdict != SLIP or cookie is None:
            return limited_reply(header, question, rcode, opt, verdict)
        badcookie = opt_for(edns, self.max_udp_size, Rcode.BADCOOKIE, self.nsid, scope, cookie)
        return render_error(header, question, Rcode.BADCOOKIE, badcookie)

    def _cookie_only(self, query: CookieOnlyQuery, source: IPAddress, limiter: RateLimiter | None) -> bytes | None:
        """A query for a server cookie alone (RFC 7873 section 5.4): NOERROR with a fresh cookie, or
        BADCOOKIE when the one it showed is not valid; FORMERR when cookies are off."""
        edns = query.edns
        proven, cookie = self._cookie(edns, source)
        if cookie is None:
            rcode = Rcode.FORMERR
        else:
            rcode = Rcode.NOERROR if proven or len(edns.cookie or b"") == 8 else Rcode.BADCOOKIE
        opt = opt_for(edns, self.max_udp_size, rcode, self.nsid, 0, cookie)
        if limiter is not None and not proven and (verdict := limiter.check(source, ERROR_IDENTITY)) != SEND:
            return self._limited(query.header, None, rcode, edns, 0, opt, cookie, verdict)
        return render_error(query.header, None, rcode, opt)

    @staticmethod
    def _servfail(data: bytes) -> bytes | None:
        try:
            header = parse_header(data)
        except DropPacket:
            return None
        return render_error(header, None, Rcode.SERVFAIL, None)
