"""A local ACME server (Pebble, from Debian) and a stock ACME client (lego, from Debian) for the tests.

Pebble listens on loopback with a TLS certificate made here by openssl (Debian's package ships
none), issues from a root it makes at every start (fetched from its management port), and is
told to resolve challenge names through gslb (`-dnsserver`). lego solves DNS-01 with its RFC 2136
provider: it sends TSIG-signed UPDATEs to gslb, waits until gslb answers the TXT, and removes it
when the order is done. Everything is bounded by timeouts and stays on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.backends import free_port
from tests.certs import make_tls_files
from tests.processes import need, stop_process, wait_until_ready

START_TIMEOUT = 20.0
LEGO_TIMEOUT = 180.0


def run(args: list[str], timeout: float = 30.0, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=True, **options)  # type: ignore[call-overload]


def listening(port: int) -> bool:
    """Something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Pebble:
    """A running Pebble: its directory URL, management port, our CA for its TLS, and its log."""

    proc: subprocess.Popen
    directory: str
    management: int
    tls_ca: Path
    log: Path

    def root(self) -> str:
        """The root this run of Pebble issues from (PEM)."""
        context = ssl.create_default_context(cafile=str(self.tls_ca))
        with urllib.request.urlopen(f"https://127.0.0.1:{self.management}/roots/0", context=context,
                                    timeout=5) as response:
            return response.read().decode()

    def stop(self) -> None:
        stop_process(self.proc)


def start_pebble(folder: Path, dns_server: str) -> Pebble:
    """Pebble on free loopback ports, resolving through `dns_server` (HOST:PORT), at full speed."""
    binary = need("pebble", "pebble")
    ca, cert, key = make_tls_files(folder / "tls", ("IP:127.0.0.1", "DNS:localhost"))
    acme, management, http, tls = (free_port(["127.0.0.1"]) for _ in range(4))
    config = folder / "pebble-config.json"
    config.write_text(json.dumps({"pebble": {
        "listenAddress": f"127.0.0.1:{acme}", "managementListenAddress": f"127.0.0.1:{management}",
        "certificate": str(cert), "privateKey": str(key), "httpPort": http, "tlsPort": tls,
        "ocspResponderURL": "", "externalAccountBindingRequired": False}}))
    log = folder / "pebble.log"
    env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PEBBLE_AUTHZREUSE": "0"}
    with log.open("wb") as out:
        proc = subprocess.Popen([binary, "-config", str(config), "-dnsserver", dns_server, "-strict=false"],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder)
    wait_until_ready(proc, lambda: listening(acme), "pebble", log, START_TIMEOUT, step=0.1)
    return Pebble(proc, f"https://127.0.0.1:{acme}/dir", management, ca, log)


def lego(pebble: Pebble, folder: Path, nameserver: str, key: str, secret: str, domains: list[str],
         algorithm: str = "hmac-sha256.") -> subprocess.CompletedProcess[str]:
    """`lego run` with the rfc2136 provider: UPDATEs to `nameserver`, lookups through it too."""
    binary = need("lego", "lego")
    env = {**os.environ, "LEGO_CA_CERTIFICATES": str(pebble.tls_ca), "RFC2136_NAMESERVER": nameserver,
           "RFC2136_TSIG_KEY": key, "RFC2136_TSIG_SECRET": secret, "RFC2136_TSIG_ALGORITHM": algorithm,
           "RFC2136_TTL": "60", "RFC2136_PROPAGATION_TIMEOUT": "30", "RFC2136_POLLING_INTERVAL": "1",
           "RFC2136_DNS_TIMEOUT": "5", "RFC2136_SEQUENCE_INTERVAL": "1"}
    args = [binary, "--server", pebble.directory, "--accept-tos", "--email", "acme-test@example.org",
            "--path", str(folder), "--key-type", "ec256", "--dns", "rfc2136", "--dns.resolvers", nameserver,
            "--dns.disable-cp", "--http-timeout", "10", "--cert.timeout", "30"]
    for domain in domains:
        args += ["-d", domain]
    return subprocess.run([*args, "run"], capture_output=True, text=True, timeout=LEGO_TIMEOUT, env=env)
