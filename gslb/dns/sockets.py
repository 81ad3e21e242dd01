"""Listening sockets for DNS: one UDP and one TCP socket per configured address, same port.

Sockets are made by hand rather than by asyncio so that IPv6 sockets are IPv6-only (so
`0.0.0.0:53` and `[::]:53` can both be listed), SO_REUSEPORT can be set for worker processes,
and port 0 (tests) gives UDP and TCP the same free port.
"""

from __future__ import annotations

import ipaddress
import socket

from gslb.common.endpoint import Endpoint, ListenError

UDP_RECEIVE_BUFFER = 4 * 1024 * 1024
PORT_ATTEMPTS = 20


def _socket(endpoint: Endpoint, kind: int, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ipaddress.ip_address(endpoint.host).version == 6 else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((endpoint.host, port))
        sock.setblocking(False)
        return sock
    except BaseException:
        sock.close()
        raise


def bind_pair(endpoint: Endpoint, reuse_port: bool = False) -> tuple[socket.socket, socket.socket]:
    """A bound UDP socket and a bound (not yet listening) TCP socket on the same port; ListenError
    says which one could not be had, and why."""
    attempts = PORT_ATTEMPTS if endpoint.port == 0 else 1
    for attempt in range(attempts):
        try:
            udp = _socket(endpoint, socket.SOCK_DGRAM, endpoint.port, reuse_port)
        except OSError as exc:
            raise ListenError(endpoint, "DNS over UDP", exc) from None
        port = udp.getsockname()[1]
        try:
            tcp = _socket(endpoint, socket.SOCK_STREAM, port, reuse_port)
        except OSError as exc:
            udp.close()
            if attempt == attempts - 1:
                raise ListenError(Endpoint(endpoint.host, port), "DNS over TCP", exc) from None
            continue
        return udp, tcp
    raise AssertionError("unreachable: the last attempt returns or raises")
