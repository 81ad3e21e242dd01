"""Overrides as an operator meets them: who set them, times in ISO 8601, and explain naming them.

A real server on the health zone (tests/health_zone.py) with no prober: the test sets overrides
over HTTP, asks /v1/explain and runs `gslb explain` against the server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.backends import free_port
from tests.harness import RunningServer
from tests.health_zone import BACKUP, PRIMARY, answer, first_member, http, start_health_server

POOL_PATH = "/v1/overrides/health.test/pools/primary"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_health_server(tmp_path, free_port([PRIMARY, BACKUP]))
    yield running
    running.stop()


def utc(text: str) -> datetime:
    """An ISO 8601 time from the API, which must say UTC."""
    when = datetime.fromisoformat(text)
    assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 0, text
    return when


def audit(server: RunningServer) -> list[dict]:
    return json.loads((server.workdir / "state" / "overrides.json").read_text())["audit"]


def test_x_gslb_user_is_the_override_s_by_when_the_body_names_nobody(server: RunningServer) -> None:
    status, body = http(server, "PUT", POOL_PATH, {"state": "down", "reason": "maintenance"},
                        headers={"X-Gslb-User": "alice"})
    assert status == 200 and body["by"] == "alice"
    [listed] = http(server, "GET", "/v1/overrides")[1]["overrides"]
    assert listed["by"] == "alice"
    assert first_member(server, "primary")["override"]["by"] == "alice"
    assert audit(server)[-1]["actor"] == "alice via 127.0.0.1" and audit(server)[-1]["by"] == "alice"
    # the body's own `by` wins over the header
    status, body = http(server, "PUT", POOL_PATH, {"state": "down", "by": "bob"}, headers={"X-Gslb-User": "alice"})
    assert (status, body["by"]) == (200, "bob")
    # neither: nobody named, and the audit log says it came through the API
    status, body = http(server, "PUT", POOL_PATH, {"state": "down"})
    assert (status, body["by"]) == (200, None)
    assert audit(server)[-1]["actor"] == "api via 127.0.0.1"


def test_a_bad_x_gslb_user_is_refused_and_changes_nothing(server: RunningServer) -> None:
    for value in ("x" * 129, "eve\x85"):
        status, body = http(server, "PUT", POOL_PATH, {"state": "down"}, headers={"X-Gslb-User": value})
        assert status == 400 and body["error"].startswith("X-Gslb-User"), (value, status, body)
    assert http(server, "GET", "/v1/overrides")[1]["overrides"] == []
    assert answer(server)[0] == {PRIMARY}


def test_override_times_are_iso_8601_utc(server: RunningServer) -> None:
    before = datetime.now(UTC)
    status, body = http(server, "PUT", POOL_PATH, {"state": "down", "expires_in": 600})
    after = datetime.now(UTC)
    assert status == 200
    created, expires = utc(body["created"]), utc(body["expires"])
    assert before.timestamp() - 1 <= created.timestamp() <= after.timestamp() + 1
    assert (expires - created).total_seconds() == pytest.approx(600, abs=0.01)
    [listed] = http(server, "GET", "/v1/overrides")[1]["overrides"]
    assert (listed["created"], listed["expires"]) == (body["created"], body["expires"])
    shown = first_member(server, "primary")["override"]
    assert (shown["created"], shown["expires"]) == (body["created"], body["expires"])
    # the state file keeps Unix seconds: a restart reads it as before
    stored = json.loads((server.workdir / "state" / "overrides.json").read_text())["overrides"][0]
    assert stored["created"] == pytest.approx(created.timestamp(), abs=0.001)


def test_explain_names_the_override_that_decided(server: RunningServer) -> None:
    http(server, "PUT", POOL_PATH, {"state": "down", "reason": "fibre cut", "expires_in": 3600},
         headers={"X-Gslb-User": "alice"})
    http(server, "PUT", f"/v1/overrides/health.test/members/backup/{BACKUP}", {"state": "up", "by": "bob"})
    query = urllib.parse.urlencode({"name": "www.health.test", "client": "127.0.0.1"})
    report = http(server, "GET", f"/v1/explain?{query}")[1]
    primary, backup = report["steering"][0]["steps"][0]["candidates"]
    override = primary["members"][0]["override"]
    assert (override["kind"], override["name"], override["state"]) == ("pools", "primary", "down")
    assert (override["by"], override["reason"]) == ("alice", "fibre cut")
    assert utc(override["expires"]).timestamp() == pytest.approx(time.time() + 3600, abs=30)
    assert (primary["state"], backup["state"]) == ("down", "up")
    assert backup["members"][0]["override"]["kind"] == "members"
    assert report["answer"] == [f"www.health.test. 20 A {BACKUP}"]

    command = [sys.executable, "-m", "gslb", "explain", "www.health.test", "--client", "127.0.0.1",
               "-c", str(server.config_path), "--server", str(server.http)]
    text = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=server.workdir, check=True).stdout
    assert f"override: down (pool primary) by alice: fibre cut, until {override['expires']}" in text
    assert f"override: up (member {BACKUP}) by bob: no reason given, until lifted" in text
