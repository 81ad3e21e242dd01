"""The dynamic-update test zone, its TSIG keys and policy, and ways to send UPDATEs to a server.

dyn.test has one of everything an update must not touch (the apex, file records, a steered name,
a delegation, a wildcard) and room for what it may: `_acme-challenge` names and a `dyn` subtree.
Keys are written in BIND's format, as nsupdate and certbot users have them.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update

from tests.harness import RunningServer, run_dig, write_zones

ZONE = "dyn.test"
ZONE_TEXT = """
zone: dyn.test.
ns: [ns1.dyn.test.]
records:
  ns1: {A: 127.0.0.53}
  www: {service: web}
  legacy: {A: 192.0.2.80, TXT: "from the file"}
  sub: {NS: [ns.elsewhere.example.]}
  "*.wild": {A: 192.0.2.99}
datacenters:
  east: {location: [38.9, -77.4]}
pools:
  static: {datacenter: east, members: [192.0.2.10]}
services:
  web: {ttl: 30, method: failover, pools: [static]}
"""

SECRET = base64.b64encode(b"acme-secret-0123456789abcdef0123").decode()
OPS_SECRET = base64.b64encode(b"ops-secret-0123456789abcdef012345").decode()
KEY_FILE = f"""# written like tsig-keygen writes them
key "acme" {{
\talgorithm hmac-sha256;
\tsecret "{SECRET}";
}};
key "ops.key" {{ algorithm hmac-sha512; secret "{OPS_SECRET}"; }};
"""
KEYRING = dns.tsigkeyring.from_text({"acme.": ("hmac-sha256", SECRET)})
OPS_KEYRING = dns.tsigkeyring.from_text({"ops.key.": ("hmac-sha512", OPS_SECRET)})
POLICY = [
    {"key": "acme", "zone": ZONE, "names": ["_acme-challenge.*"], "types": ["TXT"]},
    {"key": "ops.key", "zone": ZONE, "names": ["*.dyn", "host"], "types": ["A", "AAAA", "TXT", "CNAME"]},
]


def updates_config(workdir: Path, **extra: object) -> dict:
    """The `updates` section (its key file written into workdir) for start_server's `extra`."""
    workdir.mkdir(parents=True, exist_ok=True)
    keys = workdir / "update.keys"
    keys.write_text(KEY_FILE)
    return {"updates": {"key_files": [str(keys)], "policy": POLICY, **extra}}


def zones_dir(workdir: Path, text: str = ZONE_TEXT) -> Path:
    return write_zones(workdir / "zones", {ZONE: text})


def update(keyring: dict | None = KEYRING, algorithm: str = "hmac-sha256") -> dns.update.UpdateMessage:
    return dns.update.UpdateMessage(ZONE, keyring=keyring, keyalgorithm=algorithm)


def send(server: RunningServer, message: dns.message.Message, tcp: bool = False,
         timeout: float = 5.0) -> dns.message.Message:
    """Send an UPDATE (its reply's TSIG is verified by dnspython when the request was signed)."""
    query = dns.query.tcp if tcp else dns.query.udp
    return query(message, server.host, port=server.port, timeout=timeout)


def rcode(reply: dns.message.Message) -> str:
    return dns.rcode.to_text(reply.rcode())


def nsupdate(server: RunningServer, commands: str, key: str = f"hmac-sha256:acme:{SECRET}",
             tcp: bool = False, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """BIND's nsupdate with a TSIG key (-y ALG:NAME:SECRET), over UDP or TCP (-v)."""
    script = f"server {server.host} {server.port}\nzone {ZONE}\n{commands.strip()}\nsend\nanswer\n"
    args = ["nsupdate", "-t", "4", "-u", "2", "-r", "1", *(["-v"] if tcp else []), *(["-y", key] if key else [])]
    return subprocess.run(args, input=script, capture_output=True, text=True, timeout=timeout)


def dig(server: RunningServer, name: str, rtype: str = "TXT", tcp: bool = False) -> subprocess.CompletedProcess[str]:
    """BIND's dig: the reply's status line and answer, over UDP or TCP."""
    return run_dig(server, name, rtype, "+tcp" if tcp else "+notcp", timeout=15)
