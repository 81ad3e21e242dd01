"""A rejected reload seen outside the log: `/status` per zone file, and a WARNING for a zone that goes away.

The real server on two zone files; the test edits, breaks and removes them and reloads over
the API. The status page's banner for the same situation is tested in tests/test_status_banners.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.harness import RunningServer, write_atomically
from tests.health_zone import http, start_zones_server
from tests.http_api import scrape_metrics


def zone(name: str, text: str = "hello") -> str:
    return f'zone: {name}.\nns: [ns1.{name}.]\nrecords:\n  ns1: {{A: 127.0.0.53}}\n  www: {{TXT: "{text}"}}\n'


BROKEN_LINE = 5  # the line of www in zone(): where the broken record sits


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_zones_server(tmp_path, {"a.test": zone("a.test"), "b.test": zone("b.test")})
    yield running
    running.stop()


def folder(server: RunningServer) -> Path:
    return server.workdir / "zones"


def files(server: RunningServer) -> dict[str, dict]:
    return {Path(entry["file"]).name: entry for entry in http(server, "GET", "/status")[1]["zone_files"]}


def test_a_rejected_file_shows_its_errors_and_the_serial_still_served(server: RunningServer) -> None:
    before = files(server)
    assert {name: (e["zone"], e["latest"], e["last_attempt"]["result"]) for name, e in before.items()} == {
        "a.test.yaml": ("a.test.", True, "loaded"), "b.test.yaml": ("b.test.", True, "loaded")}
    serial = before["a.test.yaml"]["serial"]
    assert before["a.test.yaml"]["last_attempt"]["errors"] == []

    path = folder(server) / "a.test.yaml"
    write_atomically(path, zone("a.test").replace('{TXT: "hello"}', "{A: 999.0.0.1}"))
    assert http(server, "POST", "/v1/reload")[0] == 422
    entry = files(server)["a.test.yaml"]
    assert (entry["zone"], entry["serial"], entry["latest"]) == ("a.test.", serial, False)
    attempt = entry["last_attempt"]
    assert attempt["result"] == "rejected" and attempt["trigger"] in ("api", "watch")
    assert datetime.fromisoformat(attempt["time"]).utcoffset().total_seconds() == 0
    [error] = attempt["errors"]
    assert error.startswith(f"{path}:{BROKEN_LINE}: records.www.A") and "999.0.0.1" in error
    assert files(server)["b.test.yaml"]["latest"] is True
    assert scrape_metrics(server)[("gslb_zone_files_rejected", ())] == 1

    write_atomically(path, zone("a.test", "fixed"))
    assert http(server, "POST", "/v1/reload")[0] == 200
    entry = files(server)["a.test.yaml"]
    assert entry["latest"] is True and entry["serial"] != serial and entry["last_attempt"]["errors"] == []
    assert scrape_metrics(server)[("gslb_zone_files_rejected", ())] == 0


def test_a_new_file_that_never_loaded_serves_nothing(server: RunningServer) -> None:
    write_atomically(folder(server) / "c.test.yaml", "zone: c.test.\nrecords: [nonsense\n")
    assert http(server, "POST", "/v1/reload")[0] == 422
    entry = files(server)["c.test.yaml"]
    assert (entry["zone"], entry["serial"], entry["latest"]) == (None, None, False)
    assert entry["last_attempt"]["errors"]


def test_a_removed_file_drops_out_and_its_zone_is_logged_at_warning(server: RunningServer) -> None:
    (folder(server) / "b.test.yaml").unlink()
    assert http(server, "POST", "/v1/reload")[0] == 200
    assert set(files(server)) == {"a.test.yaml"}
    assert [z["zone"] for z in http(server, "GET", "/status")[1]["zones"]] == ["a.test."]
    lines = [line for line in server.log_text().splitlines() if "is no longer served" in line]
    assert len(lines) == 1
    assert "WARNING" in lines[0] and "zone b.test. is no longer served: its file" in lines[0]
    assert lines[0].endswith("b.test.yaml was removed")
