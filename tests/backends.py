"""Real health-check backends on loopback addresses, for the health tests.

Each backend is an aiohttp server bound to its own 127.x address, running on an event loop in a
background thread, whose answer the test can flip (200 or 500), slow down past a check's timeout,
or stop. Servers on several addresses can share one port, as pool members behind one check do.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")


@dataclass
class HttpBackend:
    address: str
    port: int
    status: int = 200
    body: str = "ok"
    delay: float = 0.0
    load: float | None = None
    hits: int = 0
    runner: web.AppRunner | None = field(default=None, repr=False)

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        headers = {"X-Load": str(self.load)} if self.load is not None else {}
        return web.Response(status=self.status, text=self.body, headers=headers)


def _tcp_socket(address: str) -> socket.socket:
    """A TCP socket of the address's family (IPv6 members bind ::1)."""
    return socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)


def free_port(addresses: list[str]) -> int:
    """A TCP port free on every one of the addresses, IPv4 or IPv6 (bound and released at once)."""
    for _ in range(50):
        with _tcp_socket(addresses[0]) as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        sockets = []
        try:
            for address in addresses:
                sock = _tcp_socket(address)
                sockets.append(sock)
                sock.bind((address, port))
            return port
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no common free port")


class Backends:
    """Owns the background loop and every backend started on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.http: list[HttpBackend] = []

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def start_http(self, address: str, port: int) -> HttpBackend:
        backend = HttpBackend(address, port)

        async def start() -> None:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", backend.handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, address, port, reuse_address=True).start()
            backend.runner = runner

        self._run(start())
        self.http.append(backend)
        return backend

    def start_http_on_one_port(self, addresses: list[str]) -> list[HttpBackend]:
        """A backend on each address, all on one free port: the members behind one check."""
        port = free_port(addresses)
        return [self.start_http(address, port) for address in addresses]

    def stop_http(self, backend: HttpBackend) -> None:
        if backend.runner is not None:
            self._run(backend.runner.cleanup())
            backend.runner = None

    def close(self) -> None:
        for backend in self.http:
            self.stop_http(backend)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()
