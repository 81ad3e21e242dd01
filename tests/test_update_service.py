"""The update service on its own: what happens when storing fails, and what the journal keeps.

A fake shared store stands in for Redis so that each way a commit can fail (unreachable,
another server always first) is certain; a journal that cannot be written stands in for a full
disk. In every case the reply is SERVFAIL and the served zone, the records and the journal are
exactly as before. Damaged signed updates never raise and never change anything unless the
reply says NOERROR.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import dns.message
import dns.rcode
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gslb.config.model import UpdateGrant, UpdatesConfig
from gslb.updates.journal import Journal, JournalError, dumps, loads
from gslb.updates.service import UpdateService
from gslb.updates.shared import StoreConflict, StoreUnavailable
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.zones.loader import parse_zone
from gslb.zones.model import DynamicRecords
from gslb.zones.zoneset import ZoneSet
from tests.updates_zone import KEY_FILE, KEYRING, ZONE, ZONE_TEXT, update

CHALLENGE = f"_acme-challenge.www.{ZONE}."


class FakeStore:
    """A shared store that fails every commit the way it is told to."""

    def __init__(self, failure: Exception) -> None:
        self.failure = failure
        self.commits = 0

    @property
    def connected(self) -> bool:
        return True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def commit(self, old: DynamicRecords, new: DynamicRecords) -> None:
        self.commits += 1
        raise self.failure

    def describe(self) -> dict[str, Any]:
        return {"kind": "fake", "connected": True}


def service(tmp_path: Path) -> UpdateService:
    keys = tmp_path / "update.keys"
    keys.write_text(KEY_FILE)
    config = UpdatesConfig((keys,), (UpdateGrant("acme.", f"{ZONE}.", ("_acme-challenge.*",), ("TXT",)),))
    made = UpdateService(config, tmp_path / "state")
    made.serve(ZoneSet([parse_zone(ZONE_TEXT.encode(), "dyn.test.yaml", ZONE)]))
    return made


def add(value: str) -> bytes:
    message = update()
    message.add(CHALLENGE, 60, "TXT", f'"{value}"')
    return message.to_wire()


def handle(made: UpdateService, wire: bytes) -> dns.message.Message:
    reply = asyncio.run(made.handle(wire, "127.0.0.1", False))
    assert reply is not None
    return dns.message.from_wire(reply, keyring=False)


def served_txt(made: UpdateService) -> list[str]:
    zone = made.served.get(Name.from_text(ZONE))
    assert zone is not None
    node = zone.nodes.get(Name.from_text(CHALLENGE).wire)
    return [r.text for r in node.rrsets[RRType.TXT].rdatas] if node else []


@pytest.mark.parametrize("failure", [StoreUnavailable("redis is away"), StoreConflict(None)])
def test_a_commit_that_fails_changes_nothing(tmp_path: Path, failure: Exception) -> None:
    made = service(tmp_path)
    assert handle(made, add("kept")).rcode() == dns.rcode.NOERROR
    before = (made.served.get(Name.from_text(ZONE)), dict(made.records), made.journal.path(Name.from_text(ZONE))
              .read_text())
    store = FakeStore(failure)
    made.shared = store
    assert handle(made, add("lost")).rcode() == dns.rcode.SERVFAIL
    assert store.commits == (10 if isinstance(failure, StoreConflict) else 1)
    after = (made.served.get(Name.from_text(ZONE)), dict(made.records), made.journal.path(Name.from_text(ZONE))
             .read_text())
    assert after == before and served_txt(made) == ['"kept"']


def test_a_journal_that_cannot_be_written_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = service(tmp_path)

    def full_disk(records: DynamicRecords) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(made.journal, "write", full_disk)
    assert handle(made, add("nowhere")).rcode() == dns.rcode.SERVFAIL
    assert made.records == {} and served_txt(made) == []


def test_the_journal_keeps_records_byte_for_byte_and_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    made = service(tmp_path)
    assert handle(made, add('two "quoted" words')).rcode() == dns.rcode.NOERROR
    records = made.records[f"{ZONE}."]
    text = made.journal.path(records.origin).read_text()
    assert loads(text) == records and dumps(loads(text)) == text
    document = json.loads(text)
    assert document["rrsets"][0]["key"] == "acme." and document["version"] == 1
    reread = Journal(tmp_path / "state" / "updates").load()
    assert reread == {f"{ZONE}.": records}
    for broken in ({**document, "format": 9}, {**document, "rrsets": [{"name": "x.elsewhere.", "type": "TXT"}]}):
        with pytest.raises(JournalError):
            loads(json.dumps(broken))
    path = made.journal.path(records.origin)
    path.write_text("{not json")
    assert Journal(path.parent).load() == {}
    assert not path.exists() and list(path.parent.glob("*.unreadable-*"))


def test_dnspython_verifies_the_signed_reply(tmp_path: Path) -> None:
    made = service(tmp_path)
    message = update()
    message.add(CHALLENGE, 60, "TXT", '"signed"')
    reply = asyncio.run(made.handle(message.to_wire(), "127.0.0.1", True))
    assert reply is not None
    parsed = dns.message.from_wire(reply, keyring=KEYRING, request_mac=message.mac)
    assert parsed.had_tsig and parsed.rcode() == dns.rcode.NOERROR


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 400), st.binary(min_size=1, max_size=6), st.booleans())
def test_damaged_updates_never_raise_and_change_only_when_accepted(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, at: int, patch: bytes, cut: bool) -> None:
    made = service(tmp_path)
    wire = add("fuzz")
    data = wire[:at] if cut else wire[:at] + patch + wire[at + len(patch):]
    before = dict(made.records)
    with caplog.at_level(logging.ERROR, logger="gslb.updates"):
        reply = asyncio.run(made.handle(data, "127.0.0.1", False))
    assert "internal error" not in caplog.text
    if reply is None:
        assert made.records == before
        return
    parsed = dns.message.from_wire(reply, keyring=False)
    if parsed.rcode() != dns.rcode.NOERROR:
        assert made.records == before


def test_a_reader_of_the_journal_leaves_an_unreadable_file_where_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "updates"
    folder.mkdir()
    (folder / "broken.test.json").write_text("{not json")
    assert Journal(folder).load(set_aside=False) == {}
    assert (folder / "broken.test.json").exists()
