"""Reading the few bytes of a query that the compiled path needs, without building objects.

A query qualifies when it is the ordinary kind real resolvers send: QUERY opcode, one question
of class IN with an uncompressed name, no answer or authority records, and at most one
additional record, a well-formed OPT of version 0 whose options are all either understood
(ECS, NSID, COOKIE) or skipped (padding, anything unknown). Anything else returns None and the
general path, which reports every error precisely, answers instead.
"""

from __future__ import annotations

from gslb.wire.edns import COOKIE_LENGTHS

COUNTS_PLAIN = b"\x00\x01\x00\x00\x00\x00\x00\x00"  # QDCOUNT 1, nothing else
COUNTS_EDNS = b"\x00\x01\x00\x00\x00\x00\x00\x01"  # QDCOUNT 1 and one additional record (OPT)
FAMILY_BYTES = {1: 4, 2: 16}
MAX_NAME = 255
DO_SUFFIX = (b"", b"", b"\x80", b"\xc0")  # by DO and CO >> 6: what a DO=1 query's key ends with


# What the scan finds, as one tuple (built in C, unlike an object, which matters at this rate):
# (key, qtype, question_end, edns, payload, do, nsid, ecs, ecs_source, cookie)
# - key: the lower-cased question name followed by the two type bytes: what answers are filed under;
# - question_end: where the question ends (it is echoed exactly as received);
# - edns: the query has an OPT; payload: the client's UDP size; do: the DO (0x80) and CO (0x40) bits
#   as in the OPT's flags, and with DO the key ends with them (a signed answer differs); nsid: NSID asked;
# - ecs: the ECS option's data as sent (family, source, scope, address), or None; ecs_source: its
#   source prefix length;
# - cookie: the first COOKIE option's data (8, or 16 to 40 bytes), or None.
Scanned = tuple[bytes, int, int, bool, int, int, bool, "bytes | None", int, "bytes | None"]
KEY, QTYPE, QUESTION_END, EDNS, PAYLOAD, DO, NSID, ECS, ECS_SOURCE, COOKIE = range(10)


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
        return (key, qtype, question_end, False, 0, False, False, None, 0, None) if question_end == size else None
    return _scan_opt(data, question_end, key, qtype)


def _scan_opt(data: bytes, pos: int, key: bytes, qtype: int) -> Scanned | None:
    """The OPT record at `pos` must be the last bytes of the packet (RFC 6891 section 6.1)."""
    question_end = pos
    if pos + 11 > len(data) or data[pos] or data[pos + 1] or data[pos + 2] != 41 or data[pos + 6]:
        return None  # not a root-owned OPT, or EDNS version above 0
    payload = (data[pos + 3] << 8) | data[pos + 4]
    do = data[pos + 7] & 0xC0
    end = pos + 11 + ((data[pos + 9] << 8) | data[pos + 10])
    if end != len(data):
        return None
    nsid = False
    ecs = None
    ecs_source = 0
    cookie = None
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
            if ecs is not None or not _valid_ecs(data, start, length):
                return None
            ecs = data[start:pos]
            ecs_source = data[start + 2]
        elif code == 3:
            nsid = True
        elif code == 10 and cookie is None:  # the first one counts; a malformed one is FORMERR
            if length not in COOKIE_LENGTHS:
                return None
            cookie = data[start:pos]
    return key + DO_SUFFIX[do >> 6], qtype, question_end, True, payload, do, nsid, ecs, ecs_source, cookie


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
