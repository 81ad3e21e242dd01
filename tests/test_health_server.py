"""Health end to end: real probers, real backends on 127.x, the real server and its HTTP API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dns.message
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import api_client
from tests.backends import Backends, HttpBackend, free_port
from tests.conftest import RunningServer, start_server

TOKEN = "test-token-0123456789"
PRIMARY, BACKUP = "127.0.10.1", "127.0.10.2"
INTERVAL, FALL, RISE = 0.5, 2, 2


def zone_text(port: int) -> str:
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
         raw: bytes | None = None) -> tuple[int, Any]:
    """An API call with this module's token unless told otherwise."""
    return api_client.http(server, method, path, body, token=token, raw=raw)


def answer(server: RunningServer, name: str = "www.health.test") -> tuple[set[str], int]:
    reply = server.udp(dns.message.make_query(name, "A"))
    addresses = {r.to_text() for rrset in reply.answer for r in rrset}
    return addresses, (reply.answer[0].ttl if reply.answer else -1)


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    """Seconds until condition() held; fails the test after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def backends() -> Iterator[Backends]:
    owner = Backends()
    yield owner
    owner.close()


@pytest.fixture
def web_pair(backends: Backends) -> tuple[int, HttpBackend, HttpBackend]:
    port = free_port([PRIMARY, BACKUP])
    return port, backends.start_http(PRIMARY, port), backends.start_http(BACKUP, port)


def start_health_server(tmp_path: Path, port: int, name: str = "srv", extra: dict | None = None) -> RunningServer:
    workdir = tmp_path / name
    zones = workdir / "zones"
    zones.mkdir(parents=True, exist_ok=True)
    (zones / "health.test.yaml").write_text(zone_text(port))
    (workdir / "token").write_text(TOKEN + "\n")
    config = {"http": {"token_file": str(workdir / "token")}, **(extra or {})}
    return start_server(workdir, zones, config)


def start_prober(tmp_path: Path, servers: list[str], name: str = "probe-1") -> subprocess.Popen:
    config = tmp_path / f"{name}.yaml"
    config.write_text(json.dumps({"name": name, "datacenter": "east", "servers": servers,
                                  "token_file": str(tmp_path / "prober-token"), "refresh": "1s"}))
    (tmp_path / "prober-token").write_text(TOKEN)
    env = {k: v for k, v in os.environ.items() if k not in ("GSLB_CONFIG", "GSLB_TOKEN")}
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "gslb", "prober", "-c", str(config)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


# -- failover with a real prober ---------------------------------------------------------------


def test_answer_moves_to_the_next_pool_and_back(tmp_path: Path, web_pair: tuple[int, HttpBackend, HttpBackend]) -> None:
    port, primary, _ = web_pair
    server = start_health_server(tmp_path, port)
    prober = start_prober(tmp_path, [f"http://{server.http}"])
    try:
        wait_for(lambda: http(server, "GET", "/status")[1]["probers"] != [], timeout=10)
        wait_for(lambda: _member(server, "primary")["state"] == "up", timeout=5)
        assert answer(server) == ({PRIMARY}, 40)
        primary.status = 500
        budget = INTERVAL * FALL + 1.0
        moved = wait_for(lambda: answer(server)[0] == {BACKUP}, timeout=budget + 2)
        assert moved <= budget, f"failover took {moved:.2f} s, budget {budget} s"
        assert answer(server)[1] == 20  # answering from a fallback: TTL halved
        primary.status = 200
        wait_for(lambda: answer(server)[0] == {PRIMARY}, timeout=INTERVAL * RISE + 2)
        assert answer(server)[1] == 40
    finally:
        stop(prober)
        server.stop()


def test_slow_backend_and_closed_port_count_as_down(tmp_path: Path, backends: Backends) -> None:
    port = free_port([PRIMARY, BACKUP])
    slow = backends.start_http(PRIMARY, port)
    slow.delay = 1.0  # past the 0.3 s timeout
    # nothing listens on BACKUP:port: connection refused
    server = start_health_server(tmp_path, port)
    prober = start_prober(tmp_path, [f"http://{server.http}"])
    try:
        wait_for(lambda: _member(server, "primary")["state"] == "down"
                 and _member(server, "backup")["state"] == "down", timeout=10)
        errors = {m["address"]: m["reports"][0]["error"] for m in (_member(server, "primary"),
                                                                    _member(server, "backup"))}
        assert "timeout" in errors[PRIMARY]
        assert "refused" in errors[BACKUP]
        # every candidate down: fail-open answers the first pool at half TTL
        assert answer(server) == ({PRIMARY}, 20)
    finally:
        stop(prober)
        server.stop()


def test_prober_keeps_reporting_when_one_server_is_down(
    tmp_path: Path, web_pair: tuple[int, HttpBackend, HttpBackend]
) -> None:
    port, _, _ = web_pair
    server = start_health_server(tmp_path, port)
    dead = f"http://127.0.0.1:{free_port(['127.0.0.1'])}"
    prober = start_prober(tmp_path, [dead, f"http://{server.http}"])
    try:
        wait_for(lambda: http(server, "GET", "/status")[1]["probers"] != [], timeout=10)
        first = http(server, "GET", "/status")[1]["probers"][0]["last_report"]
        wait_for(lambda: http(server, "GET", "/status")[1]["probers"][0]["last_report"] != first, timeout=15)
        assert prober.poll() is None
    finally:
        stop(prober)
        server.stop()


def _member(server: RunningServer, pool: str) -> dict[str, Any]:
    status = http(server, "GET", "/status")[1]
    [found] = [p for p in status["pools"] if p["name"] == pool]
    return found["members"][0]


# -- reports, overrides and the API without a prober ------------------------------------------


@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server on the health zone with no prober: verdicts come from the test's own reports."""
    port = free_port([PRIMARY, BACKUP])
    server = start_health_server(tmp_path, port, extra={"health": {"stale_after": "2s"}})
    yield server
    server.stop()


def targets(server: RunningServer) -> dict[str, str]:
    """address -> target id"""
    status, body = http(server, "GET", "/v1/targets")
    assert status == 200
    return {t["address"]: t["id"] for t in body["targets"]}


def report(server: RunningServer, prober: str, verdicts: dict[str, bool], **extra: Any) -> tuple[int, Any]:
    ids = targets(server)
    results = [{"id": ids[address], "up": up, "rtt_ms": 1.5} for address, up in verdicts.items()]
    return http(server, "POST", "/v1/reports", {"prober": prober, "results": results, **extra})


def test_targets_are_distinct_address_and_check(quiet_server: RunningServer) -> None:
    status, body = http(quiet_server, "GET", "/v1/targets")
    assert status == 200
    assert sorted(t["address"] for t in body["targets"]) == [PRIMARY, BACKUP]  # the unchecked pool is not one
    check = body["targets"][0]["check"]
    assert check["type"] == "http" and check["path"] == "/health" and check["fall"] == FALL


def test_reports_drive_answers_and_stale_verdicts_expire(quiet_server: RunningServer) -> None:
    assert report(quiet_server, "p1", {PRIMARY: False, BACKUP: True}) == (200, {"accepted": 2, "unknown": 0})
    assert answer(quiet_server)[0] == {BACKUP}
    member = _member(quiet_server, "primary")
    assert member["state"] == "down"
    assert member["reports"][0]["prober"] == "p1" and member["reports"][0]["up"] is False
    # stale_after is 2 s: with no new report the verdict is ignored and the member is unknown (initial: up)
    wait_for(lambda: _member(quiet_server, "primary")["state"] == "unknown", timeout=4)
    assert answer(quiet_server)[0] == {PRIMARY}


def test_unknown_target_ids_are_counted_and_skipped(quiet_server: RunningServer) -> None:
    status, body = http(quiet_server, "POST", "/v1/reports",
                        {"prober": "p1", "results": [{"id": "feedfeedfeedfeed", "up": False}]})
    assert (status, body) == (200, {"accepted": 0, "unknown": 1})
    metrics = _metrics(quiet_server)
    assert metrics[("gslb_prober_results_total", (("outcome", "unknown_target"), ("prober", "p1")))] == 1


def test_overrides_win_expire_and_are_audited(quiet_server: RunningServer) -> None:
    report(quiet_server, "p1", {PRIMARY: True, BACKUP: True})
    path = f"/v1/overrides/health.test/members/primary/{PRIMARY}"
    status, body = http(quiet_server, "PUT", path, {"state": "down", "reason": "maintenance", "expires_in": 1.5})
    assert status == 200 and body["state"] == "down"
    assert answer(quiet_server)[0] == {BACKUP}
    assert _member(quiet_server, "primary")["override"]["reason"] == "maintenance"
    listed = http(quiet_server, "GET", "/v1/overrides")[1]["overrides"]
    assert [(o["kind"], o["name"], o["address"]) for o in listed] == [("members", "primary", PRIMARY)]
    wait_for(lambda: http(quiet_server, "GET", "/v1/overrides")[1]["overrides"] == [], timeout=4)
    report(quiet_server, "p1", {PRIMARY: True, BACKUP: True})
    assert answer(quiet_server)[0] == {PRIMARY}
    audit = json.loads((quiet_server.workdir / "state" / "overrides.json").read_text())["audit"]
    assert [entry["action"] for entry in audit] == ["set", "expired"]


def test_pool_and_datacenter_overrides(quiet_server: RunningServer) -> None:
    assert http(quiet_server, "PUT", "/v1/overrides/health.test/pools/primary", {"state": "down"})[0] == 200
    assert answer(quiet_server)[0] == {BACKUP}
    assert http(quiet_server, "DELETE", "/v1/overrides/health.test/pools/primary")[0] == 200
    assert answer(quiet_server)[0] == {PRIMARY}
    assert http(quiet_server, "PUT", "/v1/overrides/health.test/datacenters/east", {"state": "down"})[0] == 200
    assert answer(quiet_server)[0] == {BACKUP}
    datacenters = http(quiet_server, "GET", "/status/datacenters")[1]["datacenters"]
    assert {d["name"]: d["state"] for d in datacenters} == {"east": "down", "west": "up"}
    # a forced-up override beats a down verdict
    report(quiet_server, "p1", {BACKUP: False})
    http(quiet_server, "PUT", f"/v1/overrides/health.test/members/backup/{BACKUP}", {"state": "up"})
    assert answer(quiet_server)[0] == {BACKUP}


def test_overrides_survive_a_restart(tmp_path: Path) -> None:
    port = free_port([PRIMARY, BACKUP])
    first = start_health_server(tmp_path, port)
    try:
        http(first, "PUT", "/v1/overrides/health.test/pools/primary", {"state": "down", "reason": "drain"})
    finally:
        first.stop()
    second = start_health_server(tmp_path, port)
    try:
        [override] = http(second, "GET", "/v1/overrides")[1]["overrides"]
        assert (override["name"], override["state"], override["reason"]) == ("primary", "down", "drain")
        assert answer(second)[0] == {BACKUP}
    finally:
        second.stop()


BAD_WRITES = [
    # (method, path, body or raw bytes, token, expected status)
    ("POST", "/v1/reports", {"prober": "p1", "results": []}, None, 401),
    ("POST", "/v1/reports", {"prober": "p1", "results": []}, "wrong-token", 401),
    ("PUT", "/v1/overrides/health.test/pools/primary", {"state": "down"}, None, 401),
    ("PUT", "/v1/overrides/health.test/pools/primary", {"state": "down"}, "x" * len(TOKEN), 401),
    ("DELETE", "/v1/overrides/health.test/pools/backup", None, None, 401),
    ("POST", "/v1/reload", None, None, 401),
    ("GET", "/v1/targets", None, None, 401),
    ("GET", "/v1/overrides", None, None, 401),
    ("POST", "/v1/reports", b"{not json", TOKEN, 400),
    ("POST", "/v1/reports", {"prober": "p1"}, TOKEN, 400),
    ("POST", "/v1/reports", {"prober": "", "results": []}, TOKEN, 400),
    ("POST", "/v1/reports", {"prober": "p1", "results": [{"id": "x", "up": "yes"}]}, TOKEN, 400),
    ("POST", "/v1/reports", {"prober": "p1", "results": [{"id": "x", "up": True, "rtt_ms": -1}]}, TOKEN, 400),
    ("POST", "/v1/reports", {"prober": "p1", "results": [], "extra": 1}, TOKEN, 400),
    ("POST", "/v1/reports", {"prober": "p1", "location": [91, 0], "results": []}, TOKEN, 400),
    ("PUT", "/v1/overrides/health.test/pools/primary", {"state": "sideways"}, TOKEN, 400),
    ("PUT", "/v1/overrides/health.test/pools/primary", {"state": "down", "expires_in": -5}, TOKEN, 400),
    ("PUT", "/v1/overrides/health.test/pools/primary", {"state": "down", "colour": "red"}, TOKEN, 400),
    ("PUT", "/v1/overrides/health.test/pools/primary", b"[]", TOKEN, 400),
    ("PUT", "/v1/overrides/health.test/pools/nope", {"state": "down"}, TOKEN, 404),
    ("PUT", "/v1/overrides/health.test/members/primary/127.9.9.9", {"state": "down"}, TOKEN, 404),
    ("PUT", "/v1/overrides/health.test/things/primary", {"state": "down"}, TOKEN, 404),
]


def test_every_bad_write_changes_nothing(quiet_server: RunningServer) -> None:
    report(quiet_server, "p1", {PRIMARY: True, BACKUP: True})
    before = _comparable_status(quiet_server), answer(quiet_server)
    for method, path, body, token, expected in BAD_WRITES:
        raw = body if isinstance(body, bytes) else None
        status, _ = http(quiet_server, method, path, None if raw else body, token=token, raw=raw)
        assert status == expected, (method, path, body, token)
    assert (_comparable_status(quiet_server), answer(quiet_server)) == before
    assert http(quiet_server, "GET", "/v1/overrides")[1]["overrides"] == []
    metrics = _metrics(quiet_server)
    assert metrics[("gslb_prober_reports_rejected_total", (("reason", "unauthorized"),))] == 2
    assert metrics[("gslb_prober_reports_rejected_total", (("reason", "malformed"),))] == 7  # "{not json" too


def _comparable_status(server: RunningServer) -> Any:
    status = http(server, "GET", "/status")[1]
    for pool in status["pools"]:
        for member in pool["members"]:
            for entry in member["reports"]:
                entry.pop("fresh")
    return status["pools"], status["datacenters"]


# -- metrics ---------------------------------------------------------------------------------


def _metrics(server: RunningServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://{server.http}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_parse_and_count_what_was_sent(quiet_server: RunningServer) -> None:
    for _ in range(7):
        answer(quiet_server)
    for _ in range(3):
        answer(quiet_server, "nothing.health.test")
    quiet_server.tcp(dns.message.make_query("www.health.test", "A"))
    report(quiet_server, "p1", {PRIMARY: False, BACKUP: True})
    metrics = _metrics(quiet_server)

    def queries(rcode: str, transport: str) -> float:
        labels = (("qtype", "A"), ("rcode", rcode), ("transport", transport), ("zone", "health.test."))
        return metrics[("gslb_dns_queries_total", labels)]

    assert queries("NOERROR", "udp") == 7
    assert queries("NXDOMAIN", "udp") == 3
    assert queries("NOERROR", "tcp") == 1
    assert metrics[("gslb_dns_query_duration_seconds_count", ())] == 11
    assert metrics[("gslb_prober_reports_total", (("prober", "p1"),))] == 1
    state = (("address", PRIMARY), ("pool", "primary"), ("state", "down"), ("zone", "health.test."))
    assert metrics[("gslb_member_state", state)] == 1
    answered = metrics[("gslb_steering_answers_total", (("pool", "primary"), ("service", "web"),
                                                         ("zone", "health.test.")))]
    assert answered == 8
    assert metrics[("gslb_zone_reloads_total", (("result", "success"),))] == 1
    assert metrics[("gslb_dns_rate_limited_responses_total", (("action", "dropped"),))] == 0  # off by default


# -- quorum and the embedded prober ------------------------------------------------------------


@pytest.mark.parametrize(
    ("quorum", "two_up_one_down", "one_up_two_down"),
    [(0.5, "up", "down"), ("any", "up", "up"), ("all", "down", "down")],
)
def test_quorum_with_three_probers_that_disagree(tmp_path: Path, quorum: Any, two_up_one_down: str,
                                                 one_up_two_down: str) -> None:
    port = free_port([PRIMARY, BACKUP])
    server = start_health_server(tmp_path, port, extra={"health": {"quorum": quorum}})
    try:
        for prober, up in (("p1", True), ("p2", True), ("p3", False)):
            report(server, prober, {PRIMARY: up})
        assert _member(server, "primary")["state"] == two_up_one_down
        report(server, "p2", {PRIMARY: False})
        assert _member(server, "primary")["state"] == one_up_two_down
        assert len(_member(server, "primary")["reports"]) == 3
    finally:
        server.stop()


def test_embedded_prober(tmp_path: Path, web_pair: tuple[int, HttpBackend, HttpBackend]) -> None:
    port, primary, backup = web_pair
    server = start_health_server(tmp_path, port, extra={"health": {"local_prober": True}})
    try:
        wait_for(lambda: _member(server, "primary")["state"] == "up"
                 and _member(server, "backup")["state"] == "up", timeout=10)
        assert primary.hits > 0 and backup.hits > 0
        [prober] = http(server, "GET", "/status")[1]["probers"]
        assert prober["name"].startswith("local-")
        primary.status = 500
        wait_for(lambda: answer(server)[0] == {BACKUP}, timeout=INTERVAL * FALL + 3)
    finally:
        server.stop()
