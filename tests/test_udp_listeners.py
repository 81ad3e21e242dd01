"""The two UDP listeners: batched system calls (the C helper) and asyncio's, answering alike."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from pathlib import Path

import dns.message
import pytest

from gslb.common.endpoint import Endpoint
from gslb.config.model import Config
from gslb.dns import udp
from gslb.dns.querypath import build_query_path
from gslb.geo.database import open_geodb
from gslb.zones.directory import load_zone_paths, zone_files
from gslb.zones.zoneset import ZoneSet
from tests.testdata import EXAMPLE_ZONES, built_test_geodb

pytestmark = pytest.mark.skipif(not udp.BATCHING, reason="the C helper gslb.dns._udpbatch is not built")


def bound_socket(family: int, host: str) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.setblocking(False)
    return sock


@pytest.mark.parametrize(("family", "host"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_every_waiting_datagram_is_answered_to_its_sender(family: int, host: str) -> None:
    server = bound_socket(family, host)
    clients = [socket.socket(family, socket.SOCK_DGRAM) for _ in range(3)]
    seen_sources: set[bytes] = set()

    def handle(data: bytes, source: bytes) -> bytes | None:
        seen_sources.add(source)
        return None if data.startswith(b"quiet") else b"re:" + data

    try:
        for index in range(150):  # more than one batch
            clients[index % 3].sendto(f"q{index}".encode(), server.getsockname())
        clients[0].sendto(b"quiet please", server.getsockname())
        answered, dropped = udp._udpbatch.serve(server.fileno(), handle, 8)
        assert (answered, dropped) == (150, 0)
        assert seen_sources == {ipaddress.ip_address(host).packed}
        replies = set()
        for client in clients:
            client.settimeout(1)
            for _ in range(50):
                replies.add(client.recv(100))
        assert replies == {f"re:q{i}".encode() for i in range(150)}
        clients[0].settimeout(0.2)
        with pytest.raises(TimeoutError):
            clients[0].recv(100)  # silence for the quiet one
    finally:
        server.close()
        for client in clients:
            client.close()


def test_an_exception_in_the_handler_is_raised_after_the_ready_replies_went_out() -> None:
    server = bound_socket(socket.AF_INET, "127.0.0.1")
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(1)

    def handle(data: bytes, source: bytes) -> bytes:
        if data == b"boom":
            raise RuntimeError("boom")
        return data

    try:
        for payload in (b"one", b"two", b"boom", b"four"):
            client.sendto(payload, server.getsockname())
        with pytest.raises(RuntimeError, match="boom"):
            udp._udpbatch.serve(server.fileno(), handle, 1)
        assert {client.recv(10), client.recv(10)} == {b"one", b"two"}
    finally:
        server.close()
        client.close()


def ask_raw(data: bytes, port: int) -> bytes:
    """The reply's bytes as they came (dnspython would shuffle RRsets if it wrote them again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(data, ("127.0.0.1", port))
        return sock.recv(65535)


def test_both_listeners_give_the_same_replies(tmp_path: Path) -> None:
    """The same queries through the batched listener and through asyncio's: the same bytes."""
    path = build_query_path(Config(geodb=str(built_test_geodb()), state_dir=tmp_path / "state"),
                            open_geodb(str(built_test_geodb())))
    path.zones_changed(ZoneSet(load_zone_paths(zone_files(EXAMPLE_ZONES)).loaded))
    queries = [dns.message.make_query(name, rdtype, use_edns=0) for name in
               ("legacy.example.com", "mail.example.com", "nope.example.com", "api.example.com")
               for rdtype in ("A", "AAAA", "MX")]

    async def ask_through(batched: bool) -> list[bytes]:
        from gslb.config.model import DnsConfig
        from gslb.dns.server import DnsServer

        server = DnsServer(path.handler.handle, DnsConfig(), (Endpoint("127.0.0.1", 0),), batch_udp=batched)
        [bound] = await server.start()
        assert server.batch_udp is batched
        try:
            return [(await asyncio.to_thread(ask_raw, query.to_wire(), bound.port))[2:] for query in queries]
        finally:
            await server.close()

    assert asyncio.run(ask_through(True)) == asyncio.run(ask_through(False))
