"""What docs/dns-behaviour.md promises, asked of the real server with dnspython."""

from __future__ import annotations

import struct

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from tests.harness import RunningServer


def rrs(message: dns.message.Message, section: str = "answer") -> list[tuple[str, str, int, str]]:
    """(owner, type, ttl, rdata) for every record of a section, sorted."""
    out = []
    for rrset in getattr(message, section):
        for rdata in rrset:
            out.append((rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl, rdata.to_text()))
    return sorted(out)


SEOUL = "127.1.0.1"  # the test database places 127.1.0.0/16 in Seoul


def test_answer_is_authoritative_without_recursion(example_server: RunningServer) -> None:
    reply = example_server.ask("legacy.example.com", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.flags & dns.flags.AA
    assert not reply.flags & dns.flags.RA
    assert rrs(reply) == [
        ("legacy.example.com.", "A", 300, "192.0.2.80"),
        ("legacy.example.com.", "A", 300, "192.0.2.81"),
    ]


def test_rd_is_copied_and_ra_never_set(example_server: RunningServer) -> None:
    query = dns.message.make_query("www.example.com", "A")
    query.flags |= dns.flags.RD | dns.flags.CD
    reply = example_server.udp(query)
    assert reply.flags & dns.flags.RD
    assert reply.flags & dns.flags.CD
    assert not reply.flags & dns.flags.RA


def test_question_is_echoed_with_its_letter_case(example_server: RunningServer) -> None:
    query = dns.message.make_query("wWw.ExAmPlE.cOm", "A", use_edns=False)
    wire = query.to_wire()
    reply = example_server.raw_udp(wire)
    assert reply is not None
    # The question section is copied byte for byte, case included.
    question = wire[12:]
    assert reply[12 : 12 + len(question)] == question
    parsed = dns.message.from_wire(reply)
    assert parsed.question[0].name.to_text() == "wWw.ExAmPlE.cOm."


def test_names_are_compressed(example_server: RunningServer) -> None:
    query = dns.message.make_query("legacy.example.com", "A", use_edns=False)
    reply = example_server.raw_udp(query.to_wire())
    assert reply is not None
    question_end = 12 + len(b"\x06legacy\x07example\x03com\x00") + 4
    # Each answer owner is a pointer to the question name at offset 12.
    assert reply[question_end : question_end + 2] == b"\xc0\x0c"
    assert reply.count(b"\x07example\x03com") == 1


def test_nxdomain_carries_soa_with_negative_ttl(example_server: RunningServer) -> None:
    reply = example_server.ask("nothing-here.example.com", "A")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert reply.flags & dns.flags.AA
    assert reply.answer == []
    [soa] = rrs(reply, "authority")
    assert soa[0:3] == ("example.com.", "SOA", 60)  # min(SOA TTL 300, minimum 60), RFC 2308


def test_nodata_carries_soa(example_server: RunningServer) -> None:
    reply = example_server.ask("mail.example.com", "AAAA")
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.answer == []
    assert [r[1] for r in rrs(reply, "authority")] == ["SOA"]


def test_per_name_ttl(example_server: RunningServer) -> None:
    assert rrs(example_server.ask("mail.example.com", "A")) == [("mail.example.com.", "A", 3600, "192.0.2.25")]


@pytest.mark.parametrize(
    ("qname", "expected"),
    [
        ("a.static.example.com", "a.static.example.com."),
        ("deep.er.static.example.com", "deep.er.static.example.com."),
    ],
)
def test_wildcard_synthesises_the_owner(example_server: RunningServer, qname: str, expected: str) -> None:
    reply = example_server.ask(qname, "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert rrs(reply) == [(expected, "CNAME", 300, "cdn.example.net.")]


def test_empty_non_terminal_is_nodata_not_nxdomain(example_server: RunningServer) -> None:
    # static.example.com exists only because *.static.example.com does (RFC 4592 section 2.2.2).
    reply = example_server.ask("static.example.com", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.answer == []
    # _tcp.example.com is an empty non-terminal above _sip._tcp: also NODATA, and no wildcard applies.
    assert example_server.ask("_tcp.example.com", "TXT").rcode() == dns.rcode.NOERROR


def test_wildcard_does_not_apply_where_a_name_exists(example_server: RunningServer) -> None:
    reply = example_server.ask("*.static.example.com", "TXT")
    assert reply.rcode() == dns.rcode.NOERROR
    assert rrs(reply) == [("*.static.example.com.", "CNAME", 300, "cdn.example.net.")]


def test_cname_chain_is_followed_inside_the_zone(example_server: RunningServer) -> None:
    # docs -> www, and www is steered: a client in Seoul gets the Seoul pool (service ttl 30).
    reply = example_server.ask("docs.example.com", "A", source=SEOUL)
    assert rrs(reply) == [
        ("docs.example.com.", "CNAME", 300, "www.example.com."),
        ("www.example.com.", "A", 30, "192.0.2.10"),
        ("www.example.com.", "A", 30, "192.0.2.11"),
    ]
    # Asking for the CNAME itself returns just the CNAME.
    assert rrs(example_server.ask("docs.example.com", "CNAME")) == [
        ("docs.example.com.", "CNAME", 300, "www.example.com.")
    ]


def test_referral_has_no_aa_ns_in_authority_and_glue(example_server: RunningServer) -> None:
    reply = example_server.ask("host.sub.example.com", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert not reply.flags & dns.flags.AA
    assert reply.answer == []
    assert rrs(reply, "authority") == [
        ("sub.example.com.", "NS", 300, "ns.example.net."),
        ("sub.example.com.", "NS", 300, "ns1.sub.example.com."),
    ]
    assert rrs(reply, "additional") == [("ns1.sub.example.com.", "A", 300, "192.0.2.54")]


def test_mx_answer_adds_in_zone_addresses(example_server: RunningServer) -> None:
    reply = example_server.ask("example.com", "MX")
    assert rrs(reply) == [("example.com.", "MX", 300, "10 mail.example.com.")]
    assert rrs(reply, "additional") == [("mail.example.com.", "A", 3600, "192.0.2.25")]


@pytest.mark.parametrize(
    ("rdtype", "text"),
    [("TXT", '"v=spf1 -all"'), ("CAA", '0 issue "letsencrypt.org"')],
)
def test_static_types_at_the_apex(example_server: RunningServer, rdtype: str, text: str) -> None:
    assert rrs(example_server.ask("example.com", rdtype)) == [("example.com.", rdtype, 300, text)]


def test_srv_and_ptr(example_server: RunningServer) -> None:
    srv = example_server.ask("_sip._tcp.example.com", "SRV")
    assert rrs(srv) == [("_sip._tcp.example.com.", "SRV", 300, "10 60 5060 sip.example.com.")]
    assert rrs(srv, "additional") == [("sip.example.com.", "A", 300, "192.0.2.60")]
    ptr = example_server.ask("1.2.0.192.in-addr.example.com", "PTR")
    assert rrs(ptr) == [("1.2.0.192.in-addr.example.com.", "PTR", 300, "mail.example.com.")]


def test_name_outside_every_zone_is_refused(example_server: RunningServer) -> None:
    reply = example_server.ask("www.example.org", "A")
    assert reply.rcode() == dns.rcode.REFUSED
    assert not reply.flags & dns.flags.AA
    assert reply.answer == reply.authority == []


def test_other_opcode_is_notimp(example_server: RunningServer) -> None:
    query = dns.message.make_query("www.example.com", "A")
    query.set_opcode(dns.opcode.STATUS)
    reply = example_server.udp(query)
    assert reply.rcode() == dns.rcode.NOTIMP
    assert reply.opcode() == dns.opcode.STATUS


@pytest.mark.parametrize("opcode", [2, 3, 7, 15])  # STATUS, unassigned, DSO (RFC 8490), unassigned
def test_header_only_query_with_an_unknown_opcode_is_notimp(example_server: RunningServer, opcode: int) -> None:
    """No question at all: NOTIMP, not FORMERR, as BIND and Knot answer (the header is all there is)."""
    packet = struct.pack("!HHHHHH", 0x2468, opcode << 11, 0, 0, 0, 0)
    reply = example_server.raw_udp(packet)
    assert reply is not None
    assert reply[:2] == b"\x24\x68"
    assert reply[2] & 0x80  # QR
    assert (reply[2] >> 3) & 0x0F == opcode
    assert reply[3] & 0x0F == dns.rcode.NOTIMP
    assert reply[4:12] == bytes(8)  # no question, no records
    assert len(reply) == 12


def test_dig_header_only_with_an_unknown_opcode_gets_notimp(example_server: RunningServer) -> None:
    import shutil
    import subprocess

    if shutil.which("dig") is None:
        pytest.fail("dig is not installed (make test installs it)")
    out = subprocess.run(
        ["dig", f"@{example_server.host}", "-p", str(example_server.port), "+header-only", "+opcode=15",
         "+noedns", "+time=2", "+tries=1"],
        capture_output=True, text=True, timeout=20,
    ).stdout
    assert "opcode: RESERVED15, status: NOTIMP" in out, out
    assert "QUERY: 0, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0" in out, out


def test_unknown_opcode_with_two_questions_is_notimp_without_a_question(example_server: RunningServer) -> None:
    question = b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    reply = example_server.raw_udp(struct.pack("!HHHHHH", 7, 2 << 11, 2, 0, 0, 0) + question * 2)
    assert reply is not None
    assert reply[3] & 0x0F == dns.rcode.NOTIMP
    assert reply[4:6] == b"\x00\x00"


@pytest.mark.parametrize("qdcount", [0, 2])
def test_question_count_other_than_one_is_formerr(example_server: RunningServer, qdcount: int) -> None:
    question = b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    packet = struct.pack("!HHHHHH", 0x1234, 0, qdcount, 0, 0, 0) + question * qdcount
    reply = example_server.raw_udp(packet)
    assert reply is not None
    assert reply[:2] == b"\x12\x34"
    assert reply[3] & 0x0F == dns.rcode.FORMERR
    assert reply[2] & 0x80  # QR


def test_unparsable_question_is_formerr(example_server: RunningServer) -> None:
    packet = struct.pack("!HHHHHH", 0x4321, 0, 1, 0, 0, 0) + b"\x03www\x07exa"
    reply = example_server.raw_udp(packet)
    assert reply is not None
    assert reply[:2] == b"\x43\x21"
    assert reply[3] & 0x0F == dns.rcode.FORMERR


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"\x12\x34\x01",  # shorter than a header
        dns.message.make_response(dns.message.make_query("www.example.com", "A")).to_wire(),  # QR=1
    ],
    ids=["empty", "short-header", "qr-set"],
)
def test_silence_for_responses_and_broken_headers(example_server: RunningServer, packet: bytes) -> None:
    assert example_server.raw_udp(packet, timeout=0.5) is None
    # ...and the server is still answering.
    assert example_server.ask("www.example.com").rcode() == dns.rcode.NOERROR


@pytest.mark.parametrize("rdtype", ["AXFR", "IXFR"])
def test_zone_transfers_are_refused(example_server: RunningServer, rdtype: str) -> None:
    query = dns.message.make_query("example.com", rdtype)
    assert example_server.tcp(query).rcode() == dns.rcode.REFUSED


def test_edns_reply_has_our_payload_size_and_echoes_do(example_server: RunningServer) -> None:
    reply = example_server.ask("www.example.com", "A", use_edns=0, payload=4096, want_dnssec=True)
    assert reply.edns == 0
    assert reply.payload == 1232
    assert reply.ednsflags & dns.flags.DO
    plain = example_server.ask("www.example.com", "A", use_edns=False)
    assert plain.edns == -1  # no OPT in, no OPT out


def test_edns_version_above_zero_is_badvers(example_server: RunningServer) -> None:
    reply = example_server.ask("www.example.com", "A", use_edns=1)
    assert reply.rcode() == dns.rcode.BADVERS
    assert reply.edns == 0
    assert reply.answer == []


def test_two_opt_records_are_formerr(example_server: RunningServer) -> None:
    wire = dns.message.make_query("www.example.com", "A", use_edns=0).to_wire()
    opt = wire[-11:]
    assert opt[:3] == b"\x00\x00\x29"
    doubled = bytearray(wire + opt)
    doubled[11] = 2  # ARCOUNT
    reply = example_server.raw_udp(bytes(doubled))
    assert reply is not None
    assert reply[3] & 0x0F == dns.rcode.FORMERR


def test_unknown_edns_options_are_ignored(example_server: RunningServer) -> None:
    option = dns.edns.GenericOption(65001, b"hello")
    reply = example_server.ask("legacy.example.com", "A", use_edns=0, options=[option])
    assert reply.rcode() == dns.rcode.NOERROR
    assert len(reply.answer[0]) == 2
    assert list(reply.options) == []


def test_any_gets_a_minimal_answer(example_server: RunningServer) -> None:
    reply = example_server.ask("example.com", "ANY")
    assert reply.rcode() == dns.rcode.NOERROR
    assert len(reply.answer) == 1  # one RRset, RFC 8482


def test_nsid_and_chaos_identity(example_server: RunningServer) -> None:
    reply = example_server.ask("www.example.com", "A", use_edns=0, options=[dns.edns.GenericOption(3, b"")])
    [nsid] = [o for o in reply.options if o.otype == 3]
    assert nsid.to_wire() == b"ns-test-1"
    for name in ("id.server", "hostname.bind"):
        chaos = example_server.udp(dns.message.make_query(name, "TXT", rdclass=dns.rdataclass.CH))
        assert chaos.rcode() == dns.rcode.NOERROR
        assert [r.to_text() for r in chaos.answer[0]] == ['"ns-test-1"']
    version = example_server.udp(dns.message.make_query("version.bind", "TXT", rdclass=dns.rdataclass.CH))
    assert version.rcode() == dns.rcode.REFUSED
    assert version.answer == []


def test_no_nsid_option_unless_asked(example_server: RunningServer) -> None:
    reply = example_server.ask("www.example.com", "A", use_edns=0)
    assert list(reply.options) == []
