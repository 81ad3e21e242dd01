"""DNS over UDP: each datagram is answered at once, in the receiving callback.

With response rate limiting on, the limiter is bound into the handle once, when the protocol
is made, so a query costs the same as without it until the limiter is consulted (after the
answer is known, see `gslb.dns.ratelimit`). TCP never gets a limiter.

A datagram is read whole by the event loop (at most 64 KiB); nothing here or in the parser
allocates by a length field read from the packet.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
from collections.abc import Callable

from gslb.dns.ratelimit import RateLimiter

# handle(data, source, tcp) -> reply or None; QueryHandler.handle, which also takes `limiter=`.
Handle = Callable[..., "bytes | None"]


class UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, handle: Handle, limiter: RateLimiter | None = None) -> None:
        self.handle = handle if limiter is None else functools.partial(handle, limiter=limiter)
        self.limiter = limiter
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:  # type: ignore[type-arg]
        try:
            source = ipaddress.ip_address(addr[0])
        except ValueError:
            return
        reply = self.handle(data, source, False)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors for earlier replies (a client gone away) are not ours to act on.
        pass
