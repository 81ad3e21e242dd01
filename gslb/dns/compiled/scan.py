"""Reading the few bytes of a query that the compiled path needs, without building objects.

A query qualifies when it is the ordinary kind real resolvers send: QUERY opcode, one question
of class IN with an uncompressed name, no answer or authority records, and at most one
additional record, a well-formed OPT of version 0 whose options are all either understood
(ECS, NSID) or skipped (COOKIE, padding, anything unknown). Anything else returns None and the
general path, which reports every error precisely, answers instead.
"""

from __future__ import annotations

from dataclasses import dataclass

COUNTS_PLAIN = b"\x00\x01\x00\x00\x00\x00\x00\x00"  # QDCOUNT 1, nothing else
COUNTS_EDNS = b"\x00\x01\x00\x00\x00\x00\x00\x01"  # QDCOUNT 1 and one additional record (OPT)
FAMILY_BYTES = {1: 4, 2: 16}
MAX_NAME = 255


@dataclass(slots=True)
class Scanned:
    """A query the compiled path can answer, as offsets and small values.

    `key` is the lower-cased question name followed by the two type bytes: what answers are
    filed under. `question_end` ends the question, which is echoed exactly as received.
    """

    key: bytes
    qtype: int
    question_end: int
    edns: bool
    payload: int = 0  # the client's UDP size (with EDNS)
    do: bool = False
    nsid: bool = False  # the client asked for our NSID
    ecs: bytes | None = None  # the ECS option's data as sent (family, source, scope, address)
    ecs_source: int = 0  # its source prefix length


def scan_query(data: bytes) -> Scanned | None:
    """The query's key facts, or None when the general path should answer it."""
    size = len(data)
    if size < 17 or data[2] & 0xF8:  # a response (QR) or an opcode other than QUERY
        return None
    counts = data[4:12]
    edns = counts == COUNTS_EDNS
    if not edns and counts != COUNTS_PLAIN:
        return None
    pos = 12
    try:
        length = data[pos]
        while length:
            if length > 63:  # a compression pointer or a label type we leave to the general path
                return None
            pos += length + 1
            length = data[pos]
    except IndexError:
        return None
    name_end = pos + 1
    question_end = name_end + 4
    if name_end - 12 > MAX_NAME or question_end > size or data[name_end + 2] or data[name_end + 3] != 1:
        return None  # too long, truncated, or a class other than IN
    key = data[12:name_end].lower() + data[name_end:name_end + 2]
    qtype = (data[name_end] << 8) | data[name_end + 1]
    if not edns:
        return Scanned(key, qtype, question_end, False) if question_end == size else None
    return _scan_opt(data, question_end, Scanned(key, qtype, question_end, True))


def _scan_opt(data: bytes, pos: int, found: Scanned) -> Scanned | None:
    """The OPT record at `pos` must be the last bytes of the packet (RFC 6891 section 6.1)."""
    if pos + 11 > len(data) or data[pos] or data[pos + 1] or data[pos + 2] != 41 or data[pos + 6]:
        return None  # not a root-owned OPT, or EDNS version above 0
    found.payload = (data[pos + 3] << 8) | data[pos + 4]
    found.do = bool(data[pos + 7] & 0x80)
    end = pos + 11 + ((data[pos + 9] << 8) | data[pos + 10])
    if end != len(data):
        return None
    pos += 11
    while pos < end:
        if pos + 4 > end:
            return None
        code = (data[pos] << 8) | data[pos + 1]
        length = (data[pos + 2] << 8) | data[pos + 3]
        start = pos + 4
        pos = start + length
        if pos > end:
            return None
        if code == 8:
            if found.ecs is not None or not _valid_ecs(data, start, length):
                return None
            found.ecs = data[start:pos]
            found.ecs_source = data[start + 2]
        elif code == 3:
            found.nsid = True
    return found


def _valid_ecs(data: bytes, start: int, length: int) -> bool:
    """RFC 7871 section 7.1.1: otherwise the general path answers FORMERR."""
    if length < 4 or data[start]:
        return False
    width = FAMILY_BYTES.get(data[start + 1])
    source = data[start + 2]
    if width is None or source > width * 8 or data[start + 3] or length - 4 != (source + 7) // 8:
        return False
    spare = (8 - source % 8) % 8
    return not spare or not data[start + length - 1] & ((1 << spare) - 1)
