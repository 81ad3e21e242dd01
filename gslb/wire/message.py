"""Parsing a query packet into what the answer depends on.

Only the header, the question and the OPT record matter to an authoritative answer, so the
parser reads those and skips everything else by length. It never trusts a length field
further than the packet reaches, never follows a compression pointer forward, and tells the
caller precisely how to react: drop the packet, answer with an error code, or answer.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from gslb.wire.constants import (
    EDNS_CO,
    EDNS_DO,
    FLAG_CD,
    FLAG_QR,
    FLAG_RD,
    HEADER_SIZE,
    OPCODE_MASK,
    OPCODE_SHIFT,
    OPTION_COOKIE,
    OPTION_ECS,
    OPTION_NSID,
    Rcode,
    RRType,
)
from gslb.wire.edns import COOKIE_LENGTHS, ClientSubnet, EcsFormatError, Edns, parse_client_subnet
from gslb.wire.name import BadNameError, Name


class QuestionTruncated(BadNameError):
    """The question's name parsed but its type and class are cut off."""


class DropPacket(Exception):
    """Not worth an answer: no complete header, or a response (QR=1)."""


class QueryError(Exception):
    """The header parsed but the query cannot be answered normally; reply with `rcode`.

    `question` and `edns` are set when they parsed, so the error reply can echo them.
    """

    def __init__(
        self,
        rcode: int,
        reason: str,
        header: Header,
        question: Question | None = None,
        edns: Edns | None = None,
    ) -> None:
        super().__init__(reason)
        self.rcode = rcode
        self.reason = reason
        self.header = header
        self.question = question
        self.edns = edns


class CookieOnlyQuery(Exception):
    """No question, but an OPT with a COOKIE option: the client asks for a server cookie alone
    (RFC 7873 section 5.4). A server without cookies answers it FORMERR, like any query without
    a question."""

    def __init__(self, header: Header, edns: Edns) -> None:
        super().__init__("a query for a server cookie")
        self.header = header
        self.edns = edns


@dataclass(frozen=True, slots=True)
class Header:
    id: int
    flags: int

    @property
    def opcode(self) -> int:
        return (self.flags & OPCODE_MASK) >> OPCODE_SHIFT

    @property
    def rd(self) -> bool:
        return bool(self.flags & FLAG_RD)

    @property
    def cd(self) -> bool:
        return bool(self.flags & FLAG_CD)


@dataclass(frozen=True, slots=True)
class Question:
    name: Name
    qtype: int
    qclass: int
    wire: bytes  # the question exactly as received, letter case included


@dataclass(frozen=True, slots=True)
class Query:
    header: Header
    question: Question
    edns: Edns | None


def read_name(data: bytes, offset: int, limit: int | None = None) -> tuple[Name, int]:
    """Decode a possibly compressed name; returns it and the offset just past it.

    Pointers may only point backwards, which both matches how names are laid out and
    makes loops impossible. `limit`: where the name must end by (a record's data ends there),
    instead of the end of `data`; since pointers go backwards, nothing past it is ever read.
    """
    size = len(data) if limit is None else min(limit, len(data))
    labels: list[bytes] = []
    end = -1
    pos = offset
    total = 1
    while True:
        if pos >= size:
            raise BadNameError("name runs past the end of the packet")
        length = data[pos]
        if length == 0:
            pos += 1
            break
        kind = length & 0xC0
        if kind == 0xC0:
            if pos + 1 >= size:
                raise BadNameError("truncated compression pointer")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if target >= pos:
                raise BadNameError("compression pointer that does not point backwards")
            if end < 0:
                end = pos + 2
            pos = target
            continue
        if kind:
            raise BadNameError(f"label type {kind:#x} is not supported")
        if pos + 1 + length > size:
            raise BadNameError("label runs past the end of the packet")
        total += length + 1
        if total > 255:
            raise BadNameError("name longer than 255 bytes")
        labels.append(data[pos + 1 : pos + 1 + length])
        pos += 1 + length
    return Name(tuple(labels)), (end if end >= 0 else pos)


def skip_name(data: bytes, offset: int) -> int:
    """Offset just past a name, without decoding it."""
    pos = offset
    while True:
        if pos >= len(data):
            raise BadNameError("name runs past the end of the packet")
        length = data[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            if pos + 2 > len(data):
                raise BadNameError("truncated compression pointer")
            return pos + 2
        if length & 0xC0:
            raise BadNameError(f"label type {length & 0xC0:#x} is not supported")
        pos += 1 + length


def parse_header(data: bytes) -> Header:
    if len(data) < HEADER_SIZE:
        raise DropPacket("shorter than a DNS header")
    header = Header(int.from_bytes(data[0:2], "big"), int.from_bytes(data[2:4], "big"))
    if header.flags & FLAG_QR:
        raise DropPacket("a response, not a query")
    return header


def parse_query(data: bytes) -> Query:
    """Parse a query; raises DropPacket or QueryError (see their docstrings)."""
    header = parse_header(data)
    qdcount, ancount, nscount, arcount = (
        int.from_bytes(data[i : i + 2], "big") for i in range(4, 12, 2)
    )
    if header.opcode != 0:
        # Checked before the counts, so a header-only packet gets NOTIMP too, as from BIND and Knot;
        # the question is echoed when there is exactly one and it parses.
        question = None
        if qdcount == 1:
            with contextlib.suppress(BadNameError):
                question = read_question(data)[0]
        raise QueryError(Rcode.NOTIMP, f"opcode {header.opcode}", header, question)
    if qdcount != 1:
        if qdcount == 0:
            _cookie_only(data, ancount + nscount, arcount, header)
        raise QueryError(Rcode.FORMERR, f"{qdcount} questions (exactly 1 allowed)", header)
    try:
        question, pos = read_question(data)
    except BadNameError as exc:
        raise QueryError(Rcode.FORMERR, f"question: {exc}", header) from None
    try:
        edns = _parse_records(data, pos, ancount + nscount, arcount, header, question)
    except BadNameError as exc:
        raise QueryError(Rcode.FORMERR, f"record name: {exc}", header, question) from None
    return Query(header, question, edns)


def read_question(data: bytes) -> tuple[Question, int]:
    """The question after the header and the offset just past it (an UPDATE's zone section has
    the same shape); raises BadNameError, or QuestionTruncated when the name is all there is."""
    name, pos = read_name(data, HEADER_SIZE)
    if pos + 4 > len(data):
        raise QuestionTruncated("question truncated")
    qtype = int.from_bytes(data[pos : pos + 2], "big")
    qclass = int.from_bytes(data[pos + 2 : pos + 4], "big")
    return Question(name, qtype, qclass, bytes(data[HEADER_SIZE : pos + 4])), pos + 4


def _cookie_only(data: bytes, skip: int, arcount: int, header: Header) -> None:
    """Raise CookieOnlyQuery when a query without a question holds a COOKIE option (or QueryError
    when its records are broken); return when it holds none."""
    try:
        edns = _parse_records(data, HEADER_SIZE, skip, arcount, header, None)
    except BadNameError as exc:
        raise QueryError(Rcode.FORMERR, f"record name: {exc}", header) from None
    if edns is not None and edns.cookie is not None:
        raise CookieOnlyQuery(header, edns)


def _parse_records(
    data: bytes, pos: int, skip: int, arcount: int, header: Header, question: Question | None
) -> Edns | None:
    """Skip answer and authority records, then find the OPT record among the additional ones."""
    edns: Edns | None = None
    for index in range(skip + arcount):
        name_start = pos
        pos = skip_name(data, pos)
        if pos + 10 > len(data):
            raise QueryError(Rcode.FORMERR, "record truncated", header, question, edns)
        rtype = int.from_bytes(data[pos : pos + 2], "big")
        rdlength = int.from_bytes(data[pos + 8 : pos + 10], "big")
        rdata_start = pos + 10
        pos = rdata_start + rdlength
        if pos > len(data):
            raise QueryError(Rcode.FORMERR, "record data truncated", header, question, edns)
        if rtype != RRType.OPT:
            continue
        if index < skip:
            raise QueryError(Rcode.FORMERR, "OPT outside the additional section", header, question)
        if edns is not None:
            raise QueryError(Rcode.FORMERR, "two OPT records", header, question, edns)
        if data[name_start] != 0:
            raise QueryError(Rcode.FORMERR, "OPT with a name other than the root", header, question)
        edns = _parse_opt(data, rdata_start - 10, rdata_start, pos, header, question)
    return edns


def _parse_opt(
    data: bytes, fixed: int, start: int, end: int, header: Header, question: Question | None
) -> Edns:
    payload = int.from_bytes(data[fixed + 2 : fixed + 4], "big")
    version = data[fixed + 5]
    do = bool(int.from_bytes(data[fixed + 6 : fixed + 8], "big") & EDNS_DO)
    co = bool(data[fixed + 6] & (EDNS_CO >> 8))
    nsid = False
    ecs: ClientSubnet | None = None
    ecs_error: str | None = None
    cookie: bytes | None = None
    cookie_error: str | None = None
    pos = start
    while pos < end:
        if pos + 4 > end:
            raise QueryError(Rcode.FORMERR, "EDNS option truncated", header, question,
                             Edns(payload, version, do, False, None))
        code = int.from_bytes(data[pos : pos + 2], "big")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        value = data[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if len(value) != length:
            raise QueryError(Rcode.FORMERR, "EDNS option truncated", header, question,
                             Edns(payload, version, do, False, None))
        if code == OPTION_NSID:
            nsid = True
        elif code == OPTION_ECS:
            if ecs is not None or ecs_error is not None:
                ecs_error = "two ECS options"
                continue
            try:
                ecs = parse_client_subnet(value)
            except EcsFormatError as exc:
                ecs_error = str(exc)
        elif code == OPTION_COOKIE and cookie is None and cookie_error is None:  # the first one counts
            if length in COOKIE_LENGTHS:
                cookie = bytes(value)
            else:
                cookie_error = f"COOKIE option of {length} bytes (8, or 16 to 40)"
    edns = Edns(payload, version, do, nsid, ecs, cookie, co)
    if version != 0:
        raise QueryError(Rcode.BADVERS, f"EDNS version {version}", header, question,
                         Edns(payload, version, do, nsid, None))
    if ecs_error is not None or cookie_error is not None:  # RFC 7871 section 7.1.1, RFC 7873 section 5.2.2
        raise QueryError(Rcode.FORMERR, ecs_error or cookie_error or "", header, question,
                         Edns(payload, version, do, nsid, None))
    return edns
