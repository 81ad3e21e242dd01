"""Starting and stopping the DNS listeners on every configured address."""

from __future__ import annotations

import asyncio
import logging
import socket

from gslb.common.endpoint import Endpoint
from gslb.config.model import DnsConfig
from gslb.dns.ratelimit import RateLimiter
from gslb.dns.sockets import bind_pair
from gslb.dns.stats import UdpCounters
from gslb.dns.tcp import TcpLimits, TcpProtocol
from gslb.dns.udp import BATCHING, BatchedUdpListener, Handle, UdpProtocol, UpdateHandle, UpdatingUdpProtocol

log = logging.getLogger(__name__)


class DnsServer:
    def __init__(
        self, handle: Handle, config: DnsConfig, listen: tuple[Endpoint, ...], reuse_port: bool = False,
        rate_limiter: RateLimiter | None = None, batch_udp: bool = BATCHING, update: UpdateHandle | None = None,
    ) -> None:
        """`batch_udp`: answer UDP with batched system calls (needs the C helper, see gslb.dns.udp).

        `update`: dynamic updates are on, and UPDATE messages go there (None: to `handle`, NOTIMP).
        """
        self.handle = handle
        self.rate_limiter = rate_limiter  # UDP only; `handle` must then accept `limiter=`
        self.update = update
        self.listen = listen
        self.reuse_port = reuse_port
        self.limits = TcpLimits(config.tcp)
        self.udp_counters = UdpCounters()
        self.batch_udp = batch_udp and BATCHING
        self.bound: list[Endpoint] = []
        self._transports: list[asyncio.BaseTransport] = []
        self._batched: list[BatchedUdpListener] = []
        self._servers: list[asyncio.base_events.Server] = []

    async def start(self) -> list[Endpoint]:
        loop = asyncio.get_running_loop()
        for endpoint in self.listen:
            udp, tcp = bind_pair(endpoint, self.reuse_port)
            if self.batch_udp:
                listener = BatchedUdpListener(udp, self.handle, self.rate_limiter, self.udp_counters, self.update)
                listener.start()
                self._batched.append(listener)
            else:
                transport, _ = await loop.create_datagram_endpoint(self._udp_protocol, sock=udp)
                self._transports.append(transport)
            tcp.listen(socket.SOMAXCONN)
            server = await loop.create_server(lambda: TcpProtocol(self.handle, self.limits, self.update), sock=tcp)
            self._servers.append(server)
            self.bound.append(Endpoint(endpoint.host, udp.getsockname()[1]))
        return self.bound

    def _udp_protocol(self) -> UdpProtocol:
        """The plain protocol unless updates are on: queries then pay nothing for them."""
        if self.update is None:
            return UdpProtocol(self.handle, self.rate_limiter)
        return UpdatingUdpProtocol(self.handle, self.update, self.rate_limiter)

    @property
    def is_open(self) -> bool:
        return bool(self._servers) and all(server.is_serving() for server in self._servers)

    async def close(self) -> None:
        for listener in self._batched:
            listener.close()
        for transport in self._transports:
            transport.close()
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self._batched.clear()
        self._transports.clear()
        self._servers.clear()
