"""DNS over UDP: each datagram is answered at once, in the callback that receives it.

Two listeners do the same job. Where the optional C helper `gslb.dns._udpbatch` is built (Linux
with a C compiler at install time), `BatchedUdpListener` reads every waiting datagram with one
recvmmsg and sends the replies with one sendmmsg per batch of 64: under load, system calls and
the event loop's bookkeeping cost more per query than answering it. Without the helper,
`UdpProtocol` takes datagrams from the asyncio event loop one at a time. Both answer through the
same `handle`, so replies are the same.

With response rate limiting on, the limiter is bound into the handle once, when the listener is
made, so a query costs the same as without it until the limiter is consulted (after the answer
is known, see `gslb.dns.ratelimit`). TCP never gets a limiter.

A datagram is read whole (at most 64 KiB); nothing here or in the parser allocates by a length
field read from the packet.

With dynamic updates on, an UPDATE (opcode 5) goes to the update service instead of `handle`:
it is answered later (it may wait for Redis), with its own send. The batched listener has the
C helper pick UPDATEs out by their opcode byte (`deferred`), the asyncio one uses
`UpdatingUdpProtocol`. Without updates neither looks for them, so no query pays for the check.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable

from gslb.dns.ratelimit import RateLimiter
from gslb.dns.stats import UdpCounters

try:
    from gslb.dns import _udpbatch
except ImportError:  # pragma: no cover - built on every machine the tests run on
    _udpbatch = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# handle(data, source, tcp) -> reply or None; QueryHandler.handle, which also takes `limiter=`.
Handle = Callable[..., "bytes | None"]
# update(data, source, tcp) -> reply or None, later: UpdateService.handle, or a worker's forwarder.
UpdateHandle = Callable[[bytes, IPAddress, bool], Awaitable["bytes | None"]]
OPCODE_BITS, UPDATE_BITS = 0x78, 0x28  # in the third byte of the header: opcode 5

BATCHING = _udpbatch is not None
BATCHES_PER_TURN = 8  # then the event loop serves TCP, HTTP and timers before more UDP
SOURCES_LIMIT = 65536  # sender addresses kept parsed; resolvers are far fewer than their clients


class SourceAddresses:
    """Sender addresses parsed once: the same resolvers ask again and again, and parsing an
    address costs more than answering from the compiled path."""

    def __init__(self) -> None:
        self._parsed: dict[str | bytes, IPAddress] = {}

    def get(self, raw: str | bytes) -> IPAddress | None:
        """The address from its text (asyncio) or packed bytes (recvmmsg); None if it is none of ours."""
        found = self._parsed.get(raw)
        if found is None:
            try:
                found = ipaddress.ip_address(raw)
            except ValueError:  # a scoped IPv6 address (fe80::1%eth0) is no client of ours
                return None
            if len(self._parsed) >= SOURCES_LIMIT:
                self._parsed.clear()
            self._parsed[raw] = found
        return found


def _bind_limiter(handle: Handle, limiter: RateLimiter | None) -> Handle:
    return handle if limiter is None else functools.partial(handle, limiter=limiter)


def is_update(data: bytes) -> bool:
    """Whether a DNS message is an UPDATE (RFC 2136), by its opcode."""
    return len(data) > 2 and data[2] & OPCODE_BITS == UPDATE_BITS


class Updates:
    """Answers UPDATEs for a UDP listener: each in a task of its own, the reply sent when ready."""

    def __init__(self, update: UpdateHandle) -> None:
        self.update = update
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, data: bytes, source: IPAddress, send: Callable[[bytes], None]) -> None:
        task = asyncio.ensure_future(self._answer(data, source, send))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _answer(self, data: bytes, source: IPAddress, send: Callable[[bytes], None]) -> None:
        reply = await self.update(data, source, False)
        if reply is not None:
            send(reply)


class UdpProtocol(asyncio.DatagramProtocol):
    """The asyncio listener, one datagram per callback (the fallback without the C helper)."""

    def __init__(self, handle: Handle, limiter: RateLimiter | None = None) -> None:
        self.handle = _bind_limiter(handle, limiter)
        self.transport: asyncio.DatagramTransport | None = None
        self._sources = SourceAddresses()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:  # type: ignore[type-arg]
        source = self._sources.get(addr[0])
        if source is None:
            return
        reply = self.handle(data, source, False)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors for earlier replies (a client gone away) are not ours to act on.
        pass


class UpdatingUdpProtocol(UdpProtocol):
    """The asyncio listener with dynamic updates on: an UPDATE goes to `update`, the rest as before."""

    def __init__(self, handle: Handle, update: UpdateHandle, limiter: RateLimiter | None = None) -> None:
        super().__init__(handle, limiter)
        self.updates = Updates(update)

    def datagram_received(self, data: bytes, addr: tuple) -> None:  # type: ignore[type-arg]
        # UdpProtocol's body written out again rather than called: one call less per query.
        source = self._sources.get(addr[0])
        if source is None:
            return
        if len(data) > 2 and data[2] & OPCODE_BITS == UPDATE_BITS:
            self.updates.start(data, source, lambda reply: self._send(reply, addr))
            return
        reply = self.handle(data, source, False)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def _send(self, reply: bytes, addr: tuple) -> None:  # type: ignore[type-arg]
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)


class BatchedUdpListener:
    """The batched listener: the socket is watched by the event loop and drained in batches."""

    def __init__(self, sock: socket.socket, handle: Handle, limiter: RateLimiter | None,
                 counters: UdpCounters, update: UpdateHandle | None = None) -> None:
        self.sock = sock
        self.handle = _bind_limiter(handle, limiter)
        self.counters = counters
        self._sources = SourceAddresses()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.updates = Updates(update) if update is not None else None
        # The C helper's arguments: with updates, a fourth that it hands UPDATEs to.
        self._serve_args: tuple = (self._answer, BATCHES_PER_TURN) + ((self._defer,) if update else ())

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._readable)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
            self._loop = None
        self.sock.close()

    def _readable(self) -> None:
        try:
            _, dropped = _udpbatch.serve(self.sock.fileno(), *self._serve_args)
        except Exception:  # a bug must not stop UDP: the next readiness tries again
            log.exception("answering a batch of UDP queries failed")
            return
        self.counters.replies_dropped += dropped

    def _answer(self, data: bytes, packed: bytes) -> bytes | None:
        source = self._sources.get(packed)
        return None if source is None else self.handle(data, source, False)

    def _defer(self, data: bytes, packed: bytes, port: int) -> None:
        """An UPDATE, picked out by the C helper: answered when the update service is done."""
        source = self._sources.get(packed)
        if source is not None and self.updates is not None:
            self.updates.start(data, source, lambda reply: self._send(reply, (str(source), port)))

    def _send(self, reply: bytes, addr: tuple[str, int]) -> None:
        if self._loop is None:
            return  # closed meanwhile
        try:
            self.sock.sendto(reply, addr)
        except OSError:  # a full send buffer, or the sender unreachable: UDP clients ask again
            self.counters.replies_dropped += 1
