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
from typing import Any

from gslb.dns.compiled.entries import Ready, Steered, ready_from
from gslb.dns.compiled.scan import Scanned, scan_query
from gslb.dns.ratelimit import SEND, SLIP, RateLimiter
from gslb.engine.answer import Answer
from gslb.steering.engine import SteeringEngine
from gslb.steering.select import client_bucket
from gslb.wire.constants import PLAIN_UDP_LIMIT, TCP_LIMIT
from gslb.wire.message import Question
from gslb.zones.zoneset import ZoneSet

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Counted = tuple[bytes | None, str, int, bool, tuple[tuple[str, str, str, str], ...]]

NAMES_LIMIT = 100_000  # (name, type) entries, static and steered
CLIENTS_LIMIT = 200_000  # client subnets remembered with their decision, per service
ANSWERS_LIMIT = 10_000  # ready answers per steered name (decisions in use)
QUERY_FLAGS = 0x7910  # opcode, RD and CD: copied from the query into the reply
FLAG_TC = 0x0200


class CompiledPath:
    def __init__(self, steering: SteeringEngine, max_udp_size: int, nsid: bytes | None) -> None:
        self.steering = steering
        self.max_udp_size = max_udp_size
        self._opt_head = b"\x00\x00\x29" + max_udp_size.to_bytes(2, "big") + b"\x00\x00"
        self._nsid_option = (b"\x00\x03" + len(nsid).to_bytes(2, "big") + nsid) if nsid else b""
        self.names: dict[bytes, Ready | Steered] = {}
        # Per (zone, service): client subnet (the ECS option's data, or the source address) ->
        # (decision epoch, health generation or -1, answer key, ECS scope).
        self.clients: dict[tuple[str, str], dict[bytes, tuple[int, int, tuple, int]]] = {}
        self.answered = 0  # queries answered here (the rest went to the general path)

    def clear(self) -> None:
        """New zones: everything filed so far belongs to the old ones."""
        self.names = {}
        self.clients = {}

    # -- answering ------------------------------------------------------------------------

    def answer(
        self, data: bytes, source: IPAddress, tcp: bool, limiter: RateLimiter | None
    ) -> Counted | Scanned | None:
        """The reply and its counters; else the scan (for `learn`), or None for an unusual query."""
        found = scan_query(data)
        if found is None:
            return None
        entry = self.names.get(found.key)
        if entry is None:
            return found
        scope = 0
        if type(entry) is Steered:
            steered = self._steered(entry, found, source)
            if steered is None:
                return found
            ready, scope = steered
        else:
            ready = entry
        if not tcp:
            limit = PLAIN_UDP_LIMIT if not found.edns else max(PLAIN_UDP_LIMIT, min(found.payload, self.max_udp_size))
        else:
            limit = TCP_LIMIT
        question = data[12:found.question_end]
        opt = self._opt(found, scope) if found.edns else b""
        if 12 + len(question) + ready.size + len(opt) > limit:
            return found  # the general path fits it (or truncates)
        sections = ready.sections
        step = self.steering.next_rotation() if ready.rotates else 0
        qflags = ((data[2] << 8) | data[3]) & QUERY_FLAGS
        if limiter is not None and (verdict := limiter.check(source, ready.identity)) != SEND:
            if verdict != SLIP:
                return None, ready.zone, found.qtype, found.ecs is not None, ready.counted
            flags = FLAG_TC | 0x8000 | qflags | ready.rcode
            counts = b"\x00\x00\x00\x00\x00\x01" if opt else b"\x00\x00\x00\x00\x00\x00"
            reply = data[:2] + flags.to_bytes(2, "big") + b"\x00\x01" + counts + question + opt
            return reply, ready.zone, found.qtype, found.ecs is not None, ready.counted
        self.answered += 1
        body = sections[step % len(sections)] if len(sections) > 1 else sections[0]
        head = data[:2] + (ready.flags | qflags).to_bytes(2, "big") + b"\x00\x01"
        reply = head + (ready.counts_opt if opt else ready.counts) + question + body + opt
        return reply, ready.zone, found.qtype, found.ecs is not None, ready.counted

    def _steered(self, entry: Steered, found: Scanned, source: IPAddress) -> tuple[Ready, int] | None:
        """The ready answer for this client and its scope, or None when the general path must answer."""
        steering = self.steering
        scope = 0
        key: tuple = ()
        if entry.profile.by_client:
            decided = self._decision(entry, found, source)
            key, scope = decided[2], decided[3]
        ready = entry.answers.get(key)
        if ready is None or ready.generation != steering.health.generation or not ready.sections:
            return None
        return ready, scope

    def _decision(self, entry: Steered, found: Scanned, source: IPAddress) -> tuple[int, int, tuple, int]:
        """What decides this client's answer in the entry's service, remembered per client subnet."""
        steering = self.steering
        by_ecs = found.ecs is not None and found.ecs_source > 0
        subnet = found.ecs if by_ecs else source.packed
        table = self.clients.get((entry.zone.origin.text, entry.service.name))
        if table is None:
            table = self.clients[(entry.zone.origin.text, entry.service.name)] = {}
        generation = steering.health.generation if entry.profile.by_load else -1
        known = table.get(subnet)  # type: ignore[arg-type]
        if known is not None and known[0] == steering.decision_epoch and known[1] == generation:
            return known
        address = _ecs_address(found.ecs) if by_ecs else source  # type: ignore[arg-type]
        decision, scope = steering.client_decision(entry.zone, entry.service, address, by_ecs)
        key = (decision, client_bucket(address)) if entry.profile.sticky else decision
        if len(table) >= CLIENTS_LIMIT:
            table.clear()
        known = table[subnet] = (steering.decision_epoch, generation, key, scope)  # type: ignore[index]
        return known

    def _opt(self, found: Scanned, scope: int) -> bytes:
        """Our OPT for this query: payload, DO echoed, NSID when asked, ECS echoed with the scope."""
        options = self._nsid_option if found.nsid else b""
        ecs = found.ecs
        if ecs is not None:
            scope = scope if found.ecs_source else 0
            options += b"\x00\x08" + len(ecs).to_bytes(2, "big") + ecs[:3] + bytes((scope,)) + ecs[4:]
        return self._opt_head + (b"\x80\x00" if found.do else b"\x00\x00") + len(options).to_bytes(2, "big") + options

    # -- learning from the general path ----------------------------------------------------

    def learn(self, found: Scanned, zones: ZoneSet, question: Question, answer: Answer, source: IPAddress) -> None:
        """File what the general path just answered, when the same bytes can answer others too.

        Static answers (no steering, no client in them) are filed under the name and type. A name
        steered directly (no CNAME before it) gets an entry that files answers per decision; the
        answer just given is filed under this client's decision. Anything else stays with the
        general path.
        """
        steered = answer.steered
        if steered is None:
            if answer.variants == 1 and not answer.by_client:
                self._file(found.key, ready_from(answer, question))
            return
        if answer.trim_index not in (0, None) or len(answer.answer) > 1 or answer.additional:
            return  # a CNAME chain before the steered name, or glue: unusual, left general
        entry = self.names.get(found.key)
        if type(entry) is not Steered:
            zone = zones.find(question.name)
            if zone is None or zone.policy is None:
                return
            service = zone.policy.services[steered.service]
            entry = Steered(zone, service, zone.policy.profiles[service.name])
            if not self._file(found.key, entry):
                return
        key: tuple = self._decision(entry, found, source)[2] if entry.profile.by_client else ()
        ready = ready_from(answer, question, self.steering.health.generation)
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
