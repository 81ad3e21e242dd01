"""Dynamic updates shared through a real redis-server by two real servers on loopback.

An update sent to one server is answered by the other within a second; concurrent updates to
both are all kept; while Redis is out of reach an update is refused (SERVFAIL) and changes
nothing anywhere, and once it is back the servers share again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import RunningServer, start_server, wait_for
from tests.http_api import call_api
from tests.redis_server import RedisServer
from tests.updates_zone import ZONE, dig, nsupdate, rcode, send, update, updates_config, zones_dir

CHALLENGE = f"_acme-challenge.www.{ZONE}."
SHARE_WITHIN = 1.0  # the promise: an update sent to one server is answered by all within a second


def start_shared(tmp_path: Path, name: str, redis_url: str) -> RunningServer:
    workdir = tmp_path / name
    return start_server(workdir, zones_dir(workdir), {**updates_config(workdir), "health": {"backend": redis_url}})


def served_txt(server: RunningServer, name: str = CHALLENGE) -> list[str]:
    reply = server.ask(name, "TXT")
    return sorted(rdata.to_text() for rrset in reply.answer for rdata in rrset)


def connected(server: RunningServer) -> bool:
    return call_api(server, "GET", "/status")[1]["updates"]["shared"]["connected"]


@pytest.fixture
def pair(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[RunningServer, RunningServer]]:
    a = start_shared(tmp_path, "a", redis_server.url)
    b = start_shared(tmp_path, "b", redis_server.url)
    wait_for(lambda: connected(a) and connected(b), timeout=5)
    yield a, b
    a.stop()
    b.stop()


def test_an_update_sent_to_one_server_is_answered_by_the_other_within_a_second(
        pair: tuple[RunningServer, RunningServer]) -> None:
    a, b = pair
    added = nsupdate(a, f'update add {CHALLENGE} 60 TXT "shared-token"')
    assert added.returncode == 0, added.stdout + added.stderr
    took = wait_for(lambda: served_txt(b) == ['"shared-token"'], timeout=SHARE_WITHIN)
    assert '"shared-token"' in dig(b, CHALLENGE, "TXT", tcp=True).stdout
    assert a.ask(ZONE, "SOA").answer[0][0].serial <= b.ask(ZONE, "SOA").answer[0][0].serial + 0  # b caught up
    deleted = nsupdate(b, f"update delete {CHALLENGE} TXT")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    wait_for(lambda: served_txt(a) == [], timeout=SHARE_WITHIN)
    assert "NXDOMAIN" in dig(a, CHALLENGE, "TXT").stdout
    _, status = call_api(b, "GET", "/status")
    assert status["updates"]["shared"] == {"kind": "redis", "connected": True}
    print(f"shared in {took:.3f} s")


def test_concurrent_updates_on_both_servers_are_all_kept(pair: tuple[RunningServer, RunningServer]) -> None:
    a, b = pair
    results: list[str] = []

    def add(server: RunningServer, index: int) -> None:
        message = update()
        message.add(CHALLENGE, 60, "TXT", f'"token-{index}"')
        results.append(rcode(send(server, message)))

    threads = [threading.Thread(target=add, args=(a if i % 2 else b, i)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results == ["NOERROR"] * 12
    expected = sorted(f'"token-{i}"' for i in range(12))
    wait_for(lambda: served_txt(a) == expected and served_txt(b) == expected, timeout=SHARE_WITHIN)


def test_while_redis_is_away_updates_are_refused_and_nothing_changes(
        pair: tuple[RunningServer, RunningServer], redis_server: RedisServer) -> None:
    a, b = pair
    assert nsupdate(a, f'update add {CHALLENGE} 60 TXT "before"').returncode == 0
    wait_for(lambda: served_txt(b) == ['"before"'], timeout=SHARE_WITHIN)
    serials = (a.ask(ZONE, "SOA").answer[0][0].serial, b.ask(ZONE, "SOA").answer[0][0].serial)
    redis_server.stop()  # no persistence: it comes back empty
    wait_for(lambda: not connected(a) and not connected(b), timeout=5)
    for server in (a, b):
        message = update()
        message.add(CHALLENGE, 60, "TXT", '"while-away"')
        assert rcode(send(server, message)) == "SERVFAIL"
        refused = nsupdate(server, f"update delete {CHALLENGE} TXT")
        assert "update failed: SERVFAIL" in refused.stdout + refused.stderr
    for server in (a, b):  # both keep serving what they had, and nothing else
        assert served_txt(server) == ['"before"']
    assert (a.ask(ZONE, "SOA").answer[0][0].serial, b.ask(ZONE, "SOA").answer[0][0].serial) == serials
    assert "not stored, nothing changed" in a.log_text()

    redis_server.start()
    wait_for(lambda: connected(a) and connected(b), timeout=10)
    assert served_txt(a) == served_txt(b) == ['"before"']  # Redis was seeded from the first to reconnect
    assert nsupdate(b, f'update add {CHALLENGE} 60 TXT "after"').returncode == 0
    wait_for(lambda: served_txt(a) == ['"after"', '"before"'], timeout=SHARE_WITHIN)


def test_a_server_that_was_down_gets_the_updates_it_missed(tmp_path: Path, redis_server: RedisServer) -> None:
    a = start_shared(tmp_path, "a", redis_server.url)
    b = start_shared(tmp_path, "b", redis_server.url)
    try:
        wait_for(lambda: connected(a) and connected(b), timeout=5)
        b.stop()
        assert nsupdate(a, f'update add {CHALLENGE} 60 TXT "missed"').returncode == 0
        b = start_shared(tmp_path, "b", redis_server.url)
        assert served_txt(b) == ['"missed"']  # loaded from Redis before the first answer
    finally:
        a.stop()
        b.stop()
