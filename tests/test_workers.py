"""dns.workers: several processes on one port; reloads and health reach all of them within a second."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.request
from pathlib import Path

import dns.flags
import dns.message
import pytest

from tests.harness import RunningServer, start_server, wait_for
from tests.http_api import call_api, scrape_metrics

TOKEN = "workers-token"
ZONE = """
zone: work.test.
ns: [ns1.work.test.]
records:
  ns1: {{A: 127.0.0.53}}
  fixed: {{A: {address}}}
  www: {{service: web}}
pools:
  one: {{members: [127.0.30.1]}}
  two: {{members: [127.0.30.2]}}
services:
  web: {{method: failover, pools: [one, two]}}
"""


def ask_many(server: RunningServer, name: str, count: int = 60) -> set[str]:
    """Ask from `count` fresh sockets (fresh source ports), so the kernel spreads them over the processes."""
    seen = set()
    for _ in range(count):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(2)
            sock.sendto(dns.message.make_query(name, "A").to_wire(), (server.host, server.port))
            reply = dns.message.from_wire(sock.recv(4096))
        seen |= {r.to_text() for rrset in reply.answer for r in rrset}
    return seen


def status(server: RunningServer) -> dict:
    with urllib.request.urlopen(f"http://{server.http}/status", timeout=5) as response:
        return json.load(response)


@pytest.fixture
def server(tmp_path: Path):
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "work.test.yaml").write_text(ZONE.format(address="127.0.40.1"))
    (tmp_path / "token").write_text(TOKEN)
    running = start_server(tmp_path, zones, {"dns": {"workers": 2}, "http": {"token_file": str(tmp_path / "token")}})
    yield running
    running.stop()


def test_both_processes_answer_and_are_counted(server: RunningServer) -> None:
    assert ask_many(server, "fixed.work.test", 80) == {"127.0.40.1"}
    time.sleep(1.5)  # workers report their counters every second
    processes = status(server)["dns_processes"]
    assert len(processes) == 2 and all(p["alive"] for p in processes)
    assert all(p["queries"] > 0 for p in processes), processes  # 2^-79 odds that one got them all
    assert sum(p["queries"] for p in processes) == 80


def test_reload_reaches_every_process_within_a_second(server: RunningServer) -> None:
    zone_file = server.workdir / "zones" / "work.test.yaml"
    zone_file.write_text(ZONE.format(address="127.0.40.2"))
    server.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "reload done (signal)" not in server.log_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)
    assert ask_many(server, "fixed.work.test") == {"127.0.40.2"}


def test_health_reaches_every_process_within_a_second(server: RunningServer) -> None:
    assert ask_many(server, "www.work.test") == {"127.0.30.1"}
    code, _ = call_api(server, "PUT", "/v1/overrides/work.test/pools/one", {"state": "down"}, token=TOKEN)
    assert code == 200
    time.sleep(1.0)
    assert ask_many(server, "www.work.test") == {"127.0.30.2"}


def test_metrics_count_rate_limited_replies_of_every_process(tmp_path: Path) -> None:
    """With two DNS processes, /metrics sums what both held back, not only the main one's."""
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "work.test.yaml").write_text(ZONE.format(address="127.0.40.1"))
    limit = {"responses_per_second": 1, "window": "5s", "slip": 1}  # after one answer, every reply slips
    running = start_server(tmp_path, zones, {"dns": {"workers": 2, "rate_limit": limit}})
    try:
        slipped = 0
        for _ in range(200):  # fresh sockets: fresh source ports, spread over both processes
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(2)
                sock.sendto(dns.message.make_query("fixed.work.test", "A").to_wire(), (running.host, running.port))
                reply = dns.message.from_wire(sock.recv(4096))
            slipped += bool(reply.flags & dns.flags.TC)
        wait_for(lambda: sum(p["queries"] for p in status(running)["dns_processes"]) == 200, timeout=5)
        processes = status(running)["dns_processes"]
        assert len(processes) == 2
        assert all(p["queries"] >= 20 for p in processes), processes  # each one limited some
        assert slipped >= 190

        def counted() -> float:
            samples = scrape_metrics(running)
            return samples.get(("gslb_dns_rate_limited_responses_total", (("action", "slipped"),)), 0.0)

        wait_for(lambda: counted() == slipped, timeout=5)  # workers report every second
    finally:
        running.stop()
