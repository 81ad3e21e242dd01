"""A private CA and server certificates for TLS tests, made with the `openssl` command.

Each certificate is for the IP address 127.0.0.1 (a subjectAltName; others when asked), so a client
that checks host names accepts it when it connects by that address, and carries the serial number
it was asked for, so a test can tell two certificates of the same name apart.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import need

LOOPBACK = ("IP:127.0.0.1",)


@dataclass(frozen=True)
class Ca:
    cert: Path
    key: Path


def _openssl(*args: str) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (Debian: apt install openssl)")
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def make_ca(folder: Path, name: str = "gslb test CA") -> Ca:
    """A self-signed CA (P-256), valid for two days."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = Ca(folder / f"{name.replace(' ', '-')}.pem", folder / f"{name.replace(' ', '-')}.key")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(ca.key), "-out", str(ca.cert), "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return ca


def make_server_cert(folder: Path, ca: Ca, serial: int, name: str = "server",
                     sans: tuple[str, ...] = LOOPBACK) -> tuple[Path, Path]:
    """(certificate, key) for the subjectAltNames `sans`, signed by `ca`, with serial number `serial`."""
    folder.mkdir(parents=True, exist_ok=True)
    key, csr, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem"
    extensions = folder / f"{name}.ext"
    extensions.write_text(f"subjectAltName={','.join(sans)}\nbasicConstraints=CA:FALSE\n"
                          "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
             "-out", str(csr), "-subj", "/CN=127.0.0.1")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key), "-set_serial", str(serial),
             "-out", str(cert), "-days", "2", "-extfile", str(extensions))
    return cert, key


def make_tls_files(folder: Path, sans: tuple[str, ...] = LOOPBACK) -> tuple[Path, Path, Path]:
    """(CA certificate, certificate, key): a new CA and a certificate for `sans` signed by it.

    For tests that drive another program over TLS (Pebble, redis-server): to them openssl is one
    more tool they need, so its absence fails the test instead of skipping it.
    """
    need("openssl", "openssl")
    ca = make_ca(folder)
    cert, key = make_server_cert(folder, ca, serial=1, sans=sans)
    return ca.cert, cert, key
