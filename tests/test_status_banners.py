"""The status page's banners and per-family states, rendered by headless Chromium against the real server.

A rejected zone file raises a banner for as long as the served version is not the file as it is
now; a dual-stack pool shows its state per family. The banner for silent probers, with a real
prober killed, is in tests/test_prober_silence.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import status_page
from tests.harness import RunningServer, write_atomically
from tests.health_zone import http, report, start_zones_server

ZONE = """
zone: page.test.
ns: [ns1.page.test.]
records:
  ns1: {A: 127.0.0.53}
  www: {service: web}
datacenters:
  fra: {location: [50.1, 8.7]}
checks:
  web: {type: http, port: 9, interval: 30}
pools:
  frankfurt: {datacenter: fra, check: web, members: [127.90.0.1, "::1"]}
services:
  web: {method: failover, pools: [frankfurt]}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_zones_server(tmp_path, {"page.test": ZONE}, extra={"health": {"stale_after": "10m"}})
    yield running
    running.stop()


def replace_zone(server: RunningServer, text: str) -> None:
    write_atomically(server.workdir / "zones" / "page.test.yaml", text)


def test_a_rejected_zone_file_raises_a_banner_until_it_loads(server: RunningServer) -> None:
    dom = status_page(server)
    assert "hidden" in dom.by_id("reloads").attrs
    serial = http(server, "GET", "/status")[1]["zones"][0]["serial"]

    replace_zone(server, ZONE.replace("interval: 30", "interval: -3"))
    assert http(server, "POST", "/v1/reload")[0] == 422
    dom = status_page(server)
    banner = dom.by_id("reloads")
    assert "hidden" not in banner.attrs
    [rejected] = banner.select("div", "rejected-file")
    assert rejected.attrs["data-file"].endswith("page.test.yaml")
    assert f"page.test. keeps serving serial {serial}" in rejected.text
    [error] = rejected.select("li")
    assert "page.test.yaml:" in error.text and "checks.web.interval" in error.text
    assert dom.one("tr", "zone", zone="page.test.").attrs["data-latest"] == "false"

    replace_zone(server, ZONE)
    assert http(server, "POST", "/v1/reload")[0] == 200
    dom = status_page(server)
    assert "hidden" in dom.by_id("reloads").attrs
    assert dom.one("tr", "zone", zone="page.test.").attrs["data-latest"] == "true"


def test_a_dual_stack_pool_shows_each_family(server: RunningServer) -> None:
    report(server, "p1", {"127.90.0.1": False, "::1": True})
    dom = status_page(server)
    card = dom.one("article", "pool", name="frankfurt")
    assert card.attrs["data-state"] == "degraded"
    families = {f.attrs["data-family"]: f.attrs["data-state"] for f in card.select("span", "family")}
    assert families == {"ipv4": "down", "ipv6": "up"}
    assert "needs 1 IPv4, 1 IPv6 up" in card.text
    assert dom.one("tr", "dc", name="fra").attrs["data-state"] == "degraded"
    # no banner for health: the prober reported a moment ago
    assert "hidden" in dom.by_id("blind").attrs and "hidden" in dom.by_id("stale").attrs
