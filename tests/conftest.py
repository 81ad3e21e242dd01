"""Shared fixtures: start the real `gslb serve` on free loopback ports and talk to it."""

from __future__ import annotations

import functools
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import pytest
import yaml

from gslb.geo.database import GeoDatabase
from gslb.zones.model import Zone

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ZONES = ROOT / "zones"
TEST_GEODB_CSV = ROOT / "geodb" / "test-city.csv"


@functools.cache
def built_test_geodb() -> Path:
    """The small test database, built once per test run from geodb/test-city.csv."""
    from gslb.geo.builder import build_database

    out = Path(tempfile.mkdtemp(prefix="gslb-geodb-")) / "test-city.mmdb"
    build_database(TEST_GEODB_CSV, out)
    return out
READY = re.compile(r"ready: dns ([^\s\"]+)[^(]* \(udp\+tcp\), http ([^\s\"]+)")  # plain or JSON lines


def read_tcp_message(sock: socket.socket) -> dns.message.Message:
    """One length-prefixed DNS message from a TCP socket (RFC 7766 framing)."""

    def read(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    (length,) = struct.unpack("!H", read(2))
    return dns.message.from_wire(read(length))


@dataclass
class RunningServer:
    proc: subprocess.Popen
    host: str
    port: int
    http: str | None
    log: Path
    workdir: Path
    config_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def udp(self, request: dns.message.Message, timeout: float = 2.0, source: str | None = None) -> dns.message.Message:
        """Ask over UDP; `source` picks the loopback address the query comes from (127.x)."""
        return dns.query.udp(request, self.host, port=self.port, timeout=timeout, source=source)

    def tcp(self, request: dns.message.Message, timeout: float = 2.0, source: str | None = None) -> dns.message.Message:
        return dns.query.tcp(request, self.host, port=self.port, timeout=timeout, source=source)

    def ask(self, name: str, rdtype: str = "A", source: str | None = None, **make_kwargs) -> dns.message.Message:
        """A UDP query with dnspython's defaults plus any make_query arguments."""
        return self.udp(dns.message.make_query(name, rdtype, **make_kwargs), source=source)

    def raw_udp(self, payload: bytes, timeout: float = 1.0) -> bytes | None:
        """Send raw bytes; the reply, or None when the server stays silent."""
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.sendto(payload, (self.host, self.port))
            try:
                return sock.recv(65535)
            except TimeoutError:
                return None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def write_config(workdir: Path, zones_dir: Path, extra: dict | None = None) -> Path:
    config: dict = {
        "dns": {"listen": ["127.0.0.1:0"]},
        "http": {"listen": "127.0.0.1:0"},
        "zones": str(zones_dir),
        "state_dir": str(workdir / "state"),
        "geodb": str(built_test_geodb()),
    }
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    path = workdir / "gslb.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def start_server(
    workdir: Path, zones_dir: Path, extra: dict | None = None, env: dict[str, str] | None = None
) -> RunningServer:
    """Start `gslb serve` with a config in workdir and wait for its ready line."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = write_config(workdir, zones_dir, extra)
    log = workdir / "server.log"
    full_env = {**os.environ, **(env or {})}
    full_env.pop("GSLB_CONFIG", None)
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gslb", "serve", "-c", str(config_path)],
            stdout=log_file, stderr=subprocess.STDOUT, env=full_env, cwd=workdir,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        match = READY.search(log.read_text(errors="replace"))
        if match:
            dns_endpoint = match.group(1)
            host, _, port = dns_endpoint.rpartition(":")
            http = None if match.group(2) == "off" else match.group(2)
            return RunningServer(proc, host.strip("[]"), int(port), http, log, workdir, config_path, full_env)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"gslb serve did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def steer_zone(tmp_path_factory: pytest.TempPathFactory) -> Zone:
    """tests/steering_zone.py loaded: a zone with every steering method."""
    from gslb.zones.loader import load_zone_file
    from tests import steering_zone

    path = tmp_path_factory.mktemp("steer") / "steer.test.yaml"
    path.write_text(steering_zone.TEXT)
    return load_zone_file(path)


@pytest.fixture(scope="module")
def test_geo() -> GeoDatabase:
    """The small test geo database (geodb/test-city.csv), opened."""
    return GeoDatabase.open(str(built_test_geodb()))


@pytest.fixture(scope="module")
def example_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The server on the example zone in zones/, with an NSID."""
    workdir = tmp_path_factory.mktemp("example")
    server = start_server(workdir, EXAMPLE_ZONES, {"dns": {"nsid": "ns-test-1"}})
    yield server
    server.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    """Start servers on zone texts: factory({'example.org': 'yaml...'}, extra_config)."""
    started: list[RunningServer] = []

    def factory(zones: dict[str, str], extra: dict | None = None, name: str = "srv") -> RunningServer:
        workdir = tmp_path / name
        zones_dir = workdir / "zones"
        zones_dir.mkdir(parents=True, exist_ok=True)
        for zone, text in zones.items():
            (zones_dir / f"{zone}.yaml").write_text(text)
        server = start_server(workdir, zones_dir, extra)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
