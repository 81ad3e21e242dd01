"""A session with Redis kept up for as long as the server runs, for every part that shares state.

The health backend (verdicts, overrides) and the update service (dynamic records) both hold one
long session with Redis: connect, load, then follow a channel until something fails; then carry on
from their own copy and open a new session after a backoff. The session's content is theirs; the
keeping (opening the client, the backoff, the connected flag, the warnings that do not flood the
log while Redis stays away, the pinger that notices a Redis that stopped answering) is written
once here, and so is what both sessions do alike: subscribe to their channel before loading, read
the announcements from it, and sign their own with this server's id so they can skip them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gslb.common.backoff import Backoff
from gslb.common.secret_file import read_secret_file
from gslb.common.tasks import cancel_and_wait
from gslb.common.urls import redacted_url

__all__ = ["EXPECTED_FAILURES", "FIRST_SYNC_SECONDS", "IO_TIMEOUT", "LinkNames", "RedisLink", "origin_id",
           "run_until_one_ends", "subscribed"]

log = logging.getLogger(__name__)

IO_TIMEOUT = 2.0  # one Redis command, connecting included
PING_EVERY = 1.0  # a Redis that stops answering is noticed within PING_EVERY + IO_TIMEOUT
BACKOFF_FIRST, BACKOFF_CAP = 0.2, 5.0
WARN_EVERY = 12  # while Redis stays away, one warning per this many failed attempts
FIRST_SYNC_SECONDS = 3.0  # how long start-up waits for the shared state before serving without it
READ_WAIT = 1.0  # how long one wait for an announcement lasts
# What a lost or unreachable Redis raises; anything else ending a session is a bug, logged in full.
EXPECTED_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError, ConnectionError)

Session = Callable[[Redis], Awaitable[None]]


@dataclass(frozen=True)
class LinkNames:
    """How one user of the link shows up in logs, in Redis's CLIENT LIST and in the event field."""

    subject: str  # "health backend", "dynamic records"
    client_name: str  # CLIENT SETNAME
    event: str  # the `event` of the structured log lines
    while_lost: str  # what goes on without Redis, said when it is lost


class RedisLink:
    """Runs `session(client)` again and again, with a backoff between, until stopped.

    A session ends by raising (it never returns normally while the link runs); it calls
    `mark_connected()` once it has loaded the shared state, and the link marks itself
    disconnected when the session ends.
    """

    def __init__(self, url: str, password_file: Path | None, names: LinkNames,
                 expected: tuple[type[BaseException], ...] = ()) -> None:
        self.url = url
        self.password_file = password_file
        self.names = names
        self.expected = EXPECTED_FAILURES + expected
        self.connected = False
        self.client: Redis | None = None
        self._failures = 0
        self._first_sync = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def shown_url(self) -> str:
        return redacted_url(self.url)

    async def start(self, session: Session, first_sync_seconds: float = FIRST_SYNC_SECONDS) -> bool:
        """Start the sessions; True when the first one connected within `first_sync_seconds`."""
        self._task = asyncio.get_running_loop().create_task(self._run(session), name=self.names.client_name)
        try:
            await asyncio.wait_for(asyncio.shield(self._first_sync.wait()), first_sync_seconds)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    def mark_connected(self) -> None:
        self.connected, self._failures = True, 0
        self._first_sync.set()

    async def follow(self, client: Redis, *jobs: Awaitable[None]) -> NoReturn:
        """Run a connected session's jobs beside the pinger until one ends: the session ends with it."""
        await run_until_one_ends(*jobs, self.ping_forever(client))
        raise ConnectionError("the session ended")

    async def ping_forever(self, client: Redis) -> None:
        """Ends (raising) when Redis stops answering: the session then ends with it."""
        while True:
            await asyncio.sleep(PING_EVERY)
            await asyncio.wait_for(client.ping(), IO_TIMEOUT)

    async def _run(self, session: Session) -> None:
        backoff = Backoff(BACKOFF_FIRST, BACKOFF_CAP)
        while True:
            try:
                self.client = self._open()
                await session(self.client)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis gone, or a bug: either way start a new session later
                if not isinstance(exc, self.expected):
                    log.exception("%s: the Redis session failed", self.names.subject)
                if self._lost(exc):
                    backoff.reset()  # a fresh outage: try again soon
            finally:
                await self._close()
            await asyncio.sleep(backoff.next_delay())

    def _lost(self, exc: BaseException) -> bool:
        """Note the failure; True when the link was connected until now."""
        was, self.connected = self.connected, False
        self._failures += 1
        reason = str(exc) or type(exc).__name__
        extra = {"event": self.names.event, "connected": False}
        if was:
            log.warning("%s: %s lost (%s): %s", self.names.subject, self.shown_url, reason, self.names.while_lost,
                        extra=extra)
        elif self._failures == 1 or self._failures % WARN_EVERY == 0:
            log.warning("%s: %s unreachable (%s); retrying", self.names.subject, self.shown_url, reason, extra=extra)
        return was

    async def _close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), IO_TIMEOUT)

    def _open(self) -> Redis:
        options: dict[str, Any] = {}
        if self.password_file is not None:
            try:
                password = read_secret_file(self.password_file)
            except OSError as exc:
                raise ConnectionError(f"cannot read the Redis password file {self.password_file}: "
                                      f"{exc.strerror}") from None
            if password:
                options["password"] = password
        return Redis.from_url(self.url, decode_responses=True, socket_timeout=IO_TIMEOUT,
                              socket_connect_timeout=IO_TIMEOUT, retry=Retry(NoBackoff(), 0),
                              client_name=self.names.client_name, **options)


async def run_until_one_ends(*jobs: Awaitable[None]) -> None:
    """Run the jobs side by side until the first ends; cancel the rest; re-raise what it raised."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()


def origin_id() -> str:
    """This server process, as its announcements name it: unique across restarts and hosts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@contextlib.asynccontextmanager
async def subscribed(client: Redis, channel: str) -> AsyncIterator[AsyncIterator[str]]:
    """Subscribed to `channel` for the session: yields its announcements' data as they come.

    A session subscribes before it loads anything, so that nothing published meanwhile is missed.
    """
    pubsub = client.pubsub()
    try:
        await asyncio.wait_for(pubsub.subscribe(channel), IO_TIMEOUT)
        yield _announcements(pubsub)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pubsub.aclose(), IO_TIMEOUT)


async def _announcements(pubsub: PubSub) -> AsyncGenerator[str, None]:
    """The data of each message published on the channel, skipping (un)subscribe confirmations."""
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=READ_WAIT)
        if message is not None and message.get("type") == "message":
            yield message["data"]
