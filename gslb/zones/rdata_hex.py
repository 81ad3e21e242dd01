"""DS, SSHFP and TLSA: a few numbers, then a digest or certificate data in hex.

Each is written as BIND writes it (`60485 5 1 2BB183AF...`), with the hex in either case and
optionally split by blanks. Every field is checked: numbers in range, reserved values refused,
and, where the type fixes it, the digest length (a SHA-256 digest of 31 bytes is a copy-paste
error that a validating resolver would otherwise discover for you). The text form is the
canonical one, as BIND writes it (upper-case hex, a blank after every 56 digits), so duplicates
are found whatever the spelling.
"""

from __future__ import annotations

import re
import struct

from gslb.wire.name import Name
from gslb.wire.records import Rdata
from gslb.zones.rdata import RdataError, fields, uint

_HEX = re.compile(r"^[0-9A-Fa-f]+$")

# DNSSEC algorithm numbers and the mnemonics BIND also accepts (IANA "DNS Security Algorithm Numbers").
ALGORITHMS = {
    "RSAMD5": 1, "DH": 2, "DSA": 3, "RSASHA1": 5, "DSA-NSEC3-SHA1": 6, "RSASHA1-NSEC3-SHA1": 7,
    "RSASHA256": 8, "RSASHA512": 10, "ECC-GOST": 12, "ECDSAP256SHA256": 13, "ECDSAP384SHA384": 14,
    "ED25519": 15, "ED448": 16, "INDIRECT": 252, "PRIVATEDNS": 253, "PRIVATEOID": 254,
}
# DS digest types and their lengths in bytes (IANA "DS RR Type Digest Algorithms").
DS_DIGESTS = {1: ("SHA-1", 20), 2: ("SHA-256", 32), 3: ("GOST R 34.11-94", 32), 4: ("SHA-384", 48),
              5: ("GOST R 34.11-2012", 32), 6: ("SM3", 32)}
# SSHFP fingerprint types (RFC 4255, 6594) and their lengths.
SSHFP_DIGESTS = {1: ("SHA-1", 20), 2: ("SHA-256", 32)}
# TLSA (RFC 6698, 7218): the assigned values of each field, and the matching types' lengths.
TLSA_USAGES = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE", 255: "PrivCert"}
TLSA_SELECTORS = {0: "Cert", 1: "SPKI", 255: "PrivSel"}
TLSA_MATCHING = {0: ("Full", 0), 1: ("SHA2-256", 32), 2: ("SHA2-512", 64), 255: ("PrivMatch", 0)}


def _hex(text: str, what: str, length: int = 0, name: str = "") -> bytes:
    """Hex digits (blanks between them allowed); `length`: the exact number of bytes expected."""
    digits = "".join(text.split())
    if not _HEX.match(digits):
        raise RdataError(f"{what} '{text}' is not hex digits")
    if len(digits) % 2:
        raise RdataError(f"{what} has an odd number of hex digits ({len(digits)})")
    data = bytes.fromhex(digits)
    if length and len(data) != length:
        raise RdataError(f"{what} of {len(data)} bytes: {name} gives {length} ({length * 2} hex digits)")
    return data


def hex_text(data: bytes) -> str:
    """Hex as BIND writes it: upper case, a blank after every 56 digits."""
    digits = data.hex().upper()
    return " ".join(digits[i : i + 56] for i in range(0, len(digits), 56))


def _algorithm(text: str) -> int:
    number = ALGORITHMS.get(text.upper())
    if number is None:
        number = uint(text, 8, "algorithm")
    if number == 0:
        raise RdataError("algorithm 0 is reserved (RFC 4034 appendix A.1)")
    return number


def parse_ds(value: object, origin: Name) -> Rdata:
    """DS (RFC 4034 section 5): KEY-TAG ALGORITHM DIGEST-TYPE DIGEST."""
    tag_text, algorithm_text, type_text, digest_text = fields(
        value, 4, "KEY-TAG ALGORITHM DIGEST-TYPE DIGEST", maxsplit=3)
    tag = uint(tag_text, 16, "key tag")
    algorithm = _algorithm(algorithm_text)
    digest_type = uint(type_text, 8, "digest type")
    if digest_type == 0:
        raise RdataError("digest type 0 is reserved (use 2, SHA-256)")
    name, length = DS_DIGESTS.get(digest_type, (f"digest type {digest_type}", 0))
    digest = _hex(digest_text, "digest", length, name)
    return Rdata((struct.pack("!HBB", tag, algorithm, digest_type) + digest,),
                 f"{tag} {algorithm} {digest_type} {hex_text(digest)}")


def parse_sshfp(value: object, origin: Name) -> Rdata:
    """SSHFP (RFC 4255): ALGORITHM FINGERPRINT-TYPE FINGERPRINT."""
    algorithm_text, type_text, digest_text = fields(value, 3, "ALGORITHM FINGERPRINT-TYPE FINGERPRINT", maxsplit=2)
    algorithm = uint(algorithm_text, 8, "algorithm")
    fingerprint_type = uint(type_text, 8, "fingerprint type")
    if algorithm == 0 or fingerprint_type == 0:
        raise RdataError("algorithm 0 and fingerprint type 0 are reserved (RFC 4255 section 3.1)")
    name, length = SSHFP_DIGESTS.get(fingerprint_type, (f"fingerprint type {fingerprint_type}", 0))
    digest = _hex(digest_text, "fingerprint", length, name)
    return Rdata((bytes((algorithm, fingerprint_type)) + digest,),
                 f"{algorithm} {fingerprint_type} {hex_text(digest)}")


def parse_tlsa(value: object, origin: Name) -> Rdata:
    """TLSA (RFC 6698): USAGE SELECTOR MATCHING-TYPE DATA, each number one that is assigned."""
    usage_text, selector_text, matching_text, data_text = fields(
        value, 4, "USAGE SELECTOR MATCHING-TYPE CERTIFICATE-DATA", maxsplit=3)
    usage = _assigned(usage_text, TLSA_USAGES, "usage")
    selector = _assigned(selector_text, TLSA_SELECTORS, "selector")
    matching = _assigned(matching_text, TLSA_MATCHING, "matching type")
    name, length = TLSA_MATCHING[matching]
    data = _hex(data_text, "certificate data", length, name)
    return Rdata((bytes((usage, selector, matching)) + data,), f"{usage} {selector} {matching} {hex_text(data)}")


def _assigned(text: str, assigned: dict, what: str) -> int:
    number = uint(text, 8, what)
    if number not in assigned:
        known = ", ".join(f"{n} ({v if isinstance(v, str) else v[0]})" for n, v in assigned.items())
        raise RdataError(f"{what} {number} is not assigned (RFC 6698, 7218: {known})")
    return number
