"""The log: one line per event, plain or JSON; the `log:` settings and `--log-level`."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from gslb.config.load import ConfigError, load_config
from tests.backends import free_port
from tests.harness import RunningServer, start_server, write_config
from tests.testdata import EXAMPLE_ZONES

TOKEN = "log-test-token-never-logged"
BODY_SECRET = "body-value-never-logged"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

ZONE = """\
zone: logs.test
ns: ns1.logs.test.
records:
  ns1: {A: 192.0.2.53}
  www: {service: web}
checks:
  passive: {type: none}
pools:
  seoul-web: {check: passive, members: [192.0.2.10]}
  tokyo-web: {check: passive, members: [192.0.2.20]}
services:
  web: {method: failover, pools: [seoul-web, tokyo-web]}
"""


def http(server: RunningServer, method: str, path: str, body: object = None, token: str | None = TOKEN) -> int:
    """Send one API request; the HTTP status."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://{server.http}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_for(server: RunningServer, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.log_text():
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{server.log_text()}"
        time.sleep(0.05)


def json_lines(text: str) -> list[dict]:
    """Every line must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def events(lines: list[dict], name: str) -> list[dict]:
    return [line for line in lines if line.get("event") == name]


def test_json_log_has_one_line_per_event_with_its_fields(tmp_path: Path) -> None:
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "logs.test.yaml").write_text(ZONE)
    server = start_server(tmp_path / "srv", zones, {"log": {"format": "json"}}, env={"GSLB_TOKEN": TOKEN})
    member = "/v1/overrides/logs.test/members/seoul-web/192.0.2.10"
    try:
        assert http(server, "PUT", member, {"state": "down", "reason": "kernel upgrade"}) == 200
        assert http(server, "DELETE", member) == 200
        pool = "/v1/overrides/logs.test/pools/tokyo-web"
        assert http(server, "PUT", pool, {"state": "down", "expires_in": 0.2}) == 200
        report = {"prober": "p1", "results": []}
        assert http(server, "POST", "/v1/reports", report, token=TOKEN + "x") == 401
        bad = {"prober": "p1", "results": [{"id": "t", "up": True, "rtt_ms": BODY_SECRET}]}
        assert http(server, "POST", "/v1/reports", bad) == 400
        assert http(server, "POST", "/v1/reports", b"{not json") == 400
        (zones / "broken.test.yaml").write_text("zone: broken.test\nns: ns1.example.net.\nttl: -1\n")
        server.signal(signal.SIGHUP)
        wait_for(server, '"override_expired"')
        wait_for(server, '"trigger": "signal"}')
    finally:
        server.stop()
    text = server.log_text()
    assert TOKEN not in text and BODY_SECRET not in text
    lines = json_lines(text)
    for line in lines:
        assert ISO_UTC.match(line["time"]), line
        assert line["level"] in ("DEBUG", "INFO", "WARNING", "ERROR") and line["logger"].startswith(("gslb", "aio"))
        assert isinstance(line["message"], str)

    (start,) = events(lines, "start")
    assert start["config"] == str(server.config_path)
    (ready,) = events(lines, "ready")
    assert ready["dns"] == [f"{server.host}:{server.port}"] and ready["http"] == server.http
    assert len(events(lines, "stop")) == 1

    assert [e["trigger"] for e in events(lines, "reload_requested")] == ["start", "signal"]
    assert [(e["trigger"], e["loaded"], e["rejected"]) for e in events(lines, "reload")] == [
        ("start", 1, 0), ("signal", 1, 1)]
    loaded = events(lines, "zone_loaded")
    assert [e["zone"] for e in loaded] == ["logs.test.", "logs.test."] and loaded[0]["serial"] > 0
    (rejected,) = events(lines, "zone_rejected")
    assert rejected["file"].endswith("broken.test.yaml") and rejected["line"] == 3 and rejected["field"] == "ttl"

    sets = events(lines, "override_set")
    assert [(e["kind"], e["subject"], e["address"], e["state"]) for e in sets] == [
        ("members", "seoul-web", "192.0.2.10", "down"), ("pools", "tokyo-web", None, "down")]
    assert sets[0]["reason"] == "kernel upgrade" and "127.0.0.1" in sets[0]["actor"]
    assert [(e["kind"], e["subject"]) for e in events(lines, "override_lifted")] == [("members", "seoul-web")]
    assert [(e["kind"], e["subject"]) for e in events(lines, "override_expired")] == [("pools", "tokyo-web")]

    changes = [(e["pool"], e["address"], e["previous"], e["state"]) for e in events(lines, "member_state")]
    before = changes[0][2]  # what a member never probed counts as: not down
    assert before != "down" and changes == [
        ("seoul-web", "192.0.2.10", before, "down"), ("seoul-web", "192.0.2.10", "down", before),
        ("tokyo-web", "192.0.2.20", before, "down"), ("tokyo-web", "192.0.2.20", "down", before),
    ]
    refused = events(lines, "report_rejected")
    assert [(e["reason"], e["remote"]) for e in refused] == [
        ("unauthorized", "127.0.0.1"), ("malformed", "127.0.0.1"), ("malformed", "127.0.0.1")]
    assert refused[1]["detail"] == "results[0].rtt_ms"


def test_plain_log_lines_for_a_rejected_report(tmp_path: Path) -> None:
    server = start_server(tmp_path, EXAMPLE_ZONES, env={"GSLB_TOKEN": TOKEN})
    try:
        assert http(server, "POST", "/v1/reports", {"prober": "p1", "results": []}, token="wrong") == 401
        wait_for(server, "prober report rejected")
    finally:
        server.stop()
    text = server.log_text()
    lines = [line for line in text.splitlines() if "prober report rejected" in line]
    assert len(lines) == 1
    assert re.match(r"^\S+ \S+ WARNING gslb\.api\.health_routes: prober report rejected \(unauthorized\) "
                    r"from 127\.0\.0\.1: no valid prober token$", lines[0]), lines[0]
    assert re.search(r" INFO gslb: starting gslb \S+ \(config: .*gslb\.yaml\)$", text, re.M)
    assert "wrong" not in text and TOKEN not in text


def run_until_healthy(workdir: Path, extra: dict, args: list[str]) -> str:
    """Run `gslb serve` (HTTP on a free port), wait for /healthz, stop it; its whole log."""
    port = free_port(["127.0.0.1"])
    workdir.mkdir(parents=True)
    config = write_config(workdir, EXAMPLE_ZONES, {"http": {"listen": f"127.0.0.1:{port}"}, **extra})
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gslb", "serve", "-c", str(config), *args],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    return log.read_text()


def test_level_from_the_config_and_the_command_line_override(tmp_path: Path) -> None:
    quiet = run_until_healthy(tmp_path / "quiet", {"log": {"level": "WARNING"}}, [])
    assert "ready:" not in quiet and " INFO " not in quiet
    loud = run_until_healthy(tmp_path / "loud", {"log": {"level": "WARNING"}}, ["--log-level", "INFO"])
    assert "ready: dns" in loud


def test_log_settings_are_validated_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "gslb.yaml"
    path.write_text("log:\n  format: xml\n  level: loud\n  queries: {sample: 1.5}\n  colour: red\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2: log.format: 'xml' is not plain or json",
        f"{path}:3: log.level: 'loud' is not DEBUG, INFO, WARNING or ERROR",
        f"{path}:4: log.queries.sample: '1.5' is not a share from 0 to 1 (0: off, 1: every query)",
        f"{path}:5: log.colour: unknown key (expected one of: format, level, queries)",
    ]
    path.write_text(yaml.safe_dump({"log": {"format": "json", "level": "debug",
                                            "queries": {"sample": 0.25, "file": "q.log"}}}))
    log = load_config(str(path)).log
    assert (log.format, log.level, log.queries.sample, log.queries.file) == ("json", "DEBUG", 0.25, tmp_path / "q.log")
    default = load_config(None).log
    assert (default.format, default.level, default.queries.sample, default.queries.file) == ("plain", "INFO", 0.0, None)
