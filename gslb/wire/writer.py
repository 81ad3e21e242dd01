"""Writing replies: header, the question as received, records with name compression, OPT.

The pieces every reply is made of, whatever produced its records: `Writer` appends records and
compresses names against what it already wrote, `render_error` makes a reply without records
(errors, and the empty TC=1 reply), `build_opt` our OPT record.
"""

from __future__ import annotations

import struct

from gslb.wire.constants import (
    EDNS_CO,
    EDNS_DO,
    FLAG_AA,
    FLAG_CD,
    FLAG_QR,
    FLAG_RD,
    FLAG_TC,
    OPCODE_MASK,
    OPTION_COOKIE,
    OPTION_NSID,
    RRType,
)
from gslb.wire.edns import ClientSubnet, Edns
from gslb.wire.message import Header, Question
from gslb.wire.name import Name
from gslb.wire.records import RRset

_HEADER = struct.Struct("!HHHHHH")
RR_FIXED = struct.Struct("!HHIH")
MAX_POINTER = 0x3FFF


class Writer:
    """Appends to one bytearray, remembering where name suffixes were written."""

    __slots__ = ("buf", "offsets")

    def __init__(self, question: Question | None) -> None:
        self.buf = bytearray(12)
        self.offsets: dict[bytes, int] = {}
        if question is not None:
            self.buf += question.wire
            self._remember(question.name, 12)

    def _remember(self, name: Name, start: int) -> None:
        wire = name.wire
        pos = 0
        while wire[pos] and start + pos <= MAX_POINTER:
            self.offsets.setdefault(wire[pos:], start + pos)
            pos += wire[pos] + 1

    def name(self, name: Name) -> None:
        wire = name.wire
        offsets = self.offsets
        pos = 0
        start = len(self.buf)
        while wire[pos]:
            pointer = offsets.get(wire[pos:])
            if pointer is not None:
                self.buf += wire[:pos]
                self.buf += struct.pack("!H", 0xC000 | pointer)
                break
            pos += wire[pos] + 1
        else:
            self.buf += wire
        self._remember(name, start)

    def rrset(self, rrset: RRset, count: int | None = None) -> int:
        rdatas = rrset.rdatas if count is None else rrset.rdatas[:count]
        for rdata in rdatas:
            self.name(rrset.name)
            fixed_at = len(self.buf)
            self.buf += RR_FIXED.pack(rrset.rtype, rrset.rclass, rrset.ttl, 0)
            for part in rdata.parts:
                if isinstance(part, Name):
                    self.name(part)
                else:
                    self.buf += part
            rdlength = len(self.buf) - fixed_at - 10
            self.buf[fixed_at + 8 : fixed_at + 10] = rdlength.to_bytes(2, "big")
        return len(rdatas)


def response_flags(header: Header, rcode: int, authoritative: bool, truncated: bool = False) -> int:
    """QR set, opcode/RD/CD copied from the query, RA never set (we do not recurse)."""
    flags = FLAG_QR | (header.flags & (OPCODE_MASK | FLAG_RD | FLAG_CD)) | (rcode & 0xF)
    if authoritative:
        flags |= FLAG_AA
    if truncated:
        flags |= FLAG_TC
    return flags


def build_opt(payload: int, rcode: int, do: bool, nsid: bytes | None, ecs: ClientSubnet | None, scope: int,
              cookie: bytes | None = None, co: bool = False) -> bytes:
    """Our OPT record: payload size, extended rcode bits, DO and CO echoed, NSID, ECS and COOKIE options."""
    options = b""
    if nsid is not None:
        options += struct.pack("!HH", OPTION_NSID, len(nsid)) + nsid
    if ecs is not None:
        options += ecs.encode(scope)
    if cookie is not None:
        options += struct.pack("!HH", OPTION_COOKIE, len(cookie)) + cookie
    ttl = ((rcode >> 4) << 24) | (EDNS_DO if do else 0) | (EDNS_CO if co else 0)
    return b"\x00" + RR_FIXED.pack(RRType.OPT, payload, ttl, len(options)) + options


def finish(
    writer: Writer, header: Header, flags: int, counts: tuple[int, int, int], opt: bytes | None, qdcount: int = 1
) -> bytes:
    writer.buf[0:12] = _HEADER.pack(header.id, flags, qdcount, counts[0], counts[1], counts[2] + (opt is not None))
    if opt is not None:
        writer.buf += opt
    return bytes(writer.buf)


def render_error(
    header: Header, question: Question | None, rcode: int, opt: bytes | None, authoritative: bool = False,
    truncated: bool = False,
) -> bytes:
    """A reply with no records: errors, and the empty TC=1 reply (size limit, rate-limit slip)."""
    flags = response_flags(header, rcode, authoritative, truncated)
    return finish(Writer(question), header, flags, (0, 0, 0), opt, 1 if question else 0)


def opt_for(edns: Edns | None, payload: int, rcode: int, nsid: bytes | None, scope: int,
            cookie: bytes | None = None) -> bytes | None:
    """The OPT to send back: only when the query had one (RFC 6891 section 7); `cookie`: our COOKIE option's data."""
    if edns is None:
        return None
    return build_opt(payload, rcode, edns.do, nsid if edns.nsid else None, edns.ecs, scope, cookie, edns.co)
