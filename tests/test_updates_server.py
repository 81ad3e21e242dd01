"""Dynamic updates against the real server: BIND's nsupdate and dig, dnspython, raw bytes.

Each test starts `gslb serve` on loopback with the dyn.test zone, its TSIG keys and policy
(tests/updates_zone.py). Every refused or failed update is checked to have changed nothing:
the records, the SOA serial and the journal stay as they were, and the server keeps answering.
"""

from __future__ import annotations

import json
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import dns.message
import dns.query
import dns.rcode
import dns.tsig
import pytest

from tests.harness import RunningServer, start_server, wait_for
from tests.http_api import call_api, scrape_metrics
from tests.updates_zone import (
    KEYRING,
    OPS_KEYRING,
    OPS_SECRET,
    ZONE,
    dig,
    nsupdate,
    rcode,
    send,
    update,
    updates_config,
    zones_dir,
)

CHALLENGE = f"_acme-challenge.www.{ZONE}."


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path, zones_dir(tmp_path), updates_config(tmp_path))
    yield running
    running.stop()


def serial(server: RunningServer) -> int:
    reply = server.ask(ZONE, "SOA")
    return reply.answer[0][0].serial


def txt(server: RunningServer, name: str = CHALLENGE, tcp: bool = False) -> tuple[str, list[str]]:
    """The RCODE and the TXT strings dig gets, over UDP or TCP."""
    out = dig(server, name, "TXT", tcp=tcp).stdout
    status = out.split("status: ", 1)[1].split(",", 1)[0]
    answers = [line.split("TXT", 1)[1].strip() for line in out.splitlines()
               if line and not line.startswith(";") and "\tTXT\t" in line]
    return status, answers


def journal(server: RunningServer) -> dict:
    path = server.workdir / "state" / "updates" / f"{ZONE}.json"
    return json.loads(path.read_text()) if path.exists() else {}


# -- the nsupdate round trip --------------------------------------------------------------------


def test_nsupdate_adds_a_challenge_dig_sees_it_over_udp_and_tcp_then_it_is_deleted(server: RunningServer) -> None:
    before = serial(server)
    added = nsupdate(server, f'update add {CHALLENGE} 60 TXT "token-one"\nupdate add {CHALLENGE} 60 TXT "token-two"')
    assert added.returncode == 0, added.stdout + added.stderr
    assert "status: NOERROR" in added.stdout
    assert txt(server) == ("NOERROR", ['"token-one"', '"token-two"'])
    assert txt(server, tcp=True) == ("NOERROR", ['"token-one"', '"token-two"'])
    assert serial(server) > before
    nodata = dig(server, CHALLENGE, "A").stdout
    assert "status: NOERROR" in nodata and "ANSWER: 0" in nodata and "AUTHORITY: 1" in nodata  # NODATA
    after_add = serial(server)

    one = nsupdate(server, f'update delete {CHALLENGE} TXT "token-one"', tcp=True)  # over TCP this time
    assert one.returncode == 0, one.stdout + one.stderr
    assert txt(server, tcp=True) == ("NOERROR", ['"token-two"'])
    every = nsupdate(server, f"update delete {CHALLENGE} TXT")
    assert every.returncode == 0, every.stdout + every.stderr
    assert txt(server) == ("NXDOMAIN", [])
    assert txt(server, tcp=True) == ("NXDOMAIN", [])
    assert serial(server) == after_add + 2
    assert journal(server)["rrsets"] == []
    log = server.log_text()
    assert f"update NOERROR: zone {ZONE}. key acme. from 127.0.0.1 (udp): add {CHALLENGE} TXT" in log
    assert f"update NOERROR: zone {ZONE}. key acme. from 127.0.0.1 (tcp): delete {CHALLENGE} TXT record" in log


def test_nodata_when_the_name_keeps_other_records(server: RunningServer) -> None:
    keyring = f"hmac-sha512:ops.key:{OPS_SECRET}"
    assert nsupdate(server, f"update add host.{ZONE}. 60 A 192.0.2.7\nupdate add host.{ZONE}. 60 TXT \"t\"",
                    key=keyring).returncode == 0
    assert nsupdate(server, f"update delete host.{ZONE}. TXT", key=keyring).returncode == 0
    assert txt(server, f"host.{ZONE}.") == ("NOERROR", [])
    assert "192.0.2.7" in dig(server, f"host.{ZONE}.", "A").stdout


# -- refusals: each with its RCODE, each changing nothing ---------------------------------------


def assert_badtime(reply: bytes | None, request_mac: bytes) -> None:
    """NOTAUTH with a signed BADTIME TSIG that carries the server's clock (RFC 8945 section 5.2.3)."""
    assert reply is not None
    with pytest.raises(dns.tsig.PeerBadTime):  # dnspython reads the error before it would check the time
        dns.message.from_wire(reply, keyring=KEYRING, request_mac=request_mac)
    parsed = dns.message.from_wire(reply, keyring=False)
    tsig = parsed.tsig[0]
    assert parsed.rcode() == dns.rcode.NOTAUTH and tsig.error == dns.rcode.BADTIME and len(tsig.mac) == 32
    server_time = struct.unpack("!HI", tsig.other)
    assert abs((server_time[0] << 32 | server_time[1]) - time.time()) < 5


def unchanged(server: RunningServer, snapshot: tuple[int, tuple[str, list[str]], dict]) -> None:
    assert (serial(server), txt(server), journal(server)) == snapshot
    assert server.alive()


def test_a_wrong_key_a_wrong_time_a_name_outside_the_policy_and_a_steered_name_are_refused(
        server: RunningServer) -> None:
    assert nsupdate(server, f'update add {CHALLENGE} 60 TXT "kept"').returncode == 0
    snapshot = (serial(server), txt(server), journal(server))

    wrong_secret = nsupdate(server, f'update add {CHALLENGE} 60 TXT "evil"',
                            key="hmac-sha256:acme:d3Jvbmctc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWYwMTI=")
    assert "update failed: NOTAUTH(BADSIG)" in wrong_secret.stdout + wrong_secret.stderr
    unchanged(server, snapshot)

    unknown_key = nsupdate(server, f'update add {CHALLENGE} 60 TXT "evil"',
                           key="hmac-sha256:stranger:d3Jvbmctc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWYwMTI=")
    assert "update failed: NOTAUTH(BADKEY)" in unknown_key.stdout + unknown_key.stderr
    unchanged(server, snapshot)

    late = update()
    late.add(CHALLENGE, 60, "TXT", '"from the past"')
    with mock.patch("time.time", return_value=time.time() - 3600):
        wire = late.to_wire()
    assert_badtime(server.raw_udp(wire), late.mac)
    unchanged(server, snapshot)

    outside = nsupdate(server, f'update add other.{ZONE}. 60 TXT "evil"')
    assert "update failed: REFUSED" in outside.stdout + outside.stderr
    unchanged(server, snapshot)

    steered = nsupdate(server, f"update add www.{ZONE}. 60 A 192.0.2.66",
                       key=f"hmac-sha512:ops.key:{OPS_SECRET}")
    assert "update failed: REFUSED" in steered.stdout + steered.stderr
    unchanged(server, snapshot)
    assert [line for line in dig(server, f"www.{ZONE}.", "A").stdout.splitlines() if "\tA\t" in line] == [
        f"www.{ZONE}.\t\t30\tIN\tA\t192.0.2.10"]

    unsigned = nsupdate(server, f'update add {CHALLENGE} 60 TXT "evil"', key="")
    assert "update failed: REFUSED" in unsigned.stdout + unsigned.stderr
    unchanged(server, snapshot)
    log = server.log_text()
    for result in ("BADSIG", "BADKEY", "BADTIME", "REFUSED"):
        assert f"update {result}: zone {ZONE}." in log


@pytest.mark.parametrize("tcp", [False, True])
def test_updates_the_file_owns_are_refused_whole(server: RunningServer, tcp: bool) -> None:
    snapshot = (serial(server), txt(server), journal(server))
    for build in (
        lambda m: m.add("legacy", 60, "TXT", '"x"'),
        lambda m: m.delete("@", "NS"),
        lambda m: m.add("@", 60, "TXT", '"x"'),
        lambda m: m.add("_acme-challenge.a.sub", 60, "TXT", '"x"'),
        lambda m: m.delete("ns1"),
    ):
        message = update(OPS_KEYRING, "hmac-sha512")
        message.add("ok.dyn", 60, "TXT", '"would be fine alone"')
        build(message)
        assert rcode(send(server, message, tcp=tcp)) == "REFUSED"
        unchanged(server, snapshot)


def test_prerequisites_decide_and_a_failed_one_changes_nothing(server: RunningServer) -> None:
    message = update()
    message.absent(CHALLENGE)
    message.add(CHALLENGE, 60, "TXT", '"first"')
    assert rcode(send(server, message)) == "NOERROR"
    again = update()
    again.absent(CHALLENGE)  # now it exists: YXDOMAIN, and the add beside it is not made
    again.add(CHALLENGE, 60, "TXT", '"second"')
    assert rcode(send(server, again)) == "YXDOMAIN"
    assert txt(server) == ("NOERROR", ['"first"'])
    swap = update()
    swap.present(CHALLENGE, "TXT", '"first"')
    swap.delete(CHALLENGE, "TXT", '"first"')
    swap.add(CHALLENGE, 60, "TXT", '"second"')
    assert rcode(send(server, swap, tcp=True)) == "NOERROR"
    assert txt(server) == ("NOERROR", ['"second"'])
    stale = update()
    stale.present(CHALLENGE, "TXT", '"first"')
    stale.delete(CHALLENGE, "TXT")
    assert rcode(send(server, stale)) == "NXRRSET"
    assert txt(server) == ("NOERROR", ['"second"'])


def test_an_update_for_a_zone_not_served_is_notauth(server: RunningServer) -> None:
    message = dns.update.UpdateMessage("elsewhere.test", keyring=KEYRING)
    message.add("_acme-challenge", 60, "TXT", '"x"')
    assert rcode(send(server, message)) == "NOTAUTH"


def test_a_replayed_older_signature_is_badtime(server: RunningServer) -> None:
    now = time.time()
    first = update()
    first.add(CHALLENGE, 60, "TXT", '"now"')
    assert rcode(send(server, first)) == "NOERROR"
    older = update()
    older.add(CHALLENGE, 60, "TXT", '"ten seconds ago"')
    with mock.patch("time.time", return_value=now - 10):
        wire = older.to_wire()
    assert_badtime(server.raw_udp(wire), older.mac)
    assert txt(server) == ("NOERROR", ['"now"'])


# -- malformed messages ------------------------------------------------------------------------


def raw_tcp(server: RunningServer, payload: bytes) -> bytes | None:
    with socket.create_connection((server.host, server.port), timeout=3) as sock:
        sock.sendall(len(payload).to_bytes(2, "big") + payload)
        try:
            head = sock.recv(2)
            if len(head) < 2:
                return None
            length = struct.unpack("!H", head)[0]
            data = b""
            while len(data) < length:
                chunk = sock.recv(length - len(data))
                if not chunk:
                    break
                data += chunk
            return data
        except TimeoutError:
            return None


def test_malformed_updates_get_formerr_and_change_nothing(server: RunningServer) -> None:
    snapshot = (serial(server), txt(server), journal(server))
    good = update()
    good.add(CHALLENGE, 60, "TXT", '"x"')
    wire = good.to_wire()
    cases = {
        "two zones": b"\x12\x34\x28\x00\x00\x02" + b"\x00" * 6,
        "truncated zone": b"\x12\x34\x28\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03dyn",
        "record past the end": wire[:-60],
        "bytes after the end": wire + b"\x00",
        "a bad A record": b"\x12\x34\x28\x00\x00\x01\x00\x00\x00\x01\x00\x00" + b"\x03dyn\x04test\x00\x00\x06\x00\x01"
                          + b"\x01x\x03dyn\x04test\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x03\x01\x02\x03",
    }
    for name, payload in cases.items():
        for reply in (server.raw_udp(payload), raw_tcp(server, payload)):
            assert reply is not None, name
            flags = struct.unpack("!H", reply[2:4])[0]
            assert flags & 0x8000 and (flags >> 11) & 0xF == 5 and flags & 0xF == dns.rcode.FORMERR, name
    assert server.raw_udp(b"\x12\x34\x28") is None  # shorter than a header: silence
    assert server.raw_udp(b"\x12\x34\xa8\x00" + b"\x00" * 8) is None  # a response: silence
    unchanged(server, snapshot)
    assert "Traceback" not in server.log_text()


def test_a_changed_byte_in_a_signed_update_is_badsig(server: RunningServer) -> None:
    message = update()
    message.add(CHALLENGE, 60, "TXT", '"token-one"')
    wire = bytearray(message.to_wire())
    wire[wire.index(b"token-one")] = ord("T")
    reply = server.raw_udp(bytes(wire))
    assert reply is not None
    parsed = dns.message.from_wire(reply, keyring=False)
    assert parsed.rcode() == dns.rcode.NOTAUTH and parsed.tsig[0].error == dns.rcode.BADSIG
    assert txt(server) == ("NXDOMAIN", [])


# -- restarts and reloads -----------------------------------------------------------------------


def test_dynamic_records_survive_a_restart_and_reloads(tmp_path: Path) -> None:
    zones = zones_dir(tmp_path)
    server = start_server(tmp_path, zones, updates_config(tmp_path))
    try:
        assert nsupdate(server, f'update add {CHALLENGE} 60 TXT "survivor"').returncode == 0
        served = serial(server)
    finally:
        server.stop()
    server = start_server(tmp_path, zones, updates_config(tmp_path), env={"GSLB_TOKEN": "reload-token"})
    try:
        assert txt(server) == ("NOERROR", ['"survivor"'])
        assert serial(server) == served
        server.signal(signal.SIGHUP)
        wait_for(lambda: server.log_text().count("reload done") >= 2, timeout=10)
        assert txt(server) == ("NOERROR", ['"survivor"'])
        assert serial(server) == served
        text = (zones / f"{ZONE}.yaml").read_text().replace("records:\n", "records:\n  added: {A: 192.0.2.44}\n")
        (zones / f"{ZONE}.yaml").write_text(text)
        status, _ = call_api(server, "POST", "/v1/reload", token="reload-token")
        assert status == 200
        assert txt(server, tcp=True) == ("NOERROR", ['"survivor"'])
        assert "192.0.2.44" in dig(server, f"added.{ZONE}.", "A").stdout
        assert serial(server) > served  # the file changed: above the dynamic serial
    finally:
        server.stop()


# -- visibility -----------------------------------------------------------------------------------


def test_status_records_and_explain_show_dynamic_records_and_their_key(server: RunningServer) -> None:
    assert nsupdate(server, f'update add {CHALLENGE} 60 TXT "seen"').returncode == 0
    _, status = call_api(server, "GET", "/status")
    assert status["updates"]["keys"] == ["acme.", "ops.key."]
    assert status["updates"]["shared"] == {"kind": "local", "connected": True}
    assert status["updates"]["results"] == {"NOERROR": 1}
    [record] = status["updates"]["records"]
    assert {k: record[k] for k in ("zone", "name", "type", "ttl", "data", "source", "key")} == {
        "zone": f"{ZONE}.", "name": CHALLENGE, "type": "TXT", "ttl": 60, "data": ['"seen"'], "source": "dynamic",
        "key": "acme."}
    assert [z["dynamic_records"] for z in status["zones"]] == [1]

    code, listing = call_api(server, "GET", f"/v1/records/{ZONE}")
    assert code == 200 and listing["zone"] == f"{ZONE}."
    by_source = {(r["name"], r.get("type"), r["source"]) for r in listing["records"]}
    assert (CHALLENGE, "TXT", "dynamic") in by_source and (f"legacy.{ZONE}.", "TXT", "file") in by_source
    assert any(r.get("service") == "web" for r in listing["records"])
    assert call_api(server, "GET", "/v1/records/nowhere.test")[0] == 404

    _, explained = call_api(server, "GET", f"/v1/explain?name={CHALLENGE}&type=TXT&client=127.0.0.1")
    assert [(d["name"], d["type"], d["key"]) for d in explained["dynamic"]] == [(CHALLENGE, "TXT", "acme.")]
    command = [sys.executable, "-m", "gslb", "explain", "-c", str(server.config_path), CHALLENGE, "TXT",
               "--client", "127.0.0.1"]
    for extra in ([], ["--offline"]):
        out = subprocess.run(command + extra, capture_output=True, text=True, timeout=30).stdout
        assert f"dynamic:  {CHALLENGE} TXT: last changed by key acme." in out, out
    assert scrape_metrics(server)[("gslb_dns_updates_total", (("result", "NOERROR"),))] == 1


# -- worker processes and the switch ------------------------------------------------------------


def test_updates_through_worker_processes_are_read_back_at_once(tmp_path: Path) -> None:
    server = start_server(tmp_path, zones_dir(tmp_path), {**updates_config(tmp_path), "dns": {"workers": 3}})
    try:
        for index in range(12):  # new sockets each time: the kernel spreads them over the processes
            message = update()
            message.add(f"_acme-challenge.w{index}", 60, "TXT", f'"t{index}"')
            assert rcode(send(server, message, tcp=index % 2 == 1)) == "NOERROR"
            for _ in range(3):
                assert txt(server, f"_acme-challenge.w{index}.{ZONE}.") == ("NOERROR", [f'"t{index}"'])
        assert "Traceback" not in server.log_text()
    finally:
        server.stop()


def test_without_the_updates_section_an_update_is_notimp(tmp_path: Path) -> None:
    server = start_server(tmp_path, zones_dir(tmp_path))
    try:
        message = update(keyring=None)
        message.add(CHALLENGE, 60, "TXT", '"x"')
        assert rcode(send(server, message)) == "NOTIMP"
    finally:
        server.stop()


def test_a_broken_key_file_stops_the_start(tmp_path: Path) -> None:
    config = updates_config(tmp_path)
    Path(config["updates"]["key_files"][0]).write_text('key "acme" { algorithm hmac-md5; secret "YWJj"; };')
    with pytest.raises(RuntimeError, match="algorithm hmac-md5 is not one of"):
        start_server(tmp_path, zones_dir(tmp_path), config)
