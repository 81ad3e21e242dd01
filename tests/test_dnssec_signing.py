"""What the signer puts in replies, checked in-process with dnspython as the validator.

Every RRset of every kind of answer carries a valid RRSIG except what RFC 4035 says must not
(the NS of a referral, glue); denial is compact; one signature serves every rotation; a shortened
selection is signed as sent; signatures are renewed before they expire; a rollover step scheduled
in the key files happens on time without a reload.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from gslb.config.model import RateLimit
from gslb.dns.handler import QueryHandler
from gslb.dns.ratelimit import RateLimiter
from gslb.dnssec.algorithms import ECDSAP256SHA256, ED25519, PrivateKey
from gslb.dnssec.keyfiles import write_key
from gslb.dnssec.records import SEP, ZONE_KEY
from gslb.wire.name import Name
from tests import signed_zones, steering_zone
from tests.signing import START, Clock, ask, keyring, signed_handler, verify

PARENT = signed_zones.PARENT
STEER = "steer.test"
DAY = 86400


def make_key(keys: Path, zone: str, flags: int = ZONE_KEY | SEP, algorithm: int = ECDSAP256SHA256,
             **times: float) -> int:
    key = write_key(keys, Name.from_text(zone), PrivateKey.generate(algorithm), flags,
                    {name: int(value) for name, value in times.items()})
    return key.tag


@pytest.fixture
def world(tmp_path: Path) -> tuple[QueryHandler, Clock, Path]:
    keys = tmp_path / "keys"
    keys.mkdir()
    make_key(keys, PARENT)
    make_key(keys, STEER, algorithm=ED25519)
    clock = Clock()
    parent = signed_zones.parent_zone(["12345 13 2 " + "AB" * 32])
    texts = {PARENT: parent, STEER: "dnssec: true\n" + steering_zone.TEXT}
    return signed_handler(tmp_path / "zones", texts, keys, clock), clock, keys


def check(handler: QueryHandler, clock: Clock, name: str, rdtype: str = "A", **ask_kwargs: object
          ) -> tuple[dns.message.Message, list[str]]:
    reply = ask(handler, name, rdtype, **ask_kwargs)  # type: ignore[arg-type]
    return reply, verify(reply, keyring(handler, PARENT, STEER), clock.now)


def nsec_text(reply: dns.message.Message) -> str:
    nsec = next(rrset for rrset in reply.authority if rrset.rdtype == dns.rdatatype.NSEC)
    return f"{nsec.name} {nsec[0].to_text()}"


def test_every_kind_of_answer_is_signed(world: tuple[QueryHandler, Clock, Path]) -> None:
    handler, clock, _ = world
    for name, rdtype in ((f"www.{PARENT}", "A"), (PARENT, "MX"), (PARENT, "TXT"), (PARENT, "NS"), (PARENT, "SOA"),
                         (f"alias.{PARENT}", "A"), (f"x.y.wild.{PARENT}", "A"), (f"every.{STEER}", "AAAA"),
                         (f"every.{STEER}", "A"), (f"child.{PARENT}", "DS")):
        reply, unsigned = check(handler, clock, name, rdtype)
        assert reply.rcode() == dns.rcode.NOERROR and reply.answer and unsigned == [], (name, rdtype, reply)
    mx, unsigned = check(handler, clock, PARENT, "MX")
    assert [rrset.name.to_text() for rrset in mx.additional if rrset.rdtype == dns.rdatatype.A] == [f"mail.{PARENT}."]


def test_a_wildcard_answer_is_signed_as_the_name_asked(world: tuple[QueryHandler, Clock, Path]) -> None:
    handler, clock, _ = world
    reply, _ = check(handler, clock, f"x.y.wild.{PARENT}")
    signature = next(rrset for rrset in reply.answer if rrset.rdtype == dns.rdatatype.RRSIG)
    assert signature[0].labels == 5 and not reply.authority  # no proof of a closer name needed
    literal, _ = check(handler, clock, f"*.wild.{PARENT}")
    assert next(r for r in literal.answer if r.rdtype == dns.rdatatype.RRSIG)[0].labels == 3  # '*' not counted


def test_denial_is_compact_and_walks_nothing(world: tuple[QueryHandler, Clock, Path]) -> None:
    handler, clock, _ = world
    cases = {
        (f"nothing.{PARENT}", "A"): f"nothing.{PARENT}. \\000.nothing.{PARENT}. RRSIG NSEC NXNAME",
        (f"www.{PARENT}", "TXT"): f"www.{PARENT}. \\000.www.{PARENT}. A RRSIG NSEC",
        (f"ent.{PARENT}", "A"): f"ent.{PARENT}. \\000.ent.{PARENT}. RRSIG NSEC",
        (f"z.wild.{PARENT}", "TXT"): f"z.wild.{PARENT}. \\000.z.wild.{PARENT}. A RRSIG NSEC",
        (PARENT, "AAAA"): f"{PARENT}. \\000.{PARENT}. NS SOA MX TXT RRSIG NSEC DNSKEY CDS CDNSKEY",
        (f"plain.{PARENT}", "DS"): f"plain.{PARENT}. plain\\000.{PARENT}. NS RRSIG NSEC",
        (f"geo.{STEER}", "TXT"): f"geo.{STEER}. \\000.geo.{STEER}. A AAAA RRSIG NSEC",
        (f"v4only.{STEER}", "AAAA"): f"v4only.{STEER}. \\000.v4only.{STEER}. A RRSIG NSEC",
    }
    for (name, rdtype), expected in cases.items():
        reply, unsigned = check(handler, clock, name, rdtype)
        assert reply.rcode() == dns.rcode.NOERROR and not reply.answer and unsigned == [], (name, reply)
        assert nsec_text(reply) == expected.replace("NXNAME", dns.rdatatype.to_text(128)), name
        assert len([r for r in reply.authority if r.rdtype == dns.rdatatype.NSEC]) == 1
    with_co, _ = check(handler, clock, f"nothing.{PARENT}", "A", co=True)
    assert with_co.rcode() == dns.rcode.NXDOMAIN and with_co.ednsflags & 0x4000  # RFC 9824 section 5.1
    chained, unsigned = check(handler, clock, f"alias.{PARENT}", "TXT")  # the NODATA is the CNAME target's
    assert [r.rdtype for r in chained.answer] == [dns.rdatatype.CNAME, dns.rdatatype.RRSIG] and unsigned == []
    assert nsec_text(chained) == f"geo.{PARENT}. \\000.geo.{PARENT}. A RRSIG NSEC"


def test_referrals_sign_the_ds_or_its_absence_and_never_ns_or_glue(world: tuple[QueryHandler, Clock, Path]) -> None:
    handler, clock, _ = world
    signed, unsigned = check(handler, clock, f"www.child.{PARENT}")
    assert not signed.flags & dns.flags.AA
    assert [dns.rdatatype.to_text(r.rdtype) for r in signed.authority] == ["NS", "DS", "RRSIG"]
    assert unsigned == [f"child.{PARENT}. NS", f"ns1.child.{PARENT}. A"]
    plain, unsigned = check(handler, clock, f"www.plain.{PARENT}")
    assert nsec_text(plain) == f"plain.{PARENT}. plain\\000.{PARENT}. NS RRSIG NSEC"
    assert unsigned == [f"plain.{PARENT}. NS", f"ns1.plain.{PARENT}. A"]


def test_without_do_nothing_is_signed_but_the_keys_are_there(world: tuple[QueryHandler, Clock, Path]) -> None:
    handler, _, _ = world
    missing = ask(handler, f"nothing.{PARENT}", do=False)
    assert missing.rcode() == dns.rcode.NXDOMAIN and [r.rdtype for r in missing.authority] == [dns.rdatatype.SOA]
    for rdtype in ("DNSKEY", "CDS", "CDNSKEY"):
        reply = ask(handler, PARENT, rdtype, do=False)
        assert [r.rdtype for r in reply.answer] == [dns.rdatatype.from_text(rdtype)]
    assert all(r.rdtype != dns.rdatatype.RRSIG for r in ask(handler, f"www.{PARENT}", do=False).answer)


def test_cds_and_cdnskey_name_the_key_signing_key(world: tuple[QueryHandler, Clock, Path]) -> None:
    handler, clock, _ = world
    dnskey, _ = check(handler, clock, PARENT, "DNSKEY")
    cds, unsigned = check(handler, clock, PARENT, "CDS")
    cdnskey, _ = check(handler, clock, PARENT, "CDNSKEY")
    assert unsigned == []
    key = dnskey.answer[0][0]
    assert cdnskey.answer[0][0].to_text() == key.to_text()
    assert cds.answer[0][0].to_text() == dns.dnssec.make_ds(f"{PARENT}.", key, "SHA256").to_text()


def test_a_nxname_question_is_formerr(world: tuple[QueryHandler, Clock, Path]) -> None:
    handler, _, _ = world
    assert ask(handler, f"www.{PARENT}", "TYPE128").rcode() == dns.rcode.FORMERR


def test_one_signature_serves_every_rotation(world: tuple[QueryHandler, Clock, Path]) -> None:
    handler, clock, _ = world
    signer = handler.signer
    assert signer is not None
    orders, signatures = set(), set()
    check(handler, clock, f"every.{STEER}")
    made = signer.made
    for _ in range(12):
        reply, unsigned = check(handler, clock, f"every.{STEER}")
        assert unsigned == []
        orders.add(tuple(r.to_text() for r in reply.answer[0]))
        signatures.add(reply.answer[1].to_text())
    assert len(orders) > 1 and len(signatures) == 1
    assert signer.made == made  # nothing signed again: the same set in another order


def test_a_shortened_selection_is_signed_as_sent(world: tuple[QueryHandler, Clock, Path]) -> None:
    handler, clock, _ = world
    full, _ = check(handler, clock, f"big.{STEER}", tcp=True)
    assert len(full.answer[0]) == 60
    for payload in (512, 700):
        reply, unsigned = check(handler, clock, f"big.{STEER}", payload=payload)
        assert not reply.flags & dns.flags.TC and unsigned == []
        assert 0 < len(reply.answer[0]) < 60 and len(reply.to_wire()) <= payload


def test_what_cannot_be_shortened_goes_out_truncated(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    make_key(keys, "big.test")
    addresses = ", ".join(f"192.0.2.{i}" for i in range(1, 61))
    text = f"zone: big.test\ndnssec: true\nns: [ns.example.net.]\nrecords:\n  many: {{A: [{addresses}]}}\n"
    handler = signed_handler(tmp_path / "zones", {"big.test": text}, keys, Clock())
    assert ask(handler, "many.big.test", payload=512).flags & dns.flags.TC
    assert not ask(handler, "many.big.test", do=False, payload=1232).flags & dns.flags.TC  # fits unsigned


def test_signatures_are_renewed_before_they_expire(world: tuple[QueryHandler, Clock, Path]) -> None:
    handler, clock, _ = world
    first, _ = check(handler, clock, f"www.{PARENT}")
    signature = first.answer[1][0]
    assert signature.inception <= clock.now - 3600 and signature.expiration - clock.now > 6 * DAY
    clock.now += 3 * DAY  # not yet half the validity: the same signature, from the ready answer
    again, _ = check(handler, clock, f"www.{PARENT}")
    assert again.answer[1][0].inception == signature.inception
    clock.now += 1 * DAY  # past half the validity: made again, on the compiled path's next miss
    renewed, unsigned = check(handler, clock, f"www.{PARENT}")
    assert unsigned == [] and renewed.answer[1][0].inception > signature.inception
    assert renewed.answer[1][0].expiration - clock.now > 3 * DAY


def test_a_scheduled_swap_happens_on_time_without_a_reload(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    swap = START + 600
    old = make_key(keys, PARENT, Publish=START - DAY, Activate=START - DAY, Inactive=swap, Delete=swap + 1200)
    new = make_key(keys, PARENT, Publish=START - DAY, Activate=swap)
    clock = Clock()
    handler = signed_handler(tmp_path / "zones", {PARENT: signed_zones.parent_zone([])}, keys, clock)

    def signed_by() -> list[int]:
        reply = ask(handler, f"www.{PARENT}")
        verify(reply, keyring(handler, PARENT), clock.now)
        return [sig.key_tag for sig in reply.answer[1]]

    assert signed_by() == [old]
    clock.now = swap + 1
    assert signed_by() == [new]
    dnskey_signers = sorted(sig.key_tag for sig in ask(handler, PARENT, "DNSKEY").answer[1])
    assert dnskey_signers == sorted([old, new])  # both published key-signing keys sign the DNSKEY set

    def published_tags() -> list[int]:  # without DO, asked twice: the second from ready bytes
        replies = [ask(handler, PARENT, "DNSKEY", do=False) for _ in range(2)]
        assert replies[0].answer == replies[1].answer
        return sorted(dns.dnssec.key_id(key) for key in replies[1].answer[0])

    assert published_tags() == sorted([old, new])
    clock.now = swap + 1201
    assert published_tags() == [new] and signed_by() == [new]


def test_a_ksk_zsk_split(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    ksk = make_key(keys, PARENT)
    zsk = make_key(keys, PARENT, flags=ZONE_KEY, algorithm=ECDSAP256SHA256)
    clock = Clock()
    handler = signed_handler(tmp_path / "zones", {PARENT: signed_zones.parent_zone([])}, keys, clock)
    ring = keyring(handler, PARENT)
    dnskey = ask(handler, PARENT, "DNSKEY")
    data = ask(handler, f"www.{PARENT}")
    assert verify(dnskey, ring, clock.now) == [] and verify(data, ring, clock.now) == []
    assert [sig.key_tag for sig in dnskey.answer[1]] == [ksk]
    assert [sig.key_tag for sig in data.answer[1]] == [zsk]


def test_the_signature_cache_is_bounded(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    make_key(keys, PARENT)
    handler = signed_handler(tmp_path / "zones", {PARENT: signed_zones.parent_zone([])}, keys, Clock(), cache=100)
    for index in range(400):
        ask(handler, f"random-{index}.{PARENT}")
    assert handler.signer is not None and 0 < handler.signer.cached <= 100


def test_rate_limiting_counts_a_compact_denial_as_nxdomain(world: tuple[QueryHandler, Clock, Path]) -> None:
    """Random missing names share their zone's NXDOMAIN account although the reply says NOERROR."""
    handler, _, _ = world
    limiter = RateLimiter(RateLimit(responses_per_second=5, window=2, slip=0), clock=lambda: 0.0)
    sent = 0
    for index in range(20):
        query = dns.message.make_query(f"n{index}.{PARENT}", "A", want_dnssec=True)
        reply = handler.handle(query.to_wire(), ipaddress.ip_address("192.0.2.1"), False, limiter=limiter)
        if reply is not None:
            assert dns.message.from_wire(reply).rcode() == dns.rcode.NOERROR
            sent += 1
    assert sent == 5  # one account for the zone: with one per name, all 20 would go out
