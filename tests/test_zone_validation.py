"""Zone file validation: every error message exactly as an operator sees it, plus what loads.

Each zone text is written to `<zone>.yaml` in a temporary folder and loaded with
`load_zone_file`. Rejections are compared as the full `file:line: field: message` strings.
Line numbers in the comments count from the first line of the zone text.
"""

from __future__ import annotations

import hashlib
import textwrap
import types
from pathlib import Path

import pytest

from gslb.common.yamldoc import load_yaml
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.zones import policy
from gslb.zones.errors import ZoneFileError
from gslb.zones.loader import content_serial, load_zone_file
from gslb.zones.model import Zone
from gslb.zones.serials import SerialBook

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "zones" / "example.com.yaml"

# The two lines most tests start with; `records:` then sits on line 3 and its first name on line 4.
HEAD = "zone: example.com\nns: [ns1.example.net.]\n"

TOP_KEYS = "zone, ttl, soa, ns, dnssec, records" + "".join(f", {section}" for section in policy.SECTIONS)
NAME_KEYS = "A, AAAA, NS, CNAME, PTR, MX, TXT, SRV, CAA, NAPTR, DS, SSHFP, TLSA, SVCB, HTTPS, ttl, service"
SOA_KEYS = "primary, contact, serial, refresh, retry, expire, minimum"
TTL_RANGE = "(whole seconds from 0 to 2147483647)"


def write(tmp_path: Path, text: str, zone: str = "example.com", suffix: str = ".yaml") -> Path:
    path = tmp_path / f"{zone}{suffix}"
    path.write_text(textwrap.dedent(text))
    return path


def rejected(tmp_path: Path, text: str, zone: str = "example.com") -> list[str]:
    """Load a zone text that must fail; every problem as printed."""
    path = write(tmp_path, text, zone)
    with pytest.raises(ZoneFileError) as info:
        load_zone_file(path)
    assert info.value.file == str(path)
    return [str(problem) for problem in info.value.problems]


def loaded(tmp_path: Path, text: str, zone: str = "example.com", suffix: str = ".yaml") -> Zone:
    return load_zone_file(write(tmp_path, text, zone, suffix))


def rrset_texts(zone: Zone, owner: str, rtype: int) -> list[str]:
    node = zone.node(Name.from_text(owner))
    assert node is not None, owner
    return [rdata.text for rdata in node.rrsets[rtype].rdatas]


@pytest.fixture
def f(tmp_path: Path) -> str:
    """The file name as it appears in messages."""
    return str(tmp_path / "example.com.yaml")


# -- unknown keys --------------------------------------------------------------------------


def test_unknown_top_level_key(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "recods: {}\n") == [
        f"{f}:3: recods: unknown key (expected one of: {TOP_KEYS})"
    ]


def test_unknown_key_inside_a_name(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  www: {A: 192.0.2.1, weight: 2}\n") == [
        f"{f}:4: records.www.weight: unknown key (expected one of: {NAME_KEYS})"
    ]


def test_lower_case_record_type_gets_a_hint(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www:\n    a: 192.0.2.1\n    Aaaa: '2001:db8::1'\n"
    assert rejected(tmp_path, text) == [
        f"{f}:5: records.www.a: unknown key (record types are upper case: A) (expected one of: {NAME_KEYS})",
        f"{f}:6: records.www.Aaaa: unknown key (record types are upper case: AAAA) (expected one of: {NAME_KEYS})",
    ]


def test_record_type_not_supported(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  www: {DNAME: other}\n") == [
        f"{f}:4: records.www.DNAME: unknown key (expected one of: {NAME_KEYS})"
    ]


# -- addresses -------------------------------------------------------------------------------


def test_bad_ipv4_address(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  www: {A: 192.0.2.300}\n") == [
        f"{f}:4: records.www.A: '192.0.2.300' is not an IPv4 address"
    ]


def test_bad_ipv4_address_in_a_list_names_the_item_and_its_line(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www:\n    A:\n      - 192.0.2.1\n      - 192.0.2.300\n"
    assert rejected(tmp_path, text) == [f"{f}:7: records.www.A[1]: '192.0.2.300' is not an IPv4 address"]


def test_ipv6_address_under_a(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  www: {A: '2001:db8::1'}\n") == [
        f"{f}:4: records.www.A: '2001:db8::1' is not an IPv4 address"
    ]


def test_bad_ipv6_address(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www: {AAAA: ['2001:db8::1', '2001:db8::g', 192.0.2.1, 'fe80::1%eth0']}\n"
    assert rejected(tmp_path, text) == [
        f"{f}:4: records.www.AAAA[1]: '2001:db8::g' is not an IPv6 address",
        f"{f}:4: records.www.AAAA[2]: '192.0.2.1' is not an IPv6 address",
        f"{f}:4: records.www.AAAA[3]: 'fe80::1%eth0' is not an IPv6 address",
    ]


def test_addresses_are_stored_in_canonical_form(tmp_path: Path) -> None:
    zone = loaded(tmp_path, HEAD + "records:\n  www: {A: ' 192.0.2.1', AAAA: '2001:DB8:0:0::1'}\n")
    assert rrset_texts(zone, "www.example.com.", RRType.A) == ["192.0.2.1"]
    assert rrset_texts(zone, "www.example.com.", RRType.AAAA) == ["2001:db8::1"]


# -- names ---------------------------------------------------------------------------------


def test_bad_label_characters(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  ww!w: {A: 192.0.2.1}\n  -web: {A: 192.0.2.2}\n"
    assert rejected(tmp_path, text) == [
        f"{f}:4: records.ww!w: 'ww!w': label 'ww!w' may hold only letters, digits, '-' and '_' "
        "(and may not start or end with '-')",
        f"{f}:5: records.-web: '-web': label '-web' may hold only letters, digits, '-' and '_' "
        "(and may not start or end with '-')",
    ]


def test_empty_label(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  a..b: {A: 192.0.2.1}\n") == [
        f"{f}:4: records.a..b: 'a..b': empty label"
    ]


def test_wildcard_only_as_leftmost_label(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  a.*.b: {A: 192.0.2.1}\n  '*x': {A: 192.0.2.1}\n"
    assert rejected(tmp_path, text) == [
        f"{f}:4: records.a.*.b: 'a.*.b': '*' is allowed only as the leftmost label of an owner name",
        f"{f}:5: records.*x: '*x': label '*x' may hold only letters, digits, '-' and '_' "
        "(and may not start or end with '-')",
    ]


def test_wildcard_not_allowed_in_a_target(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  www: {CNAME: '*.example.net.'}\n") == [
        f"{f}:4: records.www.CNAME: '*.example.net.': '*' is allowed only as the leftmost label of an owner name"
    ]


@pytest.mark.parametrize("size", [64, 300])  # 300: longer than a length byte can say
def test_label_too_long(tmp_path: Path, f: str, size: int) -> None:
    label = "a" * size
    assert rejected(tmp_path, HEAD + f"records:\n  {label}: {{A: 192.0.2.1}}\n") == [
        f"{f}:4: records.{label}: '{label}': label of {size} bytes (1 to 63 allowed)"
    ]


def test_name_too_long(tmp_path: Path, f: str) -> None:
    owner = ".".join(["a" * 60] * 4)  # 244 bytes + example.com. = 257 on the wire
    assert rejected(tmp_path, HEAD + f"records:\n  {owner}: {{A: 192.0.2.1}}\n") == [
        f"{f}:4: records.{owner}: '{owner}': name of 257 bytes on the wire (255 allowed)"
    ]


def test_relative_and_absolute_names_are_completed(tmp_path: Path) -> None:
    text = HEAD + textwrap.dedent("""\
        records:
          Example.COM.: {MX: ["10 mail", "20 mx.example.net.", "30 @"], TXT: "apex, spelled absolutely"}
          mail: {A: 192.0.2.25}
          docs: {CNAME: www}
          cdn: {CNAME: cdn.example.net.}
          oops: {CNAME: cdn.example.net}
          apex: {CNAME: "@"}
          deep.er.example.com.: {A: 192.0.2.1}
          _sip._tcp: {SRV: ["0 5 5060 sip", "0 0 0 ."]}
          1.2.0.192.in-addr: {PTR: mail.example.com.}
        """)
    zone = loaded(tmp_path, text)
    assert rrset_texts(zone, "example.com.", RRType.MX) == [
        "10 mail.example.com.", "20 mx.example.net.", "30 example.com."
    ]
    assert rrset_texts(zone, "docs.example.com.", RRType.CNAME) == ["www.example.com."]
    assert rrset_texts(zone, "cdn.example.com.", RRType.CNAME) == ["cdn.example.net."]
    # No trailing dot means relative, even when it looks like a full name (as in BIND).
    assert rrset_texts(zone, "oops.example.com.", RRType.CNAME) == ["cdn.example.net.example.com."]
    assert rrset_texts(zone, "apex.example.com.", RRType.CNAME) == ["example.com."]
    assert rrset_texts(zone, "deep.er.example.com.", RRType.A) == ["192.0.2.1"]
    assert rrset_texts(zone, "example.com.", RRType.TXT) == ['"apex, spelled absolutely"']
    assert rrset_texts(zone, "_sip._tcp.example.com.", RRType.SRV) == [
        "0 5 5060 sip.example.com.", "0 0 0 ."
    ]
    assert rrset_texts(zone, "1.2.0.192.in-addr.example.com.", RRType.PTR) == ["mail.example.com."]


def test_names_are_case_insensitive_and_stored_lower_case(tmp_path: Path) -> None:
    zone = loaded(tmp_path, HEAD + "records:\n  WWW: {CNAME: Target.Example.NET.}\n")
    assert zone.node(Name.from_text("www.example.com.")) is not None
    assert rrset_texts(zone, "www.example.com.", RRType.CNAME) == ["target.example.net."]


# -- CNAME -----------------------------------------------------------------------------------


def test_cname_beside_other_data(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www:\n    A: 192.0.2.1\n    TXT: hello\n    CNAME: other\n"
    assert rejected(tmp_path, text) == [
        f"{f}:7: records.www.CNAME: a CNAME cannot stand beside other data (A, TXT) (RFC 1034 section 3.6.2)"
    ]


def test_cname_at_apex(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  '@': {CNAME: www.example.net.}\n") == [
        f"{f}:4: records.@.CNAME: the zone apex cannot be a CNAME"
    ]


def test_two_cname_values(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  www: {CNAME: [a, b]}\n") == [
        f"{f}:4: records.www.CNAME: a name can have only one CNAME"
    ]


def test_cname_in_a_one_item_list_is_fine(tmp_path: Path) -> None:
    zone = loaded(tmp_path, HEAD + "records:\n  www: {CNAME: [a]}\n")
    assert rrset_texts(zone, "www.example.com.", RRType.CNAME) == ["a.example.com."]


# -- owners and duplicates -------------------------------------------------------------------


def test_owner_outside_the_zone(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www.example.org.: {A: 192.0.2.1}\n  example.com.evil.: {A: 192.0.2.2}\n"
    assert rejected(tmp_path, text) == [
        f"{f}:4: records.www.example.org.: www.example.org. is outside the zone example.com.",
        f"{f}:5: records.example.com.evil.: example.com.evil. is outside the zone example.com.",
    ]


def test_same_name_relative_and_absolute(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www: {A: 192.0.2.1}\n  www.example.com.: {AAAA: '2001:db8::1'}\n"
    assert rejected(tmp_path, text) == [f"{f}:5: records.www.example.com.: the same name as 'www' on line 4"]


def test_same_name_in_other_letter_case(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www: {A: 192.0.2.1}\n  WWW: {AAAA: '2001:db8::1'}\n"
    assert rejected(tmp_path, text) == [f"{f}:5: records.WWW: the same name as 'www' on line 4"]


def test_apex_written_two_ways(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  '@': {TXT: a}\n  example.com.: {MX: '10 mail.example.net.'}\n"
    assert rejected(tmp_path, text) == [f"{f}:5: records.example.com.: the same name as '@' on line 4"]


def test_duplicate_yaml_key(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www: {A: 192.0.2.1}\n  www: {A: 192.0.2.2}\n"
    assert rejected(tmp_path, text) == [f"{f}:5: duplicate key 'www' (first on line 4)"]


def test_duplicate_top_level_key(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "zone: example.com\n") == [f"{f}:3: duplicate key 'zone' (first on line 1)"]


def test_duplicate_value_in_an_rrset(tmp_path: Path, f: str) -> None:
    text = HEAD + textwrap.dedent("""\
        records:
          www:
            A: [192.0.2.1, 192.0.2.1]
            AAAA: ["2001:db8::1", "2001:DB8:0::1"]
            MX: ["10 mail", "10 mail.example.com."]
        """)
    assert rejected(tmp_path, text) == [
        f"{f}:5: records.www.A[1]: duplicate value 192.0.2.1",
        f"{f}:6: records.www.AAAA[1]: duplicate value 2001:db8::1",
        f"{f}:7: records.www.MX[1]: duplicate value 10 mail.example.com.",
    ]


def test_empty_list_of_values(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  www: {A: []}\n") == [
        f"{f}:4: records.www.A: needs at least one value"
    ]


def test_null_value(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  www: {A: }\n") == [
        f"{f}:4: records.www.A: 'None' is not an IPv4 address"
    ]


def test_records_must_be_a_mapping(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records: [www]\n") == [f"{f}:3: records: must be a mapping of names to records"]


def test_name_must_hold_a_mapping(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  www: 192.0.2.1\n") == [
        f"{f}:4: records.www: must be a mapping of record types to values, e.g. {{A: 192.0.2.1}}"
    ]


def test_empty_records_section_and_empty_name(tmp_path: Path) -> None:
    assert loaded(tmp_path, HEAD + "records:\n").nodes.keys() == {Name.from_text("example.com.").wire}
    zone = loaded(tmp_path, HEAD + "records:\n  placeholder: {}\n")
    node = zone.node(Name.from_text("placeholder.example.com."))
    assert node is not None and node.rrsets == {}


# -- delegations -----------------------------------------------------------------------------


def test_ns_at_apex_under_records(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  '@': {NS: [ns2.example.net.]}\n") == [
        f"{f}:4: records.@.NS: the apex name servers are set by the top-level 'ns'"
    ]


def test_delegation_target_inside_the_delegation_needs_glue(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  sub: {NS: [ns1.sub, ns.example.net.]}\n"
    assert rejected(tmp_path, text) == [
        f"{f}:4: records.sub.NS: ns1.sub.example.com. is inside the delegation and needs glue (an A or AAAA record)"
    ]


def test_delegation_with_glue_loads(tmp_path: Path) -> None:
    text = HEAD + textwrap.dedent("""\
        records:
          sub: {NS: [ns1.sub, ns2.sub.example.com., ns.example.net.]}
          ns1.sub: {A: 192.0.2.54}
          ns2.sub: {AAAA: "2001:db8::54"}
          self: {NS: [self.example.com.], A: 192.0.2.55}
        """)
    zone = loaded(tmp_path, text)
    assert zone.cuts == {Name.from_text("sub.example.com.").wire, Name.from_text("self.example.com.").wire}
    assert rrset_texts(zone, "sub.example.com.", RRType.NS) == [
        "ns1.sub.example.com.", "ns2.sub.example.com.", "ns.example.net."
    ]


def test_data_other_than_glue_below_a_delegation(tmp_path: Path, f: str) -> None:
    text = HEAD + textwrap.dedent("""\
        records:
          sub: {NS: [ns.example.net.]}
          www.sub: {A: 192.0.2.1}
          txt.sub: {TXT: hello}
          a.b.sub: {A: 192.0.2.2, MX: "10 mail.example.net."}
          inner.sub: {NS: [ns.example.net.]}
        """)
    assert rejected(tmp_path, text) == [
        f"{f}:6: records.txt.sub: below the delegation at sub.example.com.: only glue (A, AAAA) may be here",
        f"{f}:7: records.a.b.sub: below the delegation at sub.example.com.: only glue (A, AAAA) may be here",
        f"{f}:8: records.inner.sub: below the delegation at sub.example.com.: only glue (A, AAAA) may be here",
    ]


def test_data_other_than_glue_at_a_delegation(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  sub: {NS: [ns.example.net.], TXT: hello, MX: '10 mail.example.net.'}\n"
    assert rejected(tmp_path, text) == [
        f"{f}:4: records.sub: a delegation may hold only NS, DS and glue (A, AAAA), not TXT, MX"
    ]


def test_in_zone_apex_ns_without_address(tmp_path: Path, f: str) -> None:
    text = "zone: example.com\nns:\n  - ns1.example.com.\n  - ns2\n  - ns.example.net.\nrecords:\n  ns2: {TXT: x}\n"
    assert rejected(tmp_path, text) == [
        f"{f}:3: ns[0]: ns1.example.com. is inside the zone but has no A or AAAA record",
        f"{f}:4: ns[1]: ns2.example.com. is inside the zone but has no A or AAAA record",
    ]


def test_apex_ns_problems_keep_their_own_index(tmp_path: Path, f: str) -> None:
    text = "zone: example.com\nns:\n  - bad..name\n  - ns1.example.com.\n  - 53\n"
    assert rejected(tmp_path, text) == [
        f"{f}:3: ns[0]: 'bad..name': empty label",
        f"{f}:4: ns[1]: ns1.example.com. is inside the zone but has no A or AAAA record",
        f"{f}:5: ns[2]: '53' is not a name",
    ]


def test_apex_ns_listed_twice(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, "zone: example.com\nns: [a.example.net., A.example.net.]\n") == [
        f"{f}:2: ns[1]: a.example.net. is listed twice"
    ]


def test_wildcard_delegation(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  '*.sub': {NS: [ns.example.net.]}\n") == [
        f"{f}:4: records.*.sub.NS: a wildcard cannot be a delegation (RFC 4592 section 4.2)"
    ]


# -- TTLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "shown"),
    [("-1", "-1"), ("1h", "1h"), ("'300'", "300"), ("2147483648", "2147483648"), ("1.5", "1.5"), ("true", "True")],
)
def test_bad_zone_ttl(tmp_path: Path, f: str, written: str, shown: str) -> None:
    assert rejected(tmp_path, HEAD + f"ttl: {written}\n") == [f"{f}:3: ttl: '{shown}' is not a TTL {TTL_RANGE}"]


def test_bad_ttl_on_a_name(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  www:\n    A: 192.0.2.1\n    ttl: -5\n") == [
        f"{f}:6: records.www.ttl: '-5' is not a TTL {TTL_RANGE}"
    ]


def test_ttl_limits_and_defaults(tmp_path: Path) -> None:
    text = HEAD + "records:\n  a: {A: 192.0.2.1}\n  b: {A: 192.0.2.2, ttl: 0}\n  c: {A: 192.0.2.3, ttl: 2147483647}\n"
    zone = loaded(tmp_path, text)
    assert zone.default_ttl == 300
    ttls = {name: zone.node(Name.from_text(f"{name}.example.com.")).rrsets[RRType.A].ttl for name in "abc"}
    assert ttls == {"a": 300, "b": 0, "c": 2147483647}


def test_per_name_ttl_applies_to_every_rrset_of_the_name(tmp_path: Path) -> None:
    text = HEAD + "ttl: 120\nrecords:\n  mail: {A: 192.0.2.25, TXT: x, ttl: 3600}\n  www: {A: 192.0.2.1}\n"
    zone = loaded(tmp_path, text)
    mail = zone.node(Name.from_text("mail.example.com."))
    assert mail is not None and mail.ttl == 3600
    assert {rrset.ttl for rrset in mail.rrsets.values()} == {3600}
    assert zone.node(Name.from_text("www.example.com.")).rrsets[RRType.A].ttl == 120
    apex = zone.node(zone.origin)
    assert apex.rrsets[RRType.SOA].ttl == 120 and apex.rrsets[RRType.NS].ttl == 120


# -- soa and ns ------------------------------------------------------------------------------


def test_soa_unknown_key(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "soa:\n  primary: ns1.example.net.\n  mininum: 60\n") == [
        f"{f}:5: soa.mininum: unknown key (expected one of: {SOA_KEYS})"
    ]


def test_soa_contact_with_dots_before_at(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "soa: {contact: host.master@example.com}\n") == [
        f"{f}:3: soa.contact: 'host.master@example.com': the part before '@' must be one label without dots"
    ]


def test_soa_contact_empty_local_part(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "soa: {contact: '@example.com'}\n") == [
        f"{f}:3: soa.contact: '@example.com': the part before '@' must be one label without dots"
    ]


def test_soa_contact_not_text(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "soa: {contact: 5}\n") == [f"{f}:3: soa.contact: '5' is not a mailbox"]


def test_soa_primary_null_is_not_a_name(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "soa: {primary: null}\n") == [f"{f}:3: soa.primary: expected a domain name"]


def test_soa_numbers_and_serial_out_of_range(tmp_path: Path, f: str) -> None:
    text = HEAD + "soa:\n  serial: 4294967296\n  refresh: 2h\n  retry: -1\n  expire: 1.5\n  minimum: 2147483648\n"
    assert rejected(tmp_path, text) == [
        f"{f}:4: soa.serial: '4294967296' is not a number from 0 to 4294967295",
        f"{f}:5: soa.refresh: '2h' is not a TTL {TTL_RANGE}",
        f"{f}:6: soa.retry: '-1' is not a TTL {TTL_RANGE}",
        f"{f}:7: soa.expire: '1.5' is not a TTL {TTL_RANGE}",
        f"{f}:8: soa.minimum: '2147483648' is not a TTL {TTL_RANGE}",
    ]


def test_soa_must_be_a_mapping(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "soa: ns1.example.net.\n") == [
        f"{f}:3: soa: must be a mapping (primary, contact, refresh, ...)"
    ]


def test_soa_defaults(tmp_path: Path) -> None:
    zone = loaded(tmp_path, "zone: example.com\nns: [ns1.example.net., ns2.example.net.]\n")
    (soa,) = zone.soa.rdatas
    assert soa.text == (
        f"ns1.example.net. hostmaster.example.com. {zone.serial} 7200 3600 1209600 60"
    )
    assert zone.soa.ttl == 300


def test_soa_fields_as_written(tmp_path: Path) -> None:
    text = HEAD + textwrap.dedent("""\
        soa:
          primary: ns0
          contact: dns-admin@example.org.
          serial: 2026112701
          refresh: 1
          retry: 2
          expire: 3
          minimum: 4
        """)
    zone = loaded(tmp_path, text)
    assert zone.soa.rdatas[0].text == "ns0.example.com. dns-admin.example.org. 2026112701 1 2 3 4"
    assert zone.serial == 2026112701
    dotted = loaded(tmp_path, HEAD + "soa: {contact: hostmaster.example.net.}\n")
    assert dotted.soa.rdatas[0].text.split()[1] == "hostmaster.example.net."


def test_explicit_serial_is_used_over_the_serial_source(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "soa: {serial: 0}\n")
    zone = load_zone_file(path, lambda origin, content_hash: 12345)
    assert zone.serial == 0
    assert zone.soa.rdatas[0].parts[2][0:4] == (0).to_bytes(4, "big")
    assert load_zone_file(write(tmp_path, HEAD), lambda origin, content_hash: 12345).serial == 12345


def test_missing_ns(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, "# a comment\nzone: example.com\nttl: 60\n") == [
        f"{f}:2: ns: required: the zone's name servers"
    ]


def test_empty_ns(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, "zone: example.com\nns: []\n") == [f"{f}:2: ns: at least one name server is required"]


def test_single_ns_may_be_a_plain_value(tmp_path: Path) -> None:
    zone = loaded(tmp_path, "zone: example.com\nns: ns1.example.net.\n")
    assert rrset_texts(zone, "example.com.", RRType.NS) == ["ns1.example.net."]


# -- the zone name -----------------------------------------------------------------------------


def test_zone_name_not_matching_the_file_name(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, "ns: [ns1.example.net.]\nzone: example.org.\n") == [
        f"{f}:2: zone: 'example.org.' does not match the file name (expected example.com.yaml)"
    ]


def test_zone_name_not_text(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, "zone: 5\nns: [ns1.example.net.]\n") == [f"{f}:1: zone: '5' is not a domain name"]


def test_zone_name_spellings(tmp_path: Path) -> None:
    assert loaded(tmp_path, "zone: Example.COM.\nns: [ns1.example.net.]\n").origin == Name.from_text("example.com.")
    # Without 'zone' the name comes from the file; .yml and a trailing dot in the file name work too.
    assert loaded(tmp_path, "ns: [ns1.example.net.]\n", zone="example.org").origin.text == "example.org."
    assert loaded(tmp_path, "ns: [ns.example.org.]\n", zone="example.net", suffix=".yml").origin.text == (
        "example.net."
    )
    assert loaded(tmp_path, "ns: [ns1.example.net.]\n", zone="example.info.").origin.text == "example.info."


# -- YAML --------------------------------------------------------------------------------------


def test_yaml_syntax_error_with_its_line(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www: {A: 192.0.2.1\n  ftp: {A: 192.0.2.2}\nttl: 60\n"
    assert rejected(tmp_path, text) == [
        f"{f}:4: YAML syntax: the '{{' on this line is not closed with '}}' (or a ',' is missing between its entries)"]


def test_yaml_tab_indentation(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www: {A: 192.0.2.1}\n\tftp: {A: 192.0.2.2}\n"
    assert rejected(tmp_path, text) == [
        f"{f}:5: YAML syntax: a tab where YAML needs spaces: indent with spaces only, never with tabs"]


def test_yaml_two_documents(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "---\nttl: 5\n") == [
        f"{f}:3: YAML syntax: a second document ('---'): a file holds one document"]


@pytest.mark.parametrize(("text", "line", "message"), [
    ("records:\n  www: {A: 192.0.2.1}\n   ftp: {A: 192.0.2.2}\n", 5,
     "this line does not line up with the lines above it: indent it exactly like the key it belongs with"),
    ("records:\n    www: {A: 192.0.2.1}\n  ftp: {A: 192.0.2.2}\n", 5,
     "this line does not line up with the lines above it: indent it exactly like the key it belongs with"),
    ("records:\n  www:\n    A: 192.0.2.1\n     TXT: x\n", 6,
     "a ':' where none can be: this line is indented deeper than the line above it, or its value holds ': ' "
     "and needs quotes"),
    ("records:\n  www\n  ftp: {A: 192.0.2.2}\n", 4,
     "a key without ':' after it (every line of a mapping reads 'key: value'), or a line indented wrongly"),
    ("records:\n  www: {TXT: \"open\n  ftp: {A: 192.0.2.2}\n", 4, "a quote opened on this line is never closed"),
    ("records:\n  www: {TXT: @home}\n", 4, "'@' cannot start a value: put the value in quotes"),
    ("ttl: 60\nrecords: [\n", 4, "the file ends inside the '[' or '{' opened on this line: close it"),
])
def test_yaml_mistakes_in_plain_words_at_their_line(tmp_path: Path, f: str, text: str, line: int,
                                                    message: str) -> None:
    assert rejected(tmp_path, HEAD + text) == [f"{f}:{line}: YAML syntax: {message}"]


def test_yaml_aliases_refused(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  a: &addr {A: 192.0.2.1}\n  b: *addr\n"
    assert rejected(tmp_path, text) == [f"{f}:5: aliases (*name) are not supported"]


def test_yaml_merge_keys_refused(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www:\n    <<: {A: 192.0.2.1}\n"
    assert rejected(tmp_path, text) == [f"{f}:5: merge keys (<<) are not supported"]


def test_yaml_complex_key_refused(tmp_path: Path, f: str) -> None:
    assert rejected(tmp_path, HEAD + "records:\n  [a, b]: {A: 192.0.2.1}\n") == [
        f"{f}:4: a mapping key must be a plain value"
    ]


def test_yaml_control_character(tmp_path: Path, f: str) -> None:
    path = tmp_path / "example.com.yaml"
    path.write_bytes(HEAD.encode() + b"records:\n  www: {TXT: \"a\x01b\"}\n")
    with pytest.raises(ZoneFileError) as info:
        load_zone_file(path)
    assert [str(p) for p in info.value.problems] == [f"{f}:4: YAML: unprintable character #x0001 is not allowed"]


@pytest.mark.parametrize("text", ["- zone: example.com\n- ns: [a.example.net.]\n", "just text\n", "", "# nothing\n"])
def test_document_that_is_not_a_mapping(tmp_path: Path, f: str, text: str) -> None:
    assert rejected(tmp_path, text) == [f"{f}:1: a zone file must be a mapping with at least 'zone' or 'ns'"]


def test_non_utf8_file(tmp_path: Path, f: str) -> None:
    path = tmp_path / "example.com.yaml"
    path.write_bytes(HEAD.encode() + b"records:\n  www: {TXT: \"caf\xe9\"}\n")
    with pytest.raises(ZoneFileError) as info:
        load_zone_file(path)
    assert [str(p) for p in info.value.problems] == [
        f"{f}:4: not UTF-8 text (invalid continuation byte at byte 67)"
    ]


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "example.com.yaml"
    with pytest.raises(ZoneFileError) as info:
        load_zone_file(path)
    assert [str(p) for p in info.value.problems] == [f"{path}: cannot read: No such file or directory"]


def test_no_stays_a_string(tmp_path: Path) -> None:
    # YAML 1.1 reads NO, yes, on, off as booleans, 1:20 as 80 and 2026-01-01 as a date; not here.
    zone = loaded(tmp_path, HEAD + "records:\n  NO: {TXT: [NO, yes, 'off', 1:20, 2026-01-01]}\n")
    assert rrset_texts(zone, "no.example.com.", RRType.TXT) == ['"NO"', '"yes"', '"off"', '"1:20"', '"2026-01-01"']
    doc = load_yaml("NO: NO\nyes: on\nn: 1:20\nt: true\nz: null\ni: 010\nx: 1.5\n")
    assert doc == {"NO": "NO", "yes": "on", "n": "1:20", "t": True, "z": None, "i": 10, "x": 1.5}


# -- record values -------------------------------------------------------------------------------


def test_mx_malformed(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  '@':\n    MX:\n      - x mail\n      - '10'\n      - 70000 mail\n"
    text += "      - 10 a..b\n      - 5\n"
    assert rejected(tmp_path, text) == [
        f"{f}:6: records.@.MX[0]: preference 'x' is not a number from 0 to 65535",
        f"{f}:7: records.@.MX[1]: '10' is not of the form 'PREFERENCE EXCHANGE'",
        f"{f}:8: records.@.MX[2]: preference '70000' is not a number from 0 to 65535",
        f"{f}:9: records.@.MX[3]: 'a..b': empty label",
        f"{f}:10: records.@.MX[4]: expected text of the form 'PREFERENCE EXCHANGE'",
    ]


def test_srv_malformed(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  _sip._tcp:\n    SRV:\n      - 1 2 3\n      - 1 2 99999 sip\n      - 1 -2 3 sip\n" \
        "      - \u00b210 60 5060 sip\n"  # a superscript two: a digit to str.isdigit, not to int
    assert rejected(tmp_path, text) == [
        f"{f}:6: records._sip._tcp.SRV[0]: '1 2 3' is not of the form 'PRIORITY WEIGHT PORT TARGET'",
        f"{f}:7: records._sip._tcp.SRV[1]: port '99999' is not a number from 0 to 65535",
        f"{f}:8: records._sip._tcp.SRV[2]: weight '-2' is not a number from 0 to 65535",
        f"{f}:9: records._sip._tcp.SRV[3]: priority '\u00b210' is not a number from 0 to 65535",
    ]


def test_caa_malformed(tmp_path: Path, f: str) -> None:
    text = HEAD + textwrap.dedent("""\
        records:
          "@":
            CAA:
              - 0 issue
              - 0 is-sue "ca.example.net"
              - 256 issue "ca.example.net"
              - 0 issue "ca.example.net
              - 0
        """)
    assert rejected(tmp_path, text) == [
        f"{f}:6: records.@.CAA[0]: '0 issue' is not of the form 'FLAGS TAG \"VALUE\"'",
        f"{f}:7: records.@.CAA[1]: CAA tag 'is-sue' must be 1 to 15 letters or digits",
        f"{f}:8: records.@.CAA[2]: flags '256' is not a number from 0 to 255",
        f"{f}:9: records.@.CAA[3]: '0 issue \"ca.example.net': No closing quotation",
        f"{f}:10: records.@.CAA[4]: expected text of the form 'FLAGS TAG \"VALUE\"'",
    ]


def test_txt_malformed(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  www:\n    TXT:\n      - null\n      - 1.50\n      - true\n      - 007\n"
    assert rejected(tmp_path, text) == [
        f"{f}:6: records.www.TXT[0]: expected text",
        f"{f}:7: records.www.TXT[1]: '1.5' is not text (put it in quotes)",
        f"{f}:8: records.www.TXT[2]: 'True' is not text (put it in quotes)",
        f"{f}:9: records.www.TXT[3]: '7' is not text (put it in quotes)",
    ]


def test_txt_too_long(tmp_path: Path, f: str) -> None:
    text = HEAD + f"records:\n  www: {{TXT: '{'x' * 65300}'}}\n"
    assert rejected(tmp_path, text) == [f"{f}:4: records.www.TXT: text longer than a record can hold"]


def test_name_targets_malformed(tmp_path: Path, f: str) -> None:
    text = HEAD + "records:\n  a: {CNAME: 5}\n  b: {PTR: 'x y'}\n  c: {NS: '.'}\n"
    assert rejected(tmp_path, text) == [
        f"{f}:4: records.a.CNAME: expected a domain name",
        f"{f}:5: records.b.PTR: 'x y': label 'x y' may hold only letters, digits, '-' and '_' "
        "(and may not start or end with '-')",
        f"{f}:6: records.c.NS: the root name is not allowed here",
    ]


def test_record_values_as_stored(tmp_path: Path) -> None:
    long_text = "y" * 300
    text = HEAD + textwrap.dedent(f"""\
        records:
          "@":
            CAA: ['0 ISSUE "ca.example.net; account=1"', '128 iodef "mailto:sec@example.com"']
            TXT: ['say "hi"', "{long_text}", ""]
        """)
    zone = loaded(tmp_path, text)
    assert rrset_texts(zone, "example.com.", RRType.CAA) == [
        '0 issue "ca.example.net; account=1"', '128 iodef "mailto:sec@example.com"'
    ]
    txt = zone.node(zone.origin).rrsets[RRType.TXT].rdatas
    assert txt[0].text == '"say \\"hi\\""'
    # More than 255 bytes become several character-strings of at most 255 bytes each.
    assert txt[1].parts[0] == bytes([255]) + b"y" * 255 + bytes([45]) + b"y" * 45
    assert txt[2].parts[0] == b"\x00"


# -- several problems at once ----------------------------------------------------------------------


def test_every_problem_reported_sorted_by_line(tmp_path: Path, f: str) -> None:
    text = textwrap.dedent("""\
        zone: example.com
        ttl: -1
        colour: blue
        soa: {contact: a.b@example.com, serial: x}
        ns: [ns1.example.com.]
        records:
          www: {A: 192.0.2.300, AAAA: "::g"}
          docs: {CNAME: www, TXT: doc}
          WWW: {A: 192.0.2.1}
          sub: {NS: ns.sub}
        """)
    assert rejected(tmp_path, text) == [
        f"{f}:2: ttl: '-1' is not a TTL {TTL_RANGE}",
        f"{f}:3: colour: unknown key (expected one of: {TOP_KEYS})",
        f"{f}:4: soa.contact: 'a.b@example.com': the part before '@' must be one label without dots",
        f"{f}:4: soa.serial: 'x' is not a number from 0 to 4294967295",
        f"{f}:5: ns[0]: ns1.example.com. is inside the zone but has no A or AAAA record",
        f"{f}:7: records.www.A: '192.0.2.300' is not an IPv4 address",
        f"{f}:7: records.www.AAAA: '::g' is not an IPv6 address",
        f"{f}:8: records.docs.CNAME: a CNAME cannot stand beside other data (TXT) (RFC 1034 section 3.6.2)",
        f"{f}:9: records.WWW: the same name as 'www' on line 7",
        f"{f}:10: records.sub.NS: ns.sub.example.com. is inside the delegation and needs glue (an A or AAAA record)",
    ]


def test_error_string_carries_every_problem(tmp_path: Path, f: str) -> None:
    path = write(tmp_path, HEAD + "ttl: x\nfoo: 1\n")
    with pytest.raises(ZoneFileError) as info:
        load_zone_file(path)
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    assert len(info.value.problems) == 2


# -- what loads ------------------------------------------------------------------------------------


def test_example_zone_loads() -> None:
    zone = load_zone_file(EXAMPLE)
    assert zone.origin.text == "example.com."
    assert zone.file == str(EXAMPLE)
    assert zone.serial == content_serial(zone.origin, hashlib.sha256(EXAMPLE.read_bytes()).hexdigest())
    assert zone.content_hash == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert rrset_texts(zone, "example.com.", RRType.NS) == ["ns1.example.com.", "ns2.example.com."]
    assert rrset_texts(zone, "example.com.", RRType.MX) == ["10 mail.example.com."]
    assert rrset_texts(zone, "docs.example.com.", RRType.CNAME) == ["www.example.com."]
    assert rrset_texts(zone, "*.static.example.com.", RRType.CNAME) == ["cdn.example.net."]
    assert zone.node(Name.from_text("mail.example.com.")).rrsets[RRType.A].ttl == 3600
    assert zone.cuts == {Name.from_text("sub.example.com.").wire}
    assert zone.soa.rdatas[0].text.startswith("ns1.example.com. hostmaster.example.com. ")
    assert zone.negative_ttl == 60


def test_content_serial_stable_for_equal_content(tmp_path: Path) -> None:
    text = HEAD + "records:\n  www: {A: 192.0.2.1}\n"
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = loaded(tmp_path / "one", text)
    two = loaded(tmp_path / "two", text)
    assert one.serial == two.serial == content_serial(one.origin, one.content_hash)
    assert 0 <= one.serial < 2**31
    # Any byte counts, comments included.
    changed = loaded(tmp_path, text + "# edited\n")
    assert changed.content_hash != one.content_hash
    assert changed.serial != one.serial


@pytest.mark.parametrize(("ttl", "minimum", "negative"), [(300, 60, 60), (30, 60, 30), (60, 60, 60), (0, 60, 0)])
def test_negative_ttl_is_min_of_soa_ttl_and_minimum(tmp_path: Path, ttl: int, minimum: int, negative: int) -> None:
    zone = loaded(tmp_path, HEAD + f"ttl: {ttl}\nsoa: {{minimum: {minimum}}}\n")
    assert zone.negative_ttl == negative


def test_empty_non_terminals_exist(tmp_path: Path) -> None:
    text = HEAD + "records:\n  a.b.c: {A: 192.0.2.1}\n  '*.w': {TXT: wild}\n  x.y.example.com.: {TXT: x}\n"
    zone = loaded(tmp_path, text)
    names = {Name.from_text(f"{n}.example.com.").wire for n in ("a.b.c", "b.c", "c", "*.w", "w", "x.y", "y")}
    assert zone.existing == names | {zone.origin.wire}
    assert zone.node(Name.from_text("b.c.example.com.")) is None  # exists, but holds nothing


def test_wildcard_owners(tmp_path: Path) -> None:
    zone = loaded(tmp_path, HEAD + "records:\n  '*': {A: 192.0.2.1}\n  '*.static': {CNAME: cdn.example.net.}\n")
    assert rrset_texts(zone, "*.example.com.", RRType.A) == ["192.0.2.1"]
    assert rrset_texts(zone, "*.static.example.com.", RRType.CNAME) == ["cdn.example.net."]


# -- serials kept across restarts --------------------------------------------------------------------


def test_serial_book_keeps_serial_for_unchanged_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gslb.zones.serials as serials

    clock = types.SimpleNamespace(now=1_800_000_000.5)
    monkeypatch.setattr(serials, "time", types.SimpleNamespace(time=lambda: clock.now))
    book_path = tmp_path / "state" / "serials.json"
    zone_path = write(tmp_path, HEAD + "records:\n  www: {A: 192.0.2.1}\n")

    first = load_zone_file(zone_path, SerialBook(book_path).serial_for)
    assert first.serial == 1_800_000_000
    assert book_path.exists()

    clock.now += 3600  # a restart an hour later, same file: same serial
    again = load_zone_file(zone_path, SerialBook(book_path).serial_for)
    assert again.serial == 1_800_000_000

    book = SerialBook(book_path)
    write(tmp_path, HEAD + "records:\n  www: {A: 192.0.2.2}\n")
    changed = load_zone_file(zone_path, book.serial_for)
    assert changed.serial == 1_800_003_600
    assert load_zone_file(zone_path, book.serial_for).serial == 1_800_003_600

    clock.now = 1_700_000_000  # the clock went back: the serial still rises, by one
    write(tmp_path, HEAD + "records:\n  www: {A: 192.0.2.3}\n")
    assert load_zone_file(zone_path, book.serial_for).serial == 1_800_003_601

    # Back to earlier content is a change too: the serial rises again.
    write(tmp_path, HEAD + "records:\n  www: {A: 192.0.2.1}\n")
    assert load_zone_file(zone_path, SerialBook(book_path).serial_for).serial == 1_800_003_602


def test_serial_book_is_per_zone_and_survives_a_bad_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gslb.zones.serials as serials

    monkeypatch.setattr(serials, "time", types.SimpleNamespace(time=lambda: 1_900_000_000))
    book_path = tmp_path / "serials.json"
    book_path.write_text("not json")
    book = SerialBook(book_path)  # an unreadable book is ignored, then rewritten
    a = book.serial_for(Name.from_text("example.com."), "aa")
    b = book.serial_for(Name.from_text("example.org."), "bb")
    assert a == b == 1_900_000_000
    assert SerialBook(book_path).serial_for(Name.from_text("example.com."), "aa") == a
    assert SerialBook(book_path).serial_for(Name.from_text("example.com."), "cc") == a + 1
    assert SerialBook(None).serial_for(Name.from_text("example.com."), "aa") == 1_900_000_000
