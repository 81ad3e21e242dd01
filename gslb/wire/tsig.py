"""TSIG (RFC 8945): checking the signature of a request and signing the reply.

A TSIG MAC is an HMAC, with the shared secret, over the message as it was before the TSIG
record was added (its original ID, ARCOUNT one less) followed by the "TSIG variables": the key
and algorithm names in canonical form, the time signed, the fudge, the error and the other data
(section 4.3.3). A reply's MAC also covers the request's MAC first, which ties the two together.

The checks run in the order of section 5.2: the key (BADKEY), the MAC (FORMERR for an
impossible length, BADSIG), the time (BADTIME), the truncation policy (BADTRUNC: this server
accepts only full-length MACs). Errors about the key or the MAC are answered unsigned (MAC
size 0, section 5.3.2): the server cannot prove anything to a client it cannot verify. Errors
about the time or the truncation are signed, so that the client can trust them; a BADTIME
reply carries the server's clock in its other data, so the client can see how far off it is.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from gslb.wire.constants import RRClass, RRType, TsigError
from gslb.wire.name import Name
from gslb.wire.update import TsigRecord

REPLY_FUDGE = 300  # seconds of clock difference our replies allow (the RFC's recommendation)

# Algorithm name -> hashlib name. HMAC-MD5 is left out on purpose (RFC 8945 section 6: not
# recommended); SHA-256 is what nsupdate, certbot and lego use by default.
ALGORITHMS: dict[str, str] = {
    "hmac-sha1.": "sha1",
    "hmac-sha224.": "sha224",
    "hmac-sha256.": "sha256",
    "hmac-sha384.": "sha384",
    "hmac-sha512.": "sha512",
}


@dataclass(frozen=True)
class TsigKey:
    """A shared secret: its name, algorithm (one of ALGORITHMS) and the secret bytes."""

    name: Name
    algorithm: Name
    secret: bytes

    def __repr__(self) -> str:  # never print the secret
        return f"TsigKey({self.name.text!r}, {self.algorithm.text!r})"

    @property
    def digest(self) -> str:
        return ALGORITHMS[self.algorithm.text]

    @property
    def size(self) -> int:
        return hashlib.new(self.digest).digest_size

    def mac(self, *parts: bytes) -> bytes:
        return hmac.new(self.secret, b"".join(parts), self.digest).digest()


@dataclass(frozen=True)
class TsigCheck:
    """The outcome of checking a request's TSIG.

    `error` is TsigError.NOERROR when it verified. `formerr`: the MAC length is impossible, and
    the answer is a plain FORMERR. `request_mac` is what the reply's MAC must cover (empty when
    the request MAC did not verify, and the reply is then unsigned).
    """

    error: int
    formerr: bool = False
    request_mac: bytes = b""

    @property
    def ok(self) -> bool:
        return self.error == TsigError.NOERROR and not self.formerr

    @property
    def signed_reply(self) -> bool:
        return self.error in (TsigError.NOERROR, TsigError.BADTIME, TsigError.BADTRUNC) and not self.formerr


def _time(value: int) -> bytes:
    return struct.pack("!HI", (value >> 32) & 0xFFFF, value & 0xFFFFFFFF)


def variables(key: Name, algorithm: Name, time_signed: int, fudge: int, error: int, other: bytes) -> bytes:
    """The TSIG variables of section 4.3.3 (names canonical: uncompressed, lower case)."""
    return (key.wire + struct.pack("!HI", RRClass.ANY, 0) + algorithm.wire + _time(time_signed)
            + struct.pack("!HHH", fudge, error, len(other)) + other)


def signed_part(data: bytes, tsig: TsigRecord) -> bytes:
    """The request as it was signed: original ID, ARCOUNT without the TSIG, no TSIG record."""
    arcount = struct.unpack_from("!H", data, 10)[0] - 1
    return struct.pack("!H", tsig.original_id) + data[2:10] + struct.pack("!H", arcount) + data[12:tsig.start]


def check_request(data: bytes, tsig: TsigRecord, key: TsigKey | None, now: int) -> TsigCheck:
    """Check a request's TSIG with the key of that name (None: no such key here)."""
    if key is None or key.algorithm != tsig.algorithm:
        return TsigCheck(TsigError.BADKEY)
    size = len(tsig.mac)
    full = key.size
    if size > full or size < max(10, full // 2):
        return TsigCheck(TsigError.NOERROR, formerr=True)  # section 5.2.2.1: FORMERR
    expected = key.mac(signed_part(data, tsig),
                       variables(tsig.key, tsig.algorithm, tsig.time_signed, tsig.fudge, tsig.error, tsig.other))
    if not hmac.compare_digest(expected[:size], tsig.mac):
        return TsigCheck(TsigError.BADSIG)
    if abs(now - tsig.time_signed) > tsig.fudge:
        return TsigCheck(TsigError.BADTIME, request_mac=tsig.mac)
    if size < full:
        return TsigCheck(TsigError.BADTRUNC, request_mac=tsig.mac)
    return TsigCheck(TsigError.NOERROR, request_mac=tsig.mac)


def _record(key: Name, algorithm: Name, time_signed: int, fudge: int, mac: bytes, original_id: int,
            error: int, other: bytes) -> bytes:
    rdata = (algorithm.wire + _time(time_signed) + struct.pack("!HH", fudge, len(mac)) + mac
             + struct.pack("!HHH", original_id, error, len(other)) + other)
    return key.wire + struct.pack("!HHIH", RRType.TSIG, RRClass.ANY, 0, len(rdata)) + rdata


def add_record(message: bytes, record: bytes) -> bytes:
    """Append one record to the additional section, counting it in ARCOUNT."""
    arcount = struct.unpack_from("!H", message, 10)[0] + 1
    return message[:10] + struct.pack("!H", arcount) + message[12:] + record


def sign_reply(reply: bytes, key: TsigKey | None, tsig: TsigRecord, check: TsigCheck, now: int) -> bytes:
    """The reply with its TSIG record: signed when the check allows it, else with an empty MAC.

    `key` is the request's key; None (BADKEY: no such key here) only for an unsigned reply.

    A BADTIME reply is signed with the request's time and carries ours as other data
    (section 5.2.3), so the client verifies it with the time it sent.
    """
    error = check.error
    if not check.signed_reply:
        return add_record(reply, _record(tsig.key, tsig.algorithm, now, REPLY_FUDGE, b"", tsig.original_id,
                                         error, b""))
    assert key is not None, "a signed reply needs the key"
    time_signed, other = (tsig.time_signed, _time(now)) if error == TsigError.BADTIME else (now, b"")
    digest_input = (struct.pack("!H", len(check.request_mac)) + check.request_mac
                    + struct.pack("!H", tsig.original_id) + reply[2:]
                    + variables(key.name, key.algorithm, time_signed, REPLY_FUDGE, error, other))
    mac = key.mac(digest_input)
    return add_record(reply, _record(key.name, key.algorithm, time_signed, REPLY_FUDGE, mac, tsig.original_id,
                                     error, other))
