"""RFC 2136 processing without a server: keys, policy, prerequisites, permissions, atomicity, merging.

Requests are built and signed by dnspython and parsed by our parser, then processed against the
dyn.test zone loaded from its file; each case checks the RCODE and that a refused or failed
update changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import dns.update
import pytest

from gslb.config.model import UpdateGrant
from gslb.updates.keys import KeyFileError, load_keys, parse_keys
from gslb.updates.policy import NamePattern, UpdatePolicy
from gslb.updates.process import Outcome, process
from gslb.wire.constants import Rcode, RRType
from gslb.wire.name import Name
from gslb.wire.update import parse_update
from gslb.zones.dynamic import merge, why_not_updatable
from gslb.zones.loader import parse_zone
from gslb.zones.model import DynamicRecords, Zone
from tests.updates_zone import KEY_FILE, KEYRING, OPS_KEYRING, ZONE, ZONE_TEXT

ACME = Name.from_text("acme.")
OPS = Name.from_text("ops.key.")
NOW = 1_800_000_000.0
POLICY = UpdatePolicy([
    UpdateGrant("acme.", "dyn.test.", ("_acme-challenge.*",), ("TXT",)),
    UpdateGrant("ops.key.", "dyn.test.", ("*.dyn", "host"), ("A", "AAAA", "TXT", "CNAME")),
])


@pytest.fixture(scope="module")
def file_zone() -> Zone:
    return parse_zone(ZONE_TEXT.encode(), "dyn.test.yaml", ZONE)


class Store:
    """The zone's dynamic records, changed only by an update that succeeds."""

    def __init__(self, zone: Zone) -> None:
        self.file = zone
        self.records = DynamicRecords(zone.origin)

    @property
    def served(self) -> Zone:
        return merge(self.file, self.records)[0]

    def apply(self, message: dns.update.UpdateMessage, key: Name | None = ACME, max_records: int = 100) -> Outcome:
        outcome = process(parse_update(message.to_wire()), key, self.served, self.file, self.records, POLICY,
                          max_records, NOW)
        if outcome.records is not None:
            self.records = outcome.records
        return outcome

    def txt(self, name: str) -> list[str]:
        node = self.served.nodes.get(Name.from_text(name).wire)
        rrset = node.rrsets.get(RRType.TXT) if node else None
        return [r.text for r in rrset.rdatas] if rrset else []


def acme_update(*add: str, name: str = "_acme-challenge.www") -> dns.update.UpdateMessage:
    message = dns.update.UpdateMessage(ZONE, keyring=KEYRING)
    for value in add:
        message.add(name, 60, "TXT", value)
    return message


# -- keys and policy -------------------------------------------------------------------------


def test_the_bind_key_file_is_read(tmp_path: Path) -> None:
    keys = parse_keys(KEY_FILE)
    assert [(k.name.text, k.algorithm.text, len(k.secret)) for k in keys] == [
        ("acme.", "hmac-sha256.", 32), ("ops.key.", "hmac-sha512.", 33)]
    assert "secret" not in repr(keys) and keys[0].secret.decode() not in repr(keys)
    (tmp_path / "a.key").write_text(KEY_FILE)
    (tmp_path / "b.key").write_text('key "acme" { algorithm hmac-sha1; secret "YWJj"; };')
    with pytest.raises(KeyFileError, match="defined twice"):
        load_keys([tmp_path / "a.key", tmp_path / "b.key"])
    with pytest.raises(KeyFileError, match="cannot read"):
        load_keys([tmp_path / "missing.key"])


@pytest.mark.parametrize(("text", "message"), [
    ('key a { algorithm hmac-md5; secret "YWJj"; };', "not one of hmac-sha1"),
    ('key a { algorithm hmac-sha256; secret "!!"; };', "not base64"),
    ('key a { algorithm hmac-sha256; };', "needs both"),
    ('key a { algorithm hmac-sha256; secret "YWJj" };', "expected ';'"),
    ('key a { algorithm hmac-sha256; secret "YWJj"; tsig yes; };', "unknown statement"),
    ('options { };', "expected 'key'"),
    ('key a {\n algorithm hmac-sha256;\n secret "YWJj";\n}', ":4: the file ends"),
])
def test_a_broken_key_file_says_where(text: str, message: str) -> None:
    with pytest.raises(KeyFileError, match=message):
        parse_keys(text, "k")


@pytest.mark.parametrize(("pattern", "name", "matches"), [
    ("_acme-challenge.*", "_acme-challenge.dyn.test.", True),
    ("_acme-challenge.*", "_acme-challenge.www.dyn.test.", True),
    ("_acme-challenge.*", "_acme-challenge.a.b.dyn.test.", True),
    ("_acme-challenge.*", "www._acme-challenge.dyn.test.", False),
    ("_acme-challenge.*", "www.dyn.test.", False),
    ("*.dyn", "a.dyn.dyn.test.", True),
    ("*.dyn", "a.b.dyn.dyn.test.", True),
    ("*.dyn", "dyn.dyn.test.", False),
    ("host", "host.dyn.test.", True),
    ("host", "a.host.dyn.test.", False),
    ("*", "anything.at.all.dyn.test.", True),
    ("@", "dyn.test.", True),
])
def test_name_patterns(pattern: str, name: str, matches: bool) -> None:
    relative = Name.from_text(name).labels[:-2]
    assert NamePattern.parse(pattern).matches(relative) is matches


def test_the_policy_denies_what_no_grant_allows() -> None:
    zone = Name.from_text("dyn.test.")
    name = Name.from_text("_acme-challenge.www.dyn.test.")
    assert POLICY.allows(ACME, zone, name, RRType.TXT)
    assert not POLICY.allows(ACME, zone, name, RRType.A)
    assert not POLICY.allows(OPS, zone, name, RRType.TXT)
    assert not POLICY.allows(ACME, Name.from_text("other.test."), Name.from_text("_acme-challenge.other.test."),
                             RRType.TXT)
    assert POLICY.keys() == {"acme.", "ops.key."}


# -- what the file owns ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "reason"), [
    ("dyn.test.", "apex"), ("legacy.dyn.test.", "records in the zone file"), ("www.dyn.test.", "steered"),
    ("sub.dyn.test.", "records in the zone file"), ("a.sub.dyn.test.", "below the delegation"),
    ("*.wild.dyn.test.", "records in the zone file"), ("x.example.", "outside"),
])
def test_names_the_file_owns_are_never_updatable(file_zone: Zone, name: str, reason: str) -> None:
    assert reason in (why_not_updatable(file_zone, Name.from_text(name)) or "")


def test_names_the_file_does_not_own_are(file_zone: Zone) -> None:
    for name in ("_acme-challenge.www.dyn.test.", "a.wild.dyn.test.", "new.dyn.test.", "_acme-challenge.dyn.test."):
        assert why_not_updatable(file_zone, Name.from_text(name)) is None


# -- updates ---------------------------------------------------------------------------------


def test_add_then_delete_raises_the_serial_each_time(file_zone: Zone) -> None:
    store = Store(file_zone)
    first = store.apply(acme_update('"token-a"', '"token-b"'))
    assert first.rcode == Rcode.NOERROR and first.changes == ["add _acme-challenge.www.dyn.test. TXT"] * 2
    assert store.txt("_acme-challenge.www.dyn.test.") == ['"token-a"', '"token-b"']
    serial = store.served.serial
    assert serial > file_zone.serial and store.records.version == 1
    assert store.served.soa.rdatas[0].text.split()[2] == str(serial)
    delete = dns.update.UpdateMessage(ZONE, keyring=KEYRING)
    delete.delete("_acme-challenge.www", "TXT", '"token-a"')
    assert store.apply(delete).rcode == Rcode.NOERROR
    assert store.txt("_acme-challenge.www.dyn.test.") == ['"token-b"']
    assert store.served.serial == serial + 1
    delete = dns.update.UpdateMessage(ZONE, keyring=KEYRING)
    delete.delete("_acme-challenge.www", "TXT")
    assert store.apply(delete).rcode == Rcode.NOERROR
    assert store.txt("_acme-challenge.www.dyn.test.") == []
    served = store.served
    assert Name.from_text("_acme-challenge.www.dyn.test.").wire not in served.existing
    # Deleting what is not there changes nothing, and the serial stays.
    assert store.apply(delete).rcode == Rcode.NOERROR and store.served.serial == served.serial


def test_a_duplicate_replaces_and_sets_the_ttl(file_zone: Zone) -> None:
    store = Store(file_zone)
    store.apply(acme_update('"a"', '"b"'))
    again = dns.update.UpdateMessage(ZONE, keyring=KEYRING)
    again.add("_acme-challenge.www", 120, "TXT", '"a"')
    store.apply(again)
    rrset = store.served.nodes[Name.from_text("_acme-challenge.www.dyn.test.").wire].rrsets[RRType.TXT]
    assert rrset.ttl == 120 and [r.text for r in rrset.rdatas] == ['"b"', '"a"']


@pytest.mark.parametrize(("build", "key", "expected"), [
    (lambda m: m.add("legacy", 60, "TXT", '"x"'), OPS, Rcode.REFUSED),  # a file name
    (lambda m: m.add("_acme-challenge.legacy", 60, "A", "192.0.2.1"), ACME, Rcode.REFUSED),  # type outside policy
    (lambda m: m.add("www", 60, "TXT", '"x"'), ACME, Rcode.REFUSED),  # a steered name
    (lambda m: m.delete("www"), OPS, Rcode.REFUSED),
    (lambda m: m.add("@", 60, "TXT", '"x"'), ACME, Rcode.REFUSED),  # the apex
    (lambda m: m.delete("@", "NS"), ACME, Rcode.REFUSED),
    (lambda m: m.add("_acme-challenge.a.sub", 60, "TXT", '"x"'), ACME, Rcode.REFUSED),  # below a delegation
    (lambda m: m.add("other", 60, "TXT", '"x"'), ACME, Rcode.REFUSED),  # a name outside the policy
    (lambda m: m.add("a.dyn", 60, "NS", "ns.example."), OPS, Rcode.REFUSED),  # a type never updatable
    (lambda m: m.add("_acme-challenge.www", 60, "TXT", '"x"'), None, Rcode.REFUSED),  # unsigned
    (lambda m: m.add("_acme-challenge.www.elsewhere.example.", 60, "TXT", '"x"'), ACME, Rcode.NOTZONE),
    (lambda m: m.add("_acme-challenge.www", 60, "ANY", "\\# 0"), ACME, Rcode.FORMERR),
    (lambda m: m.present("legacy", "A", "192.0.2.81"), ACME, Rcode.NXRRSET),
    (lambda m: m.present("nothing"), ACME, Rcode.NXDOMAIN),
    (lambda m: m.absent("legacy"), ACME, Rcode.YXDOMAIN),
    (lambda m: m.absent("legacy", "TXT"), ACME, Rcode.YXRRSET),
    (lambda m: m.present("legacy", "TXT"), ACME, Rcode.NOERROR),
    (lambda m: m.present("legacy", "A", "192.0.2.80"), ACME, Rcode.NOERROR),
    (lambda m: m.present("www", "A"), ACME, Rcode.NOERROR),
    (lambda m: m.present("*.wild"), ACME, Rcode.NOERROR),
    (lambda m: m.present("x.wild"), ACME, Rcode.NXDOMAIN),  # a wildcard does not make a name in use
])
def test_every_part_of_an_update_is_all_or_nothing(
        file_zone: Zone, build: object, key: Name | None, expected: int) -> None:
    """Each case comes with a valid add in the same message: a failure must leave that out too."""
    store = Store(file_zone)
    message = dns.update.UpdateMessage(ZONE, keyring=KEYRING)
    if key == OPS:
        message.add("z.dyn", 60, "A", "192.0.2.7")
    else:
        message.add("_acme-challenge.ok", 60, "TXT", '"fine"')
    build(message)  # type: ignore[operator]
    outcome = store.apply(message, key)
    assert Rcode(outcome.rcode).name == Rcode(expected).name, outcome.reason
    if expected != Rcode.NOERROR:
        assert outcome.records is None and store.records.rrsets == {}


def test_a_key_without_a_grant_for_the_zone_is_refused(file_zone: Zone) -> None:
    store = Store(file_zone)
    outcome = store.apply(acme_update('"x"'), Name.from_text("stranger."))
    assert outcome.rcode == Rcode.REFUSED and "may not update" in outcome.reason


def test_cname_and_other_data_never_share_a_name(file_zone: Zone) -> None:
    store = Store(file_zone)
    message = dns.update.UpdateMessage(ZONE, keyring=OPS_KEYRING, keyalgorithm="hmac-sha512")
    message.add("a.dyn", 60, "TXT", '"text"')
    message.add("a.dyn", 60, "CNAME", "target.example.")
    message.add("b.dyn", 60, "CNAME", "one.example.")
    message.add("b.dyn", 60, "CNAME", "two.example.")
    message.add("b.dyn", 60, "A", "192.0.2.1")
    assert store.apply(message, OPS).rcode == Rcode.NOERROR
    nodes = store.served.nodes
    assert list(nodes[Name.from_text("a.dyn.dyn.test.").wire].rrsets) == [RRType.TXT]
    b = nodes[Name.from_text("b.dyn.dyn.test.").wire].rrsets
    assert list(b) == [RRType.CNAME] and [r.text for r in b[RRType.CNAME].rdatas] == ["two.example."]


def test_the_record_limit_refuses_the_update_that_passes_it(file_zone: Zone) -> None:
    store = Store(file_zone)
    assert store.apply(acme_update('"1"', '"2"'), max_records=2).rcode == Rcode.NOERROR
    outcome = store.apply(acme_update('"3"'), max_records=2)
    assert outcome.rcode == Rcode.REFUSED and "max_records" in outcome.reason
    assert store.txt("_acme-challenge.www.dyn.test.") == ['"1"', '"2"']


def test_delete_all_needs_the_policy_for_every_type_there(file_zone: Zone) -> None:
    store = Store(file_zone)
    message = dns.update.UpdateMessage(ZONE, keyring=KEYRING)
    message.add("_acme-challenge.x", 60, "TXT", '"t"')
    store.apply(message)
    wipe = dns.update.UpdateMessage(ZONE, keyring=KEYRING)
    wipe.delete("_acme-challenge.x")
    assert store.apply(wipe).rcode == Rcode.NOERROR
    assert store.txt("_acme-challenge.x.dyn.test.") == []


def test_a_file_that_comes_to_own_a_name_wins(file_zone: Zone) -> None:
    store = Store(file_zone)
    store.apply(acme_update('"dynamic"', name="_acme-challenge.legacy"))
    text = ZONE_TEXT + '  _acme-challenge.legacy: {TXT: "from the file"}\n'
    text = text.replace("records:\n", "records:\n  _acme-challenge.legacy: {TXT: \"from the file\"}\n", 1)
    text = text[: text.rindex("  _acme-challenge.legacy")]
    newer = parse_zone(text.encode(), "dyn.test.yaml", ZONE)
    merged, shadowed = merge(newer, store.records)
    node = merged.nodes[Name.from_text("_acme-challenge.legacy.dyn.test.").wire]
    assert [r.text for r in node.rrsets[RRType.TXT].rdatas] == ['"from the file"']
    assert [entry.rrset.name.text for entry in shadowed] == ["_acme-challenge.legacy.dyn.test."]
    assert merged.dynamic is not None and merged.dynamic.rrsets == {}
