"""Server cookies as RFC 9018 makes them: its test vectors, validity, renewal, secrets and their file."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest
from siphashc import siphash

from gslb.config.cookie_secret import generated_secret_file, parse_secrets, read_secrets
from gslb.config.model import Config, CookieConfig, DnsConfig
from gslb.dns.cookies import ServerCookies, well_formed

SECRET_1 = bytes.fromhex("e5e973e5a6b2a43f48e7dc849e37bfcf")  # RFC 9018 A.1 to A.3
OLD_SECRET_4 = bytes.fromhex("dd3bdf9344b678b185a6f5cb60fca715")  # A.4, before the rollover
NEW_SECRET_4 = bytes.fromhex("445536bcd2513298075a5d379663c962")  # A.4, after it


def at(secrets: tuple[bytes, ...], now: int) -> ServerCookies:
    return ServerCookies(secrets, clock=lambda: float(now))


def address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def test_siphash_2_4_reference_vector() -> None:
    """The SipHash paper's vector (appendix A): key 00..0f, message 00..0e."""
    assert siphash(bytes(range(16)), bytes(range(15))).to_bytes(8, "little").hex() == "e545be4961ca29a1"


def test_rfc9018_a1_learning_a_new_server_cookie() -> None:
    valid, reply = at((SECRET_1,), 1559731985).answer(bytes.fromhex("2464c4abcf10c957"), address("198.51.100.100"))
    assert not valid
    assert reply.hex() == "2464c4abcf10c957010000005cf79f111f8130c3eee29480"


def test_rfc9018_a2_the_same_client_learning_a_renewed_cookie() -> None:
    """40 minutes later the cookie is still valid, and older than half an hour: it is renewed."""
    query = bytes.fromhex("2464c4abcf10c957010000005cf79f111f8130c3eee29480")
    valid, reply = at((SECRET_1,), 1559734385).answer(query, address("198.51.100.100"))
    assert valid
    assert reply.hex() == "2464c4abcf10c957010000005cf7a871d4a564a1442aca77"


def test_rfc9018_a3_another_client_with_reserved_bits_set() -> None:
    """The query's cookie (reserved bits 0xabcdef, hashed as sent) verifies when it was made; the
    reply is a new cookie with the reserved bits zero."""
    query = bytes.fromhex("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5")
    valid, _ = at((SECRET_1,), 1559727985).answer(query, address("203.0.113.203"))
    assert valid
    valid, reply = at((SECRET_1,), 1559734700).answer(query, address("203.0.113.203"))
    assert not valid  # an hour and 52 minutes later: past its lifetime
    assert reply.hex() == "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e"


def test_rfc9018_a4_ipv6_query_with_a_rolled_over_secret() -> None:
    """Made with the old secret, still accepted while it is listed second; the reply uses the new one."""
    query = bytes.fromhex("22681ab97d52c298010000005cf7c57926556bd0934c72f8")
    client = address("2001:db8:220:1:59de:d0f4:8769:82b8")
    assert at((NEW_SECRET_4,), 1559741961).answer(query, client)[0] is False
    valid, reply = at((NEW_SECRET_4, OLD_SECRET_4), 1559741961).answer(query, client)
    assert valid
    assert reply.hex() == "22681ab97d52c298010000005cf7c609a6bb79d16625507a"


def test_a_young_valid_cookie_goes_back_unchanged() -> None:
    client = bytes.fromhex("2464c4abcf10c957")
    _, first = at((SECRET_1,), 1559731985).answer(client, address("198.51.100.100"))
    valid, again = at((SECRET_1,), 1559731985 + 1800).answer(first, address("198.51.100.100"))
    assert valid and again == first


@pytest.mark.parametrize(("offset", "valid"), [(3600, True), (3601, False), (-300, True), (-301, False)])
def test_lifetime_one_hour_back_five_minutes_ahead(offset: int, valid: bool) -> None:
    made = 1559741961
    _, cookie = at((SECRET_1,), made).answer(bytes(8), address("192.0.2.1"))
    assert at((SECRET_1,), made + offset).answer(cookie, address("192.0.2.1"))[0] is valid


def test_a_cookie_is_bound_to_the_client_address_and_secret() -> None:
    _, cookie = at((SECRET_1,), 1000).answer(bytes(8), address("192.0.2.1"))
    assert not at((SECRET_1,), 1000).answer(cookie, address("192.0.2.2"))[0]
    assert not at((NEW_SECRET_4,), 1000).answer(cookie, address("192.0.2.1"))[0]
    tampered = cookie[:-1] + bytes((cookie[-1] ^ 1,))
    assert not at((SECRET_1,), 1000).answer(tampered, address("192.0.2.1"))[0]


def test_an_ipv4_mapped_client_hashes_as_ipv4() -> None:
    _, cookie = at((SECRET_1,), 1000).answer(bytes(8), address("192.0.2.1"))
    assert at((SECRET_1,), 1000).answer(cookie, address("::ffff:192.0.2.1"))[0]


def test_other_servers_cookies_and_versions_are_not_valid_but_get_a_fresh_one() -> None:
    cookies = at((SECRET_1,), 1000)
    for server in (bytes(8), b"\x02" + bytes(15), b"\x01" + bytes(23)):
        valid, reply = cookies.answer(b"C" * 8 + server, address("192.0.2.1"))
        assert not valid
        assert reply[:8] == b"C" * 8 and len(reply) == 24 and reply[8:12] == b"\x01\x00\x00\x00"


@pytest.mark.parametrize(("length", "ok"), [(0, False), (7, False), (8, True), (9, False), (15, False),
                                            (16, True), (24, True), (40, True), (41, False)])
def test_well_formed_lengths(length: int, ok: bool) -> None:
    assert well_formed(length) is ok


# -- the secret file --------------------------------------------------------------------------------


def test_secret_file_current_first_comments_ignored() -> None:
    text = f"# rolled on Monday\n{NEW_SECRET_4.hex()}\n\n{OLD_SECRET_4.hex().upper()}  # until Tuesday\n"
    assert parse_secrets(text) == (NEW_SECRET_4, OLD_SECRET_4)


@pytest.mark.parametrize(("text", "message"), [
    ("", "no secret in the file"),
    ("abc\n", "line 1: a secret is 32 hex digits"),
    ("# x\n" + "g" * 32 + "\n", "line 2: a secret is 32 hex digits"),
    (f"{SECRET_1.hex()}\n{SECRET_1.hex()}\n", "line 2: the same secret as an earlier line"),
    ("\n".join(os.urandom(16).hex() for _ in range(4)), "4 secrets (at most 3"),
])
def test_secret_file_problems(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_secrets(text)


def test_generated_secret_is_made_once_and_private(tmp_path: Path) -> None:
    path = generated_secret_file(tmp_path / "state")
    assert path.stat().st_mode & 0o777 == 0o600
    first = read_secrets(path)
    assert len(first) == 1
    assert generated_secret_file(tmp_path / "state") == path
    assert read_secrets(path) == first


def test_from_config_uses_the_state_dir_or_the_secret_file(tmp_path: Path) -> None:
    made = ServerCookies.from_config(Config(state_dir=tmp_path / "state"))
    assert made is not None and made.secrets == read_secrets(tmp_path / "state" / "cookie-secret")
    shared = tmp_path / "shared"
    shared.write_text(SECRET_1.hex() + "\n")
    named = ServerCookies.from_config(Config(dns=DnsConfig(cookies=CookieConfig(secret_file=shared))))
    assert named is not None and named.secrets == (SECRET_1,)
    assert ServerCookies.from_config(Config(dns=DnsConfig(cookies=CookieConfig(enabled=False)))) is None


def test_a_changed_secret_file_is_taken_and_a_broken_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET_1.hex() + "\n")
    now = [1000.0]
    cookies = ServerCookies(read_secrets(path), clock=lambda: now[0], source=path)
    cookies.answer(bytes(8), address("192.0.2.1"))
    path.write_text(f"{NEW_SECRET_4.hex()}\n{SECRET_1.hex()}\n")
    os.utime(path, ns=(1, 1))  # a different modification time even within the same clock tick
    now[0] += 1  # not yet looked at again
    cookies.answer(bytes(8), address("192.0.2.1"))
    assert cookies.secrets == (SECRET_1,)
    now[0] += 5
    cookies.answer(bytes(8), address("192.0.2.1"))
    assert cookies.secrets == (NEW_SECRET_4, SECRET_1)
    path.write_text("not a secret\n")
    now[0] += 5
    cookies.answer(bytes(8), address("192.0.2.1"))
    assert cookies.secrets == (NEW_SECRET_4, SECRET_1)  # the broken file changes nothing


def test_config_reads_the_cookie_section_and_checks_the_secret_file(tmp_path: Path) -> None:
    from gslb.config.load import ConfigError, load_config

    (tmp_path / "good").write_text(SECRET_1.hex() + "\n")
    path = tmp_path / "gslb.yaml"
    path.write_text("dns:\n  cookies:\n    secret_file: good\n")
    config = load_config(str(path))
    assert config.dns.cookies == CookieConfig(enabled=True, secret_file=tmp_path / "good")
    path.write_text("dns:\n  cookies:\n    enabled: false\n")
    assert load_config(str(path)).dns.cookies.enabled is False
    (tmp_path / "bad").write_text("0123\n")
    path.write_text("dns:\n  listen: 127.0.0.1:0\n  cookies:\n    enabled: yes\n    secret_file: bad\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:4: dns.cookies.enabled: 'yes' is not true or false",
        f"{path}:5: dns.cookies.secret_file: {tmp_path / 'bad'}: line 1: a secret is 32 hex digits (128 bits), "
        "e.g. from 'openssl rand -hex 16'",
    ]
    path.write_text("dns:\n  cookies: {secret_file: missing}\n")
    with pytest.raises(ConfigError, match=r"gslb.yaml:2: dns.cookies.secret_file: cannot read .*missing"):
        load_config(str(path))


def test_a_broken_generated_secret_is_made_anew(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "cookie-secret").write_text("")  # cut short by a crash between create and write
    cookies = ServerCookies.from_config(Config(state_dir=state))
    assert cookies is not None and cookies.secrets == read_secrets(state / "cookie-secret")
    assert (state / "cookie-secret").stat().st_mode & 0o777 == 0o600


def test_an_unwritable_state_dir_still_answers_cookies(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    cookies = ServerCookies.from_config(Config(state_dir=blocked / "state"))
    assert cookies is not None and len(cookies.secrets) == 1 and cookies.source is None
