"""The status page at `GET /`, rendered by a real headless Chromium against the real server.

Chromium is Debian's (`make test` installs it when missing). Without it these tests fail with a
message saying how to get it: they do not skip. Every Chromium run has a time limit, uses a new
profile directory and talks to 127.0.0.1 only.

Run as a script to regenerate the screenshot in the docs:
    .venv/bin/python -m tests.test_status_page docs/status-page.png
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gslb.api.page import COLOURS
from tests.browser import CHROMIUM_TIMEOUT, Element, chromium_command, dump_dom, screenshot, status_page, stop_group
from tests.harness import RunningServer, start_server
from tests.http_api import call_api

TOKEN = "status-page-token-0123456789"
PROBER = "probe-frankfurt-1"
REFRESH_BUDGET = 2.5 * 2 + 3.0  # two refresh periods and slack: a change shows up within this

# Members of each pool; no prober runs, so states come from the test's own reports and overrides.
ZONE = """
zone: status.test.
ns: [ns1.status.test.]
records:
  ns1: {{A: 127.0.0.53}}
  www: {{service: web}}
datacenters:
  ashburn:   {{location: [39.0, -77.5]}}
  san-jose:  {{location: [37.3, -121.9]}}
  sao-paulo: {{location: [-23.5, -46.6]}}
  frankfurt: {{location: [50.1, 8.7]}}
  singapore: {{location: [1.3, 103.8]}}
  sydney:    {{location: [-33.9, 151.2]}}
  lab: {{}}
checks:
  web: {{type: http, port: {port}, path: /health, interval: 30, timeout: 1}}
pools:
  us-east:  {{datacenter: ashburn, check: web, members: [127.0.20.1, 127.0.20.2]}}
  us-west:  {{datacenter: san-jose, check: web, members: [127.0.20.3]}}
  brazil:   {{datacenter: sao-paulo, check: web, members: [127.0.20.4]}}
  eu:       {{datacenter: frankfurt, check: web, members: [127.0.20.5, 127.0.20.6]}}
  asia:     {{datacenter: singapore, check: web, members: [127.0.20.7]}}
  oceania:  {{datacenter: sydney, check: web, members: [127.0.20.8]}}
  lab:      {{datacenter: lab, members: [127.0.20.9]}}
services:
  web:
    method: failover
    pools: [us-east, us-west, eu, asia, oceania, brazil, lab]
"""
DATACENTERS = ["ashburn", "san-jose", "sao-paulo", "frankfurt", "singapore", "sydney", "lab"]


def start_status_server(workdir: Path, zones: dict[str, str] | None = None, stale_after: str = "10m") -> RunningServer:
    zones_dir = workdir / "zones"
    zones_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (zones or {"status.test": ZONE.format(port=9)}).items():
        (zones_dir / f"{name}.yaml").write_text(text)
    (workdir / "token").write_text(TOKEN + "\n")
    # Reports stay fresh for the whole test; nothing probes (no prober, no embedded one).
    return start_server(workdir, zones_dir, {"http": {"token_file": str(workdir / "token")},
                                             "health": {"stale_after": stale_after}})


def api(server: RunningServer, method: str, path: str, body: Any = None) -> Any:
    status, answer = call_api(server, method, path, body, token=TOKEN)
    assert status == 200, (method, path, status, answer)
    return answer


def report(server: RunningServer, verdicts: dict[str, bool], prober: str = PROBER,
           datacenter: str = "frankfurt") -> None:
    targets = {t["address"]: t["id"] for t in api(server, "GET", "/v1/targets")["targets"]}
    results = [{"id": targets[address], "up": up, "rtt_ms": 3.2 if up else None,
                "error": None if up else "connection refused"} for address, up in verdicts.items()]
    results = [{k: v for k, v in r.items() if v is not None} for r in results]
    answer = api(server, "POST", "/v1/reports", {"prober": prober, "datacenter": datacenter, "results": results})
    assert answer["accepted"] == len(verdicts)


def break_some(server: RunningServer, skip: frozenset[str] = frozenset()) -> None:
    """ashburn degraded (one of two members down by report), frankfurt down (a pool override)."""
    verdicts = {"127.0.20.1": False, "127.0.20.2": True, "127.0.20.3": True, "127.0.20.4": True,
                "127.0.20.7": True, "127.0.20.8": True}
    report(server, {address: up for address, up in verdicts.items() if address not in skip})
    api(server, "PUT", "/v1/overrides/status.test/pools/eu", {"state": "down", "reason": "fibre cut", "by": "ops"})


SCREENSHOT_STALE_AFTER = 8.0


def blind_some(server: RunningServer) -> None:
    """break_some, plus sydney's only prober gone silent after reporting its member down."""
    report(server, {"127.0.20.8": False}, prober="probe-sydney-1", datacenter="sydney")
    time.sleep(SCREENSHOT_STALE_AFTER + 1.5)
    break_some(server, skip=frozenset({"127.0.20.8"}))


def marker(dom: Element, name: str) -> tuple[str, str, str]:
    """A datacenter's marker on the map: (state, fill colour, label text)."""
    group = dom.one("g", "marker", name=name)
    [shape] = group.select(cls="marker-shape")
    return group.attrs["data-state"], shape.attrs["fill"], group.one("text").text


def row_state(dom: Element, cls: str, **data: str) -> tuple[str, str]:
    """A row's data-state and the text of its state badge."""
    row = dom.one(cls=cls, **data)
    badge = row.select("span", "badge")[0]
    return row.attrs["data-state"], badge.text


# -- the tests -----------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_status_server(tmp_path / "srv")
    yield running
    running.stop()


def test_page_is_one_self_contained_document(server: RunningServer) -> None:
    with urllib.request.urlopen(f"http://{server.http}/", timeout=5) as response:
        page = response.read().decode()
        headers = response.headers
    assert headers["Content-Type"].startswith("text/html")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "unsafe-inline" not in policy
    # No CDN, no fonts, no images from elsewhere: the only URL in the page is the SVG namespace.
    assert page.replace("http://www.w3.org/2000/svg", "").count("http") == 0
    assert "//" not in page.replace("http://www.w3.org/2000/svg", "").split("<script>")[0]
    assert "@import" not in page and "url(" not in page


def test_map_and_tables_show_each_datacenter_and_follow_its_state(server: RunningServer) -> None:
    url = f"http://{server.http}/"
    dom = dump_dom(url)
    assert dom.one("html").attrs["data-refreshes"] != "0"
    for name in DATACENTERS:
        assert row_state(dom, "dc", name=name) == ("up", "up")
        if name != "lab":
            assert marker(dom, name) == ("up", COLOURS["up"], f"{name} UP")
    lab = dom.one("span", "item", name="lab")  # no location: listed under the map, grey
    assert (lab.attrs["data-state"], lab.attrs["data-color"]) == ("up", COLOURS["none"])
    assert not dom.select("g", "marker", name="lab")
    assert dom.by_id("summary").text == "all 7 datacenters up"
    serial = str(api(server, "GET", "/status")["zones"][0]["serial"])
    zone_row = dom.one("tr", "zone", zone="status.test.")
    assert "status.test." in zone_row.text and serial in zone_row.text
    assert "No prober has reported" in dom.by_id("probers").text

    break_some(server)
    dom = dump_dom(url)
    assert marker(dom, "ashburn") == ("degraded", COLOURS["degraded"], "ashburn DEGRADED")
    assert marker(dom, "frankfurt") == ("down", COLOURS["down"], "frankfurt DOWN")
    assert marker(dom, "sydney") == ("up", COLOURS["up"], "sydney UP")
    assert row_state(dom, "dc", name="ashburn") == ("degraded", "degraded")
    assert row_state(dom, "dc", name="frankfurt") == ("down", "down")
    assert row_state(dom, "dc", name="san-jose") == ("up", "up")
    assert dom.by_id("summary").text == "1 down, 1 degraded, 5 up"
    # pools and members: state, override and the prober's report
    eu = dom.one("article", "pool", name="eu")
    assert eu.attrs["data-state"] == "down"
    assert row_state(eu, "member", address="127.0.20.5") == ("down", "down")
    assert "forced down (pool eu): fibre cut, by ops" in eu.text
    us_east = dom.one("article", "pool", name="us-east")
    assert us_east.attrs["data-state"] == "up"  # min_healthy 1: one member left
    down_member = us_east.one("tr", "member", address="127.0.20.1")
    assert down_member.attrs["data-state"] == "down"
    assert f"{PROBER}: down" in down_member.text and "connection refused" in down_member.text
    assert f"{PROBER}: up 3.2 ms" in us_east.one("tr", "member", address="127.0.20.2").text
    assert "not probed" in dom.one("article", "pool", name="lab").text
    prober = dom.one("tr", "prober", name=PROBER)
    assert "frankfurt" in prober.text and "UTC" in prober.text and "ago" in prober.text



NASTY_DC = '<img src=x onerror="document.title=1">'
NASTY_POOL = '<b id="bold">pool</b><script>document.title=2</script>'
NASTY_ZONE = f"""
zone: xss.test.
ns: [ns1.xss.test.]
records:
  ns1: {{A: 127.0.0.53}}
  www: {{service: web}}
datacenters:
  '{NASTY_DC}': {{location: [10, 10]}}
pools:
  '{NASTY_POOL}': {{datacenter: '{NASTY_DC}', members: [127.0.30.1]}}
services:
  web: {{method: failover, pools: ['{NASTY_POOL}']}}
"""


def test_names_from_zone_files_are_shown_as_text_never_as_markup(tmp_path: Path) -> None:
    running = start_status_server(tmp_path / "xss", {"xss.test": NASTY_ZONE})
    try:
        dom = status_page(running)
    finally:
        running.stop()
    assert not dom.select("img") and not dom.select("b")
    assert len(dom.select("script")) == 1  # the page's own
    assert dom.one("head").one("title").text.startswith("gslb status")  # no injected script ran
    row = dom.one("tr", "dc")
    assert row.attrs["data-name"] == NASTY_DC and NASTY_DC in row.text
    assert NASTY_DC in dom.one("g", "marker").text
    assert NASTY_POOL in dom.one("article", "pool").one("h3").text


# -- the page refreshes itself: Chromium driven over the DevTools protocol ---------------------

# What the page shows, as JSON; only {"refreshes": 0} while the page has not loaded yet.

SNAPSHOT = """document.getElementById("connection") === null ? JSON.stringify({refreshes: 0}) : JSON.stringify({
  loadId: document.documentElement.dataset.loadId,
  refreshes: Number(document.documentElement.dataset.refreshes || 0),
  navigations: performance.getEntriesByType("navigation").length,
  connection: document.getElementById("connection").dataset.connection,
  error: document.getElementById("error").hidden ? "" : document.getElementById("error").textContent,
  markers: Object.fromEntries([...document.querySelectorAll("g.marker")].map((g) => [g.dataset.name,
    [g.dataset.state, g.querySelector(".marker-shape").getAttribute("fill"), g.querySelector("text").textContent]])),
  rows: Object.fromEntries([...document.querySelectorAll("tr.dc")].map((r) => [r.dataset.name,
    [r.dataset.state, r.querySelector(".badge").textContent]])),
})"""


class DevTools:
    """Just enough of the Chrome DevTools protocol, over aiohttp's websocket client."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        number = next(self.ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.ws.send_json(message)
        while True:  # calls are one at a time: anything else arriving meanwhile is an event
            reply = await self.ws.receive_json()
            if reply.get("id") == number:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply["result"]

    async def snapshot(self, session: str) -> dict:
        result = await self.call("Runtime.evaluate", {"expression": SNAPSHOT, "returnByValue": True}, session)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return json.loads(result["result"]["value"])

    async def wait(self, session: str, condition: Callable[[dict], bool], timeout: float) -> tuple[dict, float]:
        """The first snapshot that meets the condition, and the seconds it took."""
        started = time.monotonic()
        last: dict = {}
        while time.monotonic() - started < timeout:
            last = await self.snapshot(session)
            if condition(last):
                return last, time.monotonic() - started
            await asyncio.sleep(0.1)
        raise AssertionError(f"the page did not get there within {timeout} s; it shows {last}")


def launch_for_devtools(profile: Path) -> tuple[subprocess.Popen, str]:
    """Chromium with a DevTools port of its own choosing, and the browser's websocket address."""
    log = (profile.parent / f"{profile.name}.log").open("wb")
    proc = subprocess.Popen(chromium_command(profile, "--remote-debugging-port=0", "about:blank"),
                            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lines = active.read_text().split() if active.exists() else []
        if len(lines) == 2:
            return proc, f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop_group(proc)
    raise AssertionError(f"chromium did not open its DevTools port: {Path(log.name).read_text()[-2000:]}")


async def watch_page(server: RunningServer, profile: Path) -> dict[str, float]:
    import aiohttp

    proc, endpoint = launch_for_devtools(profile)
    try:
        async with aiohttp.ClientSession() as client, client.ws_connect(endpoint, max_msg_size=0) as ws:
            tools = DevTools(ws)
            target = await tools.call("Target.createTarget", {"url": "about:blank"})
            attached = await tools.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            session = attached["sessionId"]
            await tools.call("Page.navigate", {"url": f"http://{server.http}/"}, session)
            first, shown = await tools.wait(session, lambda page: page["refreshes"] >= 1, timeout=15)
            assert first["connection"] == "ok"
            assert first["rows"]["ashburn"] == ["up", "up"]
            assert first["markers"]["ashburn"] == ["up", COLOURS["up"], "ashburn UP"]

            # A change made after the page loaded shows up by itself, with no reload.
            await asyncio.to_thread(api, server, "PUT", "/v1/overrides/status.test/datacenters/ashburn",
                                    {"state": "down", "reason": "test"})
            now, followed = await tools.wait(session, lambda page: page["markers"]["ashburn"][0] == "down",
                                             timeout=REFRESH_BUDGET)
            assert now["markers"]["ashburn"] == ["down", COLOURS["down"], "ashburn DOWN"]
            assert now["rows"]["ashburn"] == ["down", "down"]
            assert now["rows"]["sydney"] == ["up", "up"]
            assert now["loadId"] == first["loadId"] and now["navigations"] == 1
            assert now["refreshes"] > first["refreshes"]

            # The server goes away: the page says so and keeps showing what it last knew.
            server.stop()
            gone, noticed = await tools.wait(session, lambda page: page["connection"] == "error",
                                             timeout=REFRESH_BUDGET + 5)
            assert "Cannot read /status" in gone["error"]
            assert gone["markers"]["ashburn"][0] == "down" and gone["loadId"] == first["loadId"]
            return {"first render": shown, "change shown": followed, "outage noticed": noticed}
    finally:
        stop_group(proc)


def test_page_refreshes_itself_without_reloading(server: RunningServer, tmp_path: Path) -> None:
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    timings = asyncio.run(asyncio.wait_for(watch_page(server, profile), timeout=CHROMIUM_TIMEOUT))
    assert timings["change shown"] <= REFRESH_BUDGET

# -- for the docs ----------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """Start a server on the test zone, break some of it, and take the screenshot for the docs."""
    out = Path(argv[0] if argv else "docs/status-page.png")
    with tempfile.TemporaryDirectory(prefix="gslb-status-page-") as workdir:
        running = start_status_server(Path(workdir), stale_after=f"{SCREENSHOT_STALE_AFTER:g}s")
        try:
            blind_some(running)
            screenshot(f"http://{running.http}/", out, size=argv[1] if len(argv) > 1 else "1280,900")
        finally:
            running.stop()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
