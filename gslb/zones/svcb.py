"""SVCB and HTTPS (RFC 9460): PRIORITY TARGET [KEY[=VALUE] ...], with address hints from a service.

Written as in a BIND zone file: `1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1`. Priority 0 is
AliasMode (a target and no parameters); 1 to 65535 is ServiceMode. Target `.` means the owner
itself in ServiceMode and "no such service" in AliasMode. Keys: mandatory, alpn,
no-default-alpn, port, ipv4hint, ech, ipv6hint, dohpath (RFC 9461), ohttp (RFC 9540), and
keyNNNNN for any other. The target is never compressed (RFC 9460 section 2.2).

**Hints from a service.** `ipv4hint=service:web` (and `ipv6hint=service:web`) takes the hints
from the steering service `web`: each answer carries the addresses that service gives this
client right then, exactly as an A (AAAA) query for a name steered by `web` would, so a browser
that skips the address query still lands where steering sends it. Such a value is parsed into a
`HintedRdata`, whose `template` the resolver completes per query; its own wire form (the record
without those hints) is never sent, and its text names the service.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import struct
from dataclasses import dataclass

from gslb.wire.name import ROOT, Name
from gslb.wire.rdata_wire import quoted
from gslb.wire.records import Rdata
from gslb.zones.rdata import RdataError, parse_domain, uint
from gslb.zones.rdata_text import split_pieces

KEYS = {"mandatory": 0, "alpn": 1, "no-default-alpn": 2, "port": 3, "ipv4hint": 4, "ech": 5, "ipv6hint": 6,
        "dohpath": 7, "ohttp": 8}
KEY_NAMES = {number: name for name, number in KEYS.items()}
IPV4HINT, IPV6HINT = 4, 6
SERVICE_PREFIX = "service:"
FORM = "PRIORITY TARGET [KEY=VALUE ...]"
_GENERIC_KEY = re.compile(r"^key(\d{1,5})$")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_DOH_TEMPLATE = re.compile(r"\{[?&]?(?:[^}]*,)?dns(?:,[^}]*)?\}")


@dataclass(frozen=True, slots=True)
class SvcbTemplate:
    """A record whose ipv4hint/ipv6hint come from a service: everything else, ready to complete."""

    head: bytes  # priority and target, as on the wire
    text_head: str  # "PRIORITY TARGET"
    params: tuple[tuple[int, bytes, str], ...]  # (key, value on the wire, value as text) as written
    services: tuple[tuple[int, str], ...]  # (IPV4HINT or IPV6HINT, service name)

    def complete(self, hints: dict[int, list[bytes]]) -> Rdata:
        """The record with these hints (packed addresses by key); a key with none is left out."""
        params = list(self.params)
        for key, addresses in hints.items():
            if addresses:
                params.append((key, b"".join(addresses), _hint_text(key, addresses)))
        return _rdata(self.head, self.text_head, params)


@dataclass(frozen=True, slots=True)
class HintedRdata(Rdata):
    """An SVCB/HTTPS record with hints from a service (see the module docstring)."""

    template: SvcbTemplate | None = None


def parse_svcb(value: object, origin: Name) -> Rdata:
    if not isinstance(value, str):
        raise RdataError(f"expected text of the form '{FORM}'")
    pieces = split_pieces(value)
    if len(pieces) < 2:
        raise RdataError(f"'{value}' is not of the form '{FORM}'")
    priority_text, target_text, *rest = (piece.decode("utf-8", "replace") for piece in pieces)
    priority = uint(priority_text, 16, "priority")
    target = ROOT if target_text == "." else parse_domain(target_text, origin)
    if priority == 0 and rest:
        raise RdataError("AliasMode (priority 0) takes no parameters (RFC 9460 section 2.4.2)")
    params: list[tuple[int, bytes, str]] = []
    services: list[tuple[int, str]] = []
    for piece in rest:
        name, equals, text = piece.partition("=")
        key = _key(name)
        if any(key == known for known, *_ in params) or any(key == known for known, _ in services):
            raise RdataError(f"{name} is given twice")
        if key in (IPV4HINT, IPV6HINT) and text.startswith(SERVICE_PREFIX):
            services.append((key, _service(name, text[len(SERVICE_PREFIX):])))
            continue
        params.append((key, *_value(key, name, text if equals else None)))
    _check_together(params, services)
    head = struct.pack("!H", priority) + target.wire
    text_head = f"{priority} {target.text}"
    # The additional section gets the target's addresses: "." in ServiceMode is the owner (the resolver knows it).
    aim = target if target != ROOT else None
    if services:
        template = SvcbTemplate(head, text_head, tuple(params), tuple(services))
        plain = _rdata(head, text_head, params)
        shown = [*params, *((key, b"", f"{SERVICE_PREFIX}{service}") for key, service in services)]
        return HintedRdata(plain.parts, _rdata(head, text_head, shown).text, aim, template)
    rdata = _rdata(head, text_head, params)
    return Rdata(rdata.parts, rdata.text, aim)


def _key(name: str) -> int:
    key = KEYS.get(name)
    if key is not None:
        return key
    generic = _GENERIC_KEY.match(name)
    if generic is None:
        raise RdataError(f"unknown key '{name}' (expected one of: {', '.join(KEYS)}, or keyNNNNN)")
    number = int(generic.group(1))
    if number >= 65535:
        raise RdataError(f"{name}: key 65535 is reserved and keys end there (RFC 9460 section 14.3.2)")
    if number in KEY_NAMES:
        raise RdataError(f"{name}: write it as {KEY_NAMES[number]}")
    return number


def _service(name: str, service: str) -> str:
    if not _SERVICE_NAME.match(service):
        raise RdataError(f"{name}=service:NAME needs the name of a service of this zone")
    return service


def _value(key: int, name: str, text: str | None) -> tuple[bytes, str]:
    """The value of one key on the wire, and as BIND writes it (after the '=')."""
    if key in (2, 8):  # no-default-alpn, ohttp: a flag, no value
        if text:
            raise RdataError(f"{name} takes no value")
        return b"", ""
    if key not in KEY_NAMES:  # keyNNNNN: any bytes, none included
        return (text or "").encode(), quoted(text.encode()) if text else ""
    if not text:
        raise RdataError(f"{name} needs a value ({name}=...)")
    if key == 0:
        return _mandatory(text)
    if key == 1:
        ids = text.split(",")
        if "\\" in text:
            raise RdataError(f"alpn '{text}': protocol ids holding a comma or backslash are not supported")
        if any(not alpn or len(alpn.encode()) > 255 for alpn in ids):
            raise RdataError(f"alpn '{text}': protocol ids of 1 to 255 bytes, separated by commas")
        return b"".join(bytes((len(alpn.encode()),)) + alpn.encode() for alpn in ids), quoted(text.encode())
    if key == 3:
        port = uint(text, 16, "port")
        return struct.pack("!H", port), str(port)
    if key in (IPV4HINT, IPV6HINT):
        addresses = [_address(key, part) for part in text.split(",")]
        return b"".join(addresses), _hint_text(key, addresses)
    if key == 5:
        try:
            ech = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            ech = b""
        if not ech:
            raise RdataError("ech: an ECHConfigList in base64")
        return ech, base64.b64encode(ech).decode()
    if not text.startswith("/") or not _DOH_TEMPLATE.search(text):  # dohpath, the last known key with a value
        raise RdataError(f"dohpath '{text}': a relative URI template with a 'dns' variable, "
                         "e.g. /dns-query{?dns} (RFC 9461 section 5)")
    return text.encode(), quoted(text.encode())


def _mandatory(text: str) -> tuple[bytes, str]:
    keys = [_key(name) for name in text.split(",")]
    if 0 in keys:
        raise RdataError("mandatory may not list itself")
    if len(set(keys)) != len(keys):
        raise RdataError(f"mandatory '{text}' lists a key twice")
    keys.sort()
    return b"".join(struct.pack("!H", key) for key in keys), ",".join(KEY_NAMES.get(k, f"key{k}") for k in keys)


def _address(key: int, text: str) -> bytes:
    try:
        address = ipaddress.IPv4Address(text) if key == IPV4HINT else ipaddress.IPv6Address(text)
    except ValueError:
        address = None
    if address is None or getattr(address, "scope_id", None):
        family = "IPv4" if key == IPV4HINT else "IPv6"
        raise RdataError(f"'{text}' is not an {family} address (or write service:NAME for the addresses of a service)")
    return address.packed


def _hint_text(key: int, addresses: list[bytes]) -> str:
    family = ipaddress.IPv4Address if key == IPV4HINT else ipaddress.IPv6Address
    return ",".join(str(family(packed)) for packed in addresses)


def _check_together(params: list[tuple[int, bytes, str]], services: list[tuple[int, str]]) -> None:
    """RFC 9460 sections 7.1.1 and 8: what one key asks of the others."""
    present = {key for key, *_ in params} | {key for key, _ in services}
    if 2 in present and 1 not in present:
        raise RdataError("no-default-alpn needs alpn (RFC 9460 section 7.1.1)")
    for key, wire, _ in params:
        if key == 0:
            listed = {int.from_bytes(wire[i : i + 2], "big") for i in range(0, len(wire), 2)}
            missing = sorted(listed - present)
            if missing:
                names = ", ".join(KEY_NAMES.get(k, f"key{k}") for k in missing)
                raise RdataError(f"mandatory lists {names}, which the record does not have (RFC 9460 section 8)")


def _rdata(head: bytes, text_head: str, params: list[tuple[int, bytes, str]] | tuple) -> Rdata:
    ordered = sorted(params, key=lambda param: param[0])
    wire = head + b"".join(struct.pack("!HH", key, len(value)) + value for key, value, _ in ordered)
    words = [KEY_NAMES.get(key, f"key{key}") + (f"={shown}" if shown else "") for key, _, shown in ordered]
    return Rdata((wire,), " ".join([text_head, *words]))
