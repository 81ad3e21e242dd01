"""`health.backend: redis://...`: several servers share verdicts, probers and overrides.

One task keeps a session with Redis: connect, subscribe to the change channel, seed an empty
data set from this server's state, push every verdict this server holds (the newest receive time
wins in Redis, so older ones change nothing), load the whole state, then apply announcements as
they come while a writer shares new reports and a pinger notices a Redis that stopped answering.
When any of that fails the session ends, the server goes on from its own copy (answers never wait
on Redis), and a new session starts after a backoff of up to five seconds, which resyncs.

Override changes go to Redis first and are refused (BackendUnavailable: 503) while it is out of
reach, so that no server applies a drain the others do not know of; see docs/scale-out.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gslb.common.redis_link import IO_TIMEOUT, LinkNames, RedisLink, origin_id, subscribed
from gslb.health.backend import BackendHost, BackendUnavailable, HealthBackend
from gslb.health.overrides import AUDIT_LIMIT, Override, OverrideKey
from gslb.health.records import ProberInfo, Verdict
from gslb.health.redis_codec import (
    CodecError,
    Message,
    decode_state,
    encode_entry,
    encode_override,
    encode_prober,
    encode_verdict,
    message_override,
    message_verdicts,
    override_field,
    override_message_body,
    parse_message,
    verdict_field,
    verdicts_message,
)
from gslb.health.redis_scripts import AUDIT, CHANNEL, EPOCH, OVERRIDES, PROBERS, SEQUENCE, VERDICTS, Scripts

log = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0  # how long an override change waits to come back on the channel
CHUNK = 1000  # verdicts per script call: Redis runs one script at a time
PRUNE_AFTER = 3600.0  # verdicts and probers silent this long are dropped from Redis
NAMES = LinkNames(subject="health backend", client_name="gslb", event="health_backend",
                  while_lost="answering from the last state, reconnecting")


class _Applied:
    """The number of the latest override change applied here, and a way to wait for one."""

    def __init__(self) -> None:
        self.value = 0
        self._changed = asyncio.Event()

    def set(self, value: int) -> None:
        self.value = value
        self._changed.set()
        self._changed = asyncio.Event()

    async def reach(self, seq: int, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.value < seq:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True


class RedisBackend(HealthBackend):
    kind = "redis"

    def __init__(self, url: str, password_file: Path | None = None) -> None:
        super().__init__()
        self.url = url
        self.origin = origin_id()
        self._link = RedisLink(url, password_file, NAMES, expected=(BackendUnavailable, ValueError))
        self._scripts: Scripts | None = None
        self._pending: dict[tuple[str, str], Verdict] = {}
        self._pending_probers: dict[str, ProberInfo] = {}
        self._expired: list[Override] = []
        self._wake = asyncio.Event()
        self._resync = False
        self._applied = _Applied()
        self._epoch: str | None = None

    @property
    def connected(self) -> bool:
        return self._link.connected

    def _monitor(self) -> BackendHost:
        assert self.monitor is not None, "bind() first"
        return self.monitor

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if not await self._link.start(self._session):
            log.warning("health backend %s not reachable at start: serving from this server's own state "
                        "(overrides from its mirror file) until it is", self._link.shown_url)

    async def stop(self) -> None:
        await self._link.stop()

    # -- one session ---------------------------------------------------------------------

    async def _session(self, client: Redis) -> None:
        """Resync, then share until something fails: it always ends by raising."""
        async with subscribed(client, CHANNEL) as announcements:
            scripts = self._scripts = Scripts.register(client)
            try:
                await self._seed(scripts)
                await self._push_everything(scripts)
                self._resync = False  # this is the full load a reload asked for
                await self._load(client, scripts)
                await self._claim_expired(scripts)
                self._link.mark_connected()
                log.info("health backend %s connected: sharing verdicts and overrides", self._link.shown_url,
                         extra={"event": NAMES.event, "connected": True})
                await self._link.follow(client, self._read(announcements), self._write(client, scripts))
            finally:
                self._scripts = None

    async def _seed(self, scripts: Scripts) -> None:
        """An empty data set (new, or a Redis restarted without persistence) gets our overrides."""
        book = self._monitor().overrides
        active = book.active()
        args: list[Any] = [secrets.token_hex(8), len(active)]
        for override in active:
            args += [override_field(override.key), encode_override(override)]
        args += [encode_entry(entry) for entry in book.audit]
        seeded, epoch = await asyncio.wait_for(scripts.seed(keys=[EPOCH, OVERRIDES, AUDIT], args=args), IO_TIMEOUT)
        if seeded and self._epoch is not None:
            log.warning("health backend %s lost its state (restarted without persistence?): seeded it again "
                        "with this server's %d override(s) and its verdicts", self._link.shown_url, len(active))
        elif seeded:
            log.info("health backend %s held no gslb state: started it with this server's %d override(s)",
                     self._link.shown_url, len(active))
        elif self._epoch is not None and epoch != self._epoch:
            log.warning("health backend %s was reset since this server last saw it: loading its state",
                        self._link.shown_url)
        self._epoch = epoch

    async def _push_everything(self, scripts: Scripts) -> None:
        """Every verdict this server holds (what it recorded while Redis was away among them)."""
        monitor = self._monitor()
        self._pending.clear()
        self._pending_probers.clear()
        verdicts = {(target, prober): verdict for target, per_prober in monitor.verdicts.items()
                    for prober, verdict in per_prober.items()}
        await self._record(scripts, verdicts, dict(monitor.probers))

    async def _load(self, client: Redis, scripts: Scripts, live: bool = False) -> None:
        """The whole shared state, read in one transaction, applied over this server's copy.

        `live`: announcements are being applied meanwhile (a resync after a reload). An override
        change applied after the snapshot was taken must not be undone by it, so the snapshot is
        taken again until it is at least as recent as what has been applied.
        """
        monitor = self._monitor()
        cutoff = repr(monitor.clock() - max(PRUNE_AFTER, 2 * monitor.stale_after))
        await asyncio.wait_for(scripts.prune(keys=[VERDICTS], args=[cutoff, "received"]), IO_TIMEOUT)
        await asyncio.wait_for(scripts.prune(keys=[PROBERS], args=[cutoff, "last_report"]), IO_TIMEOUT)
        for _ in range(3):
            async with client.pipeline(transaction=True) as pipe:
                pipe.get(SEQUENCE).hgetall(VERDICTS).hgetall(PROBERS).hgetall(OVERRIDES).lrange(AUDIT, 0, -1)
                seq_text, *stored = await asyncio.wait_for(pipe.execute(), IO_TIMEOUT * 2)
            seq = int(seq_text or 0)
            # Decoding tens of thousands of entries takes a while: off the loop, so queries go on.
            state = await asyncio.to_thread(decode_state, *stored, monitor.clock())
            if not live or seq >= self._applied.value:
                break
        else:
            raise ConnectionError("override changes kept overtaking the resync: starting a new session")
        if state.bad:
            log.warning("health backend: skipped %d stored entries this version cannot read", state.bad)
        self._expired.extend(state.expired)  # claimed right after: only one server audits each
        monitor.overrides.replace(state.overrides, state.audit)
        self._applied.set(seq)
        monitor.merge(state.probers, state.verdicts)
        monitor.rebuild()
        log.info("health state loaded from %s: %d verdicts, %d probers, %d overrides",
                 self._link.shown_url, len(state.verdicts), len(state.probers), len(state.overrides))

    async def _read(self, announcements: AsyncIterator[str]) -> None:
        async for data in announcements:
            try:
                self._apply(parse_message(data))
            except CodecError as exc:
                log.warning("ignored a malformed announcement on %s: %s", CHANNEL, exc)

    def _apply(self, message: Message) -> None:
        monitor = self._monitor()
        if message.seq == 0:
            if message.origin != self.origin:
                monitor.merge(*message_verdicts(message.body))
            return
        if message.seq <= self._applied.value:
            return  # already in the state loaded at (re)connection
        key, override, audit = message_override(message.body)
        monitor.overrides.apply(key, override, audit)
        self._applied.set(message.seq)
        monitor.rebuild()

    async def _write(self, client: Redis, scripts: Scripts) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            verdicts, probers = self._pending, self._pending_probers
            self._pending, self._pending_probers = {}, {}
            await self._record(scripts, verdicts, probers)  # lost on failure: the next session pushes all
            await self._claim_expired(scripts)
            if self._resync:
                self._resync = False
                await self._load(client, scripts, live=True)

    async def _record(self, scripts: Scripts, verdicts: dict[tuple[str, str], Verdict],
                      probers: dict[str, ProberInfo]) -> None:
        items = list(verdicts.items())
        for start in range(0, len(items) or (1 if probers else 0), CHUNK):
            chunk = dict(items[start:start + CHUNK])
            chunk_probers = probers if start == 0 else {}
            args: list[Any] = [CHANNEL, verdicts_message(self.origin, chunk_probers, chunk), len(chunk)]
            for (target, prober), verdict in chunk.items():
                args += [verdict_field(target, prober), repr(verdict.received), encode_verdict(verdict)]
            for name, info in chunk_probers.items():
                args += [name, repr(info.last_report), encode_prober(info)]
            await asyncio.wait_for(scripts.record(keys=[VERDICTS, PROBERS], args=args), IO_TIMEOUT)

    async def _claim_expired(self, scripts: Scripts) -> None:
        book = self._monitor().overrides
        while self._expired:
            override = self._expired[0]
            entry = book.entry("expired", "gslb", override)
            body = override_message_body(self.origin, override.key, None, entry)
            args = [CHANNEL, override_field(override.key), encode_entry(entry), AUDIT_LIMIT, body,
                    repr(self._monitor().clock())]
            await asyncio.wait_for(scripts.expire_override(keys=[OVERRIDES, AUDIT, SEQUENCE], args=args),
                                   IO_TIMEOUT)
            self._expired.pop(0)

    # -- what the monitor tells us -------------------------------------------------------

    def verdicts_recorded(self, prober: str, info: ProberInfo, verdicts: dict[str, Verdict]) -> None:
        for target, verdict in verdicts.items():
            self._pending[(target, prober)] = verdict
        self._pending_probers[prober] = info
        self._wake.set()

    def zones_changed(self) -> None:
        self._resync = True
        self._wake.set()

    def expire_overrides(self) -> None:
        gone = self._monitor().overrides.expire(audited=False)
        if gone:
            self._expired.extend(gone)
            self._wake.set()

    async def set_override(self, override: Override, actor: str) -> None:
        entry = self._monitor().overrides.entry("set", actor, override)
        body = override_message_body(self.origin, override.key, override, entry)
        args = [CHANNEL, override_field(override.key), encode_entry(entry), AUDIT_LIMIT, body,
                encode_override(override)]
        seq = await self._change("set_override", args)
        await self._settle(seq, override.key, override, entry)

    async def lift_override(self, key: OverrideKey, actor: str) -> bool:
        book = self._monitor().overrides
        old = book.lookup(*key)
        if old is None:
            return False
        entry = book.entry("delete", actor, old)
        body = override_message_body(self.origin, key, None, entry)
        seq = await self._change("lift_override", [CHANNEL, override_field(key), encode_entry(entry),
                                                   AUDIT_LIMIT, body])
        if seq == 0:  # already gone from Redis: our copy was behind
            book.apply(key, None, [])
            return False
        await self._settle(seq, key, None, entry)
        return True

    async def _change(self, script_name: str, args: list[Any]) -> int:
        scripts = self._scripts
        if not self._link.connected or scripts is None:
            raise BackendUnavailable("the shared health backend (redis) is not connected: nothing was changed; "
                                     "retry, or use a server that is connected")
        script = getattr(scripts, script_name)
        try:
            return int(await asyncio.wait_for(script(keys=[OVERRIDES, AUDIT, SEQUENCE], args=args), IO_TIMEOUT))
        except (RedisError, OSError, TimeoutError) as exc:
            reason = str(exc) or "timeout"
            raise BackendUnavailable(f"the shared health backend (redis) did not confirm the change ({reason}); "
                                     "check GET /v1/overrides before retrying") from None

    async def _settle(self, seq: int, key: OverrideKey, override: Override | None, entry: dict[str, Any]) -> None:
        """Wait for our own change to come back on the channel, so every server applies it in one order."""
        if not await self._applied.reach(seq, SETTLE_SECONDS):
            # It is in Redis, but the channel is behind (reconnecting?): apply it here now;
            # the next load puts this copy back in line with Redis anyway.
            self._monitor().overrides.apply(key, override, [entry])

