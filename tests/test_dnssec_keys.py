"""Keys: BIND's tools and gslb read each other's files, bad files are refused clearly and change nothing.

Keys made by `dnssec-keygen` sign in gslb (checked with dnspython); keys made by `gslb dnssec
keygen` give the same DS in `dnssec-dsfromkey` as in `gslb dnssec ds`, and `dnssec-settime` reads and
changes their timing. The commands that run a rollover (activate, retire, remove) and
`gslb dnssec status` are driven as an operator would.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dns.message
import dns.rcode
import dns.rdatatype
import pytest
import yaml

from gslb.config.load import ConfigError, load_config
from gslb.config.model import DnssecConfig
from gslb.dnssec.keyfiles import KeyFileError, read_key
from gslb.dnssec.keys import load_zone_keys
from gslb.dnssec.signer import Signer
from gslb.wire.name import Name
from gslb.zones.errors import ZoneFileError
from gslb.zones.loader import parse_zone
from gslb.zones.zoneset import ZoneSet
from tests import signed_zones
from tests.harness import start_server
from tests.signing import Clock, ask, keyring, signed_handler, verify

PARENT = signed_zones.PARENT
bind_tools = pytest.mark.skipif(not shutil.which("dnssec-keygen"), reason="needs dnssec-keygen (make tools)")


def gslb_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gslb", *args], capture_output=True, text=True, timeout=60)


def keygen(keys: Path, *extra: str, zone: str = PARENT) -> Path:
    """A key made by `gslb dnssec keygen`: its .private file."""
    result = gslb_command("dnssec", "keygen", zone, "--keys", str(keys), *extra)
    assert result.returncode == 0, result.stderr
    return keys / (result.stdout.strip() + ".private")


def bind_keygen(keys: Path, *args: str) -> Path:
    keys.mkdir(exist_ok=True)
    result = subprocess.run(["dnssec-keygen", "-q", "-K", str(keys), *args, PARENT], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return keys / (result.stdout.strip() + ".private")


@bind_tools
def test_keys_from_dnssec_keygen_sign_in_gslb(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    bind_keygen(keys, "-a", "ECDSAP256SHA256", "-f", "KSK")
    bind_keygen(keys, "-a", "ED25519")
    loaded = load_zone_keys(keys, Name.from_text(PARENT))
    assert sorted((k.algorithm, k.flags) for k in loaded) == [(13, 257), (15, 256)]
    clock = Clock(time.time())
    handler = signed_handler(tmp_path / "zones", {PARENT: signed_zones.parent_zone([])}, keys, clock)
    ring = keyring(handler, PARENT)
    for name, rdtype in ((PARENT, "DNSKEY"), (f"www.{PARENT}", "A"), (f"nothing.{PARENT}", "A")):
        reply = ask(handler, name, rdtype)
        assert reply.rcode() == dns.rcode.NOERROR and verify(reply, ring, clock.now) == []


@bind_tools
def test_keys_from_gslb_work_in_bind_tools(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    files = [keygen(keys), keygen(keys, "--algorithm", "ed25519")]
    ours = gslb_command("dnssec", "ds", PARENT, "--keys", str(keys)).stdout.split("\n")
    for private in files:
        bind = subprocess.run(["dnssec-dsfromkey", "-2", str(private.with_suffix(".key"))], capture_output=True,
                              text=True, timeout=30, check=True).stdout.strip()
        assert bind.replace("\t", " ").upper() in (line.upper() for line in ours), (bind, ours)
    subprocess.run(["dnssec-settime", "-I", "+3600", "-D", "+7200", "-K", str(keys),
                    private.name.removesuffix(".private")], capture_output=True, timeout=30, check=True)
    changed = read_key(private)
    assert changed.times["Delete"] - changed.times["Inactive"] == 3600
    shown = subprocess.run(["dnssec-settime", "-p", "all", "-K", str(keys), private.name.removesuffix(".private")],
                           capture_output=True, text=True, timeout=30, check=True).stdout
    assert "Inactive:" in shown and "UNSET" not in shown.split("Inactive:")[1].split("\n")[0]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert re.search(old, text, re.M), (old, text)
    path.write_text(re.sub(old, new, text, count=1, flags=re.M))


BREAKAGES = {
    "private key not base64": (".private", r"^PrivateKey: .*$", "PrivateKey: not*base64", "PrivateKey is not base64"),
    "algorithm lines disagree": (".private", r"^Algorithm: 13.*$", "Algorithm: 15 (ED25519)", "does not match"),
    "no private key format": (".private", r"^Private-key-format: .*$", "", "not a BIND private key file"),
    "a timing value": (".private", r"^Activate: .*$", "Activate: 2024", "YYYYMMDDHHMMSS"),
    "revoked flags": (".key", r"DNSKEY 257", "DNSKEY 385", "flags 385"),
    "another algorithm": (".key", r"DNSKEY 257 3 13", "DNSKEY 257 3 8", "algorithm 8 is not supported"),
    "public key of another key": (".key", r"(DNSKEY 257 3 13 )\S+$", r"\1" + "A" * 86 + "==",
                                  "does not belong to the public key"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_key_file_is_refused_with_what_is_wrong(tmp_path: Path, breakage: str) -> None:
    suffix, old, new, message = BREAKAGES[breakage]
    private = keygen(tmp_path / "keys")
    _edit(private.with_suffix(suffix), old, new)
    with pytest.raises(KeyFileError) as caught:
        load_zone_keys(tmp_path / "keys", Name.from_text(PARENT))
    assert message in str(caught.value) and private.name.rsplit(".", 1)[0] in str(caught.value)


def test_a_missing_public_file_or_a_renamed_key_is_refused(tmp_path: Path) -> None:
    private = keygen(tmp_path / "keys")
    renamed = private.with_name(f"K{PARENT}.+013+12345.private")
    shutil.copy(private, renamed)
    with pytest.raises(KeyFileError, match="cannot read"):
        read_key(renamed)
    shutil.copy(private.with_suffix(".key"), renamed.with_suffix(".key"))
    with pytest.raises(KeyFileError, match="the file name says algorithm 13 tag 12345"):
        read_key(renamed)


@bind_tools
def test_an_rsa_key_from_dnssec_keygen_is_refused(tmp_path: Path) -> None:
    bind_keygen(tmp_path / "keys", "-a", "RSASHA256", "-b", "2048")
    with pytest.raises(KeyFileError, match="algorithm 8 is not supported"):
        load_zone_keys(tmp_path / "keys", Name.from_text(PARENT))


def test_a_broken_key_file_changes_nothing(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    private = keygen(keys)
    clock = Clock(time.time())
    handler = signed_handler(tmp_path / "zones", {PARENT: signed_zones.parent_zone([])}, keys, clock)
    signer = handler.signer
    assert signer is not None
    before = ask(handler, f"www.{PARENT}")
    _edit(private, r"^PrivateKey: .*$", "PrivateKey: broken")
    problems = signer.zones_changed(handler.state.zones)
    assert len(problems) == 1 and "PrivateKey is not base64" in problems[0] and "keeps signing" in problems[0]
    after = ask(handler, f"www.{PARENT}")
    assert verify(after, keyring(handler, PARENT), clock.now) == []
    assert after.answer[1][0].key_tag == before.answer[1][0].key_tag


def test_a_signed_zone_without_keys_is_answered_unsigned_and_said_so(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    handler = signed_handler(tmp_path / "zones", {PARENT: signed_zones.parent_zone([])}, tmp_path / "keys", Clock())
    assert handler.signer is not None and not handler.signer.zones
    problems = handler.signer.zones_changed(handler.state.zones)
    assert problems == [f"zone {PARENT}.: {tmp_path / 'keys'}: no keys for {PARENT}. (make one with: gslb dnssec "
                        f"keygen {PARENT}.); it is answered unsigned until its keys are fixed"]
    assert all(rrset.rdtype != 46 for rrset in ask(handler, f"www.{PARENT}").answer)
    assert Signer(DnssecConfig(keys=tmp_path / "keys")).zones_changed(ZoneSet()) == []


def test_status_and_the_rollover_commands(tmp_path: Path) -> None:
    keys, zones = tmp_path / "keys", tmp_path / "zones"
    zones.mkdir()
    (zones / f"{PARENT}.yaml").write_text(signed_zones.parent_zone([]))
    config = tmp_path / "gslb.yaml"
    config.write_text(yaml.safe_dump({"zones": str(zones), "dnssec": {"keys": str(keys)}}))
    old = read_key(keygen(keys)).tag
    new = read_key(keygen(keys, "--prepublish")).tag
    status = gslb_command("dnssec", "status", "-c", str(config))
    assert status.returncode == 0, status.stderr
    assert f"CSK tag {old} ECDSAP256SHA256: active; signs: zone data, DNSKEY, CDS, CDNSKEY" in status.stdout
    assert f"CSK tag {new} ECDSAP256SHA256: published (not yet signing); signs: DNSKEY, CDS, CDNSKEY" in status.stdout
    assert "signatures made now: valid" in status.stdout
    assert len(gslb_command("dnssec", "ds", PARENT, "-c", str(config)).stdout.splitlines()) == 2  # double DS
    for verb, tag in (("activate", new), ("retire", old)):
        done = gslb_command("dnssec", verb, PARENT, str(tag), "-c", str(config), "--at", "+1h")
        assert done.returncode == 0, done.stderr
    later = gslb_command("dnssec", "status", "-c", str(config)).stdout
    assert "next change:" in later
    assert gslb_command("dnssec", "remove", PARENT, str(old), "-c", str(config)).returncode == 0
    assert f"CSK tag {old} ECDSAP256SHA256: deleted" in gslb_command("dnssec", "status", "-c", str(config)).stdout
    missing = gslb_command("dnssec", "retire", PARENT, "1", "-c", str(config))
    assert missing.returncode == 1 and f"no key of {PARENT}. with tag 1" in missing.stderr
    assert gslb_command("dnssec", "activate", PARENT, str(new), "-c", str(config), "--at", "soon").returncode == 2
    _edit(keys / f"K{PARENT}.+013+{new:05d}.private", r"^PrivateKey: .*$", "PrivateKey: broken")
    broken = gslb_command("dnssec", "status", "-c", str(config))
    assert broken.returncode == 1 and "problem:" in broken.stdout and "PrivateKey is not base64" in broken.stdout


def test_settings_and_zone_fields_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "gslb.yaml"
    config.write_text("dnssec: {signature_validity: 1h, signature_cache: 5}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(config))
    messages = [problem.message for problem in caught.value.problems]
    assert any("shorter than 6h" in m for m in messages) and any("from 100" in m or "at least 100" in m
                                                                  for m in messages)
    head = "zone: a.test\nns: [ns.example.net.]\n"
    for body, message in (("dnssec: yes\n", "'yes' is not true or false"),
                          ("records: {www: {DS: '1 13 2 AABB'}}\n", "SHA-256 gives 32 (64 hex digits)"),
                          ("records: {www: {A: 192.0.2.1, DS: '1 13 2 " + "AB" * 32 + "'}}\n",
                           "DS stands only at a delegation, beside its NS")):
        with pytest.raises(ZoneFileError) as zone_error:
            parse_zone((head + body).encode(), "a.test.yaml", "a.test")
        assert any(message in p.message for p in zone_error.value.problems), (body, zone_error.value.problems)


def test_several_servers_with_the_same_key_files_sign_alike(tmp_path: Path) -> None:
    """Two servers (one with a worker process) given the same key folder: every process signs, and
    signatures made within the same hour are the same bytes whichever process made them."""
    keys, zones = tmp_path / "keys", tmp_path / "zones"
    keygen(keys)
    zones.mkdir()
    (zones / f"{PARENT}.yaml").write_text(signed_zones.parent_zone([]))
    extra = {"dnssec": {"keys": str(keys)}, "http": {"listen": "off"}}
    first = start_server(tmp_path / "first", zones, {**extra, "dns": {"workers": 2}})
    try:
        second = start_server(tmp_path / "second", zones, extra)
        try:
            seen = set()
            for index in range(40):  # new source ports: the kernel spreads them over both processes
                server = first if index % 2 else second
                reply = server.udp(dns.message.make_query(f"www.{PARENT}", "A", want_dnssec=True))
                signatures = [rrset for rrset in reply.answer if rrset.rdtype == dns.rdatatype.RRSIG]
                assert len(signatures) == 1, reply
                seen.add(signatures[0][0].to_text())
            assert len(seen) == 1 or time.gmtime().tm_min == 0  # an hour may turn during the test
        finally:
            second.stop()
    finally:
        first.stop()
