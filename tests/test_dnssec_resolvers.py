"""Real validating resolvers accept what gslb signs, and refuse it when it is tampered with.

Two `gslb serve` processes: one serves the signed parent `signed.test`, the other its signed child
and its unsigned child, so the parent gives real referrals. Unbound (stub zones to both, the trust
anchor from `gslb dnssec ds`, its ECS module on) must set AD=1; delv with the same anchor must
call the same answers fully validated. A proxy that changes one address on the way must make
Unbound answer SERVFAIL.
"""

from __future__ import annotations

import ipaddress
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from tests import signed_zones as zones
from tests.harness import RunningServer, start_server
from tests.validating import TamperProxy, Unbound, anchors_from, delv, gslb, start_unbound

pytestmark = pytest.mark.skipif(not (shutil.which("unbound") or Path("/usr/sbin/unbound").exists())
                                or not shutil.which("delv"), reason="needs unbound and delv (make tools)")


@dataclass
class World:
    parent: RunningServer
    children: RunningServer
    unbound: Unbound
    fooled: Unbound  # asks the parent through the tampering proxy
    proxy: TamperProxy
    anchors: list[tuple[str, int, int, int, str]]
    workdir: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    work = tmp_path_factory.mktemp("dnssec-resolvers")
    keys = work / "keys"
    for zone in (zones.PARENT, zones.CHILD):
        gslb("dnssec", "keygen", zone, "--keys", str(keys))
    printed = gslb("dnssec", "ds", zones.CHILD, "--keys", str(keys))
    child_ds = [" ".join(line.split()[3:]) for line in printed.splitlines()]  # KEYTAG ALGORITHM TYPE DIGEST
    parent_dir, children_dir = work / "parent-zones", work / "children-zones"
    parent_dir.mkdir()
    children_dir.mkdir()
    (parent_dir / f"{zones.PARENT}.yaml").write_text(zones.parent_zone(child_ds))
    (children_dir / f"{zones.CHILD}.yaml").write_text(zones.child_zone())
    (children_dir / f"{zones.PLAIN}.yaml").write_text(zones.plain_zone())
    extra = {"dnssec": {"keys": str(keys)}, "http": {"listen": "off"}}
    parent = start_server(work / "parent", parent_dir, extra)
    children = start_server(work / "children", children_dir, extra)
    anchors = anchors_from(gslb("dnssec", "ds", zones.PARENT, "--keys", str(keys)))
    genuine, forged = ipaddress.ip_address("192.0.2.77").packed, ipaddress.ip_address("192.0.2.78").packed
    proxy = TamperProxy(parent.port, genuine, forged)
    stubs = {zones.PARENT: parent.port, zones.CHILD: children.port, zones.PLAIN: children.port}
    try:
        unbound = start_unbound(work / "unbound", stubs, anchors, zones.PARENT)
        fooled = start_unbound(work / "fooled", {**stubs, zones.PARENT: proxy.port}, anchors, zones.PARENT)
    except Exception:
        proxy.stop()
        parent.stop()
        children.stop()
        raise
    world = World(parent, children, unbound, fooled, proxy, anchors, work)
    yield world
    for each in (unbound, fooled, proxy, parent, children):
        each.stop()


def validated(reply: dns.message.Message) -> bool:
    return reply.rcode() == dns.rcode.NOERROR and bool(reply.flags & dns.flags.AD)


def addresses(reply: dns.message.Message) -> list[str]:
    return sorted(r.to_text() for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A for r in rrset)


def test_static_a_mx_and_txt_validate(world: World) -> None:
    a = world.unbound.ask(f"www.{zones.PARENT}", "A")
    mx = world.unbound.ask(zones.PARENT, "MX")
    txt = world.unbound.ask(zones.PARENT, "TXT")
    assert validated(a) and addresses(a) == ["192.0.2.10"], world.unbound.log_text()
    assert validated(mx) and [r.to_text() for r in mx.answer[0]] == [f"10 mail.{zones.PARENT}."]
    assert validated(txt) and [r.to_text() for r in txt.answer[0]] == ['"v=spf1 -all"']


def test_a_steered_name_validates_for_each_region(world: World) -> None:
    """Each client subnet gets its own pool's address, each answer signed and validated."""
    for subnet, expected in zones.REGIONS.items():
        reply = world.unbound.ask(f"geo.{zones.PARENT}", "A", ecs=subnet)
        assert validated(reply), (subnet, reply, world.unbound.log_text())
        assert addresses(reply) == [expected], subnet


def test_a_cname_to_a_steered_name_validates(world: World) -> None:
    reply = world.unbound.ask(f"alias.{zones.PARENT}", "A", ecs="127.2.0.0/24")
    assert validated(reply), reply
    assert [rrset.rdtype for rrset in reply.answer if rrset.rdtype != dns.rdatatype.RRSIG] == [
        dns.rdatatype.CNAME, dns.rdatatype.A]
    assert addresses(reply) == ["198.51.100.1"]


def test_a_wildcard_validates_as_the_name_asked(world: World) -> None:
    reply = world.unbound.ask(f"anything.wild.{zones.PARENT}", "A")
    assert validated(reply) and addresses(reply) == ["192.0.2.99"]
    signature = next(rrset for rrset in reply.answer if rrset.rdtype == dns.rdatatype.RRSIG)
    assert signature[0].labels == 4  # anything.wild.signed.test: signed as the name itself


def test_a_name_that_does_not_exist_is_a_validated_compact_denial(world: World) -> None:
    reply = world.unbound.ask(f"nothing-here.{zones.PARENT}", "A")
    assert validated(reply) and not reply.answer, reply
    direct = world.parent.udp(dns.message.make_query(f"nothing-here.{zones.PARENT}", "A", want_dnssec=True))
    nsec = next(rrset for rrset in direct.authority if rrset.rdtype == dns.rdatatype.NSEC)
    assert nsec[0].to_text() == f"\\000.nothing-here.{zones.PARENT}. RRSIG NSEC {dns.rdatatype.to_text(128)}"
    assert direct.rcode() == dns.rcode.NOERROR
    asked_with_co = dns.message.make_query(f"nothing-here.{zones.PARENT}", "A", want_dnssec=True)
    asked_with_co.ednsflags |= 0x4000  # Compact Answers OK (RFC 9824 section 5.1)
    restored = world.parent.udp(asked_with_co)
    assert restored.rcode() == dns.rcode.NXDOMAIN and restored.ednsflags & 0x4000


def test_nodata_and_an_empty_non_terminal_validate(world: World) -> None:
    nodata = world.unbound.ask(f"www.{zones.PARENT}", "TXT")
    empty = world.unbound.ask(f"ent.{zones.PARENT}", "A")
    steered = world.unbound.ask(f"geo.{zones.PARENT}", "TXT")
    for reply in (nodata, empty, steered):
        assert validated(reply) and not reply.answer, reply


def test_a_referral_with_ds_and_one_without(world: World) -> None:
    """The parent's referrals carry a signed DS, or a signed NSEC without the DS bit; the resolver
    follows the first securely and the second as insecure."""
    keys = world.unbound.ask(zones.PARENT, "DNSKEY")
    assert validated(keys)
    keyring = {dns.name.from_text(zones.PARENT): keys.answer[0]}
    for child, proof in ((zones.CHILD, dns.rdatatype.DS), (zones.PLAIN, dns.rdatatype.NSEC)):
        referral = world.parent.udp(dns.message.make_query(f"www.{child}", "A", want_dnssec=True))
        assert not referral.flags & dns.flags.AA and not referral.answer
        kinds = [rrset.rdtype for rrset in referral.authority]
        assert kinds == [dns.rdatatype.NS, proof, dns.rdatatype.RRSIG], referral
        dns.dnssec.validate(referral.authority[1], referral.authority[2], keyring)  # raises when invalid
    secure = world.unbound.ask(f"www.{zones.CHILD}", "A")
    assert validated(secure) and addresses(secure) == ["192.0.2.50"], world.unbound.log_text()
    assert validated(world.unbound.ask(zones.CHILD, "DS"))
    insecure = world.unbound.ask(f"www.{zones.PLAIN}", "A")
    assert insecure.rcode() == dns.rcode.NOERROR and not insecure.flags & dns.flags.AD
    assert addresses(insecure) == ["192.0.2.60"]
    no_ds = world.unbound.ask(zones.PLAIN, "DS")
    assert validated(no_ds) and not no_ds.answer


@pytest.mark.parametrize(("name", "rdtype", "source", "expect"), [
    (f"www.{zones.PARENT}", "A", None, "192.0.2.10"),
    (zones.PARENT, "MX", None, f"10 mail.{zones.PARENT}."),
    (zones.PARENT, "TXT", None, "v=spf1 -all"),
    (f"geo.{zones.PARENT}", "A", "127.1.0.9", "192.0.2.1"),
    (f"geo.{zones.PARENT}", "A", "127.2.0.9", "198.51.100.1"),
    (f"geo.{zones.PARENT}", "A", "127.3.0.9", "203.0.113.1"),
    (f"alias.{zones.PARENT}", "A", None, "203.0.113.1"),
    (f"x.wild.{zones.PARENT}", "A", None, "192.0.2.99"),
    (f"nothing-here.{zones.PARENT}", "A", None, "negative response, fully validated"),
    (f"www.{zones.PARENT}", "TXT", None, "negative response, fully validated"),
    (zones.CHILD, "DS", None, f"{zones.CHILD}."),
    (zones.PLAIN, "DS", None, "negative response, fully validated"),
])
def test_delv_agrees(world: World, name: str, rdtype: str, source: str | None, expect: str) -> None:
    report = delv(world.parent.port, world.anchors, name, rdtype, world.workdir, source=source)
    assert "fully validated" in report and expect in report, report


def test_a_tampered_reply_is_refused(world: World) -> None:
    genuine = world.unbound.ask(f"tamper.{zones.PARENT}", "A")
    assert validated(genuine) and addresses(genuine) == ["192.0.2.77"]
    forged = world.fooled.ask(f"tamper.{zones.PARENT}", "A")
    assert world.proxy.tampered > 0
    assert forged.rcode() == dns.rcode.SERVFAIL and not forged.answer, forged
    assert validated(world.fooled.ask(f"www.{zones.PARENT}", "A"))  # the rest passes the proxy unchanged
    report = delv(world.proxy.port, world.anchors, f"tamper.{zones.PARENT}", "A", world.workdir)
    assert "fully validated" not in report and "192.0.2.78" not in report.split("resolution failed")[0], report
