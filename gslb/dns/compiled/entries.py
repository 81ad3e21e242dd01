"""Answers kept ready to send: the record sections of a reply, encoded once.

An entry holds the bytes that follow the question (answer, authority and additional records,
names compressed against the question at offset 12) and the header fields that go with them.
Compression only points at suffixes of the question name, whose offsets do not depend on the
letter case a client used, so the same bytes serve every spelling of the name.

A steered name keeps one `Ready` per decision: a rotating answer keeps each step of its rotation.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from gslb.dns.ratelimit import Identity, response_identity
from gslb.dns.render import render_answer
from gslb.engine.answer import Answer
from gslb.wire.constants import FLAG_AA, FLAG_QR, FLAG_TC, TCP_LIMIT
from gslb.wire.message import Header, Question
from gslb.zones.model import Zone
from gslb.zones.policy_model import Service, ServiceProfile

HEADER = Header(0, 0)


@dataclass(slots=True)
class Ready:
    """The sections of one answer (one per rotation step), ready to follow any spelling of the question."""

    sections: tuple[bytes, ...]  # one per rotation step; empty: not to be compiled (chance decides)
    counts: bytes  # QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT without our OPT
    counts_opt: bytes  # the same with ARCOUNT + 1 for our OPT
    flags: int  # QR, AA and RCODE; the query's opcode, RD and CD are added per reply
    rcode: int
    zone: str
    identity: Identity  # what rate limiting charges it to
    counted: tuple[tuple[str, str, str, str], ...] = ()  # what the steering counters bump (Steered.counted)
    rotates: bool = False  # a steered answer: each one takes a step of the round-robin order
    generation: int = 0  # the health view it was computed under (steered answers)
    size: int = 0  # bytes of the sections (every rotation step has the same)
    expires: float | None = None  # when a signature or key set in it is due to change (UNIX time); None: never


@dataclass(slots=True)
class Steered:
    """A name answered by a service: ready answers per decision, decisions per client."""

    zone: Zone
    service: Service
    profile: ServiceProfile
    # client subnet (the ECS option's data, or the source address) -> (decision epoch, health
    # generation or -1, answer key, the ECS option to echo); shared by the names of one service
    clients: dict[bytes, tuple[int, int, tuple, bytes]]
    answers: dict[tuple, Ready] = field(default_factory=dict)


def ready_from(answer: Answer, question: Question, generation: int = 0, identity: Identity | None = None
               ) -> Ready | None:
    """The answer's sections, every rotation step encoded; None when it cannot be kept.

    It cannot be kept when chance decided it (a weighted pick, a sample of addresses), or when
    it does not fit a TCP message, so it would go out truncated. `identity`: what rate limiting
    charges it to, when that is not what the answer shows (a signed answer).
    """
    if identity is None:
        identity = response_identity(question, answer)
    if answer.variants == 0:
        return Ready((), b"", b"", 0, answer.rcode, answer.zone, identity, answer.counted, generation=generation)
    replies = [render_answer(HEADER, question, step, TCP_LIMIT, None) for step in _rotations(answer)]
    if replies[0][2] & (FLAG_TC >> 8):
        return None
    start = 12 + len(question.wire)
    counts = replies[0][4:12]  # QDCOUNT (1) and the record counts
    ar = int.from_bytes(counts[6:8], "big") + 1
    flags = FLAG_QR | (FLAG_AA if answer.authoritative else 0) | (answer.rcode & 0xF)
    return Ready(
        tuple(reply[start:] for reply in replies), counts, counts[:6] + ar.to_bytes(2, "big"), flags,
        answer.rcode, answer.zone, identity, answer.counted,
        rotates=answer.steered is not None and not answer.steered.servfail, generation=generation,
        size=len(replies[0]) - start, expires=_expires(answer),
    )


def _expires(answer: Answer) -> float | None:
    """When a DNSSEC answer stops being right (a signature's renewal, a key's timing); None: never."""
    expires = getattr(answer, "expires", math.inf)
    return None if expires == math.inf else expires


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
        records = list(answer.answer)
        records[answer.trim_index] = rrset.with_rdatas(rrset.rdatas[shift:] + rrset.rdatas[:shift])
        steps.append(dataclasses.replace(answer, answer=records))
    return steps
