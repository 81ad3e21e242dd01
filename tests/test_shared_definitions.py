"""Two zones on one shared file of datacenters, checks and pools: one probe per member, one call drains a
datacenter in both, and `gslb check` names both places of a name defined twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import health_zone
from tests.backends import Backends
from tests.harness import RunningServer, start_server, wait_for, write_zones
from tests.http_api import call_api

TOKEN = "shared-operator-token"
SEOUL, FRANKFURT = "127.0.40.1", "127.0.40.2"
ZONES = ("alpha.test", "beta.test")


def shared_text(port: int) -> str:
    return f"""\
datacenters:
  seoul: {{location: [37.57, 126.98]}}
  frankfurt: {{location: [50.11, 8.68]}}
checks:
  web: {{type: http, port: {port}, path: /health, interval: 0.5, timeout: 0.3, rise: 1, fall: 1}}
pools:
  seoul-web: {{datacenter: seoul, check: web, members: [{SEOUL}]}}
  frankfurt-web: {{datacenter: frankfurt, check: web, members: [{FRANKFURT}]}}
"""


def zone_text(zone: str) -> str:
    return f"""\
zone: {zone}
ns: [ns1.{zone}.]
records:
  ns1: {{A: 127.0.0.53}}
  www: {{service: web}}
services:
  web: {{method: failover, pools: [seoul-web, frankfurt-web]}}
"""


def answer(server: RunningServer, zone: str) -> set[str]:
    """The addresses health_zone.answer finds for www in `zone`."""
    return health_zone.answer(server, f"www.{zone}")[0]


@pytest.fixture
def shared_server(tmp_path: Path) -> Iterator[RunningServer]:
    backends = Backends()
    port = backends.start_http_on_one_port([SEOUL, FRANKFURT])[0].port
    zones = write_zones(tmp_path / "zones", {"_shared": shared_text(port), **{zone: zone_text(zone) for zone in ZONES}})
    (tmp_path / "token").write_text(TOKEN)
    server = start_server(tmp_path / "srv", zones, {"http": {"operator_token_file": str(tmp_path / "token")},
                                                   "health": {"local_prober": True}})
    yield server
    server.stop()
    backends.close()


def test_two_zones_share_datacenters_checks_and_pools_and_one_call_drains_both(shared_server: RunningServer) -> None:
    server = shared_server
    assert "shared definitions loaded from" in server.log_text()
    assert all(answer(server, zone) == {SEOUL} for zone in ZONES)

    # The shared check is one target per member: probed once, whichever zone asks.
    status = call_api(server, "GET", "/status")[1]
    targets = {(p["zone"], p["name"]): p["members"][0]["target"] for p in status["pools"]}
    assert targets[("alpha.test", "seoul-web")] == targets[("beta.test", "seoul-web")]
    assert len(set(targets.values())) == 2
    wait_for(lambda: all(m["state"] == "up" for p in call_api(server, "GET", "/status")[1]["pools"]
                         for m in p["members"]), timeout=10)

    # One call drains seoul in every zone, with an expiry and an audit entry, like any override.
    body = {"state": "down", "expires_in": 3, "reason": "fibre cut", "by": "ops"}
    status_code, override = call_api(server, "PUT", "/v1/overrides/datacenters/seoul", body, token=TOKEN)
    assert status_code == 200
    assert (override["zone"], override["kind"], override["name"], override["state"]) == (
        "*", "datacenters", "seoul", "down")
    assert all(answer(server, zone) == {FRANKFURT} for zone in ZONES)
    members = {(p["zone"], p["name"]): p["members"][0] for p in call_api(server, "GET", "/status")[1]["pools"]}
    assert members[("beta.test", "seoul-web")]["override"]["zone"] == "*"
    wait_for(lambda: all(answer(server, zone) == {SEOUL} for zone in ZONES), timeout=10)  # expired
    audit = json.loads((server.workdir / "state" / "overrides.json").read_text())["audit"]
    assert [(e["action"], e["zone"], e["name"]) for e in audit] == [("set", "*", "seoul"), ("expired", "*", "seoul")]
    assert audit[0]["actor"].startswith("ops via ")

    assert call_api(server, "PUT", "/v1/overrides/datacenters/nowhere", body, token=TOKEN) == (
        404, {"error": "no zone has a datacenter 'nowhere'"})
    assert call_api(server, "PUT", "/v1/overrides/*/pools/seoul-web", body, token=TOKEN) == (
        404, {"error": "only a datacenter can be overridden in every zone: /v1/overrides/datacenters/{name}"})


def test_an_override_on_a_removed_name_can_be_lifted(shared_server: RunningServer) -> None:
    server = shared_server
    path = "/v1/overrides/beta.test/pools/seoul-web"
    assert call_api(server, "PUT", path, {"state": "down"}, token=TOKEN)[0] == 200
    (server.workdir.parent / "zones" / "beta.test.yaml").unlink()
    assert call_api(server, "POST", "/v1/reload", token=TOKEN)[0] == 200
    assert answer(server, "beta.test") == set()
    assert call_api(server, "DELETE", path, token=TOKEN) == (200, {"deleted": True})
    assert call_api(server, "GET", "/v1/overrides", token=TOKEN)[1] == {"overrides": []}
    assert call_api(server, "DELETE", path, token=TOKEN) == (404, {"error": "no steered zone 'beta.test'"})


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GSLB_CONFIG"}
    return subprocess.run([sys.executable, "-m", "gslb", "check", str(folder)], capture_output=True, text=True,
                          timeout=60, env=env, check=False)


def test_check_names_both_places_of_a_name_defined_twice(tmp_path: Path) -> None:
    (tmp_path / "_shared.yaml").write_text(shared_text(8080))
    (tmp_path / "alpha.test.yaml").write_text(zone_text("alpha.test"))
    (tmp_path / "beta.test.yaml").write_text(zone_text("beta.test") + "datacenters:\n  seoul: {}\n")
    result = check(tmp_path)
    assert result.returncode == 1
    assert result.stderr == (f"{tmp_path / 'beta.test.yaml'}:9: datacenters.seoul: 'seoul' is also defined in "
                             f"{tmp_path / '_shared.yaml'}:2 (a name is defined once)\n")
    assert result.stdout.splitlines() == [
        f"{tmp_path / '_shared.yaml'}: ok (shared: 2 datacenters, 1 check, 2 pools)",
        f"{tmp_path / 'alpha.test.yaml'}: ok (alpha.test., 3 names)",
        "checked 3 files: 2 ok, 1 rejected, 0 warnings",
    ]


def test_a_broken_shared_file_holds_back_the_zones_that_steer(tmp_path: Path) -> None:
    (tmp_path / "_shared.yaml").write_text(shared_text(8080).replace("datacenter: seoul,", "datacenter: soul,"))
    (tmp_path / "alpha.test.yaml").write_text(zone_text("alpha.test"))
    (tmp_path / "static.test.yaml").write_text("zone: static.test\nns: [ns1.example.net.]\n")
    result = check(tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / '_shared.yaml'}:7: pools.seoul-web.datacenter: unknown datacenter 'soul'",
        f"{tmp_path / 'alpha.test.yaml'}: not loaded while {tmp_path / '_shared.yaml'} is rejected "
        "(fix its problems first)",
    ]
    assert result.stdout.splitlines()[-2:] == [f"{tmp_path / 'static.test.yaml'}: ok (static.test., 1 names)",
                                               "checked 3 files: 1 ok, 2 rejected, 0 warnings"]


def test_a_change_to_the_shared_file_reloads_and_raises_the_serials(shared_server: RunningServer) -> None:
    server = shared_server
    serials = {z["zone"]: z["serial"] for z in call_api(server, "GET", "/status")[1]["zones"]}
    shared = server.workdir.parent / "zones" / "_shared.yaml"
    time.sleep(1.1)  # derived serials are Unix times: a change in the same second would get serial + 1 anyway
    shared.write_text(shared.read_text().replace(f"members: [{SEOUL}]", f"members: [{SEOUL}, 127.0.40.3]"))
    wait_for(lambda: answer(server, "alpha.test") == {SEOUL, "127.0.40.3"}, timeout=10)
    after = {z["zone"]: z["serial"] for z in call_api(server, "GET", "/status")[1]["zones"]}
    assert all(after[zone] > serials[zone] for zone in serials)
    assert answer(server, "beta.test") == {SEOUL, "127.0.40.3"}


def test_a_shared_file_under_another_name_is_not_taken_for_a_zone(tmp_path: Path) -> None:
    (tmp_path / "_shared.yml").write_text(shared_text(8080))
    result = check(tmp_path)
    assert result.returncode == 1
    assert result.stderr == (f"{tmp_path / '_shared.yml'}: the shared definitions are read from _shared.yaml only: "
                             "rename it\n")
