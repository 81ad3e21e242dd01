"""UPDATE messages through every listener: batched UDP (the C helper), asyncio UDP, and TCP.

With an update handle, an UPDATE goes to it and its reply, made later, reaches the sender on
the port it came from; every other message still goes to the query handler. Without one,
nothing changes: an UPDATE goes to the query handler like any other message.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct

import pytest

from gslb.common.endpoint import Endpoint
from gslb.config.model import DnsConfig
from gslb.dns import udp
from gslb.dns.server import DnsServer

UPDATE = b"\x12\x34\x28\x00" + b"\x00" * 8  # opcode 5
QUERY = b"\x56\x78\x01\x00" + b"\x00" * 8  # opcode 0


def handle(data: bytes, source: object, tcp: bool) -> bytes:
    return b"query:" + data[:2]


async def update(data: bytes, source: ipaddress.IPv4Address | ipaddress.IPv6Address, tcp: bool) -> bytes:
    await asyncio.sleep(0.05)  # as if it waited for Redis
    return b"update:" + data[:2] + (b" tcp" if tcp else b" udp")


def exchange(port: int, payloads: list[bytes], tcp: bool) -> set[bytes]:
    """Send every payload on one socket; the replies, in whatever order they come."""
    replies: set[bytes] = set()
    if tcp:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            for payload in payloads:
                sock.sendall(len(payload).to_bytes(2, "big") + payload)
            for _ in payloads:
                length = struct.unpack("!H", sock.recv(2, socket.MSG_WAITALL))[0]
                replies.add(sock.recv(length, socket.MSG_WAITALL))
        return replies
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        for payload in payloads:
            sock.sendto(payload, ("127.0.0.1", port))
        for _ in payloads:
            replies.add(sock.recv(100))
    return replies


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "asyncio"])
def test_updates_go_to_the_update_handle_and_their_replies_come_back(batched: bool) -> None:
    if batched and not udp.BATCHING:
        pytest.fail("the C helper gslb.dns._udpbatch is not built (pip install -e . builds it)")

    async def run() -> tuple[set[bytes], set[bytes]]:
        server = DnsServer(handle, DnsConfig(), (Endpoint("127.0.0.1", 0),), batch_udp=batched, update=update)
        [bound] = await server.start()
        try:
            payloads = [UPDATE, QUERY, UPDATE[:1] + b"\x35" + UPDATE[2:]]
            over_udp = await asyncio.to_thread(exchange, bound.port, payloads, False)
            over_tcp = await asyncio.to_thread(exchange, bound.port, payloads, True)
            return over_udp, over_tcp
        finally:
            await server.close()

    over_udp, over_tcp = asyncio.run(run())
    assert over_udp == {b"update:\x12\x34 udp", b"query:\x56\x78", b"update:\x12\x35 udp"}
    assert over_tcp == {b"update:\x12\x34 tcp", b"query:\x56\x78", b"update:\x12\x35 tcp"}


def test_without_an_update_handle_an_update_is_a_query_like_any_other() -> None:
    async def run() -> set[bytes]:
        server = DnsServer(handle, DnsConfig(), (Endpoint("127.0.0.1", 0),))
        [bound] = await server.start()
        try:
            return await asyncio.to_thread(exchange, bound.port, [UPDATE, QUERY], False)
        finally:
            await server.close()

    assert asyncio.run(run()) == {b"query:\x12\x34", b"query:\x56\x78"}


def test_the_c_helper_hands_updates_over_with_the_senders_port() -> None:
    if not udp.BATCHING:
        pytest.fail("the C helper gslb.dns._udpbatch is not built (pip install -e . builds it)")
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.setblocking(False)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(1)
    deferred: list[tuple[bytes, bytes, int]] = []
    try:
        for payload in (QUERY, UPDATE, b"\x00", QUERY):
            client.sendto(payload, server.getsockname())
        answered, dropped = udp._udpbatch.serve(
            server.fileno(), lambda data, source: b"re:" + data[:2], 4,
            lambda data, source, port: deferred.append((data, source, port)))
        assert (answered, dropped) == (3, 0)  # the two queries and the one-byte datagram
        assert deferred == [(UPDATE, ipaddress.ip_address("127.0.0.1").packed, client.getsockname()[1])]
        assert sorted(client.recv(100) for _ in range(3)) == [b"re:\x00", b"re:\x56\x78", b"re:\x56\x78"]

        def boom(data: bytes, source: bytes, port: int) -> None:
            raise RuntimeError("boom")

        client.sendto(QUERY, server.getsockname())
        client.sendto(UPDATE, server.getsockname())
        with pytest.raises(RuntimeError, match="boom"):
            udp._udpbatch.serve(server.fileno(), lambda data, source: data[:2], 1, boom)
        assert client.recv(100) == QUERY[:2]  # the reply made before the exception still went out
    finally:
        server.close()
        client.close()
