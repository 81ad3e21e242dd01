"""One query in, one reply out: the glue between the wire layer and the answer engine.

`QueryHandler.handle` is what both transports call. It reads the current `ZoneSet` once per
query (a reload swaps that reference, so a query sees one complete version), never raises,
and returns None when the packet deserves silence. What to answer is the engine's business
(`gslb.engine.respond`); here the query is parsed, the reply sized, rate limited, encoded,
remembered for replay, and counted.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from time import perf_counter

from gslb.config.model import DnsConfig
from gslb.dns.cache import CachedReply, ResponseCache
from gslb.dns.querylog import QueryLog
from gslb.dns.ratelimit import DROP, ERROR_IDENTITY, SEND, SLIP, RateLimiter, limited_reply, response_identity
from gslb.dns.render import render_answer
from gslb.dns.stats import QueryStats
from gslb.engine.answer import Answer
from gslb.engine.respond import Responder
from gslb.steering.client import Client
from gslb.wire.constants import PLAIN_UDP_LIMIT, TCP_LIMIT, Rcode
from gslb.wire.message import DropPacket, QueryError, parse_header, parse_query
from gslb.wire.writer import opt_for, render_error
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Counted = tuple[bytes | None, str, int, bool, tuple[tuple[str, str, str], ...]]

MAX_CACHED_VARIANTS = 16  # a rotation over more addresses is answered by the general path


def _rotations(answer: Answer) -> list[Answer]:
    """The answer at every step of its rotation, step 0 first (see Answer.variants).

    The steered RRset holds the addresses in the order of step `answer.rotation`; step j is the
    same list rotated by j - rotation. Only the steered RRset differs between the steps.
    """
    if answer.variants == 1 or answer.trim_index is None:
        return [answer]
    rrset = answer.answer[answer.trim_index]
    count = len(rrset.rdatas)
    steps = []
    for step in range(answer.variants):
        shift = (step - answer.rotation) % count
        rotated = rrset.with_rdatas(rrset.rdatas[shift:] + rrset.rdatas[:shift])
        records = list(answer.answer)
        records[answer.trim_index] = rotated
        steps.append(dataclasses.replace(answer, answer=records))
    return steps


class ServingState:
    """What queries read: the zone set, swapped whole on reload."""

    def __init__(self, zones: ZoneSet | None = None) -> None:
        self.zones = zones or ZoneSet()


class QueryHandler:
    def __init__(self, state: ServingState, responder: Responder, config: DnsConfig, cache: bool = True) -> None:
        """`cache`: replay replies by query bytes (see gslb.dns.cache); off only to compare paths."""
        self.state = state
        self.responder = responder
        self.max_udp_size = config.max_udp_size
        self.nsid = config.nsid.encode() if config.nsid else None
        self.stats = QueryStats()
        self.query_log: QueryLog | None = None  # set when log.queries.sample > 0
        self.cache: ResponseCache | None = ResponseCache() if cache else None

    def invalidate(self) -> None:
        """Zones or health changed: replies remembered so far may no longer be what the engine says."""
        if self.cache is not None:
            self.cache.clear()

    def handle(self, data: bytes, source: IPAddress, tcp: bool, limiter: RateLimiter | None = None) -> bytes | None:
        """The reply to send, or None for silence (or when `limiter`, given for UDP only, drops it)."""
        started = perf_counter()
        cache = self.cache
        version = None
        if cache is not None and self.query_log is None:
            hit = cache.lookup(data, tcp, source.packed)
            if hit is not None:
                return self._replay(hit[0], hit[1], data, source, tcp, limiter, started)
            version = cache.version
        try:
            reply, zone, qtype, ecs, pools = self._handle(data, source, tcp, limiter, version)
        except Exception:
            log.exception("internal error answering a query from %s", source)
            reply, zone, qtype, ecs, pools = self._servfail(data), "", 0, False, ()
        if reply is not None:
            stats = self.stats
            stats.count(zone, qtype, reply[3] & 0x0F, "tcp" if tcp else "udp", bool(reply[2] & 0x02), ecs,
                        perf_counter() - started)
            if pools:
                stats.count_steered(pools)
        return reply

    def _replay(
        self, entry: CachedReply, tail: bytes, data: bytes, source: IPAddress, tcp: bool,
        limiter: RateLimiter | None, started: float,
    ) -> bytes | None:
        """A reply from the cache: the new ID in front of the remembered bytes, counted as the general path would."""
        truncated = entry.truncated
        if limiter is not None and (verdict := limiter.check(source, entry.identity)) != SEND:
            if verdict == DROP or entry.slip is None:
                return None
            tail, truncated = entry.slip, True
        stats = self.stats
        stats.count(entry.zone, entry.qtype, entry.rcode, "tcp" if tcp else "udp", truncated, entry.ecs,
                    perf_counter() - started)
        if entry.steered:
            stats.count_steered(entry.steered)
        return data[:2] + tail

    def _handle(
        self, data: bytes, source: IPAddress, tcp: bool, limiter: RateLimiter | None, version: int | None
    ) -> Counted:
        """The reply, and for the counters: the zone, the query type, whether ECS was sent, the pools.

        With `version` (the cache's, read before answering) a reply that can be replayed is stored.
        """
        try:
            query = parse_query(data)
        except DropPacket:
            return None, "", 0, False, ()
        except QueryError as exc:
            opt = opt_for(exc.edns, self.max_udp_size, exc.rcode, self.nsid, 0)
            qtype = exc.question.qtype if exc.question is not None else 0
            if limiter is not None and (verdict := limiter.check(source, ERROR_IDENTITY)) != SEND:
                return limited_reply(exc.header, exc.question, exc.rcode, opt, verdict), "", qtype, False, ()
            return render_error(exc.header, exc.question, exc.rcode, opt), "", qtype, False, ()
        question = query.question
        edns = query.edns
        ecs = edns.ecs if edns is not None else None
        answer = self.responder.respond(self.state.zones, question.name, question.qtype, question.qclass,
                                        Client(source, ecs))
        if tcp:
            limit = TCP_LIMIT
        elif edns is None:
            limit = PLAIN_UDP_LIMIT
        else:
            limit = max(PLAIN_UDP_LIMIT, min(edns.payload, self.max_udp_size))
        with_scope = ecs is not None and ecs.source_prefix > 0
        opt = opt_for(edns, self.max_udp_size, answer.rcode, self.nsid, answer.scope if with_scope else 0)
        if self.query_log is not None:
            self.query_log.record(source, query, answer, answer.scope if with_scope else 0, tcp)
        identity = None
        if limiter is not None:  # rate limiting (UDP): decided before encoding, so a drop costs no encoding
            identity = response_identity(question, answer)
            verdict = limiter.check(source, identity)
            if verdict != SEND:
                reply = limited_reply(query.header, question, answer.rcode, opt, verdict)
                return reply, answer.zone, question.qtype, ecs is not None, answer.pools
        reply = render_answer(query.header, question, answer, limit, opt)
        if version is not None and 0 < answer.variants <= MAX_CACHED_VARIANTS and self.cache is not None:
            # The reply a rate limiter would slip instead (UDP only), ready for replays that get SLIP.
            slip = limited_reply(query.header, question, answer.rcode, opt, SLIP) if not tcp else None
            # Decided by the source address unless an ECS option with a prefix stood in for it.
            by_source = answer.by_client and not with_scope
            self.cache.store(
                data, tcp, source.packed if by_source else None,
                [render_answer(query.header, question, variant, limit, opt) for variant in _rotations(answer)],
                version, zone=answer.zone, qtype=question.qtype, rcode=reply[3] & 0x0F,
                truncated=bool(reply[2] & 0x02), ecs=ecs is not None, steered=answer.pools, identity=identity,
                slip=slip[2:] if slip else None,
            )
        return reply, answer.zone, question.qtype, ecs is not None, answer.pools

    @staticmethod
    def _servfail(data: bytes) -> bytes | None:
        try:
            header = parse_header(data)
        except DropPacket:
            return None
        return render_error(header, None, Rcode.SERVFAIL, None)
