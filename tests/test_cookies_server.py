"""DNS cookies asked of the real server with dnspython and dig: the cookie that comes back, the rate
limiting it lifts, BADCOOKIE where RFC 7873 allows it, servers that share a secret, and the
settings that turn it off."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import pytest

from tests.harness import RunningServer, dig, numbered_queries, start_server, udp_flood
from tests.testdata import EXAMPLE_ZONES

SECRET = "e5e973e5a6b2a43f48e7dc849e37bfcf"
LIMIT = {"responses_per_second": 5, "window": "2s", "slip": 1}


def cookie_query(name: str, client: bytes, server: bytes = b"", qid: int | None = None) -> dns.message.Message:
    query = dns.message.make_query(name, "A", use_edns=0, options=[dns.edns.CookieOption(client, server)])
    if qid is not None:
        query.id = qid
    return query


def cookie_of(reply: dns.message.Message) -> dns.edns.CookieOption | None:
    found = [option for option in reply.options if option.otype == dns.edns.OptionType.COOKIE]
    return found[0] if found else None  # type: ignore[return-value]


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "cookie-secret"
    path.write_text(SECRET + "\n")
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, secret_file: Path) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Two servers behind "one address" (two ports here): the same secret file, rate limited."""
    extra = {"dns": {"rate_limit": LIMIT, "cookies": {"secret_file": str(secret_file)}}}
    first = start_server(tmp_path_factory.mktemp("cookie-a"), EXAMPLE_ZONES, extra)
    second = start_server(tmp_path_factory.mktemp("cookie-b"), EXAMPLE_ZONES, extra)
    yield first, second
    first.stop()
    second.stop()


def test_a_server_cookie_comes_back(pair: tuple[RunningServer, RunningServer]) -> None:
    server = pair[0]
    client = os.urandom(8)
    reply = server.udp(cookie_query("legacy.example.com", client), source="127.7.1.1")
    cookie = cookie_of(reply)
    assert reply.rcode() == dns.rcode.NOERROR and len(reply.answer[0]) == 2
    assert cookie is not None and cookie.client == client
    assert len(cookie.server) == 16 and cookie.server[:4] == b"\x01\x00\x00\x00"  # version 1, reserved 0
    assert abs(int.from_bytes(cookie.server[4:8], "big") - time.time()) < 5
    # Shown again soon after, it is valid and young: it comes back unchanged.
    again = cookie_of(server.udp(cookie_query("legacy.example.com", client, cookie.server), source="127.7.1.1"))
    assert again is not None and again.server == cookie.server


def test_dig_shows_the_server_cookie_as_good(pair: tuple[RunningServer, RunningServer]) -> None:
    out = dig(pair[0], "legacy.example.com", "A", "+cookie=0102030405060708", "-b", "127.7.2.1")
    assert "; COOKIE: 010203040506070801000000" in out and "(good)" in out, out
    assert "192.0.2.80" in out


def test_a_valid_server_cookie_exempts_the_client_from_rate_limiting(pair: tuple[RunningServer, RunningServer]) -> None:
    server = pair[0]
    client = os.urandom(8)
    proven = cookie_of(server.udp(cookie_query("mail.example.com", client), source="127.7.3.1"))
    assert proven is not None
    # 100 identical queries at once from one /24: at 5/s only a handful would pass without it.
    with_cookie = [cookie_query("mail.example.com", client, proven.server, qid).to_wire() for qid in range(1, 101)]
    replies, _ = udp_flood(server, "127.7.3.1", with_cookie)
    assert len(replies) == 100
    assert all(r.rcode() == dns.rcode.NOERROR and r.answer and not r.flags & dns.flags.TC for r in replies.values())
    # The same flood without the cookie, from the same network, is limited.
    limited, _ = udp_flood(server, "127.7.3.2", numbered_queries(["mail.example.com"] * 100))
    assert sum(1 for r in limited.values() if r.answer) <= 12


def test_a_cookie_from_one_server_is_valid_at_another_with_the_same_secret(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    first, second = pair
    client = os.urandom(8)
    proven = cookie_of(first.udp(cookie_query("mail.example.com", client), source="127.7.4.1"))
    assert proven is not None
    echoed = cookie_of(second.udp(cookie_query("mail.example.com", client, proven.server), source="127.7.4.1"))
    assert echoed is not None and echoed.server == proven.server  # valid there: not renewed
    wires = [cookie_query("mail.example.com", client, proven.server, qid).to_wire() for qid in range(1, 61)]
    replies, _ = udp_flood(second, "127.7.4.1", wires)
    assert len(replies) == 60 and all(r.answer for r in replies.values())


def test_a_limited_client_that_sent_a_cookie_is_slipped_badcookie_with_a_fresh_one(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    """RFC 7873 section 5.2.3 lets rate limiting answer BADCOOKIE: the client asks again with the
    server cookie it just got, which exempts it. Without a cookie the slip stays TC=1."""
    server = pair[0]
    client = os.urandom(8)
    wires = [cookie_query("legacy.example.com", client, b"", qid).to_wire() for qid in range(1, 41)]
    replies, _ = udp_flood(server, "127.7.5.1", wires)
    slipped = [r for r in replies.values() if r.rcode() == dns.rcode.BADCOOKIE]
    assert slipped, [r.rcode() for r in replies.values()]
    for reply in slipped:
        cookie = cookie_of(reply)
        assert cookie is not None and cookie.client == client and len(cookie.server) == 16
        assert reply.answer == [] and not reply.flags & dns.flags.TC and not reply.flags & dns.flags.AA
        assert reply.question[0].name.to_text() == "legacy.example.com."
    retry = server.udp(cookie_query("legacy.example.com", client, cookie_of(slipped[0]).server),  # type: ignore[union-attr]
                       source="127.7.5.1")
    assert retry.rcode() == dns.rcode.NOERROR and len(retry.answer[0]) == 2


def test_dig_retries_with_the_cookie_after_badcookie(pair: tuple[RunningServer, RunningServer]) -> None:
    server = pair[0]
    udp_flood(server, "127.7.6.1", [dns.message.make_query("mail.example.com", "A").to_wire() for _ in range(30)])
    out = dig(server, "mail.example.com", "A", "-b", "127.7.6.2")  # dig sends a client cookie by default
    assert ";; BADCOOKIE, retrying." in out, out
    assert "status: NOERROR" in out and "192.0.2.25" in out and "(good)" in out, out


def test_a_query_for_a_server_cookie_alone(pair: tuple[RunningServer, RunningServer]) -> None:
    """RFC 7873 section 5.4: no question, a COOKIE option: NOERROR and a cookie, or BADCOOKIE when
    the one shown is not valid."""
    server = pair[0]
    out = dig(server, "+header-only", "-b", "127.7.7.1")
    assert "status: NOERROR" in out and "QUERY: 0, ANSWER: 0" in out and "(good)" in out, out
    query = dns.message.Message()
    query.use_edns(0, options=[dns.edns.CookieOption(b"c" * 8, b"\x01\x00\x00\x00" + bytes(12))])
    reply = server.udp(query, source="127.7.7.1")
    assert reply.rcode() == dns.rcode.BADCOOKIE and not reply.question
    cookie = cookie_of(reply)
    assert cookie is not None and len(cookie.server) == 16
    query.use_edns(0, options=[dns.edns.CookieOption(b"c" * 8, cookie.server)])
    assert server.udp(query, source="127.7.7.1").rcode() == dns.rcode.NOERROR


@pytest.mark.parametrize("length", [5, 9, 15, 41])
def test_a_malformed_cookie_option_is_formerr(pair: tuple[RunningServer, RunningServer], length: int) -> None:
    query = dns.message.make_query("legacy.example.com", "A", use_edns=0,
                                   options=[dns.edns.GenericOption(10, b"x" * length)])
    reply = pair[0].raw_udp(query.to_wire())
    assert reply is not None and reply[3] & 0x0F == dns.rcode.FORMERR


def test_without_a_secret_file_one_is_made_in_state_dir(tmp_path: Path) -> None:
    server = start_server(tmp_path / "made", EXAMPLE_ZONES)
    try:
        made = tmp_path / "made" / "state" / "cookie-secret"
        assert made.stat().st_mode & 0o777 == 0o600
        cookie = cookie_of(server.udp(cookie_query("legacy.example.com", b"m" * 8)))
        assert cookie is not None and len(cookie.server) == 16
    finally:
        server.stop()
    # A restart keeps the secret: the cookie from before is still valid (and comes back unchanged).
    again = start_server(tmp_path / "made", EXAMPLE_ZONES)
    try:
        echoed = cookie_of(again.udp(cookie_query("legacy.example.com", b"m" * 8, cookie.server)))
        assert echoed is not None and echoed.server == cookie.server
    finally:
        again.stop()


def test_every_worker_process_makes_and_accepts_the_same_cookies(tmp_path: Path) -> None:
    server = start_server(tmp_path, EXAMPLE_ZONES, {"dns": {"workers": 2}})
    try:
        client = b"w" * 8
        first = cookie_of(server.udp(cookie_query("legacy.example.com", client)))
        assert first is not None
        # New sockets, new source ports: the kernel spreads them over both processes.
        seen = {cookie_of(server.udp(cookie_query("legacy.example.com", client, first.server))).server  # type: ignore[union-attr]
                for _ in range(30)}
        assert seen == {first.server}
    finally:
        server.stop()


def test_cookies_off_ignores_the_option(tmp_path: Path) -> None:
    server = start_server(tmp_path, EXAMPLE_ZONES, {"dns": {"cookies": {"enabled": False}}})
    try:
        reply = server.udp(cookie_query("legacy.example.com", b"o" * 8))
        assert reply.rcode() == dns.rcode.NOERROR and cookie_of(reply) is None
        header_only = dns.message.Message()
        header_only.use_edns(0, options=[dns.edns.CookieOption(b"o" * 8, b"")])
        assert server.udp(header_only).rcode() == dns.rcode.FORMERR
        assert not (tmp_path / "state" / "cookie-secret").exists()
    finally:
        server.stop()


def test_a_bad_secret_file_stops_the_server_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "secret"
    bad.write_text("not hex\n")
    config = tmp_path / "gslb.yaml"
    config.write_text(f"dns:\n  listen: ['127.0.0.1:0']\n  cookies:\n    secret_file: {bad}\n")
    out = subprocess.run([sys.executable, "-m", "gslb", "serve", "-c", str(config)], capture_output=True,
                         text=True, timeout=20, cwd=tmp_path)
    assert out.returncode == 2
    assert f"{config}:4: dns.cookies.secret_file: {bad}: line 1: a secret is 32 hex digits" in out.stderr


def test_client_address_matters(pair: tuple[RunningServer, RunningServer]) -> None:
    """A cookie learned at one address is not valid from another: it is renewed, not echoed."""
    server = pair[0]
    client = os.urandom(8)
    proven = cookie_of(server.udp(cookie_query("legacy.example.com", client), source="127.7.8.1"))
    assert proven is not None
    elsewhere = cookie_of(server.udp(cookie_query("legacy.example.com", client, proven.server), source="127.7.8.2"))
    assert elsewhere is not None and elsewhere.server != proven.server
