"""Record data read from a message (or a journal) into the `Rdata` the server serves.

Records that arrive in an UPDATE are stored and served exactly as sent, so they are decoded
from their wire form rather than from text: each known type is checked for its exact shape
(an A is 4 bytes, a TXT is character-strings that fill the data exactly, ...), names inside it
are decompressed against the whole message (pointers only backwards) and kept as `Name`
pieces so the writer may compress them again. The text form is for people (/status, explain).

`canonical` is the data with every name written out uncompressed and lower-cased: two records
are the same record when their canonical forms are equal (RFC 2136 section 1.1.1, RFC 4034
section 6.2).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable

from gslb.wire.constants import RRType
from gslb.wire.message import read_name
from gslb.wire.name import ROOT, BadNameError, Name
from gslb.wire.records import Rdata

MAX_TAG = 15


class RdataFormatError(ValueError):
    """Record data that does not have the shape its type requires."""


def canonical(rdata: Rdata) -> bytes:
    """The data with names uncompressed and lower-cased (they are kept lower-cased already)."""
    return b"".join(part.wire if isinstance(part, Name) else part for part in rdata.parts)


def _name(data: bytes, pos: int, end: int) -> tuple[Name, int]:
    try:
        name, after = read_name(data, pos, end)
    except BadNameError as exc:
        raise RdataFormatError(str(exc)) from None
    return name, after


def _exact(data: bytes, start: int, end: int, size: int, what: str) -> bytes:
    if end - start != size:
        raise RdataFormatError(f"{what} data of {end - start} bytes ({size} expected)")
    return data[start:end]


def _a(data: bytes, start: int, end: int) -> Rdata:
    raw = _exact(data, start, end, 4, "A")
    return Rdata((raw,), str(ipaddress.IPv4Address(raw)))


def _aaaa(data: bytes, start: int, end: int) -> Rdata:
    raw = _exact(data, start, end, 16, "AAAA")
    return Rdata((raw,), str(ipaddress.IPv6Address(raw)))


def _single_name(data: bytes, start: int, end: int) -> Rdata:
    name, after = _name(data, start, end)
    if after != end:
        raise RdataFormatError("bytes after the name")
    return Rdata((name,), name.text, name)


def _mx(data: bytes, start: int, end: int) -> Rdata:
    if end - start < 3:
        raise RdataFormatError("MX data too short")
    (preference,) = struct.unpack_from("!H", data, start)
    name, after = _name(data, start + 2, end)
    if after != end:
        raise RdataFormatError("bytes after the exchange name")
    return Rdata((data[start:start + 2], name), f"{preference} {name.text}", name if name != ROOT else None)


def _srv(data: bytes, start: int, end: int) -> Rdata:
    if end - start < 7:
        raise RdataFormatError("SRV data too short")
    priority, weight, port = struct.unpack_from("!HHH", data, start)
    name, after = _name(data, start + 6, end)
    if after != end:
        raise RdataFormatError("bytes after the target name")
    return Rdata((data[start:start + 6] + name.wire,), f"{priority} {weight} {port} {name.text}",
                 name if name != ROOT else None)


def character_strings(data: bytes, start: int, end: int) -> list[bytes]:
    """The <character-string>s that fill data[start:end] exactly (RFC 1035 section 3.3)."""
    strings = []
    pos = start
    while pos < end:
        length = data[pos]
        if pos + 1 + length > end:
            raise RdataFormatError("a character-string runs past the record data")
        strings.append(data[pos + 1:pos + 1 + length])
        pos += 1 + length
    return strings


def quoted(value: bytes) -> str:
    """A character-string in presentation form: quoted, with \\" \\\\ and \\DDD escapes."""
    out = []
    for byte in value:
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def _txt(data: bytes, start: int, end: int) -> Rdata:
    if end == start:
        raise RdataFormatError("TXT data holds no character-string")
    strings = character_strings(data, start, end)
    return Rdata((data[start:end],), " ".join(quoted(s) for s in strings))


def _caa(data: bytes, start: int, end: int) -> Rdata:
    if end - start < 2:
        raise RdataFormatError("CAA data too short")
    flags, length = data[start], data[start + 1]
    tag = data[start + 2:start + 2 + length]
    if not 1 <= length <= MAX_TAG or len(tag) != length or not tag.isalnum() or not tag.isascii():
        raise RdataFormatError("CAA tag must be 1 to 15 letters or digits")
    value = data[start + 2 + length:end]
    return Rdata((data[start:end],), f"{flags} {tag.decode('ascii')} {quoted(value)}")


def _soa(data: bytes, start: int, end: int) -> Rdata:
    primary, pos = _name(data, start, end)
    contact, pos = _name(data, pos, end)
    numbers = _exact(data, pos, end, 20, "SOA counters")
    values = " ".join(str(n) for n in struct.unpack("!IIIII", numbers))
    return Rdata((primary, contact, numbers), f"{primary.text} {contact.text} {values}")


DECODERS: dict[int, Callable[[bytes, int, int], Rdata]] = {
    RRType.A: _a,
    RRType.AAAA: _aaaa,
    RRType.NS: _single_name,
    RRType.CNAME: _single_name,
    RRType.PTR: _single_name,
    RRType.MX: _mx,
    RRType.SRV: _srv,
    RRType.TXT: _txt,
    RRType.CAA: _caa,
    RRType.SOA: _soa,
}


def decode_rdata(rtype: int, data: bytes, start: int, end: int) -> Rdata:
    """The record data at data[start:end] (`data` is the whole message, for name pointers).

    A type without a decoder is kept as opaque bytes, in the RFC 3597 text form.
    """
    decoder = DECODERS.get(rtype)
    if decoder is None:
        raw = data[start:end]
        return Rdata((raw,), f"\\# {len(raw)} {raw.hex()}" if raw else "\\# 0")
    return decoder(data, start, end)
