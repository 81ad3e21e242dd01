"""Scale-out: real gslb servers sharing health through a real redis-server on 127.0.0.1.

Each test starts its own redis-server on a free loopback port (no persistence, in tmp_path), two
gslb servers pointed at it, and pushes reports or runs a real prober against only one server.
"""

from __future__ import annotations

import json
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gslb.config.load import ConfigError, load_config
from tests.backends import Backends, HttpBackend, free_port
from tests.certs import make_tls_files
from tests.harness import RunningServer, wait_for
from tests.health_zone import (
    BACKUP,
    FALL,
    INTERVAL,
    PRIMARY,
    answer,
    first_member,
    http,
    report,
    start_health_server,
    start_prober,
)
from tests.http_api import scrape_metrics
from tests.processes import stop_process
from tests.redis_server import RedisServer

BACKEND_CONNECTED = ("gslb_health_backend_connected", (("kind", "redis"),))
RECONNECT_BUDGET = 5.0 * 1.2 + 2.0 + 1.0  # the backoff cap with jitter, one connect timeout, a margin


@pytest.fixture
def members() -> Iterator[tuple[int, HttpBackend, HttpBackend]]:
    """The two checked members' health endpoints, which the test turns bad and good."""
    owner = Backends()
    primary, backup = owner.start_http_on_one_port([PRIMARY, BACKUP])
    yield primary.port, primary, backup
    owner.close()


def start_shared(tmp_path: Path, port: int, name: str, backend: str, **health: Any) -> RunningServer:
    """A server on the health zone whose health is shared through `backend`."""
    return start_health_server(tmp_path, port, name, extra={"health": {"backend": backend, **health}})


def backend_state(server: RunningServer) -> dict[str, Any]:
    return http(server, "GET", "/status")[1]["health_backend"]


def verdicts(server: RunningServer, pool: str) -> list[tuple[str, bool, str]]:
    """(prober, up, received) of a pool's first member: the same on every server that agrees."""
    return [(r["prober"], r["up"], r["received"]) for r in first_member(server, pool)["reports"]]


@pytest.fixture
def pair(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Two servers sharing one Redis, with no prober: the test pushes reports to one of them."""
    port = free_port([PRIMARY, BACKUP])
    a = start_shared(tmp_path, port, "a", redis_server.url, stale_after="60s")
    b = start_shared(tmp_path, port, "b", redis_server.url, stale_after="60s")
    yield a, b
    a.stop()
    b.stop()


# -- the same answers everywhere ----------------------------------------------------------------


def test_both_servers_answer_alike_when_a_member_goes_down(
    tmp_path: Path, redis_server: RedisServer, members: tuple[int, HttpBackend, HttpBackend]
) -> None:
    port, primary, _ = members
    a = start_shared(tmp_path, port, "a", redis_server.url)
    b = start_shared(tmp_path, port, "b", redis_server.url)
    prober = start_prober(tmp_path, [f"http://{a.http}"])  # it knows only server a
    try:
        assert backend_state(a) == backend_state(b) == {"kind": "redis", "connected": True}
        wait_for(lambda: first_member(b, "primary")["state"] == "up" and first_member(b, "backup")["state"] == "up",
                 timeout=10)
        assert answer(a) == answer(b) == ({PRIMARY}, 40)

        primary.status = 500
        wait_for(lambda: answer(a)[0] == {BACKUP}, timeout=INTERVAL * FALL + 3)
        wait_for(lambda: answer(b)[0] == {BACKUP}, timeout=1.0)  # b hears of it within a second
        assert answer(a) == answer(b) == ({BACKUP}, 20)
        wait_for(lambda: verdicts(a, "primary") == verdicts(b, "primary"), timeout=1.0)
        [(prober_name, up, _)] = verdicts(b, "primary")
        assert (prober_name, up) == ("probe-1", False)

        # b never heard from the prober itself: only a counted its reports
        assert ("gslb_prober_reports_total", (("prober", "probe-1"),)) not in scrape_metrics(b)
        assert scrape_metrics(a)[("gslb_prober_reports_total", (("prober", "probe-1"),))] > 0
        assert scrape_metrics(a)[BACKEND_CONNECTED] == scrape_metrics(b)[BACKEND_CONNECTED] == 1
        assert [p["name"] for p in http(b, "GET", "/status")[1]["probers"]] == ["probe-1"]

        # what Redis holds: the latest verdict per (target, prober) with the receiving server's time
        target = first_member(a, "primary")["target"]
        stored = json.loads(redis_server.client().hget("gslb:verdicts", f"{target}/probe-1"))
        assert stored["up"] is False and abs(stored["received"] - time.time()) < 5

        primary.status = 200
        wait_for(lambda: answer(a)[0] == {PRIMARY}, timeout=INTERVAL * FALL + 3)
        wait_for(lambda: answer(b)[0] == {PRIMARY}, timeout=1.0)
    finally:
        stop_process(prober)
        a.stop()
        b.stop()


def test_an_override_set_on_one_server_applies_on_both(
    pair: tuple[RunningServer, RunningServer], redis_server: RedisServer
) -> None:
    a, b = pair
    assert answer(a)[0] == answer(b)[0] == {PRIMARY}
    status, _ = http(a, "PUT", "/v1/overrides/health.test/pools/primary",
                     {"state": "down", "reason": "maintenance", "by": "alice"})
    assert status == 200
    assert answer(a)[0] == {BACKUP}  # on the server that took it: at once
    wait_for(lambda: answer(b)[0] == {BACKUP}, timeout=1.0)
    [listed] = http(b, "GET", "/v1/overrides")[1]["overrides"]
    assert (listed["name"], listed["state"], listed["reason"], listed["by"]) == ("primary", "down", "maintenance",
                                                                                 "alice")

    assert http(b, "DELETE", "/v1/overrides/health.test/pools/primary")[0] == 200  # lifted on the other one
    wait_for(lambda: answer(a)[0] == {PRIMARY}, timeout=1.0)
    assert http(a, "DELETE", "/v1/overrides/health.test/pools/primary")[0] == 404

    # an expiring override: every server drops it, and exactly one "expired" entry is audited
    member = f"/v1/overrides/health.test/members/primary/{PRIMARY}"
    assert http(b, "PUT", member, {"state": "down", "expires_in": 1})[0] == 200
    wait_for(lambda: answer(a)[0] == {BACKUP}, timeout=1.0)
    wait_for(lambda: answer(a)[0] == {PRIMARY} and answer(b)[0] == {PRIMARY}, timeout=4)
    wait_for(lambda: len(redis_server.client().lrange("gslb:audit", 0, -1)) == 4, timeout=3)
    time.sleep(1.5)  # a second claim would have been audited by now
    audit = [json.loads(e) for e in redis_server.client().lrange("gslb:audit", 0, -1)]
    assert [(e["action"], e["kind"]) for e in audit] == [
        ("set", "pools"), ("delete", "pools"), ("set", "members"), ("expired", "members")]
    assert "alice" in audit[0]["actor"]
    # each server's state file mirrors the shared audit log
    for server in (a, b):
        mirror = json.loads((server.workdir / "state" / "overrides.json").read_text())
        assert mirror == {"overrides": [], "audit": audit}


def test_a_restarted_server_restores_its_state_from_redis(tmp_path: Path, redis_server: RedisServer) -> None:
    port = free_port([PRIMARY, BACKUP])
    a = start_shared(tmp_path, port, "a", redis_server.url)
    b = start_shared(tmp_path, port, "b", redis_server.url)
    try:
        assert report(a, "p1", {PRIMARY: False, BACKUP: True}, datacenter="east")[0] == 200
        assert http(a, "PUT", f"/v1/overrides/health.test/members/backup/{BACKUP}",
                    {"state": "up", "reason": "pinned"})[0] == 200
        wait_for(lambda: answer(b)[0] == {BACKUP}, timeout=1.0)
        before = verdicts(a, "primary")

        b.stop()
        shutil.rmtree(b.workdir / "state")  # nothing left on disk: all it knows must come from Redis
        b = start_shared(tmp_path, port, "b", redis_server.url)
        # the state is loaded before the first answer: no waiting here
        assert answer(b) == answer(a) == ({BACKUP}, 20)
        assert verdicts(b, "primary") == before
        assert first_member(b, "primary")["state"] == "down"
        assert first_member(b, "backup")["override"]["reason"] == "pinned"
        [prober] = http(b, "GET", "/status")[1]["probers"]
        assert (prober["name"], prober["datacenter"]) == ("p1", "east")
    finally:
        a.stop()
        b.stop()


def test_a_reload_picks_up_verdicts_that_were_shared_before_it(
    pair: tuple[RunningServer, RunningServer]
) -> None:
    a, b = pair
    zone_file = b.workdir / "zones" / "health.test.yaml"
    original = zone_file.read_text()
    zone_file.write_text(original.replace("path: /health", "path: /other"))  # b probes something else
    b.signal(signal.SIGHUP)
    wait_for(lambda: first_member(b, "primary")["target"] != first_member(a, "primary")["target"], timeout=5)
    report(a, "p1", {PRIMARY: False, BACKUP: True})
    wait_for(lambda: answer(a)[0] == {BACKUP}, timeout=1.0)
    time.sleep(0.5)
    assert first_member(b, "primary")["reports"] == [] and answer(b)[0] == {PRIMARY}  # not b's target

    zone_file.write_text(original)
    b.signal(signal.SIGHUP)
    wait_for(lambda: answer(b)[0] == {BACKUP}, timeout=5)  # from Redis, with no new report
    assert verdicts(b, "primary") == verdicts(a, "primary")


# -- losing Redis -------------------------------------------------------------------------------


def test_losing_redis_keeps_the_last_state_and_they_converge_when_it_returns(
    pair: tuple[RunningServer, RunningServer], redis_server: RedisServer
) -> None:
    a, b = pair
    report(a, "p1", {PRIMARY: False, BACKUP: True})
    assert http(a, "PUT", "/v1/overrides/health.test/datacenters/west",
                {"state": "up", "reason": "keep west"})[0] == 200
    wait_for(lambda: answer(b)[0] == {BACKUP}, timeout=1.0)

    redis_server.stop()  # no persistence: it will come back empty
    for server in (a, b):
        wait_for(lambda s=server: backend_state(s) == {"kind": "redis", "connected": False}, timeout=5)
        assert scrape_metrics(server)[BACKEND_CONNECTED] == 0
        assert answer(server) == ({BACKUP}, 20)  # the last state keeps answering

    # reports still count where they arrive; the other server cannot hear of them yet
    report(a, "p1", {PRIMARY: True, BACKUP: True})
    assert answer(a)[0] == {PRIMARY}
    assert answer(b)[0] == {BACKUP}
    # an override now would apply on one server only: refused, and nothing changes
    status, body = http(b, "PUT", "/v1/overrides/health.test/pools/backup", {"state": "down"})
    assert status == 503 and "not connected" in body["error"]
    assert [o["name"] for o in http(b, "GET", "/v1/overrides")[1]["overrides"]] == ["west"]

    redis_server.start()
    for server in (a, b):
        wait_for(lambda s=server: backend_state(s)["connected"], timeout=RECONNECT_BUDGET)
    wait_for(lambda: answer(b)[0] == {PRIMARY}, timeout=1.0)  # a's newer verdict reached b
    assert answer(a) == answer(b) == ({PRIMARY}, 40)
    assert verdicts(a, "primary") == verdicts(b, "primary")
    assert scrape_metrics(b)[BACKEND_CONNECTED] == 1
    # the empty Redis was seeded from the servers' own state: the override is still there
    for server in (a, b):
        assert [o["reason"] for o in http(server, "GET", "/v1/overrides")[1]["overrides"]] == ["keep west"]
    assert len(redis_server.client().hgetall("gslb:overrides")) == 1
    # and overrides work again, on both
    assert http(b, "PUT", "/v1/overrides/health.test/pools/primary", {"state": "down"})[0] == 200
    wait_for(lambda: answer(a)[0] == {BACKUP}, timeout=1.0)


def test_a_redis_that_hangs_never_delays_an_answer(tmp_path: Path, redis_server: RedisServer) -> None:
    port = free_port([PRIMARY, BACKUP])
    a = start_shared(tmp_path, port, "a", redis_server.url, stale_after="60s")
    try:
        report(a, "p1", {PRIMARY: False, BACKUP: True})
        redis_server.pause()  # connections stay open; nothing answers
        started = time.monotonic()
        while time.monotonic() - started < 4.5:
            asked = time.monotonic()
            assert answer(a)[0] == {BACKUP}
            assert time.monotonic() - asked < 0.5
            time.sleep(0.1)
        assert backend_state(a)["connected"] is False  # noticed by the pinger within 1 s + 2 s
        assert report(a, "p1", {PRIMARY: True, BACKUP: True})[0] == 200
        assert answer(a)[0] == {PRIMARY}
        asked = time.monotonic()
        assert http(a, "PUT", "/v1/overrides/health.test/pools/primary", {"state": "down"})[0] == 503
        assert time.monotonic() - asked < 1.0
        redis_server.resume()
        wait_for(lambda: backend_state(a)["connected"], timeout=RECONNECT_BUDGET)
        stored = redis_server.client().hgetall("gslb:verdicts")
        assert {json.loads(v)["up"] for v in stored.values()} == {True}  # what it recorded meanwhile was pushed
    finally:
        redis_server.resume()
        a.stop()


# -- password and TLS --------------------------------------------------------------------------


def test_password_from_a_file_and_never_shown(tmp_path: Path) -> None:
    secret = "s3cret-redis-password"
    server = RedisServer(tmp_path / "redis", free_port(["127.0.0.1"]), extra=["--requirepass", secret],
                         client_options={"password": secret})
    server.start()
    port = free_port([PRIMARY, BACKUP])
    (tmp_path / "redis-password").write_text(secret + "\n")
    good = start_shared(tmp_path, port, "good", server.url, redis_password_file=str(tmp_path / "redis-password"))
    (tmp_path / "wrong").write_text("not-it\n")
    bad = start_shared(tmp_path, port, "bad", server.url, redis_password_file=str(tmp_path / "wrong"))
    try:
        assert backend_state(good) == {"kind": "redis", "connected": True}
        assert backend_state(bad) == {"kind": "redis", "connected": False}
        assert report(good, "p1", {PRIMARY: False})[0] == 200
        wait_for(lambda: len(server.client().hgetall("gslb:verdicts")) == 1, timeout=2)
        assert "auth" in bad.log_text().lower() or "password" in bad.log_text().lower()
    finally:
        good.stop()
        bad.stop()
        server.stop()
    for running in (good, bad):
        assert secret not in running.log_text()


def test_tls_with_rediss(tmp_path: Path) -> None:
    ca, cert, key = make_tls_files(tmp_path / "tls")
    server = RedisServer(tmp_path / "redis", free_port(["127.0.0.1"]), scheme="rediss",
                         extra=["--tls-cert-file", str(cert), "--tls-key-file", str(key),
                                "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no"],
                         client_options={"ssl_ca_certs": str(ca)})
    server.start()
    port = free_port([PRIMARY, BACKUP])
    trusted = start_shared(tmp_path, port, "trusted", f"{server.url}?ssl_ca_certs={ca}")
    untrusted = start_shared(tmp_path, port, "untrusted", server.url)  # the system CAs do not know ours
    try:
        assert backend_state(trusted) == {"kind": "redis", "connected": True}
        assert backend_state(untrusted)["connected"] is False
        assert report(trusted, "p1", {PRIMARY: False})[0] == 200
        wait_for(lambda: len(server.client().hgetall("gslb:verdicts")) == 1, timeout=2)
    finally:
        trusted.stop()
        untrusted.stop()
        server.stop()


# -- configuration -----------------------------------------------------------------------------


def test_backend_settings_are_checked_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "gslb.yaml"
    path.write_text(
        "health:\n"
        "  backend: mysql://db.example:3306/0\n"
        "  redis_password_file: pw\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2: health.backend: 'mysql://db.example:3306/0' is not local, redis://host:port/db or "
        "rediss://host:port/db",
        f"{path}:3: health.redis_password_file: only used with a redis:// or rediss:// backend",
    ]
    path.write_text("health:\n  backend: 'redis://:hunter2@127.0.0.1:notaport/x'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    [problem] = [str(p) for p in caught.value.problems]
    assert problem.startswith(f"{path}:2: health.backend: 'redis://:***@127.0.0.1:notaport/x'")
    assert "hunter2" not in problem
    path.write_text("health:\n  backend: 'redis://:pw@127.0.0.1:6390/0'\n  redis_password_file: pw\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:3: health.redis_password_file: give the password in health.backend or in this file, not both"]
    path.write_text("health:\n  backend: redis://127.0.0.1:6390/3\n  redis_password_file: secrets/pw\n")
    health = load_config(str(path)).health
    assert (health.backend, health.redis_password_file) == ("redis://127.0.0.1:6390/3", tmp_path / "secrets/pw")
    assert load_config(None).health.backend == "local"

