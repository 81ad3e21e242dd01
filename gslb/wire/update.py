"""Parsing an UPDATE message (RFC 2136 section 2) and writing its reply.

Unlike a query, every record of an UPDATE matters: the zone section names the zone, the
prerequisite and update sections hold records whose data is compared and stored, and a TSIG
record at the very end of the additional section signs all of it (RFC 8945). The parser reads
every section, checks each record's shape, and remembers where the TSIG record starts, since
its MAC covers the bytes before it. Any structural fault raises `UpdateFormatError`: the reply
is FORMERR, and nothing is looked at further.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from gslb.wire.constants import FLAG_QR, OPCODE_MASK, RRClass, RRType
from gslb.wire.message import Header, Question, QuestionTruncated, parse_header, read_name, read_question
from gslb.wire.name import BadNameError, Name
from gslb.wire.rdata_wire import DECODERS, RdataFormatError, decode_rdata
from gslb.wire.records import Rdata
from gslb.wire.writer import RR_FIXED, Writer, build_opt, finish

_COUNTS = struct.Struct("!HHHH")
REPLY_PAYLOAD = 1232  # the UDP payload size our OPT offers


class UpdateFormatError(Exception):
    """The message is not a well-formed UPDATE: answer FORMERR, unsigned, and change nothing.

    `zone` is set when the zone section parsed, so the reply can echo it.
    """

    def __init__(self, reason: str, header: Header, zone: ZoneSection | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.header = header
        self.zone = zone


@dataclass(frozen=True, slots=True)
class ZoneSection:
    """The zone section: a question in shape (RFC 2136 section 2.3), echoed in the reply as received."""

    question: Question

    @property
    def name(self) -> Name:
        return self.question.name

    @property
    def ztype(self) -> int:
        return self.question.qtype

    @property
    def zclass(self) -> int:
        return self.question.qclass


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    """One record of the prerequisite or update section; `rdata` is None when it has no data."""

    name: Name
    rtype: int
    rclass: int
    ttl: int
    rdata: Rdata | None


@dataclass(frozen=True, slots=True)
class TsigRecord:
    """The TSIG record (RFC 8945 section 4.2) and where it starts in the message."""

    key: Name
    algorithm: Name
    time_signed: int
    fudge: int
    mac: bytes
    original_id: int
    error: int
    other: bytes
    start: int  # offset of the record: the MAC covers the message before it


@dataclass(frozen=True, slots=True)
class UpdateMessage:
    header: Header
    zone: ZoneSection
    prerequisites: tuple[UpdateRecord, ...]
    updates: tuple[UpdateRecord, ...]
    tsig: TsigRecord | None
    edns: bool  # an OPT record came with it


def parse_update(data: bytes) -> UpdateMessage:
    """Parse an UPDATE; raises DropPacket (no header, or a response) or UpdateFormatError."""
    header = parse_header(data)
    zocount, prcount, upcount, adcount = _COUNTS.unpack_from(data, 4)
    if zocount != 1:
        raise UpdateFormatError(f"{zocount} zones in the zone section (exactly 1 allowed)", header)
    try:
        question, pos = read_question(data)
    except QuestionTruncated:
        raise UpdateFormatError("zone section truncated", header) from None
    except BadNameError as exc:
        raise UpdateFormatError(f"zone name: {exc}", header) from None
    zone = ZoneSection(question)
    reader = _Reader(data, pos, header, zone)
    prerequisites = tuple(reader.record("prerequisite") for _ in range(prcount))
    updates = tuple(reader.record("update") for _ in range(upcount))
    tsig, edns = reader.additional(adcount)
    if reader.pos != len(data):
        raise UpdateFormatError(f"{len(data) - reader.pos} bytes after the last record", header, zone)
    return UpdateMessage(header, zone, prerequisites, updates, tsig, edns)


class _Reader:
    """Walks the records after the zone section, never past the end of the message."""

    def __init__(self, data: bytes, pos: int, header: Header, zone: ZoneSection) -> None:
        self.data = data
        self.pos = pos
        self.header = header
        self.zone = zone

    def fail(self, reason: str) -> UpdateFormatError:
        return UpdateFormatError(reason, self.header, self.zone)

    def fixed(self, section: str) -> tuple[Name, int, int, int, int, int, int]:
        """Owner, type, class, TTL, start and end of the data, and the record's own start."""
        data = self.data
        start = self.pos
        try:
            name, pos = read_name(data, start)
        except BadNameError as exc:
            raise self.fail(f"{section} record name: {exc}") from None
        if pos + 10 > len(data):
            raise self.fail(f"{section} record truncated")
        rtype, rclass, ttl, rdlength = RR_FIXED.unpack_from(data, pos)
        end = pos + 10 + rdlength
        if end > len(data):
            raise self.fail(f"{section} record data truncated")
        self.pos = end
        return name, rtype, rclass, ttl, pos + 10, end, start

    def record(self, section: str) -> UpdateRecord:
        name, rtype, rclass, ttl, start, end, _ = self.fixed(section)
        if rtype in (RRType.OPT, RRType.TSIG):
            raise self.fail(f"{RRType(rtype).name} record in the {section} section")
        rdata = None
        if end > start:
            try:
                rdata = decode_rdata(rtype, self.data, start, end)
            except RdataFormatError as exc:
                raise self.fail(f"{section} record {name.text}: {exc}") from None
        elif rclass == RRClass.IN and rtype in DECODERS:  # these cannot be empty; others may (RFC 3597)
            raise self.fail(f"{section} record {name.text}: no data")
        return UpdateRecord(name, rtype, rclass, ttl, rdata)

    def additional(self, count: int) -> tuple[TsigRecord | None, bool]:
        """OPT and TSIG are read; other additional records are allowed and ignored (section 2.6)."""
        tsig: TsigRecord | None = None
        edns = False
        for index in range(count):
            name, rtype, rclass, ttl, start, end, record_start = self.fixed("additional")
            if rtype == RRType.OPT:
                if edns or name.labels:
                    raise self.fail("a second OPT, or an OPT not owned by the root")
                edns = True
            elif rtype == RRType.TSIG:
                if index != count - 1:
                    raise self.fail("TSIG is not the last record (RFC 8945 section 5.1)")
                if rclass != RRClass.ANY or ttl != 0:
                    raise self.fail("TSIG with a class other than ANY or a TTL other than 0")
                tsig = self.tsig(name, start, end, record_start)
        return tsig, edns

    def tsig(self, key: Name, start: int, end: int, record_start: int) -> TsigRecord:
        data = self.data
        try:
            algorithm, pos = read_name(data, start, end)
        except BadNameError as exc:
            raise self.fail(f"TSIG algorithm name: {exc}") from None
        if pos + 10 > end:
            raise self.fail("TSIG data truncated")
        high, low, fudge, mac_size = struct.unpack_from("!HIHH", data, pos)
        pos += 10
        mac = data[pos:pos + mac_size]
        pos += mac_size
        if pos + 6 > end:
            raise self.fail("TSIG data truncated")
        original_id, error, other_len = struct.unpack_from("!HHH", data, pos)
        pos += 6
        other = data[pos:pos + other_len]
        if pos + other_len != end:
            raise self.fail("TSIG data does not end where its length says")
        return TsigRecord(key, algorithm, (high << 32) | low, fudge, bytes(mac), original_id, error,
                          bytes(other), record_start)


def render_update_reply(header: Header, zone: ZoneSection | None, rcode: int, edns: bool = False) -> bytes:
    """The reply: ID and opcode copied, QR set, the zone section echoed when it parsed (section 3.8).

    A zone section other than SOA in class IN is left out (the counts say 0, as section 3.8
    allows), since clients may refuse to read a reply that echoes it. A TSIG record, when the
    reply is signed, is appended by the caller (and counted then).
    """
    if zone is not None and (zone.ztype != RRType.SOA or zone.zclass != RRClass.IN):
        zone = None
    question = zone.question if zone is not None else None
    flags = FLAG_QR | (header.flags & OPCODE_MASK) | (rcode & 0xF)  # not RD and CD: UPDATE has Z bits there
    opt = build_opt(REPLY_PAYLOAD, 0, False, None, None, 0) if edns else None
    return finish(Writer(question), header, flags, (0, 0, 0), opt, 1 if question else 0)

