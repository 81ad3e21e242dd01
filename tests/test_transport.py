"""Sizes, truncation and TCP (RFC 7766) against the real server, with dnspython, dig and kdig."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import time

import dns.flags
import dns.message
import dns.rcode
import pytest

from tests.harness import RunningServer, read_tcp_message

BIG_ADDRESSES = ", ".join(f"192.0.2.{i}" for i in range(100, 180))
MEDIUM_ADDRESSES = ", ".join(f"198.51.100.{i}" for i in range(1, 21))
BIG_ZONE = f"""
zone: big.test.
ns: [ns1.big.test.]
records:
  ns1: {{A: 127.0.0.1}}
  big:
    A: [{BIG_ADDRESSES}]
  medium:
    A: [{MEDIUM_ADDRESSES}]
  text:
    TXT: ["{"x" * 600}"]
"""


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory):
    from tests.harness import start_server

    workdir = tmp_path_factory.mktemp("big")
    zones = workdir / "zones"
    zones.mkdir()
    (zones / "big.test.yaml").write_text(BIG_ZONE)
    server = start_server(workdir, zones, {"dns": {"tcp": {"idle_timeout": "1s", "max_connections": 3}}})
    yield server
    server.stop()


def test_plain_udp_never_exceeds_512_bytes(big_server: RunningServer) -> None:
    # 20 A records are about 360 bytes: fit without EDNS.
    medium = big_server.ask("medium.big.test", "A", use_edns=False)
    assert len(medium.answer[0]) == 20
    # 80 A records do not fit in 512 bytes: TC=1 and no records at all.
    query = dns.message.make_query("big.big.test", "A", use_edns=False)
    raw = big_server.raw_udp(query.to_wire())
    assert raw is not None and len(raw) <= 512
    reply = dns.message.from_wire(raw)
    assert reply.flags & dns.flags.TC
    assert reply.answer == reply.authority == reply.additional == []
    assert reply.question[0].name.to_text() == "big.big.test."


def test_edns_limit_is_min_of_client_and_server(big_server: RunningServer) -> None:
    # 80 records = 1,3xx bytes: over our max_udp_size (1232) even when the client offers 4096.
    query = dns.message.make_query("big.big.test", "A", use_edns=0, payload=4096)
    raw = big_server.raw_udp(query.to_wire())
    assert raw is not None and len(raw) <= 1232
    reply = dns.message.from_wire(raw)
    assert reply.flags & dns.flags.TC
    assert reply.answer == []
    assert reply.edns == 0  # OPT is kept in the truncated reply


def test_client_payload_below_512_counts_as_512(big_server: RunningServer) -> None:
    reply = big_server.ask("medium.big.test", "A", use_edns=0, payload=100)
    assert not reply.flags & dns.flags.TC
    assert len(reply.answer[0]) == 20


def test_tcp_carries_the_whole_rrset(big_server: RunningServer) -> None:
    reply = big_server.tcp(dns.message.make_query("big.big.test", "A"))
    assert not reply.flags & dns.flags.TC
    assert len(reply.answer[0]) == 80
    text = big_server.tcp(dns.message.make_query("text.big.test", "TXT"))
    assert b"".join(text.answer[0][0].strings) == b"x" * 600


@pytest.mark.parametrize("tool", ["dig", "kdig"])
def test_real_clients_retry_over_tcp_after_tc(big_server: RunningServer, tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed (make test installs it)")
    args = [tool, f"@{big_server.host}", "-p", str(big_server.port), "big.big.test", "A", "+norecurse"]
    if tool == "dig":
        args += ["+bufsize=1232", "+time=2", "+tries=1"]
    else:
        args += ["+bufsize=1232", "+time=2", "+retry=0"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=20).stdout
    # Each tool says in its own words that it saw TC=1 and asked again over TCP.
    assert ("Truncated, retrying in TCP mode" in out) if tool == "dig" else ("(TCP)" in out), out
    answers = [line for line in out.splitlines() if line.startswith("big.big.test.") and "\tA\t" in line]
    assert len(answers) == 80, out


def _tcp_query(sock: socket.socket, qid: int, name: str) -> None:
    query = dns.message.make_query(name, "A")
    query.id = qid
    wire = query.to_wire()
    sock.sendall(struct.pack("!H", len(wire)) + wire)


def test_tcp_pipelined_queries_on_one_connection(big_server: RunningServer) -> None:
    with socket.create_connection((big_server.host, big_server.port), timeout=3) as sock:
        names = ["medium.big.test", "ns1.big.test", "big.big.test", "nothing.big.test"] * 5
        # All queries written back to back before reading anything.
        for qid, name in enumerate(names, start=100):
            _tcp_query(sock, qid, name)
        replies = {reply.id: reply for reply in (read_tcp_message(sock) for _ in names)}
    assert sorted(replies) == list(range(100, 100 + len(names)))
    assert len(replies[102].answer[0]) == 80
    assert replies[103].rcode() == dns.rcode.NXDOMAIN


def test_tcp_query_split_across_segments(big_server: RunningServer) -> None:
    wire = dns.message.make_query("ns1.big.test", "A").to_wire()
    framed = struct.pack("!H", len(wire)) + wire
    with socket.create_connection((big_server.host, big_server.port), timeout=3) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(framed), 5):
            sock.sendall(framed[i : i + 5])
            time.sleep(0.01)
        reply = read_tcp_message(sock)
    assert reply.answer[0][0].to_text() == "127.0.0.1"


def test_idle_tcp_connection_is_closed(big_server: RunningServer) -> None:
    with socket.create_connection((big_server.host, big_server.port), timeout=5) as sock:
        _tcp_query(sock, 7, "ns1.big.test")
        assert read_tcp_message(sock).id == 7
        started = time.monotonic()
        assert sock.recv(1) == b""  # the server closes after idle_timeout (1 s)
        assert time.monotonic() - started < 4.5


def test_connection_cap(big_server: RunningServer) -> None:
    held = [socket.create_connection((big_server.host, big_server.port), timeout=3) for _ in range(3)]
    try:
        for sock in held:  # make sure the server has accepted each of them
            _tcp_query(sock, 1, "ns1.big.test")
            read_tcp_message(sock)
        extra = socket.create_connection((big_server.host, big_server.port), timeout=3)
        with extra:
            try:
                _tcp_query(extra, 2, "ns1.big.test")
                data = extra.recv(2)
            except (ConnectionError, OSError):
                data = b""
            assert data == b""  # over the cap: closed without an answer
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    # Once connections are gone, new ones are served again.
    assert big_server.tcp(dns.message.make_query("ns1.big.test", "A")).rcode() == dns.rcode.NOERROR
