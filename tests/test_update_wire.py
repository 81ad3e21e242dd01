"""The UPDATE parser, record data decoding and TSIG, checked against dnspython's own implementation.

dnspython builds and signs the requests and verifies our signed replies, so both directions of
TSIG are checked by code that is not ours. Malformed messages of every kind end in
UpdateFormatError or DropPacket, never in any other exception.
"""

from __future__ import annotations

import base64
import struct
import time

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gslb.wire.constants import RRClass, RRType, TsigError
from gslb.wire.message import DropPacket
from gslb.wire.name import Name
from gslb.wire.rdata_wire import canonical, decode_rdata
from gslb.wire.tsig import TsigKey, check_request, sign_reply
from gslb.wire.update import UpdateFormatError, parse_update, render_update_reply

SECRET = b"0123456789abcdef0123456789abcdef"
KEYRING = {alg: dns.tsigkeyring.from_text({"acme.": (alg, base64.b64encode(SECRET).decode())})
           for alg in ("hmac-sha256", "hmac-sha512")}


def key(algorithm: str = "hmac-sha256", secret: bytes = SECRET, name: str = "acme.") -> TsigKey:
    return TsigKey(Name.from_text(name), Name.from_text(algorithm + "."), secret)


def signed_update(algorithm: str = "hmac-sha256", **sign: object) -> dns.update.UpdateMessage:
    update = dns.update.UpdateMessage("example.com", keyring=KEYRING[algorithm], keyalgorithm=algorithm)
    update.add("_acme-challenge.www", 60, "TXT", '"token-1"', '"two" "strings"')
    update.delete("old", "TXT")
    update.delete("gone")
    update.delete("one", "A", "192.0.2.1")
    update.present("www")
    update.absent("nothing", "AAAA")
    if sign:
        update.use_tsig(KEYRING[algorithm], algorithm=algorithm, **sign)
    return update


def test_every_section_is_read() -> None:
    message = parse_update(signed_update().to_wire())
    assert message.zone.name == Name.from_text("example.com")
    assert (message.zone.ztype, message.zone.zclass) == (RRType.SOA, RRClass.IN)
    assert [(r.name.text, r.rtype, r.rclass, r.ttl, r.rdata.text if r.rdata else None) for r in message.updates] == [
        ("_acme-challenge.www.example.com.", RRType.TXT, RRClass.IN, 60, '"token-1"'),
        ("_acme-challenge.www.example.com.", RRType.TXT, RRClass.IN, 60, '"two" "strings"'),
        ("old.example.com.", RRType.TXT, RRClass.ANY, 0, None),
        ("gone.example.com.", RRType.ANY, RRClass.ANY, 0, None),
        ("one.example.com.", RRType.A, RRClass.NONE, 0, "192.0.2.1"),
    ]
    assert [(r.name.text, r.rtype, r.rclass) for r in message.prerequisites] == [
        ("www.example.com.", RRType.ANY, RRClass.ANY), ("nothing.example.com.", RRType.AAAA, RRClass.NONE)]
    assert message.tsig is not None and message.tsig.key == Name.from_text("acme.")


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "hmac-sha512"])
def test_a_dnspython_signature_verifies_and_dnspython_verifies_our_reply(algorithm: str) -> None:
    request = signed_update(algorithm)
    wire = request.to_wire()
    message = parse_update(wire)
    assert message.tsig is not None
    now = int(time.time())
    check = check_request(wire, message.tsig, key(algorithm), now)
    assert check.ok
    reply = sign_reply(render_update_reply(message.header, message.zone, 0), key(algorithm), message.tsig, check, now)
    parsed = dns.message.from_wire(reply, keyring=KEYRING[algorithm], request_mac=request.mac)
    assert parsed.had_tsig and parsed.rcode() == dns.rcode.NOERROR and parsed.id == request.id


def test_a_wrong_secret_is_badsig_and_the_reply_is_unsigned() -> None:
    wire = signed_update().to_wire()
    message = parse_update(wire)
    assert message.tsig is not None
    check = check_request(wire, message.tsig, key(secret=b"x" * 32), int(time.time()))
    assert check.error == TsigError.BADSIG and not check.signed_reply
    reply = sign_reply(render_update_reply(message.header, message.zone, 9), key(), message.tsig, check, 0)
    unverified = dns.message.from_wire(reply, keyring=False)  # read the TSIG without checking it
    assert unverified.tsig is not None and unverified.tsig[0].error == TsigError.BADSIG
    assert unverified.tsig[0].mac == b""
    with pytest.raises(dns.tsig.PeerBadSignature):
        dns.message.from_wire(reply, keyring=KEYRING["hmac-sha256"], request_mac=b"")


def test_an_unknown_key_or_another_algorithm_is_badkey() -> None:
    wire = signed_update().to_wire()
    message = parse_update(wire)
    assert message.tsig is not None
    assert check_request(wire, message.tsig, None, int(time.time())).error == TsigError.BADKEY
    assert check_request(wire, message.tsig, key("hmac-sha512"), int(time.time())).error == TsigError.BADKEY


def test_a_changed_byte_is_badsig() -> None:
    wire = bytearray(signed_update().to_wire())
    wire[wire.index(b"token-1")] ^= 0x20
    message = parse_update(bytes(wire))
    assert message.tsig is not None
    assert check_request(bytes(wire), message.tsig, key(), int(time.time())).error == TsigError.BADSIG


def test_a_time_outside_the_fudge_is_badtime_signed_with_the_request_time() -> None:
    request = signed_update(fudge=300)
    wire = request.to_wire()
    message = parse_update(wire)
    assert message.tsig is not None
    now = message.tsig.time_signed + 301
    check = check_request(wire, message.tsig, key(), now)
    assert check.error == TsigError.BADTIME and check.signed_reply
    reply = sign_reply(render_update_reply(message.header, message.zone, 9), key(), message.tsig, check, now)
    parsed = dns.message.from_wire(reply, keyring=False)
    rdata = parsed.tsig[0]
    assert rdata.error == TsigError.BADTIME and rdata.time_signed == message.tsig.time_signed
    assert rdata.other == struct.pack("!HI", now >> 32, now & 0xFFFFFFFF)
    # The MAC verifies with dnspython's digest (its validate() stops at the error field first).
    body = reply[:tsig_start(reply)]
    unsigned = body[:10] + struct.pack("!H", struct.unpack_from("!H", body, 10)[0] - 1) + body[12:]
    dnskey = dns.tsig.Key("acme.", SECRET, "hmac-sha256")
    dns.tsig._digest(unsigned, dnskey, rdata, None, request.mac).verify(rdata.mac)
    assert check_request(wire, message.tsig, key(), message.tsig.time_signed - 300).ok


def tsig_start(reply: bytes) -> int:
    """Where the TSIG record (the last one) starts in one of our replies: after zone and OPT."""
    zone_end = 12 + reply[12:].index(b"\x00\x00\x06\x00\x01") + 5
    return zone_end


def test_a_truncated_mac_is_badtrunc_or_formerr_by_its_length() -> None:
    wire = signed_update().to_wire()
    message = parse_update(wire)
    assert message.tsig is not None
    start = message.tsig.start
    # SHA-256: 32 bytes. At least 16 (half) may be sent; this server wants all of them.
    for mac, expected in ((message.tsig.mac[:20], "BADTRUNC"), (message.tsig.mac[:16], "BADTRUNC"),
                          (message.tsig.mac[:15], "FORMERR"), (message.tsig.mac[:9], "FORMERR"),
                          (message.tsig.mac + b"x", "FORMERR"), (bytes(20), "BADSIG")):
        changed = _with_mac(wire, start, mac)
        tsig = parse_update(changed).tsig
        assert tsig is not None
        check = check_request(changed, tsig, key(), int(time.time()))
        assert ("FORMERR" if check.formerr else TsigError(check.error).name) == expected, len(mac)


def _with_mac(wire: bytes, start: int, mac: bytes) -> bytes:
    """The message with its TSIG MAC replaced (the record's lengths adjusted)."""
    algorithm_end = start + len(Name.from_text("acme.").wire) + 10 + len(Name.from_text("hmac-sha256.").wire)
    fixed = algorithm_end + 8  # time (6) and fudge (2)
    old_size = struct.unpack_from("!H", wire, fixed)[0]
    rest = wire[fixed + 2 + old_size:]
    rdlength_at = start + len(Name.from_text("acme.").wire) + 8
    new = wire[:fixed] + struct.pack("!H", len(mac)) + mac + rest
    rdlength = struct.unpack_from("!H", wire, rdlength_at)[0] - old_size + len(mac)
    return new[:rdlength_at] + struct.pack("!H", rdlength) + new[rdlength_at + 2:]


@pytest.mark.parametrize(("rtype", "text"), [
    ("A", "192.0.2.1"), ("AAAA", "2001:db8::1"), ("TXT", '"a b" "c\\"d" "\\255"'), ("MX", "10 mail.example.com."),
    ("SRV", "1 2 443 host.example.com."), ("CNAME", "target.example.com."), ("PTR", "host.example.com."),
    ("CAA", '0 issue "letsencrypt.org"'), ("NS", "ns1.example.com."),
])
def test_record_data_decodes_to_what_dnspython_wrote(rtype: str, text: str) -> None:
    update = dns.update.UpdateMessage("example.com")
    update.add("x", 60, rtype, text)
    message = parse_update(update.to_wire())
    rdata = message.updates[0].rdata
    assert rdata is not None
    expected = dns.rdata.from_text("IN", rtype, text)
    assert canonical(rdata) == expected.to_digestable()
    again = dns.rdata.from_text("IN", rtype, rdata.text)
    assert again == expected
    assert decode_rdata(dns.rdatatype.from_text(rtype), canonical(rdata), 0, len(canonical(rdata))) == rdata


@pytest.mark.parametrize(("data", "reason"), [
    (b"\x00\x01\x28\x00\x00\x02\x00\x00\x00\x00\x00\x00", "2 zones"),
    (b"\x00\x01\x28\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example", "zone name"),
    (b"\x00\x01\x28\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x06", "truncated"),
    (b"\x00\x01\x28\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x06\x00\x01", "runs past the end"),
    (b"\x00\x01\x28\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x06\x00\x01\x00\x00\x01\x00\x01\x00\x00\x00\x3c"
     b"\x00\x03\x01\x02\x03", "A data of 3 bytes"),
    (b"\x00\x01\x28\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x06\x00\x01\x00\x00\x10\x00\x01\x00\x00\x00\x3c"
     b"\x00\x02\x05a", "runs past"),
    (b"\x00\x01\x28\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x01\xff", "after the last record"),
])
def test_malformed_updates_are_format_errors(data: bytes, reason: str) -> None:
    with pytest.raises(UpdateFormatError, match=reason):
        parse_update(data)


def test_tsig_must_be_last() -> None:
    update = signed_update()
    wire = update.to_wire()
    message = parse_update(wire)
    assert message.tsig is not None
    opt = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
    arcount = struct.unpack_from("!H", wire, 10)[0] + 1
    moved = wire[:10] + struct.pack("!H", arcount) + wire[12:] + opt
    with pytest.raises(UpdateFormatError, match="not the last"):
        parse_update(moved)


def test_a_response_is_dropped() -> None:
    with pytest.raises(DropPacket):
        parse_update(b"\x00\x01\xa8\x00" + b"\x00" * 8)


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=12, max_size=300), st.integers(0, 299), st.binary(max_size=4))
def test_nothing_but_format_errors_come_out_of_damaged_messages(noise: bytes, at: int, patch: bytes) -> None:
    base = signed_update().to_wire()
    for data in (noise, base[:at] + patch + base[at + len(patch):], base[:at]):
        try:
            message = parse_update(data)
        except (UpdateFormatError, DropPacket):
            continue
        if message.tsig is not None:
            check_request(data, message.tsig, key(), int(time.time()))


@pytest.mark.parametrize(("ztype", "zclass", "echoed"), [(6, 1, True), (1, 1, False), (6, 255, False)])
def test_the_reply_echoes_only_a_zone_section_clients_can_read(ztype: int, zclass: int, echoed: bool) -> None:
    wire = dns.update.UpdateMessage("example.com").to_wire()
    wire = wire[:-4] + struct.pack("!HH", ztype, zclass)
    message = parse_update(wire)
    reply = render_update_reply(message.header, message.zone, 1)
    parsed = dns.message.from_wire(reply)
    assert (len(parsed.zone) == 1) is echoed and parsed.rcode() == dns.rcode.FORMERR
