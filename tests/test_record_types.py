"""DS, SSHFP, TLSA, NAPTR, SVCB and HTTPS: through the zone loader, on the wire as dig shows them,
hints and targets from steering, and what `gslb check` says about bad values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.zones.loader import parse_zone
from tests.harness import RunningServer, dig, start_server, write_zones
from tests.types_zone import BIND_WRITES, TEXT, ZONE

SEOUL, VIRGINIA = "127.1.0.0/24", "127.3.0.0/24"  # where the test geo database places them


def test_every_type_round_trips_through_the_loader_as_bind_writes_it() -> None:
    zone = parse_zone(TEXT.encode(), "types.test.yaml", ZONE)
    for (owner, rtype), expected in BIND_WRITES.items():
        rrset = zone.nodes[Name.from_text(owner).wire].rrsets[RRType[rtype]]
        assert [rdata.text for rdata in rrset.rdatas] == expected, (owner, rtype)
    hinted = zone.nodes[Name.from_text("www.types.test").wire].rrsets[RRType.HTTPS].rdatas[0]
    assert hinted.text == '1 . alpn="h2" ipv4hint=service:web ipv6hint=service:web'


@pytest.fixture(scope="module")
def types_server(tmp_path_factory: pytest.TempPathFactory) -> RunningServer:
    workdir = tmp_path_factory.mktemp("types")
    server = start_server(workdir, write_zones(workdir / "zones", {ZONE: TEXT}))
    yield server
    server.stop()


def as_bind_names(text: str) -> str:
    """dig 9.18 knows dohpath (RFC 9461) and ohttp (RFC 9540) only by number; newer ones by name."""
    return text.replace("key7=", "dohpath=").replace(" key8 ", " ohttp ").replace(" key8\n", " ohttp\n")


@pytest.mark.parametrize(("owner", "rtype"), list(BIND_WRITES))
def test_dig_shows_each_record_as_bind_writes_it(types_server: RunningServer, owner: str, rtype: str) -> None:
    out = as_bind_names(dig(types_server, owner, rtype, "+noall", "+answer") + "\n")
    lines = [line.split(None, 4) for line in out.splitlines() if line.strip()]
    assert [(name, ttl, cls, kind) for name, ttl, cls, kind, _ in lines] == [(owner, "300", "IN", rtype)] * len(
        BIND_WRITES[(owner, rtype)])
    assert sorted(data for *_, data in lines) == sorted(BIND_WRITES[(owner, rtype)])
    short = [line for line in as_bind_names(dig(types_server, owner, rtype, "+short") + "\n").splitlines() if line]
    assert sorted(short) == sorted(BIND_WRITES[(owner, rtype)])


def test_the_ds_at_a_delegation_is_answered_from_the_parent_side(types_server: RunningServer) -> None:
    out = dig(types_server, "sub.types.test", "DS")
    assert "status: NOERROR" in out and "flags: qr aa;" in out and "ANSWER: 3," in out, out
    referral = dig(types_server, "host.sub.types.test", "A")
    assert "flags: qr;" in referral and "AUTHORITY: 1," in referral, referral


@pytest.mark.parametrize(("subnet", "v4", "v6"), [(SEOUL, "192.0.2.10,192.0.2.11", "2001:db8:1::10"),
                                                  (VIRGINIA, "203.0.113.10", "2001:db8:3::10")])
def test_hints_from_a_service_follow_steering(types_server: RunningServer, subnet: str, v4: str, v6: str) -> None:
    out = dig(types_server, "www.types.test", "HTTPS", f"+subnet={subnet}")
    assert f'www.types.test.\t\t300\tIN\tHTTPS\t1 . alpn="h2" ipv4hint={v4} ipv6hint={v6}' in out, out
    # The additional section holds the steered addresses of the target ("." is the owner itself).
    additional = out.split(";; ADDITIONAL SECTION:")[1]
    assert all(address in additional for address in (*v4.split(","), v6)), out
    assert "CLIENT-SUBNET: " + subnet.replace("/24", "/24/") in out, out  # a scope: the answer depends on the subnet


def test_an_alias_to_a_steered_name_carries_its_steered_addresses(types_server: RunningServer) -> None:
    out = dig(types_server, "alias.types.test", "HTTPS", f"+subnet={SEOUL}")
    assert "alias.types.test.\t300\tIN\tHTTPS\t0 www.types.test." in out, out
    additional = out.split(";; ADDITIONAL SECTION:")[1]
    assert "192.0.2.10" in additional and "2001:db8:1::10" in additional and "203.0.113.10" not in additional


# -- gslb check ---------------------------------------------------------------------------------------

BAD = """\
zone: bad.test
ns: [ns.example.net.]
records:
  "@": {DS: "60485 8 2 8ACBB0CD28F41250A80A491389424D341522D946B0DA0C0291F2D3D771D7805A"}
  lone: {DS: "60485 8 2 8ACBB0CD28F41250A80A491389424D341522D946B0DA0C0291F2D3D771D7805A"}
  sub:
    NS: ns.example.net.
    DS: ["60485 8 2 8ACBB0CD", "1 0 2 00", "1 8 0 00", "70000 8 1 00", "1 8 2 xyz"]
  host: {SSHFP: ["1 1 012", "0 1 00", "1 2 0123"]}
  _443._tcp: {TLSA: ["4 1 1 00", "3 2 1 00", "3 1 1 00", "3 1 0 3082"]}
  sip: {NAPTR: ['10 10 "U" "E2U+sip" "!a!b!" sip.bad.test.', '1 2 "S" "SIP" ""', '1 2 "S!" "" "" .',
                '1 2 "" "" "abc" .']}
  www:
    HTTPS: ["1 . foo=1", "0 . alpn=h2", "1 . mandatory=port alpn=h2", "1 . no-default-alpn",
            "1 . ipv4hint=service:nope", "1 . ipv6hint=192.0.2.1", "1 . port=99999", "1 . alpn=h2 alpn=h3",
            "1 . key3=443", "1 . ech=!!!", "1 . dohpath=/q"]
"""


def test_gslb_check_names_each_bad_value_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.test.yaml"
    path.write_text(BAD)
    out = subprocess.run([sys.executable, "-m", "gslb", "check", str(path)], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert out.returncode == 1
    f = str(path)
    assert out.stderr.splitlines() == [
        f"{f}:4: records.@.DS: the zone's own DS goes in its parent zone; here DS stands only beside NS at a "
        "delegation (RFC 4035 section 2.4)",
        f"{f}:5: records.lone.DS: DS stands only at a delegation, beside its NS (RFC 4035 section 2.4)",
        f"{f}:8: records.sub.DS[0]: digest of 4 bytes: SHA-256 gives 32 (64 hex digits)",
        f"{f}:8: records.sub.DS[1]: algorithm 0 is reserved (RFC 4034 appendix A.1)",
        f"{f}:8: records.sub.DS[2]: digest type 0 is reserved (use 2, SHA-256)",
        f"{f}:8: records.sub.DS[3]: key tag '70000' is not a number from 0 to 65535",
        f"{f}:8: records.sub.DS[4]: digest 'xyz' is not hex digits",
        f"{f}:9: records.host.SSHFP[0]: fingerprint has an odd number of hex digits (3)",
        f"{f}:9: records.host.SSHFP[1]: algorithm 0 and fingerprint type 0 are reserved (RFC 4255 section 3.1)",
        f"{f}:9: records.host.SSHFP[2]: fingerprint of 2 bytes: SHA-256 gives 32 (64 hex digits)",
        f"{f}:10: records._443._tcp.TLSA[0]: usage 4 is not assigned (RFC 6698, 7218: 0 (PKIX-TA), 1 (PKIX-EE), "
        "2 (DANE-TA), 3 (DANE-EE), 255 (PrivCert))",
        f"{f}:10: records._443._tcp.TLSA[1]: selector 2 is not assigned (RFC 6698, 7218: 0 (Cert), 1 (SPKI), "
        "255 (PrivSel))",
        f"{f}:10: records._443._tcp.TLSA[2]: certificate data of 1 bytes: SHA2-256 gives 32 (64 hex digits)",
        f"{f}:11: records.sip.NAPTR[0]: set either the regular expression or the replacement, not both (write "
        "the replacement as '.'; RFC 3403 section 4.1)",
        f"{f}:11: records.sip.NAPTR[1]: '1 2 \"S\" \"SIP\" \"\"' is not of the form 'ORDER PREFERENCE \"FLAGS\" "
        "\"SERVICES\" \"REGEXP\" REPLACEMENT'",
        f"{f}:11: records.sip.NAPTR[2]: flags \"S!\": letters and digits only (RFC 3403 section 4.1)",
        f"{f}:12: records.sip.NAPTR[3]: regexp \"abc\" is not of the form DELIM ERE DELIM SUBSTITUTION DELIM [i] "
        "(RFC 3403 section 3.2)",
        f"{f}:14: records.www.HTTPS[0]: unknown key 'foo' (expected one of: mandatory, alpn, no-default-alpn, "
        "port, ipv4hint, ech, ipv6hint, dohpath, ohttp, or keyNNNNN)",
        f"{f}:14: records.www.HTTPS[1]: AliasMode (priority 0) takes no parameters (RFC 9460 section 2.4.2)",
        f"{f}:14: records.www.HTTPS[2]: mandatory lists port, which the record does not have (RFC 9460 section 8)",
        f"{f}:14: records.www.HTTPS[3]: no-default-alpn needs alpn (RFC 9460 section 7.1.1)",
        f"{f}:15: records.www.HTTPS[5]: '192.0.2.1' is not an IPv6 address (or write service:NAME for the "
        "addresses of a service)",
        f"{f}:15: records.www.HTTPS[6]: port '99999' is not a number from 0 to 65535",
        f"{f}:15: records.www.HTTPS[7]: alpn is given twice",
        f"{f}:15: records.www.HTTPS[4]: ipv4hint=service:nope: no service 'nope' in this zone (the zone has no "
        "services)",  # found once the services are read: after the others of its line
        f"{f}:16: records.www.HTTPS[8]: key3: write it as port",
        f"{f}:16: records.www.HTTPS[9]: ech: an ECHConfigList in base64",
        f"{f}:16: records.www.HTTPS[10]: dohpath '/q': a relative URI template with a 'dns' variable, e.g. "
        "/dns-query{?dns} (RFC 9461 section 5)",
    ]
