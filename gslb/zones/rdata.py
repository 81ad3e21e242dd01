"""Turning the text of a static record into wire data.

Each parser takes the value as written in the zone file and the zone origin (to complete
relative names) and returns an `Rdata`, or raises `RdataError` with a message an operator can
act on. Names inside NS, CNAME, PTR and MX data are kept as `Name` pieces so the encoder may
compress them (RFC 3597 section 4 allows it only for those well-known types); SRV and the
rest are plain bytes.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import struct
from collections.abc import Callable

from gslb.common.digits import is_decimal
from gslb.wire.constants import RRType
from gslb.wire.name import ROOT, BadNameError, Name
from gslb.wire.records import Rdata

_HOST_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$")


class RdataError(ValueError):
    """A record value that cannot be turned into wire data."""


def parse_domain(text: str, origin: Name, *, allow_wildcard: bool = False) -> Name:
    """A name as written in a zone file: '@' is the origin, no trailing dot means relative."""
    if not isinstance(text, str) or not text.strip():
        raise RdataError("expected a domain name")
    text = text.strip()
    if text == "@":
        return origin
    if text == ".":
        raise RdataError("the root name is not allowed here")
    absolute = text.endswith(".")
    body = text[:-1] if absolute else text
    labels = body.split(".")
    for index, label in enumerate(labels):
        if label == "*" and allow_wildcard and index == 0:
            continue
        if label == "*":
            raise RdataError(f"'{text}': '*' is allowed only as the leftmost label of an owner name")
        if not label:
            raise RdataError(f"'{text}': empty label")
        if not _HOST_LABEL.match(label):
            raise RdataError(
                f"'{text}': label '{label}' may hold only letters, digits, '-' and '_' "
                "(and may not start or end with '-')"
            )
    try:
        relative = Name(tuple(label.encode("ascii") for label in labels))
        return relative if absolute else Name(relative.labels + origin.labels)
    except (BadNameError, UnicodeEncodeError) as exc:
        raise RdataError(f"'{text}': {exc}") from None


def fields(text: object, count: int, form: str, *, maxsplit: int = -1) -> list[str]:
    """Exactly `count` blank-separated fields (with `maxsplit`, the last one keeps its blanks)."""
    if not isinstance(text, str):
        raise RdataError(f"expected text of the form '{form}'")
    parts = text.split(None, maxsplit)
    if len(parts) != count:
        raise RdataError(f"'{text}' is not of the form '{form}'")
    return parts


def uint(value: str, bits: int, what: str) -> int:
    """An unsigned number of `bits` bits, ASCII digits only, named `what` in the error."""
    if not is_decimal(value) or int(value) >= 1 << bits:
        raise RdataError(f"{what} '{value}' is not a number from 0 to {(1 << bits) - 1}")
    return int(value)


def _a(value: object, origin: Name) -> Rdata:
    try:
        address = ipaddress.IPv4Address(str(value).strip()) if isinstance(value, str) else None
    except ValueError:
        address = None
    if address is None:
        raise RdataError(f"'{value}' is not an IPv4 address")
    return Rdata((address.packed,), str(address))


def _aaaa(value: object, origin: Name) -> Rdata:
    try:
        address = ipaddress.IPv6Address(str(value).strip()) if isinstance(value, str) else None
    except ValueError:
        address = None
    if address is None or address.scope_id is not None:  # 'fe80::1%eth0': a zone index is not DNS data
        raise RdataError(f"'{value}' is not an IPv6 address")
    return Rdata((address.packed,), str(address))


def _single_name(value: object, origin: Name) -> Rdata:
    name = parse_domain(value if isinstance(value, str) else "", origin)
    return Rdata((name,), name.text, name)


def _mx(value: object, origin: Name) -> Rdata:
    preference, exchange = fields(value, 2, "PREFERENCE EXCHANGE")
    pref = uint(preference, 16, "preference")
    if exchange == ".":  # null MX: this domain accepts no mail (RFC 7505)
        return Rdata((struct.pack("!H", pref), ROOT), f"{pref} .")
    name = parse_domain(exchange, origin)
    return Rdata((struct.pack("!H", pref), name), f"{pref} {name.text}", name)


def _srv(value: object, origin: Name) -> Rdata:
    priority, weight, port, target = fields(value, 4, "PRIORITY WEIGHT PORT TARGET")
    numbers = [uint(priority, 16, "priority"), uint(weight, 16, "weight"), uint(port, 16, "port")]
    # A target of "." says the service is decidedly not available here (RFC 2782).
    name = ROOT if target == "." else parse_domain(target, origin)
    return Rdata(
        (struct.pack("!HHH", *numbers) + name.wire,),
        f"{numbers[0]} {numbers[1]} {numbers[2]} {name.text}",
        name if name != ROOT else None,
    )


def _character_strings(text: str) -> bytes:
    """TXT data: split into strings of at most 255 bytes (RFC 1035 section 3.3)."""
    data = text.encode("utf-8")
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    return b"".join(bytes((len(chunk),)) + chunk for chunk in chunks)


def _txt(value: object, origin: Name) -> Rdata:
    if not isinstance(value, str):
        # YAML would have turned 1.50 into 1.5 and 007 into 7: only quoted text is exact.
        raise RdataError(f"'{value}' is not text (put it in quotes)" if value is not None else "expected text")
    text = value
    wire = _character_strings(text)
    if len(wire) > 65535:
        raise RdataError("text longer than a record can hold")
    return Rdata((wire,), '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')


_CAA_TAG = re.compile(r"^[A-Za-z0-9]{1,15}$")


def _caa(value: object, origin: Name) -> Rdata:
    if not isinstance(value, str):
        raise RdataError("expected text of the form 'FLAGS TAG \"VALUE\"'")
    try:
        parts = shlex.split(value)
    except ValueError as exc:
        raise RdataError(f"'{value}': {exc}") from None
    if len(parts) != 3:
        raise RdataError(f"'{value}' is not of the form 'FLAGS TAG \"VALUE\"'")
    flags = uint(parts[0], 8, "flags")
    tag = parts[1]
    if not _CAA_TAG.match(tag):
        raise RdataError(f"CAA tag '{tag}' must be 1 to 15 letters or digits")
    content = parts[2].encode("utf-8")
    return Rdata(
        (bytes((flags, len(tag))) + tag.lower().encode("ascii") + content,),
        f'{flags} {tag.lower()} "{parts[2]}"',
    )


# The basic types; gslb.zones.rtypes adds the others and is what the loader reads.
PARSERS: dict[int, Callable[[object, Name], Rdata]] = {
    RRType.A: _a,
    RRType.AAAA: _aaaa,
    RRType.NS: _single_name,
    RRType.CNAME: _single_name,
    RRType.PTR: _single_name,
    RRType.MX: _mx,
    RRType.TXT: _txt,
    RRType.SRV: _srv,
    RRType.CAA: _caa,
}

def soa_rdata(
    primary: Name, contact: Name, serial: int, refresh: int, retry: int, expire: int, minimum: int
) -> Rdata:
    numbers = struct.pack("!IIIII", serial, refresh, retry, expire, minimum)
    return Rdata(
        (primary, contact, numbers),
        f"{primary.text} {contact.text} {serial} {refresh} {retry} {expire} {minimum}",
    )
