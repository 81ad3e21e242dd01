"""Health end to end: real probers, real backends on 127.x, the real server and its HTTP API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.message
import pytest

from tests.backends import Backends, HttpBackend, free_port
from tests.harness import RunningServer, wait_for
from tests.health_zone import (
    BACKUP,
    FALL,
    INTERVAL,
    PRIMARY,
    RISE,
    TOKEN,
    answer,
    first_member,
    http,
    report,
    start_health_server,
    start_prober,
)
from tests.http_api import scrape_metrics
from tests.processes import stop_process


@pytest.fixture
def backends() -> Iterator[Backends]:
    owner = Backends()
    yield owner
    owner.close()


@pytest.fixture
def web_pair(backends: Backends) -> tuple[int, HttpBackend, HttpBackend]:
    primary, backup = backends.start_http_on_one_port([PRIMARY, BACKUP])
    return primary.port, primary, backup


# -- failover with a real prober ---------------------------------------------------------------


def test_answer_moves_to_the_next_pool_and_back(tmp_path: Path, web_pair: tuple[int, HttpBackend, HttpBackend]) -> None:
    port, primary, _ = web_pair
    server = start_health_server(tmp_path, port)
    prober = start_prober(tmp_path, [f"http://{server.http}"])
    try:
        wait_for(lambda: http(server, "GET", "/status")[1]["probers"] != [], timeout=10)
        wait_for(lambda: first_member(server, "primary")["state"] == "up", timeout=5)
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
        stop_process(prober)
        server.stop()


def test_slow_backend_and_closed_port_count_as_down(tmp_path: Path, backends: Backends) -> None:
    port = free_port([PRIMARY, BACKUP])
    slow = backends.start_http(PRIMARY, port)
    slow.delay = 1.0  # past the 0.3 s timeout
    # nothing listens on BACKUP:port: connection refused
    server = start_health_server(tmp_path, port)
    prober = start_prober(tmp_path, [f"http://{server.http}"])
    try:
        wait_for(lambda: first_member(server, "primary")["state"] == "down"
                 and first_member(server, "backup")["state"] == "down", timeout=10)
        errors = {m["address"]: m["reports"][0]["error"] for m in (first_member(server, "primary"),
                                                                    first_member(server, "backup"))}
        assert "timeout" in errors[PRIMARY]
        assert "refused" in errors[BACKUP]
        # every candidate down: fail-open answers the first pool at half TTL
        assert answer(server) == ({PRIMARY}, 20)
    finally:
        stop_process(prober)
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
        stop_process(prober)
        server.stop()


# -- reports, overrides and the API without a prober ------------------------------------------


@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server on the health zone with no prober: verdicts come from the test's own reports."""
    port = free_port([PRIMARY, BACKUP])
    server = start_health_server(tmp_path, port, extra={"health": {"stale_after": "2s"}})
    yield server
    server.stop()


def test_targets_are_distinct_address_and_check(quiet_server: RunningServer) -> None:
    status, body = http(quiet_server, "GET", "/v1/targets")
    assert status == 200
    assert sorted(t["address"] for t in body["targets"]) == [PRIMARY, BACKUP]  # the unchecked pool is not one
    check = body["targets"][0]["check"]
    assert check["type"] == "http" and check["path"] == "/health" and check["fall"] == FALL


def test_reports_drive_answers_and_stale_verdicts_keep_the_last_state(quiet_server: RunningServer) -> None:
    assert report(quiet_server, "p1", {PRIMARY: False, BACKUP: True}) == (200, {"accepted": 2, "unknown": 0})
    assert answer(quiet_server)[0] == {BACKUP}
    member = first_member(quiet_server, "primary")
    assert (member["state"], member["stale"]) == ("down", False)
    assert member["reports"][0]["prober"] == "p1" and member["reports"][0]["up"] is False
    # stale_after is 2 s: with no new report the verdict goes stale, and the member stays down
    # (losing the prober is no evidence that the server came back), marked stale.
    wait_for(lambda: first_member(quiet_server, "primary")["stale"], timeout=4)
    member = first_member(quiet_server, "primary")
    assert (member["state"], member["reports"][0]["fresh"]) == ("down", False)
    assert answer(quiet_server)[0] == {BACKUP}
    monitoring = http(quiet_server, "GET", "/status")[1]["monitoring"]
    assert [p["name"] for p in monitoring["silent_probers"]] == ["p1"]
    assert {(t["address"], t["state"]) for t in monitoring["stale_targets"]} == {(PRIMARY, "down"), (BACKUP, "up")}
    report(quiet_server, "p1", {PRIMARY: True, BACKUP: True})
    assert (first_member(quiet_server, "primary")["state"], answer(quiet_server)[0]) == ("up", {PRIMARY})
    monitoring = http(quiet_server, "GET", "/status")[1]["monitoring"]
    assert (monitoring["silent_probers"], monitoring["stale_targets"]) == ([], [])


def test_unknown_target_ids_are_counted_and_skipped(quiet_server: RunningServer) -> None:
    status, body = http(quiet_server, "POST", "/v1/reports",
                        {"prober": "p1", "results": [{"id": "feedfeedfeedfeed", "up": False}]})
    assert (status, body) == (200, {"accepted": 0, "unknown": 1})
    metrics = scrape_metrics(quiet_server)
    assert metrics[("gslb_prober_results_total", (("outcome", "unknown_target"), ("prober", "p1")))] == 1


def test_overrides_win_expire_and_are_audited(quiet_server: RunningServer) -> None:
    report(quiet_server, "p1", {PRIMARY: True, BACKUP: True})
    path = f"/v1/overrides/health.test/members/primary/{PRIMARY}"
    status, body = http(quiet_server, "PUT", path, {"state": "down", "reason": "maintenance", "expires_in": 1.5})
    assert status == 200 and body["state"] == "down"
    assert answer(quiet_server)[0] == {BACKUP}
    assert first_member(quiet_server, "primary")["override"]["reason"] == "maintenance"
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
    metrics = scrape_metrics(quiet_server)
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


def test_metrics_parse_and_count_what_was_sent(quiet_server: RunningServer) -> None:
    for _ in range(7):
        answer(quiet_server)
    for _ in range(3):
        answer(quiet_server, "nothing.health.test")
    quiet_server.tcp(dns.message.make_query("www.health.test", "A"))
    report(quiet_server, "p1", {PRIMARY: False, BACKUP: True})
    metrics = scrape_metrics(quiet_server)

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
    answered = metrics[("gslb_steering_answers_total", (("datacenter", "east"), ("pool", "primary"),
                                                         ("service", "web"), ("zone", "health.test.")))]
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
        assert first_member(server, "primary")["state"] == two_up_one_down
        report(server, "p2", {PRIMARY: False})
        assert first_member(server, "primary")["state"] == one_up_two_down
        assert len(first_member(server, "primary")["reports"]) == 3
    finally:
        server.stop()


def test_embedded_prober(tmp_path: Path, web_pair: tuple[int, HttpBackend, HttpBackend]) -> None:
    port, primary, backup = web_pair
    server = start_health_server(tmp_path, port, extra={"health": {"local_prober": True}})
    try:
        wait_for(lambda: first_member(server, "primary")["state"] == "up"
                 and first_member(server, "backup")["state"] == "up", timeout=10)
        assert primary.hits > 0 and backup.hits > 0
        [prober] = http(server, "GET", "/status")[1]["probers"]
        assert prober["name"].startswith("local-")
        primary.status = 500
        wait_for(lambda: answer(server)[0] == {BACKUP}, timeout=INTERVAL * FALL + 3)
    finally:
        server.stop()
