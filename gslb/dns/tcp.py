"""DNS over TCP (RFC 7766): pipelined queries, idle timeout, caps on connections and queries.

Limits, and what each one protects against:

- **Idle timeout.** A connection is closed when no complete query has been answered for
  `idle_timeout` seconds. The timer is re-armed only by a complete message that got a reply
  (or by the client draining our replies, see below), never by a partial one, so a client
  that trickles bytes (slowloris) is dropped after `idle_timeout` like an idle one.
- **Connection cap.** Over `max_connections` open connections, a new one is closed at once.
- **Query cap.** After `max_queries` queries (`dns.tcp.max_queries`, 100,000) on one connection,
  the last reply is written and the connection is closed gracefully; the client opens a new one
  if it needs to. The cap is high because resolvers and load generators pipeline thousands of
  queries on one connection, and reconnecting costs them far more than it protects us.
- **Not a DNS query.** A message that deserves silence (shorter than a header, QR=1, and so a
  length prefix of 0) closes the connection: there is no answer to wait for.
- **Memory.** Nothing is ever allocated by a length field: the two-byte prefix only says how
  many bytes to wait for, so the read buffer holds at most one partial message (65,535 + 2
  bytes) plus the chunk just read. While the client does not read our replies (the
  transport's write buffer is over its high-water mark, 64 KiB), the server stops reading
  from it *and* stops answering what is already buffered; if the client still has not read
  when the idle timer fires, the connection is aborted rather than closed, because a close
  would wait for the client to read the rest.

An UPDATE (with dynamic updates on) is handed to the update service and answered when it is
done, possibly after replies to later queries on the same connection (RFC 7766 section 6.2.1.1
allows that); it does not count towards `max_queries`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging

from gslb.config.model import TcpConfig
from gslb.dns.stats import TcpCounters
from gslb.dns.udp import Handle, UpdateHandle, is_update

log = logging.getLogger(__name__)

FLUSH_AT = 16 * 1024  # bytes of replies written at once at most


class TcpLimits:
    """The limits shared by every connection of a server (`dns.tcp`), and counters for the metrics."""

    def __init__(self, config: TcpConfig) -> None:
        self.idle_timeout = config.idle_timeout
        self.max_connections = config.max_connections
        self.max_queries = config.max_queries
        self.counters = TcpCounters()


class TcpProtocol(asyncio.Protocol):
    def __init__(self, handle: Handle, limits: TcpLimits, update: UpdateHandle | None = None) -> None:
        self.handle = handle
        self.update = update
        self.tasks: set[asyncio.Task[None]] = set()
        self.limits = limits
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.source: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.counted = False
        self.queries = 0
        self.writing_paused = False
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.limits.counters.open >= self.limits.max_connections:
            self.limits.counters.rejected += 1
            self.closing = True
            transport.abort()  # type: ignore[attr-defined]
            return
        self.limits.counters.open += 1
        self.counted = True
        peer = transport.get_extra_info("peername")
        try:
            self.source = ipaddress.ip_address(peer[0])
        except (TypeError, ValueError, IndexError):
            self.closing = True
            transport.abort()  # type: ignore[attr-defined]
            return
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.limits.idle_timeout, self._idle)

    def _idle(self) -> None:
        transport = self.transport
        if transport is None:
            return
        if transport.get_write_buffer_size():
            # The client does not read: close() would wait for it forever.
            self.limits.counters.aborted += 1
            transport.abort()
            return
        if not self.closing:
            self.limits.counters.idle_closed += 1
        self._close()

    def _close(self) -> None:
        """Close after the replies already written; abort if that takes longer than the timeout."""
        self.closing = True
        if self.transport is not None:
            self.transport.close()
            self._arm_timer()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.buffer += data
        self._answer_buffered()

    def _answer_buffered(self) -> None:
        """Answer every complete message in the buffer. Replies of one read go out together (a
        write per reply would cost a system call each), in writes of at most FLUSH_AT bytes so
        that a client that does not read is noticed (pause_writing) before much piles up."""
        buffer = self.buffer
        pos = 0
        out: list[bytes] = []
        pending = 0
        answered = False
        try:
            while len(buffer) - pos >= 2 and not self.writing_paused and not self.closing:
                length = (buffer[pos] << 8) | buffer[pos + 1]
                if len(buffer) - pos < 2 + length:
                    break
                message = bytes(buffer[pos + 2 : pos + 2 + length])
                pos += 2 + length
                assert self.source is not None
                if self.update is not None and is_update(message):
                    task = asyncio.ensure_future(self._answer_update(message, self.source))
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)
                    continue
                reply = self.handle(message, self.source, True)
                if reply is None or self.transport is None:
                    self.limits.counters.bad_messages += 1
                    self._write(out)
                    self._close()
                    return
                answered = True
                self.queries += 1
                out.append(len(reply).to_bytes(2, "big") + reply)
                pending += len(reply) + 2
                if self.queries >= self.limits.max_queries:
                    self.limits.counters.query_capped += 1
                    self._write(out)
                    self._close()
                    return
                if pending >= FLUSH_AT:
                    self._write(out)  # may call pause_writing(), which ends this loop until the client reads
                    out, pending = [], 0
            self._write(out)
        finally:
            del buffer[:pos]
        if answered:
            self._arm_timer()

    def _write(self, replies: list[bytes]) -> None:
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))

    async def _answer_update(self, message: bytes, source: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
        assert self.update is not None
        reply = await self.update(message, source, True)
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if reply is None:
            self.limits.counters.bad_messages += 1
            self._close()
            return
        transport.write(len(reply).to_bytes(2, "big") + reply)
        self._arm_timer()

    def pause_writing(self) -> None:
        self.writing_paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self.transport is None or self.closing:
            return
        self._arm_timer()  # the client is reading: it is alive
        self.transport.resume_reading()
        self._answer_buffered()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.counted:
            self.limits.counters.open -= 1
            self.counted = False
        self.transport = None
        self.buffer.clear()
