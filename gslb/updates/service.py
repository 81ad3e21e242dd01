"""Dynamic updates in the running server: from an UPDATE's bytes to a stored, served change.

`handle` is what the DNS transports call for opcode UPDATE (and what DNS worker processes
forward to the main process): parse, check the TSIG, process the update against the zone
(`gslb.updates.process`), store the result, serve it, sign the reply. Updates are handled one
at a time; each accepted one is first stored (in Redis when records are shared, then in the
journal; in the journal alone otherwise) and only then merged into a new immutable `Zone` and
swapped in with the rest of the zone set, so a query sees all of an update or none of it.

Every UPDATE ends in one audit log line: the result, the zone, the key, the client, the names
and types it touched. `handle` never raises: an internal error is logged and answered SERVFAIL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gslb.config.model import UpdatesConfig
from gslb.updates.journal import Journal
from gslb.updates.keys import KeyFileError, load_keys
from gslb.updates.policy import UpdatePolicy
from gslb.updates.process import Outcome, process
from gslb.updates.shared import SharedStore, StoreConflict, StoreUnavailable
from gslb.wire.constants import Rcode, RRClass, TsigError, rcode_name, type_name
from gslb.wire.message import DropPacket, parse_header
from gslb.wire.name import Name
from gslb.wire.tsig import TsigCheck, TsigKey, check_request, sign_reply
from gslb.wire.update import UpdateFormatError, UpdateMessage, parse_update, render_update_reply
from gslb.zones.dynamic import merge
from gslb.zones.model import DynamicRecords
from gslb.zones.serials import SerialBook
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger("gslb.updates")

MAX_PENDING = 64  # updates waiting for their turn; more are answered SERVFAIL at once
CONFLICT_TRIES = 10  # another server changed the zone meanwhile: start again from its version

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Publish = Callable[[ZoneSet], Awaitable[None]]


def check_policy_keys(policy: UpdatePolicy, keys: dict[bytes, TsigKey]) -> None:
    """Every key a grant names must be in a key file (a grant for a missing key is a typo)."""
    missing = sorted(policy.keys() - {key.name.text for key in keys.values()})
    if missing:
        raise KeyFileError(f"updates.policy names key(s) that no key file defines: {', '.join(missing)}")


class UpdateService:
    def __init__(self, config: UpdatesConfig, state_dir: Path | None, serials: SerialBook | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """Reads the key files and the journal; raises KeyFileError when the keys are unusable."""
        self.config = config
        self.policy = UpdatePolicy(config.policy)
        self.keys = load_keys(config.key_files)
        check_policy_keys(self.policy, self.keys)
        self.journal = Journal(state_dir / "updates" if state_dir is not None else None)
        self.records: dict[str, DynamicRecords] = self.journal.load()
        self.serials = serials
        self.clock = clock
        self.shared: SharedStore | None = None  # set by the server when records are shared
        self.publish: Publish | None = None  # set by the server: serve a new zone set everywhere
        self.file_zones = ZoneSet()
        self.served = ZoneSet()
        self.results: dict[str, int] = {}  # updates by result (RCODE or TSIG error name), for /metrics
        self._lock = asyncio.Lock()
        self._pending = 0
        self._last_signed: dict[bytes, int] = {}  # key -> latest time signed seen (RFC 8945 5.2.3)

    # -- zones ---------------------------------------------------------------------------

    def reload_keys(self) -> None:
        """Read the key files again (on reload); on a problem the current keys stay, with an error."""
        try:
            keys = load_keys(self.config.key_files)
            check_policy_keys(self.policy, keys)
        except KeyFileError as exc:
            log.error("update keys not reloaded, the previous ones stay: %s", exc)
            return
        self.keys = keys

    def serve(self, file_zones: ZoneSet) -> ZoneSet:
        """The zone set to serve for these zone files: each zone with its dynamic records merged in."""
        zones = []
        for zone in file_zones:
            merged, shadowed = merge(zone, self.records.get(zone.origin.text))
            for entry in shadowed:
                log.warning("dynamic %s %s of zone %s is not served: the zone file owns that name now",
                            entry.rrset.name.text, type_name(entry.rrset.rtype), zone.origin.text)
            zones.append(merged)
        self.file_zones = file_zones
        self.served = ZoneSet(zones, max(self.served.generation, file_zones.generation) + 1)
        return self.served

    async def remote(self, records: DynamicRecords, loaded: bool = False) -> None:
        """Records another server stored: serve them when newer than ours. `loaded`: the shared
        store's state at (re)connection, which is the truth whatever its version."""
        async with self._lock:
            current = self.records.get(records.origin.text)
            if loaded or current is None or records.version > current.version:
                await self._install(records, mirror=True)

    async def _install(self, records: DynamicRecords, mirror: bool = False) -> None:
        """Keep and serve a zone's new records; `mirror`: they are already shared, the file follows."""
        current = self.records.get(records.origin.text)
        if current is not None and current.version == records.version and current.serial == records.serial:
            return
        if mirror:
            await self._write_journal(records, "the shared store still has it")
        self.records[records.origin.text] = records
        if self.serials is not None and records.serial:
            self.serials.raise_to(records.origin, records.serial)
        file_zone = self.file_zones.get(records.origin)
        if file_zone is None:
            return  # not served now: kept for when the zone file comes back
        merged, _ = merge(file_zone, records)
        zones = [zone for zone in self.served if zone.origin != records.origin]
        self.served = ZoneSet([*zones, merged], self.served.generation + 1)
        if self.publish is not None:
            await self.publish(self.served)

    # -- one UPDATE ----------------------------------------------------------------------

    async def handle(self, data: bytes, source: IPAddress | str, tcp: bool) -> bytes | None:
        """The reply to an UPDATE (None: silence, for a packet that is not a request)."""
        if self._pending >= MAX_PENDING:
            return self._servfail(data, source, "too many updates waiting")
        self._pending += 1
        try:
            return await self._handle(data, str(source), tcp)
        except Exception:
            log.exception("internal error handling an update from %s", source)
            return self._servfail(data, source, "internal error")
        finally:
            self._pending -= 1

    async def _handle(self, data: bytes, client: str, tcp: bool) -> bytes | None:
        try:
            message = parse_update(data)
        except DropPacket:
            return None
        except UpdateFormatError as exc:
            self._audit("FORMERR", client, tcp, None, None, exc.reason)
            return render_update_reply(exc.header, exc.zone, Rcode.FORMERR)
        key, check = self._authenticate(data, message)
        zone = self.file_zones.get(message.zone.name)
        if check is not None and not check.ok:
            result = "FORMERR" if check.formerr else TsigError(check.error).name
            self._audit(result, client, tcp, message, None, "TSIG check failed")
            return self._reply(message, Rcode.FORMERR if check.formerr else Rcode.NOTAUTH, key, check)
        if zone is None or message.zone.zclass != RRClass.IN:
            self._audit("NOTAUTH", client, tcp, message, key, "not a zone served here")
            return self._reply(message, Rcode.NOTAUTH, key, check)
        signer = key.name if key is not None else None
        async with self._lock:
            outcome = await self._apply(message, signer)
        self._audit(rcode_name(outcome.rcode), client, tcp, message, key, outcome.reason, outcome)
        return self._reply(message, outcome.rcode, key, check)

    def _authenticate(self, data: bytes, message: UpdateMessage) -> tuple[TsigKey | None, TsigCheck | None]:
        """The key that signed the request and the TSIG check (None, None: unsigned)."""
        tsig = message.tsig
        if tsig is None:
            return None, None
        key = self.keys.get(tsig.key.wire)
        now = int(self.clock())
        check = check_request(data, tsig, key, now)
        if key is None or not check.ok:
            return key, check
        latest = self._last_signed.get(key.name.wire, 0)
        if tsig.time_signed < latest:  # older than one already accepted: a replay (section 5.2.3)
            return key, TsigCheck(TsigError.BADTIME, request_mac=check.request_mac)
        self._last_signed[key.name.wire] = tsig.time_signed
        return key, check

    async def _apply(self, message: UpdateMessage, signer: Name | None) -> Outcome:
        """Process the update against the current records and store the result (under the lock)."""
        origin = message.zone.name
        for _ in range(CONFLICT_TRIES):
            file_zone, served = self.file_zones.get(origin), self.served.get(origin)
            if file_zone is None or served is None:
                return Outcome(Rcode.NOTAUTH, "the zone is no longer served")
            old = self.records.get(origin.text) or DynamicRecords(origin)
            outcome = process(message, signer, served, file_zone, old, self.policy, self.config.max_records,
                              self.clock())
            if outcome.records is None:
                return outcome
            try:
                await self._store(old, outcome.records)
            except StoreConflict as exc:  # another server was first: start again from its records
                if exc.current is not None:
                    await self._install(exc.current, mirror=True)
                continue
            except (StoreUnavailable, OSError) as exc:
                return Outcome(Rcode.SERVFAIL, f"not stored, nothing changed: {exc}")
            await self._install(outcome.records)
            return outcome
        return Outcome(Rcode.SERVFAIL, f"other servers changed the zone {CONFLICT_TRIES} times meanwhile: "
                                       "not stored, nothing changed")

    async def _store(self, old: DynamicRecords, new: DynamicRecords) -> None:
        """Shared store first (it decides the order between servers), then the journal."""
        if self.shared is None:
            await asyncio.to_thread(self.journal.write, new)
            return
        await self.shared.commit(old, new)
        await self._write_journal(new, "the shared store has the change")

    async def _write_journal(self, records: DynamicRecords, kept: str) -> None:
        """The journal of records the shared store already holds: a failure is logged, not raised,
        since the change stands; `kept` says so in the log line."""
        try:
            await asyncio.to_thread(self.journal.write, records)
        except OSError as exc:
            log.error("cannot write the journal of %s (%s): %s", records.origin.text, exc, kept)

    # -- replies and the audit log -------------------------------------------------------

    def _reply(self, message: UpdateMessage, rcode: int, key: TsigKey | None, check: TsigCheck | None) -> bytes:
        reply = render_update_reply(message.header, message.zone, rcode, message.edns)
        if message.tsig is None or check is None or check.formerr:
            return reply
        return sign_reply(reply, key, message.tsig, check, int(self.clock()))

    def _servfail(self, data: bytes, source: IPAddress | str, reason: str) -> bytes | None:
        try:
            header = parse_header(data)
        except DropPacket:
            return None
        self._audit("SERVFAIL", str(source), False, None, None, reason)
        return render_update_reply(header, None, Rcode.SERVFAIL)

    def _audit(self, result: str, client: str, tcp: bool, message: UpdateMessage | None, key: TsigKey | None,
               reason: str, outcome: Outcome | None = None) -> None:
        self.results[result] = self.results.get(result, 0) + 1
        zone = message.zone.name.text if message is not None else "?"
        signer = key.name.text if key is not None else (message.tsig.key.text if message and message.tsig else "-")
        records = message.updates if message is not None else ()
        names = sorted({r.name.text for r in records})
        types = sorted({type_name(r.rtype) for r in records})
        done = "; ".join(outcome.changes) if outcome is not None and outcome.changes else ""
        detail = "; ".join(part for part in (done, reason) if part) or "-"
        serial = outcome.records.serial if outcome is not None and outcome.records is not None else None
        log.info("update %s: zone %s key %s from %s (%s): %s%s", result, zone, signer, client,
                 "tcp" if tcp else "udp", detail, f" (serial {serial})" if serial else "", extra={
                     "event": "update", "result": result, "zone": zone, "key": signer, "client": client,
                     "transport": "tcp" if tcp else "udp", "names": names, "types": types, "detail": detail,
                     "serial": serial})

    # -- what /status shows --------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {
            "keys": sorted(key.name.text for key in self.keys.values()),
            "shared": self.shared.describe() if self.shared is not None else {"kind": "local", "connected": True},
            "results": dict(sorted(self.results.items())),
        }

