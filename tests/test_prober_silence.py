"""The only prober is killed after a member went down: the member stays out, and the silence is loud.

Real backends on 127.x, a real `gslb prober`, the real server, its /status and /metrics over
HTTP, and the status page in headless Chromium. After the kill the dead member must stay out of
the answers for at least three times `stale_after`, `/status` must mark it stale, the page must
show the red banner naming the prober and the target, and the prober's age gauge must grow; a
fresh report from a new prober clears all three.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import Backends, HttpBackend
from tests.browser import status_page
from tests.harness import RunningServer, wait_for
from tests.health_zone import (
    BACKUP,
    FALL,
    INTERVAL,
    PRIMARY,
    answer,
    first_member,
    http,
    start_health_server,
    start_prober,
)
from tests.http_api import scrape_metrics
from tests.processes import stop_process

STALE_AFTER = 2.0
PROBER = "probe-1"


@pytest.fixture
def backends() -> Iterator[tuple[HttpBackend, HttpBackend]]:
    owner = Backends()
    primary, backup = owner.start_http_on_one_port([PRIMARY, BACKUP])
    yield primary, backup
    owner.close()


def age(server: RunningServer) -> float:
    return scrape_metrics(server)[("gslb_prober_last_report_age_seconds", (("prober", PROBER),))]


def test_a_dead_member_stays_out_while_the_prober_is_silent(
    tmp_path: Path, backends: tuple[HttpBackend, HttpBackend]
) -> None:
    primary, _ = backends
    server = start_health_server(tmp_path, primary.port, extra={"health": {"stale_after": f"{STALE_AFTER}s"}})
    prober = start_prober(tmp_path, [f"http://{server.http}"], name=PROBER)
    try:
        wait_for(lambda: first_member(server, "primary")["state"] == "up", timeout=10)
        primary.status = 500
        wait_for(lambda: answer(server)[0] == {BACKUP}, timeout=INTERVAL * FALL + 3)
        prober.send_signal(signal.SIGKILL)
        prober.wait(timeout=10)
        killed = time.monotonic()

        # Out of the answers for three times stale_after (and more), asked every 0.2 s.
        while time.monotonic() - killed < 3 * STALE_AFTER + 1.0:
            assert answer(server)[0] == {BACKUP}, f"{time.monotonic() - killed:.1f} s after the kill"
            time.sleep(0.2)
        member = first_member(server, "primary")
        assert (member["state"], member["stale"]) == ("down", True)
        status = http(server, "GET", "/status")[1]
        assert [p["name"] for p in status["monitoring"]["silent_probers"]] == [PROBER]
        assert PRIMARY in {t["address"] for t in status["monitoring"]["stale_targets"]}
        assert [p["silent"] for p in status["probers"]] == [True]

        first = age(server)
        assert first >= 3 * STALE_AFTER
        dom = status_page(server)
        banner = dom.by_id("blind")
        assert "hidden" not in banner.attrs
        assert banner.one("span", "name", prober=PROBER)
        assert PRIMARY in banner.text and "down" in banner.text
        assert dom.by_id("stale").text == "2 stale targets"
        assert dom.one("tr", "prober", name=PROBER).attrs["data-silent"] == "true"
        assert dom.one("tr", "member", address=PRIMARY).attrs["data-stale"] == "true"
        time.sleep(1.0)
        assert age(server) >= first + 1.0  # the gauge grows

        # A fresh report (a new prober under the same name) clears all three.
        prober = start_prober(tmp_path, [f"http://{server.http}"], name=PROBER)
        wait_for(lambda: not first_member(server, "primary")["stale"], timeout=10)
        assert first_member(server, "primary")["state"] == "down"  # the backend still fails: judged again
        assert answer(server)[0] == {BACKUP}
        assert age(server) < STALE_AFTER
        wait_for(lambda: not http(server, "GET", "/status")[1]["monitoring"]["stale_targets"], timeout=5)
        dom = status_page(server)
        assert "hidden" in dom.by_id("blind").attrs and "hidden" in dom.by_id("stale").attrs
        assert dom.one("tr", "prober", name=PROBER).attrs["data-silent"] == "false"
        log = server.log_text()
        assert log.count(f"prober {PROBER} silent for") == 1 and log.count(f"prober {PROBER} reports again") == 1
    finally:
        stop_process(prober)
        server.stop()
