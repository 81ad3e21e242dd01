"""TCP limits against the real server: slowloris, the per-connection query cap, clients that do
not read, and length prefixes of 0 and 65,535."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.rcode
import pytest

from tests.harness import RunningServer, read_tcp_message, start_server

IDLE = 1.0
TEXTS = ", ".join(f'"{i:03d}{"x" * 250}"' for i in range(60))
ZONE = f"""
zone: limits.test.
ns: [ns1.limits.test.]
records:
  ns1: {{A: 127.0.0.1}}
  huge:
    TXT: [{TEXTS}]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("tcp-limits")
    zones = workdir / "zones"
    zones.mkdir()
    (zones / "limits.test.yaml").write_text(ZONE)
    tcp = {"idle_timeout": f"{IDLE}s", "max_connections": 50, "max_queries": 1000}
    running = start_server(workdir, zones, {"dns": {"tcp": tcp}})
    yield running
    running.stop()


def _framed(name: str, qid: int = 1, rdtype: str = "A") -> bytes:
    query = dns.message.make_query(name, rdtype)
    query.id = qid
    wire = query.to_wire()
    return struct.pack("!H", len(wire)) + wire


def _closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """True when the server closes (or resets) the connection within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _served_quickly(server: RunningServer) -> float:
    """One TCP and one UDP query from another client; the slower of the two, in seconds."""
    started = time.monotonic()
    reply = server.tcp(dns.message.make_query("ns1.limits.test", "A"), timeout=2)
    assert reply.rcode() == dns.rcode.NOERROR
    reply = server.udp(dns.message.make_query("ns1.limits.test", "A"), timeout=2)
    assert reply.rcode() == dns.rcode.NOERROR
    return time.monotonic() - started


def test_slowloris_is_dropped_after_the_idle_timeout_without_blocking_others(server: RunningServer) -> None:
    framed = _framed("ns1.limits.test")  # about 35 bytes: 17 s at one byte every 0.5 s
    closed_after: list[float] = []

    def trickle() -> None:
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            started = time.monotonic()
            for byte in framed:
                try:
                    sock.sendall(bytes((byte,)))
                except OSError:
                    break
                # A closed connection shows as EOF (or a reset) on a non-blocking read.
                sock.settimeout(0.5)
                try:
                    if sock.recv(1) == b"":
                        break
                except TimeoutError:
                    continue
                except OSError:
                    break
            closed_after.append(time.monotonic() - started)

    thread = threading.Thread(target=trickle)
    thread.start()
    # Meanwhile another client is served at once, several times.
    slowest = max(_served_quickly(server) for _ in range(5))
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert slowest < 0.5
    assert closed_after and closed_after[0] < IDLE + 2.0, closed_after  # far less than the 17 s it needed


def test_the_connection_closes_after_1000_queries(server: RunningServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"".join(_framed("ns1.limits.test", qid) for qid in range(1010)))
        replies = [read_tcp_message(sock) for _ in range(1000)]
        assert [r.id for r in replies] == list(range(1000))
        # Closed gracefully right after the 1000th reply (long before the idle timeout):
        # queries 1000..1009 get no answer.
        sock.settimeout(IDLE / 2)
        assert sock.recv(65536) == b""


def test_a_client_that_never_reads_does_not_stop_others_and_is_dropped(server: RunningServer) -> None:
    before = _rss_kib(server.proc.pid)
    queries = 900  # under the per-connection cap; each reply is about 16 KB: 14 MB in all
    reply_size = len(server.tcp(dns.message.make_query("huge.limits.test", "TXT")).to_wire())
    assert reply_size > 15_000
    stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, set before connecting
    try:
        stalled.connect((server.host, server.port))
        stalled.sendall(b"".join(_framed("huge.limits.test", qid, "TXT") for qid in range(queries)))
        time.sleep(0.3)
        # The server stopped answering it once its replies piled up, yet answers everyone else at once.
        assert max(_served_quickly(server) for _ in range(5)) < 0.5
        grown = _rss_kib(server.proc.pid) - before
        assert grown < 4 * 1024, f"server grew by {grown} KiB for {queries} unread answers"
        # Its idle timer is not re-armed while it does not read: aborted after the timeout.
        time.sleep(IDLE + 1.0)
        received = 0
        stalled.settimeout(3)
        try:
            while data := stalled.recv(65536):
                received += len(data)
        except ConnectionResetError:
            pass
        assert received < queries * reply_size / 2, received  # most answers were never made
    finally:
        stalled.close()
    assert _served_quickly(server) < 0.5


def test_a_zero_length_message_closes_the_connection(server: RunningServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(_framed("ns1.limits.test", 1))
        assert read_tcp_message(sock).id == 1
        sock.sendall(b"\x00\x00" + _framed("ns1.limits.test", 2))
        # Closed at once (not after the idle timeout), and the query after it is not answered.
        sock.settimeout(IDLE / 2)
        assert sock.recv(65536) == b""


def test_a_65535_byte_message_is_read_and_a_partial_one_times_out(server: RunningServer) -> None:
    query = dns.message.make_query("ns1.limits.test", "A", use_edns=False)
    query.id = 9
    wire = query.to_wire()
    padded = wire + b"\x00" * (65535 - len(wire))  # the longest message a prefix can announce
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"\xff\xff" + padded)
        reply = read_tcp_message(sock)
        assert reply.id == 9 and reply.rcode() == dns.rcode.NOERROR
        # A prefix of 65,535 with only part of the message: the server waits, then closes.
        sock.sendall(b"\xff\xff" + b"\x00" * 1000)
        started = time.monotonic()
        assert _closed_by_server(sock, IDLE + 3.0)
        assert time.monotonic() - started < IDLE + 2.0
    assert server.alive()
