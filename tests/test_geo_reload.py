"""A new geo database under a running server: by rename, in place, by SIGHUP and by the API; a bad one
is refused and the one in use keeps serving. Test databases are built with `gslb geodb build`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dns.edns
import dns.message
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from tests.harness import RunningServer, start_server, wait_for
from tests.http_api import call_api

TOKEN = "geo-reload-token"
ZONE = """
zone: geo.test.
ns: [ns1.geo.test.]
records:
  ns1: {A: 127.0.0.53}
  www: {service: web}
pools:
  seoul: {members: [127.0.20.1]}
  frankfurt: {members: [127.0.20.2]}
  tokyo: {members: [127.0.20.3]}
  elsewhere: {members: [127.0.20.9]}
services:
  web:
    method: geo
    map: {KR: seoul, DE: frankfurt, JP: tokyo, default: elsewhere}
"""
HEADER = "network,country,subdivision,continent,latitude,longitude,city\n"
PLACES = {
    "seoul": "KR,11,AS,37.57,126.98,Seoul",
    "frankfurt": "DE,HE,EU,50.11,8.68,Frankfurt",
    "tokyo": "JP,13,AS,35.68,139.69,Tokyo",
}
ANSWER = {"seoul": "127.0.20.1", "frankfurt": "127.0.20.2", "tokyo": "127.0.20.3", "elsewhere": "127.0.20.9"}


def build(tmp_path: Path, place: str, out: Path) -> Path:
    """A database placing 127.1.0.0/16 in `place`, built by the real `gslb geodb build` (in a later second
    than any before it, so that its build time differs)."""
    time.sleep(1.05 - time.time() % 1)
    csv = tmp_path / f"{place}.csv"
    csv.write_text(HEADER + f"127.1.0.0/16,{PLACES[place]}\n")
    result = subprocess.run([sys.executable, "-m", "gslb", "geodb", "build", str(csv), str(out)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return out


def answers(server: RunningServer, count: int = 24) -> set[str]:
    """What www.geo.test is for a client in 127.1.0.0/24 (ECS), asked from fresh source ports, so that
    both DNS processes answer some of the queries."""
    found: set[str] = set()
    for _ in range(count):
        query = dns.message.make_query("www.geo.test", "A", use_edns=0,
                                       options=[dns.edns.ECSOption("127.1.0.0", 24)])
        reply = server.udp(query)
        found |= {r.to_text() for rrset in reply.answer for r in rrset}
    return found


def geodb_status(server: RunningServer) -> dict:
    status, body = call_api(server, "GET", "/status")
    assert status == 200
    return body["geodb"]


@pytest.fixture
def geo_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "geo.test.yaml").write_text(ZONE)
    (tmp_path / "token").write_text(TOKEN)
    geodb = build(tmp_path, "seoul", tmp_path / "city.mmdb")
    server = start_server(tmp_path / "srv", zones, {"geodb": str(geodb), "dns": {"workers": 2},
                                                    "http": {"token_file": str(tmp_path / "token")}})
    yield server, geodb
    server.stop()


def test_a_new_database_by_rename_then_in_place_moves_the_answer(tmp_path: Path, geo_server) -> None:
    server, geodb = geo_server
    assert answers(server) == {ANSWER["seoul"]}
    first = geodb_status(server)
    assert (first["path"], first["type"], first["error"]) == (str(geodb), "GeoIP2-City", None)

    # A new file renamed over the old one, as geoipupdate does it.
    staged = build(tmp_path, "frankfurt", tmp_path / "staged.mmdb")
    inode = geodb.stat().st_ino
    os.replace(staged, geodb)
    assert geodb.stat().st_ino != inode
    wait_for(lambda: answers(server) == {ANSWER["frankfurt"]}, timeout=10)
    second = geodb_status(server)
    assert second["built"] > first["built"]
    assert "geo database reloaded (watch): GeoIP2-City" in server.log_text()

    # The same file written again in place (cp over it): same inode, new content.
    inode = geodb.stat().st_ino
    shutil.copyfile(build(tmp_path, "tokyo", tmp_path / "tokyo.mmdb"), geodb)
    assert geodb.stat().st_ino == inode
    wait_for(lambda: answers(server) == {ANSWER["tokyo"]}, timeout=10)
    assert geodb_status(server)["built"] > second["built"]
    assert server.alive()
    # Both DNS processes took part, so both switched databases.
    wait_for(lambda: all(p["queries"] for p in call_api(server, "GET", "/status")[1]["dns_processes"]), timeout=5)


def test_a_broken_or_wrong_database_is_refused_and_the_old_one_keeps_serving(tmp_path: Path, geo_server) -> None:
    server, geodb = geo_server
    serving = geodb_status(server)
    good = build(tmp_path, "frankfurt", tmp_path / "frankfurt.mmdb").read_bytes()

    # Truncated: half a file, renamed over the good one.
    half = tmp_path / "half.mmdb"
    half.write_bytes(good[: len(good) // 2])
    os.replace(half, geodb)
    wait_for(lambda: "geo database not reloaded (watch)" in server.log_text(), timeout=10)
    assert f"ERROR gslb: geo database not reloaded (watch): geo database {geodb}: not a MaxMind DB file" in (
        server.log_text())
    assert answers(server) == {ANSWER["seoul"]}
    status = geodb_status(server)
    assert status["built"] == serving["built"] and "not a MaxMind DB file" in status["error"]

    # A MaxMind DB of the wrong kind: ASN data holds no locations.
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    writer.insert_network(IPSet(["127.1.0.0/16"]), {"autonomous_system_number": 64500})
    writer.to_db_file(str(tmp_path / "asn.mmdb"))
    os.replace(tmp_path / "asn.mmdb", geodb)
    wait_for(lambda: "of type 'GeoLite2-ASN' holds no locations" in server.log_text(), timeout=10)
    assert answers(server) == {ANSWER["seoul"]}

    # A good file again, and the server takes it: the refusals left nothing behind.
    (tmp_path / "again.mmdb").write_bytes(good)
    os.replace(tmp_path / "again.mmdb", geodb)
    wait_for(lambda: answers(server) == {ANSWER["frankfurt"]}, timeout=10)
    assert geodb_status(server)["error"] is None
    copies = sorted(p.name for p in (server.workdir / "state" / "geodb").iterdir())
    assert len(copies) <= 2, copies


def test_sighup_and_the_api_reopen_a_changed_database(tmp_path: Path, geo_server) -> None:
    server, geodb = geo_server
    os.replace(build(tmp_path, "tokyo", tmp_path / "tokyo.mmdb"), geodb)
    server.signal(signal.SIGHUP)
    wait_for(lambda: answers(server, 4) == {ANSWER["tokyo"]}, timeout=10)
    assert "geo database reloaded (signal)" in server.log_text()

    os.replace(build(tmp_path, "frankfurt", tmp_path / "frankfurt.mmdb"), geodb)
    status, body = call_api(server, "POST", "/v1/reload", token=TOKEN)
    assert (status, body["geodb"]) == (200, {"reloaded": True, "error": None})
    assert answers(server) == {ANSWER["frankfurt"]}
    status, body = call_api(server, "POST", "/v1/reload", token=TOKEN)  # unchanged: nothing to do
    assert (status, body["geodb"]) == (200, {"reloaded": False, "error": None})

    (tmp_path / "junk.mmdb").write_bytes(b"\0" * 4096)
    os.replace(tmp_path / "junk.mmdb", geodb)
    status, body = call_api(server, "POST", "/v1/reload", token=TOKEN)
    assert status == 422 and "not a MaxMind DB file" in body["geodb"]["error"]
    assert answers(server) == {ANSWER["frankfurt"]}


def serve(tmp_path: Path, geodb: str) -> subprocess.CompletedProcess[str]:
    """`gslb serve` on the geo zone with `geodb`, expected to stop by itself."""
    zones = tmp_path / "zones"
    zones.mkdir(exist_ok=True)
    (zones / "geo.test.yaml").write_text(ZONE)
    config = tmp_path / "gslb.yaml"
    config.write_text(f"dns: {{listen: ['127.0.0.1:0']}}\nhttp: {{listen: off}}\nzones: zones\n"
                      f"state_dir: state\ngeodb: {geodb}\n")
    env = {k: v for k, v in os.environ.items() if k != "GSLB_CONFIG"}
    return subprocess.run([sys.executable, "-m", "gslb", "serve", "-c", str(config)], capture_output=True,
                          text=True, timeout=30, env=env, check=False)


def test_a_missing_database_stops_the_server_with_the_path_and_the_reason(tmp_path: Path) -> None:
    result = serve(tmp_path, str(tmp_path / "absent.mmdb"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert line.endswith(f"cannot start: geo database {tmp_path / 'absent.mmdb'}: no such file "
                         "(set geodb: none to run without a geo database)")


def test_an_unreadable_database_stops_the_server(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder.mmdb"
    folder.mkdir()
    result = serve(tmp_path, str(folder))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"cannot start: geo database {folder}: cannot read: Is a directory" in result.stderr


def test_geodb_none_serves_every_client_the_default(tmp_path: Path) -> None:
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "geo.test.yaml").write_text(ZONE)
    server = start_server(tmp_path / "srv", zones, {"geodb": "none"})
    try:
        assert answers(server, 2) == {ANSWER["elsewhere"]}
        assert geodb_status(server) is None
        assert "geo database: none" in server.log_text()
    finally:
        server.stop()


def test_explain_offline_without_the_database_says_so(tmp_path: Path) -> None:
    config = tmp_path / "gslb.yaml"
    (tmp_path / "zones").mkdir()
    (tmp_path / "zones" / "geo.test.yaml").write_text(ZONE)
    config.write_text("zones: zones\ngeodb: absent.mmdb\n")
    env = {k: v for k, v in os.environ.items() if k != "GSLB_CONFIG"}
    result = subprocess.run([sys.executable, "-m", "gslb", "explain", "-c", str(config), "www.geo.test",
                             "--client", "127.1.0.1", "--offline"], capture_output=True, text=True, timeout=30,
                            env=env, check=False)
    assert result.returncode == 1
    assert result.stderr == (f"gslb explain: geo database {tmp_path / 'absent.mmdb'}: no such file "
                             "(set geodb: none in the config to explain without one)\n")
