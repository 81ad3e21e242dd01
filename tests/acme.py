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
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.backends import free_port
from tests.processes import stop_process

START_TIMEOUT = 20.0
LEGO_TIMEOUT = 180.0


def need(command: str, package: str) -> str:
    """The path of a command the test drives; a clear failure (never a skip) when it is missing."""
    path = shutil.which(command)
    if path is None:
        pytest.fail(f"{command} is not installed: `make test` installs it (apt-get install {package})")
    return path


def run(args: list[str], timeout: float = 30.0, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=True, **options)  # type: ignore[call-overload]


def make_tls(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it: (CA, certificate, key)."""
    openssl = need("openssl", "openssl")
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.pem", "key.pem", "cert.csr", "cert.pem"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run([openssl, "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
         "-subj", "/CN=gslb test CA for pebble", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign"])
    run([openssl, "req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost"])
    extensions = folder / "leaf.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run([openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
         "-out", str(cert), "-days", "2", "-extfile", str(extensions)])
    return ca, cert, key


def wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"pebble did not start:\n{log.read_text(errors='replace')}")


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
    ca, cert, key = make_tls(folder / "tls")
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
    wait_for_port(acme, proc, log)
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
