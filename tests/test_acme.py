"""End to end: a real certificate from a local ACME server, with the DNS-01 challenge solved through gslb.

Pebble (Debian's package) resolves every challenge name through gslb; lego (Debian's package)
writes the challenge TXT records with RFC 2136 UPDATEs signed by the `acme` TSIG key, for a
name and a wildcard of the zone, and deletes them when the order is done. The test then checks
the certificate (its names, and its chain up to the root this Pebble issued from) and that no
challenge record is left behind.
"""

from __future__ import annotations

from pathlib import Path

from tests.acme import lego, need, run, start_pebble
from tests.harness import start_server
from tests.http_api import call_api
from tests.updates_zone import SECRET, ZONE, dig, updates_config, zones_dir

DOMAINS = [f"www.{ZONE}", f"*.{ZONE}"]


def certificates(bundle: Path) -> list[str]:
    """The PEM certificates of a bundle, in order."""
    end = "-----END CERTIFICATE-----"
    return [part.strip() + "\n" + end + "\n" for part in bundle.read_text().split(end) if "BEGIN" in part]


def test_lego_gets_a_certificate_for_a_name_and_a_wildcard_from_pebble(tmp_path: Path) -> None:
    openssl = need("openssl", "openssl")
    server = start_server(tmp_path / "gslb", zones_dir(tmp_path / "gslb"), updates_config(tmp_path / "gslb"))
    nameserver = f"{server.host}:{server.port}"
    pebble = start_pebble(tmp_path / "pebble", nameserver)
    try:
        result = lego(pebble, tmp_path / "lego", nameserver, "acme", SECRET, DOMAINS)
        assert result.returncode == 0, f"lego failed:\n{result.stdout}\n{result.stderr}\n" \
                                       f"pebble:\n{pebble.log.read_text()}\ngslb:\n{server.log_text()}"
        bundle = tmp_path / "lego" / "certificates" / f"www.{ZONE}.crt"
        leaf, *chain = certificates(bundle)
        (tmp_path / "leaf.pem").write_text(leaf)
        (tmp_path / "chain.pem").write_text("".join(chain))
        (tmp_path / "root.pem").write_text(pebble.root())
        names = run([openssl, "x509", "-in", str(tmp_path / "leaf.pem"), "-noout", "-ext", "subjectAltName"]).stdout
        assert f"DNS:www.{ZONE}" in names and f"DNS:*.{ZONE}" in names
        verified = run([openssl, "verify", "-CAfile", str(tmp_path / "root.pem"), "-untrusted",
                        str(tmp_path / "chain.pem"), str(tmp_path / "leaf.pem")])
        assert verified.stdout.strip().endswith(": OK")
        subject = run([openssl, "x509", "-in", str(tmp_path / "leaf.pem"), "-noout", "-subject", "-issuer",
                       "-serial", "-dates"]).stdout
        print(f"\ncertificate for {' '.join(DOMAINS)}:\n{names.strip()}\n{subject.strip()}\n"
              f"chain verified against this Pebble's root: {verified.stdout.strip()}")
    finally:
        pebble.stop()
        server.stop()
    # Pebble asked gslb for both challenges, and the TXT records are gone again.
    log = server.log_text()
    for challenge in (f"_acme-challenge.www.{ZONE}.", f"_acme-challenge.{ZONE}."):
        assert f"key acme. from 127.0.0.1 (udp): add {challenge} TXT" in log
        assert f"delete {challenge} TXT record" in log
    restarted = start_server(tmp_path / "gslb", zones_dir(tmp_path / "gslb"), updates_config(tmp_path / "gslb"))
    try:
        for challenge in (f"_acme-challenge.www.{ZONE}.", f"_acme-challenge.{ZONE}."):
            assert "status: NXDOMAIN" in dig(restarted, challenge, "TXT").stdout
        _, status = call_api(restarted, "GET", "/status")
        assert status["updates"]["records"] == [] and status["zones"][0]["dynamic_records"] == 0
    finally:
        restarted.stop()
