"""DNS cookies (RFC 7873) with server cookies made as RFC 9018 says, so servers behind one address agree.

A client sends a COOKIE option holding its 8-byte client cookie and, once it has one, the server
cookie it got from us. We answer every query that carries the option with the client cookie and
a server cookie of 16 bytes:

    version (1) | reserved (3, zero) | timestamp (4, seconds) | hash (8)

where the hash is SipHash-2-4, keyed with the server secret, over the client cookie, version,
reserved, timestamp and the client's address (4 or 16 bytes). The server cookie a client shows
is *valid* when it is ours (version 1, 16 bytes, the hash matches under one of the accepted
secrets) and fresh (made at most an hour ago and at most five minutes in the future, RFC 9018
section 4.3). A valid one proves that the client received an earlier reply at this address, so
its source is not spoofed: the handler then does not rate limit it (RFC 7873 section 5.2.5).

A valid cookie made with the current secret in the last half hour goes back unchanged; any other
gets a fresh one (a new timestamp, reserved bits zeroed, the current secret), as RFC 9018
section 4.3 recommends, so a client's cookie never runs out while it keeps asking.

Cost: one SipHash (about 0.15 us in C) per query with a cookie, two when a valid cookie is
renewed, one per accepted secret when it does not verify. No table is kept: a cache keyed by
client cookie would cost about as much as the hash and miss for every new client.

The secret file is looked at again every few seconds (its modification time and size), so a
rollover needs no restart; a file that became unreadable or malformed is logged and the secrets
already in use stay.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from siphashc import siphash

from gslb.config.cookie_secret import generated_secret_file, read_secrets
from gslb.config.model import Config
from gslb.wire.edns import COOKIE_LENGTHS

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CLIENT_COOKIE = 8
SERVER_COOKIE = 16  # ours; RFC 7873 allows 8 to 32 bytes from other servers
VERSION_PREFIX = b"\x01\x00\x00\x00"  # version 1, reserved bits zero
LIFETIME = 3600  # a server cookie older than this is not valid (RFC 9018 section 4.3)
FUTURE = 300  # ... nor one stamped more than this far ahead (clocks of servers differ)
RENEW_AFTER = 1800  # a valid cookie older than this goes back renewed
RELOAD_INTERVAL = 5.0  # seconds between two looks at the secret file


def well_formed(length: int) -> bool:
    """RFC 7873 section 5.2.2: a client cookie alone (8), or with a server cookie of 8 to 32 bytes."""
    return length in COOKIE_LENGTHS


class ServerCookies:
    """Makes and checks server cookies for one process (see the module docstring)."""

    def __init__(self, secrets: tuple[bytes, ...], clock: Callable[[], float] = time.time,
                 source: Path | None = None) -> None:
        """`secrets`: current first (at least one, 16 bytes each); `source`: the file to watch for new ones."""
        if not secrets or any(len(s) != 16 for s in secrets):
            raise ValueError("cookie secrets are 16 bytes each, at least one")
        self.secrets = secrets
        self.clock = clock
        self.source = source
        self._signature = _signature(source) if source is not None else None
        self._next_look = 0.0
        self._second = -1
        self._stamp = b""  # VERSION_PREFIX and the timestamp of `_second`

    @classmethod
    def from_config(cls, config: Config, clock: Callable[[], float] = time.time) -> ServerCookies | None:
        """The cookies of `config`: None when they are off. Raises ValueError for a bad secret file."""
        cookies = config.dns.cookies
        if not cookies.enabled:
            return None
        if cookies.secret_file is not None:
            return cls(read_secrets(cookies.secret_file), clock, cookies.secret_file)
        try:
            path = generated_secret_file(config.state_dir)
            try:
                return cls(read_secrets(path), clock, path)
            except ValueError as exc:  # our own file, cut short by a crash or edited by hand: make it anew
                log.warning("%s: making a new cookie secret", exc)
                path = generated_secret_file(config.state_dir, renew=True)
                return cls(read_secrets(path), clock, path)
        except OSError as exc:
            log.warning("cannot keep a cookie secret in %s (%s): this process makes its own, so "
                        "cookies from other processes or earlier runs will not verify here",
                        config.state_dir, exc.strerror or exc)
            return cls((os.urandom(16),), clock)

    def answer(self, cookie: bytes, address: IPAddress) -> tuple[bool, bytes]:
        """Whether the query's cookie holds a valid server cookie, and the COOKIE option data to send back.

        `cookie` is the option data of the query, of a length in `COOKIE_LENGTHS`, as both parsers check.
        """
        now = int(self.clock())
        if now != self._second:
            self._new_second(now)
        packed = _packed(address)
        secrets = self.secrets
        if len(cookie) == CLIENT_COOKIE + SERVER_COOKIE and cookie[8] == 1:
            age = (now - int.from_bytes(cookie[12:16], "big") + 0x80000000) % 0x100000000 - 0x80000000
            if -FUTURE <= age <= LIFETIME:
                signed = cookie[:16] + packed
                given = cookie[16:]
                for index, secret in enumerate(secrets):
                    if hmac.compare_digest(siphash(secret, signed).to_bytes(8, "little"), given):
                        if index == 0 and age <= RENEW_AFTER and cookie[9:12] == b"\x00\x00\x00":
                            return True, cookie
                        return True, self._fresh(cookie[:8], packed)
        return False, self._fresh(cookie[:8], packed)

    def _fresh(self, client: bytes, packed: bytes) -> bytes:
        """The client cookie and a new server cookie for it, stamped now with the current secret."""
        signed = client + self._stamp
        return signed + siphash(self.secrets[0], signed + packed).to_bytes(8, "little")

    def _new_second(self, now: int) -> None:
        self._second = now
        self._stamp = VERSION_PREFIX + (now & 0xFFFFFFFF).to_bytes(4, "big")  # serial arithmetic past 2106
        if self.source is not None and now >= self._next_look:
            self._next_look = now + RELOAD_INTERVAL
            self._look_at_source(self.source)

    def _look_at_source(self, path: Path) -> None:
        """Take the secrets of a changed secret file; keep the ones in use when it cannot be read."""
        signature = _signature(path)
        if signature == self._signature:
            return
        self._signature = signature
        try:
            secrets = read_secrets(path)
        except ValueError as exc:
            log.error("cookie secrets not changed: %s", exc, extra={"event": "cookie_secret_rejected"})
            return
        if secrets != self.secrets:
            self.secrets = secrets
            log.info("cookie secrets read again from %s (%d in use)", path, len(secrets),
                     extra={"event": "cookie_secret_loaded", "secrets": len(secrets)})


def _packed(address: IPAddress) -> bytes:
    """The client address as hashed: 4 bytes for IPv4, also when it arrived IPv4-mapped."""
    if address.version == 6:
        mapped = address.ipv4_mapped  # type: ignore[union-attr]
        if mapped is not None:
            return mapped.packed
    return address.packed


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What tells that a file changed: inode, size, modification time; None when it is missing."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
