"""DNS over UDP: each datagram is answered at once, in the receiving callback."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable

Handle = Callable[[bytes, "ipaddress.IPv4Address | ipaddress.IPv6Address", bool], "bytes | None"]


class UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, handle: Handle) -> None:
        self.handle = handle
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
