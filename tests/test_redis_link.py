"""The Redis session keeper shared by the health backend and the update service (gslb.common.redis_link)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gslb.common.redis_link import LinkNames, RedisLink
from gslb.common.urls import redacted_url
from tests.backends import free_port
from tests.redis_server import RedisServer

NAMES = LinkNames(subject="test link", client_name="gslb-test", event="test_link", while_lost="carrying on")


def test_a_password_never_reaches_a_log_line() -> None:
    assert redacted_url("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redacted_url("rediss://user:s3cret@h:1") == "rediss://user:***@h:1"
    assert redacted_url("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"


def test_an_unreachable_redis_is_warned_about_once_not_per_attempt(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port(["127.0.0.1"])  # nothing listens there
    sessions = 0

    async def session(client: Redis) -> None:
        nonlocal sessions
        sessions += 1
        await client.ping()

    async def scenario() -> bool:
        link = RedisLink(f"redis://127.0.0.1:{port}/0", None, NAMES)
        connected = await link.start(session, first_sync_seconds=1.5)
        await link.stop()
        assert not link.connected
        return connected

    with caplog.at_level(logging.WARNING, logger="gslb.common.redis_link"):
        assert asyncio.run(scenario()) is False
    assert sessions >= 3  # 0.2 s, 0.4 s, 0.8 s backoff within 1.5 s
    warnings = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert f"127.0.0.1:{port}" in warnings[0]


def test_a_session_that_fails_is_started_again_and_a_bug_is_logged_in_full(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture,
) -> None:
    starts: list[bool] = []

    async def session(client: Redis) -> None:
        await client.ping()
        starts.append(True)
        link.mark_connected()
        if len(starts) == 1:
            raise RuntimeError("a bug in the session")
        await link.ping_forever(client)

    async def scenario() -> None:
        assert await link.start(session, first_sync_seconds=3.0)
        for _ in range(50):
            if len(starts) >= 2 and link.connected:
                break
            await asyncio.sleep(0.1)
        await link.stop()

    link = RedisLink(redis_server.url, None, NAMES)
    with caplog.at_level(logging.WARNING, logger="gslb.common.redis_link"):
        asyncio.run(scenario())
    assert len(starts) == 2
    bug = [r for r in caplog.records if r.exc_info and "session failed" in r.getMessage()]
    assert bug and isinstance(bug[0].exc_info[1], RuntimeError)
    assert any("lost (a bug in the session): carrying on" in r.getMessage() for r in caplog.records)


def test_an_unreadable_password_file_is_a_clear_reason(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def session(client: Redis) -> None:
        await client.ping()

    async def scenario() -> bool:
        link = RedisLink("redis://127.0.0.1:1/0", tmp_path / "missing", NAMES)
        connected = await link.start(session, first_sync_seconds=0.5)
        await link.stop()
        return connected

    with caplog.at_level(logging.WARNING, logger="gslb.common.redis_link"):
        assert asyncio.run(scenario()) is False
    assert any("cannot read the Redis password file" in r.getMessage() and "missing" in r.getMessage()
               for r in caplog.records)
