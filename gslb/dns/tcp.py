"""DNS over TCP (RFC 7766): pipelined queries, idle timeout, a cap on connections.

A connection is closed when no complete query has arrived for `idle_timeout` seconds, which
also drops clients that trickle bytes (slowloris) without affecting others. The read buffer
never holds more than one message (at most 65,537 bytes) because each message is answered as
soon as it is complete; reading pauses while the client does not read our replies.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging

from gslb.dns.udp import Handle

log = logging.getLogger(__name__)


class TcpLimits:
    def __init__(self, idle_timeout: float, max_connections: int) -> None:
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.open = 0


class TcpProtocol(asyncio.Protocol):
    def __init__(self, handle: Handle, limits: TcpLimits) -> None:
        self.handle = handle
        self.limits = limits
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.source: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.limits.open >= self.limits.max_connections:
            transport.abort()  # type: ignore[attr-defined]
            return
        self.limits.open += 1
        self.counted = True
        peer = transport.get_extra_info("peername")
        try:
            self.source = ipaddress.ip_address(peer[0])
        except (TypeError, ValueError, IndexError):
            transport.abort()  # type: ignore[attr-defined]
            return
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.limits.idle_timeout, self._idle)

    def _idle(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        answered = False
        while len(buffer) >= 2:
            length = (buffer[0] << 8) | buffer[1]
            if len(buffer) < 2 + length:
                break
            message = bytes(buffer[2 : 2 + length])
            del buffer[: 2 + length]
            answered = True
            assert self.source is not None
            reply = self.handle(message, self.source, True)
            if reply is not None and self.transport is not None:
                self.transport.write(len(reply).to_bytes(2, "big") + reply)
        if answered:
            self._arm_timer()

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.counted:
            self.limits.open -= 1
            self.counted = False
        self.transport = None
