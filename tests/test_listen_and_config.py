"""Listening on several addresses (IPv4 and IPv6) and the server config file."""

from __future__ import annotations

import re
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest

from gslb.common.endpoint import parse_endpoint
from gslb.config.load import ConfigError, load_config
from tests.harness import start_server
from tests.testdata import EXAMPLE_ZONES


def test_serves_ipv4_and_ipv6_on_udp_and_tcp(tmp_path: Path) -> None:
    server = start_server(tmp_path, EXAMPLE_ZONES, {"dns": {"listen": ["127.0.0.1:0", "[::1]:0"]}})
    try:
        ready = re.search(r"ready: dns (\S+) (\S+) \(udp\+tcp\)", server.log_text())
        assert ready, server.log_text()
        v6_port = int(ready.group(2).rsplit(":", 1)[1])
        assert ready.group(2).startswith("[::1]:")
        query = dns.message.make_query("legacy.example.com", "AAAA")
        for reply in (dns.query.udp(query, "::1", port=v6_port, timeout=2),
                      dns.query.tcp(query, "::1", port=v6_port, timeout=2),
                      server.udp(query), server.tcp(query)):
            assert reply.rcode() == dns.rcode.NOERROR
            assert [r.to_text() for r in reply.answer[0]] == ["2001:db8:80::1"]
    finally:
        server.stop()


def test_defaults_without_a_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GSLB_CONFIG", raising=False)
    config = load_config(None)
    assert [str(e) for e in config.dns.listen] == ["127.0.0.1:5300"]
    assert str(config.http.listen) == "127.0.0.1:8053"
    assert config.zones == Path("zones") and config.geodb == "bundled"
    assert config.dns.max_udp_size == 1232 and config.dns.rate_limit is None


def test_gslb_config_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "gslb.yaml"
    path.write_text("dns: {listen: ['[::1]:53'], nsid: ns-1}\nzones: my-zones\n")
    monkeypatch.setenv("GSLB_CONFIG", str(path))
    config = load_config(None)
    assert [str(e) for e in config.dns.listen] == ["[::1]:53"]
    assert config.dns.nsid == "ns-1"
    assert config.zones == tmp_path / "my-zones"  # relative to the config file


def test_every_config_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "gslb.yaml"
    path.write_text(
        "dns:\n"
        "  listen: ['localhost:53']\n"
        "  max_udp_size: 100\n"
        "  tcp: {idle_timeout: -1s}\n"
        "  colour: blue\n"
        "http: {listen: '127.0.0.1:99999'}\n"
        "health: {quorum: 2, local_prober: maybe}\n"
        "extra: 1\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2: dns.listen: 'localhost' is not an IP address",
        f"{path}:3: dns.max_udp_size: '100' is not a size from 512 to 65535",
        f"{path}:4: dns.tcp.idle_timeout: '-1s' is not a duration (expected e.g. 500ms, 30s, 2m, 1h)",
        f"{path}:5: dns.colour: unknown key (expected one of: listen, max_udp_size, nsid, workers, rate_limit, tcp)",
        f"{path}:6: http.listen: port '99999' is not a number from 0 to 65535",
        f"{path}:7: health.quorum: '2' is not a share above 0 and at most 1, 'any' or 'all'",
        f"{path}:7: health.local_prober: 'maybe' is not true or false",
        f"{path}:8: extra: unknown key (expected one of: dns, http, zones, state_dir, geodb, health, log, dnssec)",
    ]


@pytest.mark.parametrize(("text", "host", "port"), [("127.0.0.1:53", "127.0.0.1", 53), ("[::1]:5300", "::1", 5300)])
def test_parse_endpoint(text: str, host: str, port: int) -> None:
    endpoint = parse_endpoint(text)
    assert (endpoint.host, endpoint.port) == (host, port)
    assert str(endpoint) == text
