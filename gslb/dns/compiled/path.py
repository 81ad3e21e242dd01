"""The compiled path: an ordinary query answered from ready bytes, with no objects built per query.

Per query: scan the few bytes that matter (`scan.py`), find what is filed under the lower-cased
name and type, and join the reply from the query's own header fields and question, the ready
sections and an OPT record made for this query (payload, DO, NSID, the ECS option with its
scope). Anything it has not seen or does not handle goes to the general path, which answers it
and files what can be reused (`learn`).

Steered names are answered per decision, not per client: each client is reduced to what decides
its answer (`SteeringEngine.client_decision`: the decision key and the ECS scope), remembered per
client subnet as the query states it, and answers are filed per decision key and health view.
So a new health view costs one general-path answer per decision in use, not one per client, and
millions of client subnets share a handful of ready answers. Every table has a size limit and
starts over when full, so memory stays bounded whatever the traffic.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from time import time
from typing import Any

from gslb.dns.compiled.entries import Ready, Steered, ready_from
from gslb.dns.compiled.scan import ECS, ECS_SOURCE, KEY, Scanned, scan_query
from gslb.dns.cookies import CLIENT_COOKIE, SERVER_COOKIE, ServerCookies
from gslb.dns.ratelimit import SEND, SLIP, Identity, RateLimiter
from gslb.dnssec.secure import SignedAnswer
from gslb.engine.answer import Answer
from gslb.steering.engine import SteeringEngine
from gslb.steering.select import client_bucket
from gslb.wire.constants import PLAIN_UDP_LIMIT, TCP_LIMIT
from gslb.wire.message import Question
from gslb.zones.zoneset import ZoneSet

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Counted = tuple[bytes | None, str, int, bool, tuple[tuple[str, str, str, str], ...]]

NAMES_LIMIT = 100_000  # (name, type) entries, static and steered
CLIENTS_LIMIT = 200_000  # client subnets remembered with their decision, all services together
ANSWERS_LIMIT = 10_000  # ready answers per steered name (decisions in use)
QUERY_FLAGS = 0x7910  # opcode, RD and CD: copied from the query into the reply
FLAG_TC = 0x0200
ECS_CODE = b"\x00\x08"
OPT_SIZE = 11  # the OPT record without options: root name, type, class, TTL, length
# Our COOKIE option: the client cookie and a server cookie of ours, whether it was valid or made anew.
COOKIE_OPTION_HEAD = b"\x00\x0a" + (CLIENT_COOKIE + SERVER_COOKIE).to_bytes(2, "big")
COOKIE_OPTION_SIZE = len(COOKIE_OPTION_HEAD) + CLIENT_COOKIE + SERVER_COOKIE
BADCOOKIE_LOW, BADCOOKIE_HIGH = 23 & 0xF, bytes((23 >> 4,))  # the rcode's header bits and OPT byte
EDNS_FLAGS = (b"\x00\x00", b"\x40\x00", b"\x80\x00", b"\xc0\x00")  # the flags we send, by DO and CO >> 6: echoed


class CompiledPath:
    def __init__(self, steering: SteeringEngine, max_udp_size: int, nsid: bytes | None,
                 cookies: ServerCookies | None = None, clock: Callable[[], float] = time) -> None:
        """`clock`: the signer's, which says when a signed answer is due for renewal."""
        self.steering = steering
        self._now = clock
        self.max_udp_size = max_udp_size
        self.cookies = cookies
        self._opt_head = b"\x00\x00\x29" + max_udp_size.to_bytes(2, "big") + b"\x00\x00"  # OPT up to its flags
        self._nsid_option = (b"\x00\x03" + len(nsid).to_bytes(2, "big") + nsid) if nsid else b""
        self.names: dict[bytes, Ready | Steered] = {}
        # Per (zone, service): what decides each client's answer (see Steered.clients).
        self.clients: dict[tuple[str, str], dict[bytes, tuple[int, int, tuple, bytes]]] = {}
        self.answered = 0  # queries answered here (the rest went to the general path)
        self._remembered = 0  # client subnets in all the tables of `clients`
        self.missed: Scanned | None = None  # the last query's scan, when `answer` left it to the general path
        self._rotate = steering.next_rotation  # the shared round-robin counter's next step

    def clear(self) -> None:
        """New zones: everything filed so far belongs to the old ones."""
        self.names = {}
        self.clients = {}
        self._remembered = 0

    # -- answering ------------------------------------------------------------------------

    def answer(self, data: bytes, source: IPAddress, tcp: bool, limiter: RateLimiter | None) -> Counted | None:
        """The reply and its counters, or None for the general path.

        On None, `missed` holds the scan when the query was an ordinary one (the general path
        then files what it answers with it), and None when it was not.
        """
        found = self.missed = scan_query(data)
        if found is None:
            return None
        key, qtype, question_end, edns, payload, do, nsid, ecs, ecs_source, cookie = found
        entry = self.names.get(key)
        if entry is None:
            return None
        if type(entry) is Steered:
            ready, ecs_option = self._steered(entry, ecs, ecs_source, source)
            if ready is None:
                return None
        else:
            ready, ecs_option = entry, None
        if ecs_option is None:  # nothing the subnet decides: scope 0, so the option goes back exactly as it came
            ecs_option = ECS_CODE + len(ecs).to_bytes(2, "big") + ecs if ecs is not None else b""
        if ready.expires is not None and ready.expires <= self._now():
            return None  # a signature in it is due for renewal, or a key changes: the general path answers anew
        proven = False  # a valid server cookie: the source is not spoofed, so it is not rate limited
        if edns:
            options = self._nsid_option + ecs_option if nsid else ecs_option
            if cookie is not None and self.cookies is None:
                cookie = None
            limit = TCP_LIMIT if tcp else max(PLAIN_UDP_LIMIT, min(payload, self.max_udp_size))
            size = question_end + ready.size + OPT_SIZE + len(options)
            if size + (COOKIE_OPTION_SIZE if cookie is not None else 0) > limit:
                return None  # the general path fits it (or truncates it)
            if cookie is not None:  # checked only now: a query left to the general path is checked there
                proven, cookie = self.cookies.answer(cookie, source)  # type: ignore[union-attr]
                options += COOKIE_OPTION_HEAD + cookie
            opt = self._opt_head + EDNS_FLAGS[do >> 6] + len(options).to_bytes(2, "big") + options
        else:
            opt = b""
            if question_end + ready.size > (TCP_LIMIT if tcp else PLAIN_UDP_LIMIT):
                return None
        step = self._rotate() if ready.rotates else 0
        qflags = ((data[2] << 8) | data[3]) & QUERY_FLAGS
        if limiter is not None and not proven and (verdict := limiter.check(source, ready.identity)) != SEND:
            self.missed = None  # answered here: nothing is left for the general path
            if verdict != SLIP:
                return None, ready.zone, qtype, ecs is not None, ready.counted
            if cookie is not None:  # BADCOOKIE with a fresh cookie instead of TC=1 (see QueryHandler._limited)
                flags = 0x8000 | qflags | BADCOOKIE_LOW
                opt = opt[:5] + BADCOOKIE_HIGH + opt[6:]
            else:
                flags = FLAG_TC | 0x8000 | qflags | ready.rcode
            counts = b"\x00\x00\x00\x00\x00\x01" if opt else b"\x00\x00\x00\x00\x00\x00"
            reply = data[:2] + flags.to_bytes(2, "big") + b"\x00\x01" + counts + data[12:question_end] + opt
            return reply, ready.zone, qtype, ecs is not None, ready.counted
        self.answered += 1
        sections = ready.sections
        body = sections[step % len(sections)] if len(sections) > 1 else sections[0]
        reply = (data[:2] + (ready.flags | qflags).to_bytes(2, "big") + (ready.counts_opt if opt else ready.counts)
                 + data[12:question_end] + body + opt)
        return reply, ready.zone, qtype, ecs is not None, ready.counted

    def _steered(
        self, entry: Steered, ecs: bytes | None, ecs_source: int, source: IPAddress
    ) -> tuple[Ready | None, bytes | None]:
        """The ready answer for this client (None: the general path) and the ECS option with the
        scope of this client's subnet (None: echo the query's option as it came)."""
        key: tuple = ()
        echo = None
        if entry.profile.by_client:
            _, _, key, echo = self._decision(entry, ecs, ecs_source, source)
        ready = entry.answers.get(key)
        if ready is None or ready.generation != self.steering.health.generation or not ready.sections:
            return None, None
        return ready, echo or None  # b"": the subnet came from the source address, not from ECS

    def _decision(
        self, entry: Steered, ecs: bytes | None, ecs_source: int, source: IPAddress
    ) -> tuple[int, int, tuple, bytes]:
        """What decides this client's answer, and (for a subnet from ECS) the option to echo with
        its scope, remembered per client subnet as the query states it."""
        steering = self.steering
        by_ecs = ecs is not None and ecs_source > 0
        subnet = ecs if by_ecs else source.packed
        table = entry.clients
        generation = steering.health.generation if entry.profile.by_load else -1
        known = table.get(subnet)  # type: ignore[arg-type]
        if known is not None and known[0] == steering.decision_epoch and known[1] == generation:
            return known
        address = _ecs_address(ecs) if by_ecs else source  # type: ignore[arg-type]
        decision, scope = steering.client_decision(entry.zone, entry.service, address, by_ecs)
        key = (decision, client_bucket(address)) if entry.profile.sticky else decision
        # The option as sent with our scope; kept only under the subnet that the option states.
        echo = ECS_CODE + len(ecs).to_bytes(2, "big") + ecs[:3] + bytes((scope,)) + ecs[4:] if by_ecs else b""
        if known is None:
            self._remembered += 1
            if self._remembered > CLIENTS_LIMIT:  # start over: memory stays bounded however many subnets ask
                for each in self.clients.values():
                    each.clear()
                self._remembered = 1
        known = table[subnet] = (steering.decision_epoch, generation, key, echo)  # type: ignore[index]
        return known

    # -- learning from the general path ----------------------------------------------------

    def learn(self, found: Scanned, zones: ZoneSet, question: Question, answer: Answer, source: IPAddress,
              identity: Identity | None = None) -> None:
        """File what the general path just answered, when the same bytes can answer others too.

        Static answers (no steering, no client in them) are filed under the name and type. A name
        steered directly (no CNAME before it) gets an entry that files answers per decision; the
        answer just given is filed under this client's decision. Anything else stays with the
        general path. `identity`: what rate limiting charges the answer to, when the answer as
        sent (signed) no longer shows it.
        """
        steered = answer.steered
        if steered is None:
            if answer.variants == 1 and not answer.by_client:
                self._file(found[KEY], ready_from(answer, question, identity=identity))
            return
        alone = 2 if isinstance(answer, SignedAnswer) else 1  # the steered RRset (and its RRSIG)
        if answer.trim_index not in (0, None) or len(answer.answer) > alone or answer.additional:
            return  # a CNAME chain before the steered name, or glue: unusual, left general
        entry = self.names.get(found[KEY])
        if type(entry) is not Steered:
            zone = zones.find(question.name)
            if zone is None or zone.policy is None:
                return
            service = zone.policy.services[steered.service]
            clients = self.clients.setdefault((zone.origin.text, service.name), {})
            entry = Steered(zone, service, zone.policy.profiles[service.name], clients)
            if not self._file(found[KEY], entry):
                return
        by_client = entry.profile.by_client
        key: tuple = self._decision(entry, found[ECS], found[ECS_SOURCE], source)[2] if by_client else ()
        ready = ready_from(answer, question, self.steering.health.generation, identity)
        if ready is not None:
            if len(entry.answers) >= ANSWERS_LIMIT:
                entry.answers.clear()
            entry.answers[key] = ready

    def _file(self, key: bytes, entry: Any) -> bool:
        if entry is None:
            return False
        if len(self.names) >= NAMES_LIMIT:
            self.names.clear()
        self.names[key] = entry
        return True


def _ecs_address(ecs: bytes) -> IPAddress:
    """The ECS address, zero-filled to its family's length."""
    if ecs[1] == 1:
        return ipaddress.IPv4Address(ecs[4:].ljust(4, b"\x00"))
    return ipaddress.IPv6Address(ecs[4:].ljust(16, b"\x00"))
