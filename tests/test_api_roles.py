"""Tokens by role on the real server: probers, operators and readers each get their own routes."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.harness import RunningServer, start_server, wait_for
from tests.health_zone import zone_text
from tests.http_api import call_api

TOKENS = {"prober": "prober-token-1", "operator": "operator-token-2", "read": "read-token-3", "all": "one-token-4"}
FILES = {"prober": "prober_token_file", "operator": "operator_token_file", "read": "read_token_file",
         "all": "token_file"}
OVERRIDE = "/v1/overrides/health.test/pools/primary"
REPORT = {"prober": "p1", "results": []}


def write_tokens(folder: Path, roles: list[str]) -> dict[str, str]:
    """One token file per role; the `http` settings naming them."""
    settings = {}
    for role in roles:
        (folder / f"{role}.token").write_text(TOKENS[role] + "\n")
        settings[FILES[role]] = str(folder / f"{role}.token")
    return settings


def server_with(tmp_path: Path, roles: list[str]) -> RunningServer:
    zones = tmp_path / "zones"
    zones.mkdir(exist_ok=True)
    (zones / "health.test.yaml").write_text(zone_text(1))
    return start_server(tmp_path / "srv", zones, {"http": write_tokens(tmp_path, roles)})


@pytest.fixture(scope="module")
def roles_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = server_with(tmp_path_factory.mktemp("roles"), ["prober", "operator", "read"])
    yield server
    server.stop()


# (method, path, body) of each route, by the role it belongs to
PROBER_ROUTES = [("GET", "/v1/targets", None), ("POST", "/v1/reports", REPORT)]
OPERATOR_ROUTES = [("GET", "/v1/overrides", None), ("PUT", OVERRIDE, {"state": "down", "expires_in": 60}),
                   ("DELETE", OVERRIDE, None), ("POST", "/v1/reload", None)]
READ_ROUTES = [("GET", "/", None), ("GET", "/status", None), ("GET", "/status/datacenters", None),
               ("GET", "/metrics", None), ("GET", "/v1/explain?name=www.health.test&client=127.0.0.1", None)]


def test_each_token_opens_its_own_routes_and_gets_403_on_the_others(roles_server: RunningServer) -> None:
    expected = {
        "prober": {"prober": 200, "operator": 403, "read": 403},
        "operator": {"prober": 403, "operator": 200, "read": 200},  # an operator may read
        "read": {"prober": 403, "operator": 403, "read": 200},
    }
    for role, by_routes in expected.items():
        for routes, kind in ((PROBER_ROUTES, "prober"), (OPERATOR_ROUTES, "operator"), (READ_ROUTES, "read")):
            for method, path, body in routes:
                status, answer = call_api(roles_server, method, path, body, token=TOKENS[role])
                assert status == by_routes[kind], (role, method, path, answer)
                if status == 403:
                    assert answer["error"].startswith("this token may not use this route")


def test_the_prober_token_cannot_set_an_override(roles_server: RunningServer) -> None:
    status, body = call_api(roles_server, "PUT", OVERRIDE, {"state": "down"}, token=TOKENS["prober"])
    assert (status, body) == (403, {"error": "this token may not use this route: it needs an operator token"})
    assert call_api(roles_server, "GET", "/v1/overrides", token=TOKENS["operator"])[1] == {"overrides": []}


def test_no_token_or_an_unknown_one_is_401_everywhere_but_healthz(roles_server: RunningServer) -> None:
    for token in (None, "not-a-token", TOKENS["all"]):  # no one-token on this server
        for method, path, body in PROBER_ROUTES + OPERATOR_ROUTES + READ_ROUTES:
            status, _ = call_api(roles_server, method, path, body, token=token)
            assert status == 401, (token, method, path)
    assert call_api(roles_server, "GET", "/healthz")[0] == 200


def test_reads_take_the_token_as_basic_credentials_for_a_browser(roles_server: RunningServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://{roles_server.http}/", timeout=5)
    assert refused.value.code == 401
    assert refused.value.headers["WWW-Authenticate"].startswith('Basic realm="gslb"')
    credentials = base64.b64encode(f"anyone:{TOKENS['read']}".encode()).decode()
    for path in ("/", "/status"):
        request = urllib.request.Request(f"http://{roles_server.http}{path}",
                                         headers={"Authorization": f"Basic {credentials}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200


def test_a_prober_route_refusal_is_counted_and_logged_without_the_token(roles_server: RunningServer) -> None:
    assert call_api(roles_server, "POST", "/v1/reports", REPORT, token=TOKENS["operator"])[0] == 403
    log = roles_server.log_text()
    assert "prober report rejected (unauthorized)" in log and "a token of another role" in log
    assert not any(token in log for token in TOKENS.values())


def test_one_token_still_works_for_everything(tmp_path: Path) -> None:
    server = server_with(tmp_path, ["all"])
    try:
        for method, path, body in PROBER_ROUTES + OPERATOR_ROUTES:
            assert call_api(server, method, path, body, token=TOKENS["all"])[0] == 200, path
        for method, path, body in READ_ROUTES:  # no read token: reads are open
            assert call_api(server, method, path, body)[0] == 200, path
    finally:
        server.stop()


def serve_fails(tmp_path: Path, http: dict) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "gslb.yaml"
    config.write_text(yaml.safe_dump({"zones": str(tmp_path), "dns": {"listen": ["127.0.0.1:0"]},
                                      "http": {"listen": "127.0.0.1:0", **http}, "geodb": "none"}))
    env = {k: v for k, v in os.environ.items() if k not in ("GSLB_CONFIG", "GSLB_TOKEN")}
    return subprocess.run([sys.executable, "-m", "gslb", "serve", "-c", str(config)], capture_output=True,
                          text=True, timeout=30, env=env, check=False)


def test_two_roles_with_one_token_are_refused(tmp_path: Path) -> None:
    settings = write_tokens(tmp_path, ["prober", "operator"])
    (tmp_path / "operator.token").write_text(TOKENS["prober"])
    result = serve_fails(tmp_path, settings)
    assert result.returncode == 2
    assert result.stderr == ("gslb serve: http.operator_token_file: holds the same token as "
                             "http.prober_token_file; each role needs a token of its own\n")


def test_an_unreadable_token_file_is_refused(tmp_path: Path) -> None:
    result = serve_fails(tmp_path, {"read_token_file": str(tmp_path / "absent")})
    assert result.returncode == 2
    assert result.stderr == (f"gslb serve: http.read_token_file: cannot read {tmp_path / 'absent'}: "
                             "No such file or directory\n")


def test_sighup_rotates_tokens_and_names_settings_that_need_a_restart(tmp_path: Path) -> None:
    server = server_with(tmp_path, ["operator"])
    try:
        assert call_api(server, "GET", "/v1/overrides", token=TOKENS["operator"])[0] == 200
        (tmp_path / "operator.token").write_text("rotated-operator-token\n")
        config = yaml.safe_load(server.config_path.read_text())
        config["dns"]["max_udp_size"] = 1400
        server.config_path.write_text(yaml.safe_dump(config))
        server.signal(signal.SIGHUP)
        wait_for(lambda: "dns.max_udp_size changed" in server.log_text(), timeout=10)
        assert f"dns.max_udp_size changed in {server.config_path}: it takes effect at the next restart" in (
            server.log_text())
        assert call_api(server, "GET", "/v1/overrides", token=TOKENS["operator"])[0] == 401
        assert call_api(server, "GET", "/v1/overrides", token="rotated-operator-token")[0] == 200

        # A config that no longer reads changes nothing, and the API reload says why.
        server.config_path.write_text(server.config_path.read_text() + "bogus_key: 1\n")
        status, body = call_api(server, "POST", "/v1/reload", token="rotated-operator-token")
        assert status == 422
        assert body["settings"]["problems"] == [
            f"{server.config_path}:{len(server.config_path.read_text().splitlines())}: bogus_key: unknown key "
            "(expected one of: dns, http, zones, state_dir, geodb, health, log, updates, dnssec)"]
        assert call_api(server, "GET", "/v1/overrides", token="rotated-operator-token")[0] == 200
        assert "rotated-operator-token" not in server.log_text()
    finally:
        server.stop()
