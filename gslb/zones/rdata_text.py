"""Record values that hold character-strings (NAPTR, SVCB/HTTPS): splitting them as BIND does.

A value is split at blanks; double quotes keep blanks inside one piece and may stand anywhere in
it (`alpn="h2,h3"` is one piece), and a backslash escapes the next character or, as `\\DDD`,
gives a byte by its decimal value (RFC 1035 section 5.1). Text is taken as UTF-8.
"""

from __future__ import annotations

from gslb.zones.rdata import RdataError


def split_pieces(text: str) -> list[bytes]:
    """The pieces of a value, quotes removed and escapes applied; raises RdataError."""
    data = text.encode("utf-8")
    pieces: list[bytes] = []
    current = bytearray()
    started = quoted = False
    pos = 0
    while pos < len(data):
        char = data[pos]
        pos += 1
        if char == 0x22:  # "
            quoted = not quoted
            started = True
        elif char == 0x5C:  # backslash
            if pos >= len(data):
                raise RdataError(f"'{text}': a backslash at the end")
            if data[pos : pos + 3].isdigit():
                number = int(data[pos : pos + 3])
                if number > 255:
                    raise RdataError(f"'{text}': \\{number} is not a byte (0 to 255)")
                current.append(number)
                pos += 3
            else:
                current.append(data[pos])
                pos += 1
            started = True
        elif char in b" \t" and not quoted:
            if started:
                pieces.append(bytes(current))
                current.clear()
                started = False
        else:
            current.append(char)
            started = True
    if quoted:
        raise RdataError(f"'{text}': a quote is not closed")
    if started:
        pieces.append(bytes(current))
    return pieces


def character_string(data: bytes, what: str) -> bytes:
    """One character-string on the wire: its length, then its bytes (at most 255)."""
    if len(data) > 255:
        raise RdataError(f"{what} of {len(data)} bytes (at most 255)")
    return bytes((len(data),)) + data

