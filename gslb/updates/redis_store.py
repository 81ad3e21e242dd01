"""Dynamic records shared through Redis (`health.backend: redis://...`): one update, every server.

Redis holds each zone's records as the journal's JSON document, and the zone's version beside
it. A change is one Lua script: it stores the new document only if the zone is still at the
version the server started from, and announces it on a channel; every other server applies the
announcement (a new zone set) as it arrives, well within a second. When two servers change a
zone at the same moment, the second script finds a newer version: that server takes the newer
records and processes its update again on top of them, so updates are never lost or merged
half-way.

The rules are those of overrides: Redis is the truth while it is reachable, each server keeps
serving from its own copy (its journal) when it is not, and a change is refused (SERVFAIL)
while Redis is out of reach rather than applied on one server only. After every (re)connection
the whole state is loaded again; an empty Redis (new, or restarted without persistence) is
seeded with the records of the first server that connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gslb.common.tasks import cancel_and_wait
from gslb.config.load import redacted_url
from gslb.updates.journal import JournalError, decode, dumps, encode, loads
from gslb.updates.shared import StoreConflict, StoreUnavailable
from gslb.zones.model import DynamicRecords

log = logging.getLogger(__name__)

PREFIX = "gslb:updates:"
RECORDS = PREFIX + "records"  # hash: zone -> the journal document of its dynamic records
VERSIONS = PREFIX + "versions"  # hash: zone -> the version of that document
EPOCH = PREFIX + "epoch"  # set by the server that seeded this data set
CHANNEL = PREFIX + "changes"  # pub/sub: {"from": server, "doc": document} per change

FIRST_SYNC_SECONDS = 3.0
IO_TIMEOUT = 2.0
PING_EVERY = 1.0
READ_WAIT = 1.0
BACKOFF_FIRST, BACKOFF_CAP = 0.2, 5.0
WARN_EVERY = 12

# KEYS: records, versions. ARGV: zone, expected version, new version, document, channel, message.
# Returns -1 when stored, else the version the zone is at (another server was first).
COMMIT = """
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if current ~= tonumber(ARGV[2]) then
  return current
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return -1
"""

# KEYS: epoch, records, versions. ARGV: epoch, then (zone, version, document) per zone.
# Only a data set without an epoch is seeded. Returns 1 when this call seeded it.
SEED = """
if redis.call('SETNX', KEYS[1], ARGV[1]) == 0 then
  return 0
end
for i = 2, #ARGV, 3 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
return 1
"""

Local = Callable[[], dict[str, DynamicRecords]]
OnChange = Callable[[DynamicRecords, bool], Awaitable[None]]  # (records, loaded at (re)connection)


class RedisRecords:
    """The shared store of the update service (see gslb.updates.shared.SharedStore)."""

    def __init__(self, url: str, password_file: Path | None, local: Local, on_change: OnChange) -> None:
        self.url = url
        self.password_file = password_file
        self.local = local
        self.on_change = on_change
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._connected = False
        self._client: Redis | None = None
        self._first_sync = asyncio.Event()
        self._failures = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._connected

    def describe(self) -> dict[str, Any]:
        return {"kind": "redis", "connected": self._connected}

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="updates-redis")
        try:
            await asyncio.wait_for(asyncio.shield(self._first_sync.wait()), FIRST_SYNC_SECONDS)
        except TimeoutError:
            log.warning("dynamic records: %s not reachable at start; serving this server's journal, and refusing "
                        "updates until it is", redacted_url(self.url))

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    # -- changes -------------------------------------------------------------------------

    async def commit(self, old: DynamicRecords, new: DynamicRecords) -> None:
        client = self._client
        if not self._connected or client is None:
            raise StoreUnavailable("the shared store (redis) is not connected")
        zone = new.origin.text
        message = json.dumps({"from": self.origin, "doc": encode(new)})
        try:
            result = await asyncio.wait_for(client.eval(COMMIT, 2, RECORDS, VERSIONS, zone, old.version,
                                                        new.version, dumps(new), CHANNEL, message), IO_TIMEOUT)
            if int(result) == -1:
                return
            stored = await asyncio.wait_for(client.hget(RECORDS, zone), IO_TIMEOUT)
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"the shared store (redis) did not confirm it ({exc or 'timeout'})") from None
        raise StoreConflict(_decoded(stored))

    # -- the session ---------------------------------------------------------------------

    async def _run(self) -> None:
        delay = BACKOFF_FIRST
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis gone, or a bug: either way start a new session later
                if not isinstance(exc, RedisError | OSError | TimeoutError | ConnectionError):
                    log.exception("dynamic records: the Redis session failed")
                if self._lost(exc):
                    delay = BACKOFF_FIRST
            finally:
                await self._close()
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, BACKOFF_CAP)

    def _lost(self, exc: BaseException) -> bool:
        was, self._connected = self._connected, False
        self._failures += 1
        reason = str(exc) or type(exc).__name__
        if was:
            log.warning("dynamic records: %s lost (%s): updates refused until it is back", redacted_url(self.url),
                        reason, extra={"event": "updates_backend", "connected": False})
        elif self._failures == 1 or self._failures % WARN_EVERY == 0:
            log.warning("dynamic records: %s unreachable (%s); retrying", redacted_url(self.url), reason,
                        extra={"event": "updates_backend", "connected": False})
        return was

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), IO_TIMEOUT)

    def _open(self) -> Redis:
        options: dict[str, Any] = {}
        if self.password_file is not None:
            options["password"] = self.password_file.read_text().strip() or None
        return Redis.from_url(self.url, decode_responses=True, socket_timeout=IO_TIMEOUT,
                              socket_connect_timeout=IO_TIMEOUT, retry=Retry(NoBackoff(), 0),
                              client_name="gslb-updates", **options)

    async def _session(self) -> None:
        """Connect, seed or load, then apply announcements until something fails (it always raises)."""
        client = self._client = self._open()
        pubsub = client.pubsub()
        try:
            await asyncio.wait_for(pubsub.subscribe(CHANNEL), IO_TIMEOUT)  # first: nothing is missed
            args: list[Any] = [secrets.token_hex(8)]
            for zone, records in self.local().items():
                args += [zone, records.version, dumps(records)]
            if await asyncio.wait_for(client.eval(SEED, 3, EPOCH, RECORDS, VERSIONS, *args), IO_TIMEOUT):
                log.info("dynamic records: %s held none: started it with this server's", redacted_url(self.url))
            stored = await asyncio.wait_for(client.hgetall(RECORDS), IO_TIMEOUT)
            await self._load(stored)
            self._connected, self._failures = True, 0
            self._first_sync.set()
            log.info("dynamic records: sharing them through %s", redacted_url(self.url),
                     extra={"event": "updates_backend", "connected": True})
            tasks = [asyncio.create_task(job) for job in (self._read(pubsub), self._ping(client))]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                task.result()
            raise ConnectionError("the session ended")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), IO_TIMEOUT)

    async def _load(self, stored: dict[str, str]) -> None:
        """Redis is the truth: every zone as stored there; a zone it does not have has no records."""
        shared: dict[str, DynamicRecords] = {}
        for text in stored.values():
            records = _decoded(text)
            if records is not None:
                shared[records.origin.text] = records
        for zone, records in self.local().items():
            if zone not in shared and records.rrsets:
                shared[zone] = DynamicRecords(records.origin, 0, records.serial, {})
        for records in shared.values():
            await self.on_change(records, True)

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=READ_WAIT)
            if message is None or message.get("type") != "message":
                continue
            try:
                body = json.loads(message["data"])
                if body["from"] == self.origin:
                    continue  # our own change: already served when it was stored
                records = decode(body["doc"])
            except (ValueError, KeyError, TypeError, JournalError) as exc:
                log.warning("dynamic records: ignored a malformed announcement: %s", exc)
                continue
            await self.on_change(records, False)

    async def _ping(self, client: Redis) -> None:
        while True:
            await asyncio.sleep(PING_EVERY)
            await asyncio.wait_for(client.ping(), IO_TIMEOUT)


def _decoded(text: str | None) -> DynamicRecords | None:
    if text is None:
        return None
    try:
        return loads(text)
    except JournalError as exc:
        log.warning("dynamic records: skipped a stored document this version cannot read: %s", exc)
        return None
