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
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gslb.common.redis_link import IO_TIMEOUT, LinkNames, RedisLink, origin_id, subscribed
from gslb.updates.journal import JournalError, decode, dumps, encode, loads
from gslb.updates.shared import StoreConflict, StoreUnavailable
from gslb.zones.model import DynamicRecords

log = logging.getLogger(__name__)

PREFIX = "gslb:updates:"
RECORDS = PREFIX + "records"  # hash: zone -> the journal document of its dynamic records
VERSIONS = PREFIX + "versions"  # hash: zone -> the version of that document
EPOCH = PREFIX + "epoch"  # set by the server that seeded this data set
CHANNEL = PREFIX + "changes"  # pub/sub: {"from": server, "doc": document} per change

NAMES = LinkNames(subject="dynamic records", client_name="gslb-updates", event="updates_backend",
                  while_lost="updates refused until it is back")

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
        self.local = local
        self.on_change = on_change
        self.origin = origin_id()
        self._link = RedisLink(url, password_file, NAMES)

    @property
    def connected(self) -> bool:
        return self._link.connected

    def describe(self) -> dict[str, Any]:
        return {"kind": "redis", "connected": self._link.connected}

    async def start(self) -> None:
        if not await self._link.start(self._session):
            log.warning("dynamic records: %s not reachable at start; serving this server's journal, and refusing "
                        "updates until it is", self._link.shown_url)

    async def stop(self) -> None:
        await self._link.stop()

    # -- changes -------------------------------------------------------------------------

    async def commit(self, old: DynamicRecords, new: DynamicRecords) -> None:
        client = self._link.client
        if not self._link.connected or client is None:
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

    async def _session(self, client: Redis) -> None:
        """Seed or load, then apply announcements until something fails (it always raises)."""
        async with subscribed(client, CHANNEL) as announcements:
            args: list[Any] = [secrets.token_hex(8)]
            for zone, records in self.local().items():
                args += [zone, records.version, dumps(records)]
            if await asyncio.wait_for(client.eval(SEED, 3, EPOCH, RECORDS, VERSIONS, *args), IO_TIMEOUT):
                log.info("dynamic records: %s held none: started it with this server's", self._link.shown_url)
            stored = await asyncio.wait_for(client.hgetall(RECORDS), IO_TIMEOUT)
            await self._load(stored)
            self._link.mark_connected()
            log.info("dynamic records: sharing them through %s", self._link.shown_url,
                     extra={"event": NAMES.event, "connected": True})
            await self._link.follow(client, self._read(announcements))

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

    async def _read(self, announcements: AsyncIterator[str]) -> None:
        async for data in announcements:
            try:
                body = json.loads(data)
                if body["from"] == self.origin:
                    continue  # our own change: already served when it was stored
                records = decode(body["doc"])
            except (ValueError, KeyError, TypeError, JournalError) as exc:
                log.warning("dynamic records: ignored a malformed announcement: %s", exc)
                continue
            await self.on_change(records, False)


def _decoded(text: str | None) -> DynamicRecords | None:
    if text is None:
        return None
    try:
        return loads(text)
    except JournalError as exc:
        log.warning("dynamic records: skipped a stored document this version cannot read: %s", exc)
        return None
