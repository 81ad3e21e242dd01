"""Listening on several addresses (IPv4 and IPv6) and the server config file."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
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
        f"{path}:5: dns.colour: unknown key (expected one of: listen, max_udp_size, nsid, workers, rate_limit, tcp, "
        "cookies)",
        f"{path}:6: http.listen: port '99999' is not a number from 0 to 65535",
        f"{path}:7: health.quorum: '2' is not a share above 0 and at most 1, 'any' or 'all'",
        f"{path}:7: health.local_prober: 'maybe' is not true or false",
        f"{path}:8: extra: unknown key (expected one of: dns, http, zones, state_dir, geodb, health, log, updates, "
        "dnssec)",
    ]


@pytest.mark.parametrize(("text", "host", "port"), [("127.0.0.1:53", "127.0.0.1", 53), ("[::1]:5300", "::1", 5300)])
def test_parse_endpoint(text: str, host: str, port: int) -> None:
    endpoint = parse_endpoint(text)
    assert (endpoint.host, endpoint.port) == (host, port)
    assert str(endpoint) == text


def serve_once(tmp_path: Path, listen: str, http: str, env: dict[str, str] | None = None,
               state_dir: bool = True) -> subprocess.CompletedProcess[str]:
    """`gslb serve` on the example zone, expected to stop by itself (SIGTERM after 20 s otherwise)."""
    config = tmp_path / "gslb.yaml"
    lines = [f"dns: {{listen: ['{listen}']}}", f"http: {{listen: '{http}'}}", f"zones: {EXAMPLE_ZONES}",
             "geodb: none"]
    if state_dir:
        lines.append("state_dir: state")
    config.write_text("\n".join(lines) + "\n")
    full_env = {k: v for k, v in os.environ.items() if k not in ("GSLB_CONFIG", "STATE_DIRECTORY")}
    return subprocess.run([sys.executable, "-m", "gslb", "serve", "-c", str(config)], capture_output=True,
                          text=True, timeout=20, env={**full_env, **(env or {})}, cwd=tmp_path, check=False)


@pytest.mark.parametrize("kind", ["udp", "tcp", "http"])
def test_an_address_in_use_is_one_line_and_exit_1(tmp_path: Path, kind: str) -> None:
    family = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, family) as taken:
        taken.bind(("127.0.0.1", 0))
        if family == socket.SOCK_STREAM:
            taken.listen()
        port = taken.getsockname()[1]
        dns_listen = f"127.0.0.1:{port}" if kind != "http" else "127.0.0.1:0"
        http_listen = f"127.0.0.1:{port}" if kind == "http" else "127.0.0.1:0"
        result = serve_once(tmp_path, dns_listen, http_listen)
    what = {"udp": "DNS over UDP", "tcp": "DNS over TCP", "http": "HTTP API"}[kind]
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].endswith(f"ERROR gslb: cannot listen on 127.0.0.1:{port} ({what}): the address is already in "
                              "use (another server, or another copy of this one?)")


def test_state_dir_defaults_to_the_service_managers_state_directory(tmp_path: Path) -> None:
    """Under the shipped unit systemd sets STATE_DIRECTORY=/var/lib/gslb (StateDirectory=gslb)."""
    state = tmp_path / "var-lib-gslb"
    state.mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:  # stop right after the zones are loaded
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = serve_once(tmp_path, "127.0.0.1:0", f"127.0.0.1:{taken.getsockname()[1]}",
                            env={"STATE_DIRECTORY": str(state)}, state_dir=False)
    assert result.returncode == 1, result.stderr
    assert (state / "serials.json").exists()
    assert not (tmp_path / "state").exists()
