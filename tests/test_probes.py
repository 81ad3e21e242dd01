"""Check specs, durations, rise/fall, and single probes against real local servers on 127.0.0.1 / ::1."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from aiohttp import web
from dnslib import QTYPE, RCODE, DNSRecord
from hypothesis import given, settings
from hypothesis import strategies as st

from gslb.checks.spec import CheckSpec, CheckSpecError
from gslb.common.durations import format_duration, parse_duration
from gslb.prober.probes import ProbeResult, describe_error, make_probe_session, run_probe, url_host
from gslb.prober.risefall import Health, RiseFall

T = TypeVar("T")


def run(coro: Awaitable[T], limit: float = 10.0) -> T:
    """Run one async test body with a hard upper bound, so a hang is a failure, not a stuck suite."""

    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await coro

    return asyncio.run(bounded())


def closed_port(family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM) -> int:
    """A port on loopback that nothing listens on (bound, then released)."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    with socket.socket(family, kind) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


class Backend:
    """A real HTTP(S) backend whose answers the test controls, counting what it receives."""

    def __init__(self) -> None:
        self.status = 200
        self.body = "ok"
        self.load_header: str | None = None
        self.hits: Counter[str] = Counter()
        self.hosts: list[str | None] = []
        self.sni: list[str | None] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        self.hosts.append(request.headers.get("Host"))
        if request.path == "/redirect":
            raise web.HTTPFound("/elsewhere")
        headers = {"X-Load": self.load_header} if self.load_header is not None else {}
        return web.Response(status=self.status, text=self.body, headers=headers)

    async def start(self, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None) -> int:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0, ssl_context=ssl_context)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class SilentTcpServer:
    """Accepts connections and never answers: the slow backend that a timeout must cut off."""

    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        await reader.read()  # until the client gives up

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


class DnsResponder(asyncio.DatagramProtocol):
    """A tiny UDP DNS server: answers with the rcode it is told, or misbehaves on purpose."""

    def __init__(self, mode: str = "answer", rcode: int = RCODE.NOERROR) -> None:
        self.mode = mode
        self.rcode = rcode
        self.questions: list[tuple[str, str, int]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        query = DNSRecord.parse(data)
        self.questions.append((str(query.q.qname), QTYPE[query.q.qtype], query.header.rd))
        assert self.transport is not None
        if self.mode == "silent":
            return
        reply = query.reply()
        reply.header.rcode = self.rcode
        if self.mode == "wrong-id":
            reply.header.id = (query.header.id + 1) % 65536
        if self.mode == "garbage":
            self.transport.sendto(data[:2] + b"\x80\x00\x00\x01" + bytes(6) + b"\x05ab", addr)  # truncated
            return
        self.transport.sendto(reply.pack(), addr)

    async def start(self, host: str = "127.0.0.1") -> int:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[1]

    def stop(self) -> None:
        if self.transport is not None:
            self.transport.close()


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 'localhost' and 127.0.0.1, made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("neither the cryptography package nor the openssl CLI is available")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert, key


def http_check(port: int, **kw: Any) -> CheckSpec:
    kw.setdefault("timeout", 1.0)
    return CheckSpec(type="http", port=port, **kw)


# -- durations ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(30, 30.0), (1.5, 1.5), (0, 0.0), ("30s", 30.0), ("2m", 120.0), ("500ms", 0.5), ("1h", 3600.0),
     ("15", 15.0), ("0.25s", 0.25), (" 3s ", 3.0)],
)  # fmt: skip
def test_parse_duration_accepts_numbers_and_suffixes(value: object, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [-1, -0.5, "-3s", "3 d", "s", "", "1m30s", "abc", True, None, [1], float("nan"),
                                   float("inf"), "inf"])  # fmt: skip
def test_parse_duration_rejects_garbage(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_format_duration() -> None:
    assert format_duration(0.5) == "500ms"
    assert format_duration(30) == "30s"


# -- check specs -------------------------------------------------------------------------------------


def test_check_defaults_by_type() -> None:
    assert CheckSpec(type="http").port == 80
    assert CheckSpec(type="https").port == 443
    dns = CheckSpec(type="dns")
    assert (dns.port, dns.qname, dns.qtype) == (53, ".", "SOA")
    spec = CheckSpec(type="http", port=8080)
    assert (spec.path, spec.expect_status, spec.interval, spec.timeout, spec.rise, spec.fall) == (
        "/", (200,), 5.0, 2.0, 2, 3,
    )  # fmt: skip
    assert CheckSpec(type="none").port is None


def test_check_wire_form_round_trips_and_lists_every_applicable_field() -> None:
    spec = CheckSpec.from_json(
        {"type": "https", "port": 8443, "path": "/healthz", "host": "WWW.Example.com.", "expect_status": [204, 200],
         "expect_body": "ok", "interval": "5s", "timeout": 2, "rise": 2, "fall": 3, "insecure": True, "load": "header"}
    )  # fmt: skip
    wire = spec.to_json()
    assert wire == {
        "type": "https", "port": 8443, "path": "/healthz", "host": "www.example.com", "expect_status": [200, 204],
        "expect_body": "ok", "interval": 5.0, "timeout": 2.0, "rise": 2, "fall": 3, "insecure": True, "load": "header",
    }  # fmt: skip
    assert CheckSpec.from_json(wire) == spec
    assert CheckSpec.from_json({"type": "tcp", "port": 443}).to_json() == {
        "type": "tcp", "port": 443, "interval": 5.0, "timeout": 2.0, "rise": 2, "fall": 3,
    }  # fmt: skip
    assert CheckSpec.from_json({"type": "dns", "qname": "Example.COM"}).to_json()["qname"] == "example.com."


def test_content_key_ignores_only_the_name() -> None:
    a = CheckSpec.from_json({"type": "http", "port": 80, "path": "/h", "name": "web-http"})
    b = CheckSpec.from_json({"type": "http", "port": 80, "path": "/h", "name": "other"})
    c = CheckSpec.from_json({"type": "http", "port": 80, "path": "/h", "fall": 4})
    assert a.content_key() == b.content_key() and a == b and hash(a) == hash(b)
    assert a.content_key() != c.content_key()
    assert "name" not in a.to_json() and a.to_json(include_name=True)["name"] == "web-http"
    # Spelling differences that mean the same thing are the same target.
    assert CheckSpec(type="http", expect_status=(204, 200, 200)) == CheckSpec(type="http", expect_status=(200, 204))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"port": 80}, "type: required"),
        ({"type": "icmp"}, "type: 'icmp' is not one of"),
        ({"type": "tcp"}, "port: required for a tcp check"),
        ({"type": "tcp", "port": 0}, "port: 0 is not a port number"),
        ({"type": "tcp", "port": "80"}, "port: '80' is not a port number"),
        ({"type": "tcp", "port": 80, "path": "/x"}, "path: does not apply to a tcp check"),
        ({"type": "http", "insecure": True}, "insecure: does not apply to a http check"),
        ({"type": "dns", "load": "header"}, "load: does not apply to a dns check"),
        ({"type": "none", "port": 80}, "port: does not apply to a none check"),
        ({"type": "http", "colour": "red"}, "colour: unknown field"),
        ({"type": "http", "path": "healthz"}, "path: 'healthz' must start with '/'"),
        ({"type": "http", "path": "/a b"}, "path: '/a b' contains spaces"),
        ({"type": "http", "host": "bad host"}, "host: 'bad host' is not a host name"),
        ({"type": "http", "expect_status": []}, "expect_status: [] is not a non-empty list"),
        ({"type": "http", "expect_status": [200, 99]}, "expect_status[1]: 99 is not an HTTP status code"),
        ({"type": "http", "expect_status": "200"}, "expect_status: '200' is not a list"),
        ({"type": "http", "expect_body": ""}, "expect_body: '' is not a non-empty string"),
        ({"type": "http", "interval": "5 parsecs"}, "interval: '5 parsecs' is not a duration"),
        ({"type": "http", "interval": 0}, "interval: 0.0 is not a number of seconds"),
        ({"type": "http", "timeout": -1}, "timeout: -1 is not a duration"),
        ({"type": "http", "rise": 0}, "rise: 0 is not a whole number from 1"),
        ({"type": "http", "fall": 2.5}, "fall: 2.5 is not a whole number from 1"),
        ({"type": "https", "insecure": "yes"}, "insecure: 'yes' is not true or false"),
        ({"type": "http", "load": "footer"}, "load: 'footer' is not one of header, body"),
        ({"type": "dns", "qtype": "AXFR"}, "qtype: 'AXFR' is not a DNS record type"),
        ({"type": "dns", "qtype": "BOGUS"}, "qtype: 'BOGUS' is not a DNS record type"),
        ({"type": "dns", "qname": "a..b"}, "qname: 'a..b' is not a domain name"),
        ("http", "check: expected a mapping"),
    ],
)
def test_check_validation_names_the_field(data: object, message: str) -> None:
    with pytest.raises(CheckSpecError) as info:
        CheckSpec.from_json(data)
    assert str(info.value).startswith(message), str(info.value)


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(CheckSpecError, match="port: required"):
        CheckSpec(type="tcp")
    with pytest.raises(CheckSpecError, match="path: does not apply to a dns check"):
        CheckSpec(type="dns", path="/x")


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["http", "https", "tcp", "dns", "none"]),
    port=st.integers(1, 65535),
    statuses=st.lists(st.integers(100, 599), min_size=1, max_size=4),
    interval=st.floats(0.1, 600, allow_nan=False),
    rise=st.integers(1, 10),
    fall=st.integers(1, 10),
)
def test_wire_form_round_trip_property(
    kind: str, port: int, statuses: list[int], interval: float, rise: int, fall: int
) -> None:
    kw: dict[str, Any] = {"type": kind, "interval": interval, "rise": rise, "fall": fall}
    if kind != "none":
        kw["port"] = port
    if kind in ("http", "https"):
        kw["expect_status"] = statuses
    spec = CheckSpec.from_json(kw)
    again = CheckSpec.from_json(spec.to_json())
    assert again == spec and again.content_key() == spec.content_key()


# -- rise/fall ---------------------------------------------------------------------------------------


def feed(machine: RiseFall, observations: str) -> list[Health]:
    """Apply a string of observations ('+' success, '-' failure) and return the states after each."""
    states = []
    for obs in observations:
        machine = machine.observe(obs == "+")
        states.append(machine.state)
    return states


def test_first_observation_sets_the_state() -> None:
    assert RiseFall(2, 3).up is None
    assert RiseFall(2, 3).observe(True).state is Health.UP
    assert RiseFall(2, 3).observe(False).state is Health.DOWN


def test_fall_consecutive_failures_take_an_up_target_down() -> None:
    U, D = Health.UP, Health.DOWN
    assert feed(RiseFall(rise=2, fall=3), "+---") == [U, U, U, D]
    # A success in between restarts the count.
    assert feed(RiseFall(rise=2, fall=3), "+--+--") == [U, U, U, U, U, U]
    assert feed(RiseFall(rise=2, fall=3), "+--+---") == [U, U, U, U, U, U, D]


def test_rise_consecutive_successes_bring_a_down_target_up() -> None:
    U, D = Health.UP, Health.DOWN
    assert feed(RiseFall(rise=2, fall=3), "-++") == [D, D, U]
    assert feed(RiseFall(rise=3, fall=1), "-+-+++") == [D, D, D, D, D, U]
    assert feed(RiseFall(rise=1, fall=1), "+-+-") == [U, D, U, D]


def test_risefall_rejects_bad_thresholds() -> None:
    with pytest.raises(ValueError):
        RiseFall(0, 3)
    with pytest.raises(ValueError):
        RiseFall(2, True)


# -- http / https probes ------------------------------------------------------------------------------


def test_http_probe_follows_the_backend_status_and_body() -> None:
    async def body() -> None:
        backend = Backend()
        port = await backend.start()
        try:
            spec = http_check(port, path="/healthz", expect_body="ok")
            result = await run_probe("127.0.0.1", spec, None)
            assert result.ok and result.status == 200 and result.error is None
            assert result.rtt_ms is not None and result.rtt_ms >= 0
            backend.status = 500
            assert await run_probe("127.0.0.1", spec, None) == ProbeResult(
                ok=False, rtt_ms=pytest.approx(0, abs=5000), status=500, error="status 500 not in [200]"
            )
            backend.status, backend.body = 200, "degraded"
            result = await run_probe("127.0.0.1", spec, None)
            assert not result.ok and result.error == "body does not contain 'ok'"
            backend.status = 503
            lenient = http_check(port, path="/healthz", expect_status=(200, 503))
            assert (await run_probe("127.0.0.1", lenient, None)).ok
            assert backend.hits["/healthz"] == 4
        finally:
            await backend.stop()

    run(body())


def test_http_probe_sends_host_and_does_not_follow_redirects() -> None:
    async def body() -> None:
        backend = Backend()
        port = await backend.start()
        try:
            async with make_probe_session() as session:
                result = await run_probe("127.0.0.1", http_check(port, host="www.example.com"), session)
                assert result.ok
                assert backend.hosts[-1] == "www.example.com"
                result = await run_probe("127.0.0.1", http_check(port, path="/redirect"), session)
                assert result.status == 302 and result.error == "status 302 not in [200]"
                assert backend.hits["/elsewhere"] == 0
        finally:
            await backend.stop()

    run(body())


def test_http_probe_reads_load_from_header_or_body() -> None:
    async def body() -> None:
        backend = Backend()
        port = await backend.start()
        try:
            backend.load_header = "0.75"
            assert (await run_probe("127.0.0.1", http_check(port, load="header"), None)).load == 0.75
            assert (await run_probe("127.0.0.1", http_check(port), None)).load is None  # not asked for
            backend.body = "ok load=42.5 conns=7"
            assert (await run_probe("127.0.0.1", http_check(port, load="body"), None)).load == 42.5
            backend.load_header = "lots"
            result = await run_probe("127.0.0.1", http_check(port, load="header"), None)
            assert result.ok and result.load is None  # an unreadable load does not fail the check
        finally:
            await backend.stop()

    run(body())


def test_http_probe_connection_refused_and_timeout() -> None:
    async def body() -> None:
        refused = await run_probe("127.0.0.1", http_check(closed_port()), None)
        assert refused == ProbeResult(ok=False, error="connection refused")
        silent = SilentTcpServer()
        port = await silent.start()
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            result = await run_probe("127.0.0.1", http_check(port, timeout=0.5), None)
            assert result == ProbeResult(ok=False, error="timeout after 0.5s")
            assert loop.time() - started < 5.0  # bounded by the timeout, with room for a slow box
        finally:
            await silent.stop()

    run(body())


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no ::1 on this machine")
def test_http_probe_brackets_ipv6_addresses() -> None:
    async def body() -> None:
        backend = Backend()
        port = await backend.start(host="::1")
        try:
            result = await run_probe("::1", http_check(port), None)
            assert result.ok, result
        finally:
            await backend.stop()

    assert url_host("::1") == "[::1]" and url_host("127.0.0.1") == "127.0.0.1"
    assert url_host("fe80::1%eth0") == "[fe80::1%25eth0]"
    run(body())


def test_https_probe_verifies_certificates_unless_insecure(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)

    async def body() -> None:
        backend = Backend()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)

        def remember_sni(sock: ssl.SSLObject, server_name: str | None, ctx: ssl.SSLContext) -> None:
            backend.sni.append(server_name)

        context.sni_callback = remember_sni
        port = await backend.start(ssl_context=context)
        try:
            verified = CheckSpec(type="https", port=port, host="localhost", timeout=2.0)
            result = await run_probe("127.0.0.1", verified, None)
            assert not result.ok and result.error is not None
            assert result.error.startswith("certificate verify failed"), result.error
            assert backend.hits["/"] == 0

            insecure = CheckSpec(type="https", port=port, host="localhost", insecure=True, timeout=2.0)
            result = await run_probe("127.0.0.1", insecure, None)
            assert result.ok and result.status == 200, result
            assert backend.sni[-1] == "localhost" and backend.hosts[-1] == "localhost"

            no_host = CheckSpec(type="https", port=port, insecure=True, timeout=2.0)
            assert (await run_probe("127.0.0.1", no_host, None)).ok
            assert backend.sni[-1] is None  # no SNI for an IP address
        finally:
            await backend.stop()

    run(body())


# -- tcp / dns / none --------------------------------------------------------------------------------


def test_tcp_probe_connects_or_is_refused() -> None:
    async def body() -> None:
        silent = SilentTcpServer()
        port = await silent.start()
        try:
            result = await run_probe("127.0.0.1", CheckSpec(type="tcp", port=port, timeout=1.0), None)
            assert result.ok and result.rtt_ms is not None and result.error is None
        finally:
            await silent.stop()
        refused = await run_probe("127.0.0.1", CheckSpec(type="tcp", port=closed_port(), timeout=1.0), None)
        assert refused == ProbeResult(ok=False, error="connection refused")

    run(body())


def test_dns_probe_success_rule() -> None:
    async def body() -> None:
        responder = DnsResponder()
        port = await responder.start()
        try:
            spec = CheckSpec(type="dns", port=port, qname="example.com", qtype="A", timeout=1.0)
            result = await run_probe("127.0.0.1", spec, None)
            assert result.ok and result.status == RCODE.NOERROR and result.rtt_ms is not None
            assert responder.questions[-1] == ("example.com.", "A", 0)
            responder.rcode = RCODE.NXDOMAIN
            assert (await run_probe("127.0.0.1", spec, None)).ok
            responder.rcode = RCODE.REFUSED
            refused = await run_probe("127.0.0.1", spec, None)
            assert not refused.ok and refused.status == RCODE.REFUSED and refused.error == "rcode REFUSED"
            responder.rcode = RCODE.SERVFAIL
            assert (await run_probe("127.0.0.1", spec, None)).error == "rcode SERVFAIL"
        finally:
            responder.stop()

    run(body())


@pytest.mark.parametrize(("mode", "error"), [("silent", "timeout after 0.5s"), ("wrong-id", "timeout after 0.5s"),
                                             ("garbage", "malformed reply")])  # fmt: skip
def test_dns_probe_ignores_or_rejects_bad_replies(mode: str, error: str) -> None:
    async def body() -> None:
        responder = DnsResponder(mode=mode)
        port = await responder.start()
        try:
            result = await run_probe("127.0.0.1", CheckSpec(type="dns", port=port, timeout=0.5), None)
            assert not result.ok and result.error == error
            assert responder.questions == [(".", "SOA", 0)]
        finally:
            responder.stop()

    run(body())


def test_dns_probe_closed_port_is_refused() -> None:
    async def body() -> None:
        port = closed_port(kind=socket.SOCK_DGRAM)
        result = await run_probe("127.0.0.1", CheckSpec(type="dns", port=port, timeout=1.0), None)
        # Loopback reports ICMP port unreachable at once; allow a timeout on stacks that do not.
        assert not result.ok and result.error in ("connection refused", "timeout after 1.0s")

    run(body())


def test_none_check_is_always_ok_without_traffic() -> None:
    assert run(run_probe("127.0.0.1", CheckSpec(type="none"), None)) == ProbeResult(ok=True)


def test_describe_error_is_short() -> None:
    assert describe_error(ConnectionRefusedError(111, "Connection refused")) == "connection refused"
    assert describe_error(OSError(101, "Network is unreachable")) == "network is unreachable"
    assert describe_error(RuntimeError()) == "RuntimeError"
