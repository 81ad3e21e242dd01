"""The DNSSEC records themselves: DNSKEY, DS/CDS, RRSIG and NSEC data, and the canonical form.

Every record is built as the wire layer's `Rdata`, so the reply writer handles it like any other.
Names inside RRSIG and NSEC data are plain bytes, never `Name` pieces: RFC 4034 forbids
compressing them, and the writer compresses only `Name` pieces.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
from collections.abc import Iterable

from gslb.wire.constants import type_name
from gslb.wire.name import WILDCARD_LABEL, Name
from gslb.wire.rdata_wire import canonical
from gslb.wire.records import Rdata, RRset

PROTOCOL = 3  # the DNSKEY protocol field, always 3 (RFC 4034 section 2.1.2)
ZONE_KEY = 0x0100  # DNSKEY flags: a zone key
SEP = 0x0001  # ... and the secure entry point (a KSK, or a combined signing key)
SHA256 = 2  # DS digest type (RFC 4509)
_RRSIG_FIXED = struct.Struct("!HBBIIIH")
TIME_FORMAT = "%Y%m%d%H%M%S"  # RRSIG times in text and BIND key file times (UTC)


def canonical_set(rrset: RRset) -> tuple[bytes, ...]:
    """The RRset's canonical rdatas in canonical order, duplicates dropped (RFC 4034 section 6.3).

    Sorted, so every rotation of the same addresses gives the same tuple, and the same signature.
    """
    return tuple(sorted({canonical(rdata) for rdata in rrset.rdatas}))


def signature_labels(owner: Name) -> int:
    """The RRSIG labels field: the owner's labels, a leading wildcard label not counted."""
    labels = len(owner.labels)
    return labels - 1 if labels and owner.labels[0] == WILDCARD_LABEL else labels


def signing_input(
    owner: Name, rtype: int, rclass: int, original_ttl: int, rdatas: tuple[bytes, ...], fields: bytes, signer: Name
) -> bytes:
    """What the signature covers (RFC 4034 section 3.1.8.1): the RRSIG's fields, then each RR."""
    head = owner.wire + struct.pack("!HHI", rtype, rclass, original_ttl)
    return fields + signer.wire + b"".join(head + struct.pack("!H", len(rdata)) + rdata for rdata in rdatas)


def rrsig_fields(covered: int, algorithm: int, labels: int, original_ttl: int, expiration: int, inception: int,
                 tag: int) -> bytes:
    """The fixed part of RRSIG data, before the signer's name and the signature."""
    return _RRSIG_FIXED.pack(covered, algorithm, labels, original_ttl, expiration, inception, tag)


def rrsig_rdata(fields: bytes, signer: Name, signature: bytes) -> Rdata:
    """RRSIG data; the signer's name as plain bytes, so it is never compressed (RFC 4034 section 3.1.7)."""
    covered, algorithm, labels, ttl, expiration, inception, tag = _RRSIG_FIXED.unpack(fields)
    text = (f"{type_name(covered)} {algorithm} {labels} {ttl} {format_time(expiration)} {format_time(inception)} {tag} "
            f"{signer.text} {base64.b64encode(signature).decode()}")
    return Rdata((fields + signer.wire + signature,), text)


def dnskey_rdata(flags: int, algorithm: int, public: bytes) -> Rdata:
    """DNSKEY data (RFC 4034 section 2.1); its text is what .key files and dig show."""
    wire = struct.pack("!HBB", flags, PROTOCOL, algorithm) + public
    return Rdata((wire,), f"{flags} {PROTOCOL} {algorithm} {base64.b64encode(public).decode()}")


def key_tag(dnskey_wire: bytes) -> int:
    """The key tag of a DNSKEY's data (RFC 4034 appendix B)."""
    total = 0
    for index, byte in enumerate(dnskey_wire):
        total += byte if index & 1 else byte << 8
    total += (total >> 16) & 0xFFFF
    return total & 0xFFFF


def ds_rdata(owner: Name, dnskey: Rdata, digest_type: int = SHA256) -> Rdata:
    """The DS (or CDS) for a DNSKEY: its tag, algorithm and SHA-256 digest (RFC 4034 section 5.1.4)."""
    wire = canonical(dnskey)
    digest = hashlib.sha256(owner.wire + wire).digest()
    tag, algorithm = key_tag(wire), wire[3]
    return Rdata((struct.pack("!HBB", tag, algorithm, digest_type) + digest,),
                 f"{tag} {algorithm} {digest_type} {digest.hex().upper()}")


def type_bitmap(types: Iterable[int]) -> bytes:
    """The NSEC type bit maps field (RFC 4034 section 4.1.2): one block per window in use."""
    windows: dict[int, bytearray] = {}
    for rtype in sorted(set(types)):
        window = windows.setdefault(rtype >> 8, bytearray(32))
        window[(rtype & 0xFF) >> 3] |= 0x80 >> (rtype & 7)
    out = bytearray()
    for number, bits in sorted(windows.items()):
        length = len(bits.rstrip(b"\x00")) or 1
        out += bytes((number, length)) + bits[:length]
    return bytes(out)


def nsec_rdata(next_name: Name, types: Iterable[int]) -> Rdata:
    """NSEC data: the next name, uncompressed (RFC 4034 section 4.1.1), and the type bitmap."""
    ordered = sorted(set(types))
    text = f"{_escaped(next_name)} {' '.join(type_name(t) for t in ordered)}"
    return Rdata((next_name.wire + type_bitmap(ordered),), text)


def successor(name: Name) -> Name:
    """The name just after `name` in canonical order: \\000.name (RFC 4470, RFC 9824 section 3.1)."""
    return name.prepend(b"\x00")


def successor_beside(name: Name) -> Name:
    """A name just after `name` that is not below it: a zero byte on its first label.

    For the NSEC at a delegation (RFC 9824 section 3.4), whose successor must not fall inside the
    child zone. A first label of 63 bytes cannot grow; \\000.name serves then.
    """
    if not name.labels or len(name.labels[0]) >= 63:
        return successor(name)
    return Name((name.labels[0] + b"\x00", *name.labels[1:]))


def _escaped(name: Name) -> str:
    """Presentation form with \\DDD escapes for bytes that are not printable."""
    if not name.labels:
        return "."
    labels = ("".join(chr(b) if 0x21 <= b <= 0x7E and b not in (0x2E, 0x5C) else f"\\{b:03d}" for b in label)
              for label in name.labels)
    return ".".join(labels) + "."



def format_time(seconds: int) -> str:
    """UNIX seconds as YYYYMMDDHHMMSS in UTC: how RRSIG text and BIND's key files write times."""
    return time.strftime(TIME_FORMAT, time.gmtime(seconds))
