"""The health test zone: two checked pools on loopback backends, a server on it, and a real prober.

Shared by the health, scale-out and related tests. Backends for the checks come from
tests/backends.py; the server's API is called with the zone's TOKEN unless told otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dns.message

from tests.harness import RunningServer, start_server, write_zones
from tests.http_api import call_api

TOKEN = "test-token-0123456789"
PRIMARY, BACKUP = "127.0.10.1", "127.0.10.2"
INTERVAL, FALL, RISE = 0.5, 2, 2


def zone_text(port: int) -> str:
    """health.test: www steered by failover from the checked pool `primary` to `backup`."""
    return f"""
zone: health.test.
ns: [ns1.health.test.]
records:
  ns1: {{A: 127.0.0.53}}
  www: {{service: web}}
datacenters:
  east: {{location: [38.9, -77.4]}}
  west: {{location: [37.4, -122.1]}}
checks:
  web: {{type: http, port: {port}, path: /health, expect_body: ok, interval: {INTERVAL}, timeout: 0.3,
        rise: {RISE}, fall: {FALL}}}
pools:
  primary: {{datacenter: east, check: web, members: [{PRIMARY}]}}
  backup:  {{datacenter: west, check: web, members: [{BACKUP}]}}
  static:  {{datacenter: west, members: [127.0.10.9]}}
services:
  web:
    ttl: 40
    method: failover
    pools: [primary, backup]
"""


def http(server: RunningServer, method: str, path: str, body: Any = None, token: str | None = TOKEN,
         raw: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """call_api with the health zone's token unless another (or None) is given."""
    return call_api(server, method, path, body, token=token, raw=raw, headers=headers)


def answer(server: RunningServer, name: str = "www.health.test", rdtype: str = "A") -> tuple[set[str], int]:
    """The addresses of an A (or `rdtype`) query over UDP and their TTL (-1 when the answer is empty)."""
    reply = server.udp(dns.message.make_query(name, rdtype))
    addresses = {r.to_text() for rrset in reply.answer for r in rrset}
    return addresses, (reply.answer[0].ttl if reply.answer else -1)


def start_health_server(tmp_path: Path, port: int, name: str = "srv", extra: dict | None = None) -> RunningServer:
    """A server on the health zone with checks on `port`, its API guarded by TOKEN."""
    return start_zones_server(tmp_path, {"health.test": zone_text(port)}, name, extra)


def start_zones_server(tmp_path: Path, zones: dict[str, str], name: str = "srv",
                       extra: dict | None = None) -> RunningServer:
    """A server on the given zone texts (zone name -> YAML), its API guarded by TOKEN."""
    workdir = tmp_path / name
    folder = write_zones(workdir / "zones", zones)
    (workdir / "token").write_text(TOKEN + "\n")
    config = {"http": {"token_file": str(workdir / "token")}, **(extra or {})}
    return start_server(workdir, folder, config)


def start_prober(tmp_path: Path, servers: list[str], name: str = "probe-1") -> subprocess.Popen:
    """A real `gslb prober` in datacenter east reporting to `servers` (their HTTP base URLs)."""
    config = tmp_path / f"{name}.yaml"
    config.write_text(json.dumps({"name": name, "datacenter": "east", "servers": servers,
                                  "token_file": str(tmp_path / "prober-token"), "refresh": "1s"}))
    (tmp_path / "prober-token").write_text(TOKEN)
    env = {k: v for k, v in os.environ.items() if k not in ("GSLB_CONFIG", "GSLB_TOKEN")}
    with (tmp_path / f"{name}.log").open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "gslb", "prober", "-c", str(config)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)


def first_member(server: RunningServer, pool: str) -> dict[str, Any]:
    """The first member of `pool` as GET /status shows it."""
    status = http(server, "GET", "/status")[1]
    [found] = [p for p in status["pools"] if p["name"] == pool]
    return found["members"][0]


def targets(server: RunningServer) -> dict[str, str]:
    """address -> target id, from GET /v1/targets."""
    status, body = http(server, "GET", "/v1/targets")
    assert status == 200
    return {t["address"]: t["id"] for t in body["targets"]}


def report(server: RunningServer, prober: str, verdicts: dict[str, bool], **extra: Any) -> tuple[int, Any]:
    """POST /v1/reports as `prober`: address -> up, each with an RTT of 1.5 ms."""
    ids = targets(server)
    results = [{"id": ids[address], "up": up, "rtt_ms": 1.5} for address, up in verdicts.items()]
    return http(server, "POST", "/v1/reports", {"prober": prober, "results": results, **extra})
