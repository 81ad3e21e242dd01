"""The real `gslb serve` as the tests run it: started on free loopback ports, asked, observed, stopped.

`start_server` writes a config into a work directory, starts the server as a subprocess and
waits for its ready line; the `RunningServer` it returns talks DNS to it with dnspython.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import yaml

from tests.processes import need, stop_process, wait_until_ready
from tests.testdata import built_test_geodb

READY = re.compile(r"ready: dns ([^\s\"]+)[^(]* \(udp\+tcp\), http ([^\s\"]+)( \(TLS\))?")  # plain or JSON lines
START_TIMEOUT = 20.0


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
    """A started `gslb serve`: its process, DNS endpoint, HTTP endpoint (or None) and files."""

    proc: subprocess.Popen
    host: str
    port: int
    http: str | None
    log: Path
    workdir: Path
    config_path: Path
    env: dict[str, str] = field(default_factory=dict)
    scheme: str = "http"  # "https" when the API listens with TLS

    def udp(self, request: dns.message.Message, timeout: float = 2.0, source: str | None = None) -> dns.message.Message:
        """Ask over UDP; `source` picks the loopback address the query comes from (127.x)."""
        return dns.query.udp(request, self.host, port=self.port, timeout=timeout, source=source)

    def tcp(self, request: dns.message.Message, timeout: float = 2.0, source: str | None = None) -> dns.message.Message:
        """Ask over TCP, one query on a new connection."""
        return dns.query.tcp(request, self.host, port=self.port, timeout=timeout, source=source)

    def ask(self, name: str, rdtype: str = "A", source: str | None = None, **make_kwargs: Any) -> dns.message.Message:
        """A UDP query with dnspython's defaults plus any make_query arguments."""
        return self.udp(dns.message.make_query(name, rdtype, **make_kwargs), source=source)

    def raw_udp(self, payload: bytes, timeout: float = 1.0) -> bytes | None:
        """Send raw bytes; the reply, or None when the server stays silent."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.sendto(payload, (self.host, self.port))
            try:
                return sock.recv(65535)
            except TimeoutError:
                return None

    def log_text(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        """The process has not exited."""
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        """Send a signal to the server process."""
        self.proc.send_signal(sig)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 10 s."""
        stop_process(self.proc)


def write_zones(folder: Path, texts: dict[str, str]) -> Path:
    """folder/<zone>.yaml for every zone name -> file text of `texts`; the folder, for start_server."""
    folder.mkdir(parents=True, exist_ok=True)
    for zone, text in texts.items():
        (folder / f"{zone}.yaml").write_text(text)
    return folder


def write_atomically(path: Path, text: str) -> None:
    """Write aside, then rename, as a careful operator (or a deploy tool) updates a zone file:
    the folder watcher never reads half a file."""
    aside = path.with_name(f".{path.name}.tmp")
    aside.write_text(text)
    os.replace(aside, path)


def write_config(workdir: Path, zones_dir: Path, extra: dict | None = None) -> Path:
    """workdir/gslb.yaml: loopback listeners on port 0, the test geo database, `extra` merged per section."""
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
    match = wait_until_ready(proc, lambda: READY.search(log.read_text(errors="replace")), "gslb serve", log,
                             START_TIMEOUT)
    host, _, port = match.group(1).rpartition(":")
    http = None if match.group(2) == "off" else match.group(2)
    scheme = "https" if match.group(3) else "http"
    return RunningServer(proc, host.strip("[]"), int(port), http, log, workdir, config_path, full_env, scheme)


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    """Seconds until condition() held; fails the test after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


def run_dig(server: RunningServer, *args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """BIND's dig asking `server`: no recursion, one try of 2 s (later `args` override these)."""
    need("dig", "dnsutils")
    command = ["dig", f"@{server.host}", "-p", str(server.port), "+norecurse", "+time=2", "+tries=1", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def dig(server: RunningServer, *args: str) -> str:
    """What BIND's dig prints when it asks `server` (see run_dig)."""
    return run_dig(server, *args).stdout


def numbered_queries(names: list[str], rdtype: str = "A", first_id: int = 1) -> list[bytes]:
    """One query per name, IDs counting up from `first_id`, so a flood's replies can be told apart."""
    wires = []
    for qid, name in enumerate(names, start=first_id):
        query = dns.message.make_query(name, rdtype)
        query.id = qid
        wires.append(query.to_wire())
    return wires


def udp_flood(server: RunningServer, source: str, wires: list[bytes], wait: float = 1.0,
              after_send: Callable[[int], None] | None = None) -> tuple[dict[int, dns.message.Message], float]:
    """Send every wire (distinct IDs) from `source` as fast as possible; the replies by ID and the
    seconds the sending took. `after_send(index)` runs after each send (another client's turn)."""
    replies: dict[int, dns.message.Message] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((source, 0))
        started = time.monotonic()
        for index, wire in enumerate(wires):
            sock.sendto(wire, (server.host, server.port))
            if after_send is not None:
                after_send(index)
        elapsed = time.monotonic() - started
        sock.settimeout(wait)
        while True:
            try:
                data = sock.recv(65535)
            except TimeoutError:
                break
            reply = dns.message.from_wire(data)
            replies[reply.id] = reply
    return replies, elapsed
