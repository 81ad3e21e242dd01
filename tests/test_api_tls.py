"""The HTTP API over TLS: a real `gslb prober` verifies it with a CA made here, plain HTTP and unverified
clients are refused, certificates are read again on SIGHUP without dropping a connection, and
`gslb explain` finds its way in."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import Backends, free_port
from tests.certs import Ca, make_ca, make_server_cert
from tests.harness import RunningServer, start_server, wait_for, write_zones
from tests.health_zone import PRIMARY, zone_text
from tests.http_api import call_api

PROBER_TOKEN = "tls-prober-token"
OPERATOR_TOKEN = "tls-operator-token"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Ca:
    return make_ca(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def backends() -> Iterator[Backends]:
    owner = Backends()
    yield owner
    owner.close()


@pytest.fixture
def tls_server(tmp_path: Path, pki: Ca, backends: Backends) -> Iterator[RunningServer]:
    ca = pki
    cert, key = make_server_cert(tmp_path / "live", ca, serial=1001)
    port = free_port([PRIMARY])
    backends.start_http(PRIMARY, port)
    zones = write_zones(tmp_path / "zones", {"health.test": zone_text(port)})
    (tmp_path / "prober.token").write_text(PROBER_TOKEN)
    (tmp_path / "operator.token").write_text(OPERATOR_TOKEN)
    server = start_server(tmp_path / "srv", zones, {"http": {
        "tls": {"cert": str(cert), "key": str(key)},
        "prober_token_file": str(tmp_path / "prober.token"),
        "operator_token_file": str(tmp_path / "operator.token"),
    }})
    assert server.scheme == "https"
    yield server
    server.stop()


def verified(ca: Ca) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca.cert))


def start_prober(tmp_path: Path, server: RunningServer, name: str, ca: Ca | None) -> subprocess.Popen:
    """A real `gslb prober` reporting to the server's https:// URL, verifying it with `ca` (else the system's CAs)."""
    config = {"name": name, "datacenter": "east", "servers": [f"https://{server.http}"],
              "token_file": str(tmp_path / "prober.token"), "refresh": "1s"}
    if ca is not None:
        config["ca_file"] = str(ca.cert)
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k not in ("GSLB_CONFIG", "GSLB_TOKEN", "SSL_CERT_FILE")}
    with (tmp_path / f"{name}.log").open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "gslb", "prober", "-c", str(path)], stdout=log,
                                stderr=subprocess.STDOUT, env=env)


def reporters(server: RunningServer, ca: Ca) -> set[str]:
    """The probers whose verdicts the server holds for the primary member."""
    status = call_api(server, "GET", "/status", tls=verified(ca))[1]
    [pool] = [p for p in status["pools"] if p["name"] == "primary"]
    return {report["prober"] for report in pool["members"][0]["reports"]}


def test_a_real_prober_verifies_the_server_with_its_ca_file(tmp_path: Path, tls_server: RunningServer,
                                                            pki: Ca) -> None:
    ca = pki
    trusting = start_prober(tmp_path, tls_server, "tls-probe", ca)
    system = start_prober(tmp_path, tls_server, "system-probe", None)  # the test CA is in no system store
    try:
        wait_for(lambda: "tls-probe" in reporters(tls_server, ca), timeout=15)
        wait_for(lambda: "certificate verify failed" in (tmp_path / "system-probe.log").read_text(), timeout=15)
    finally:
        for proc in (trusting, system):
            proc.terminate()
            proc.wait(timeout=10)
    assert reporters(tls_server, ca) == {"tls-probe"}
    assert PROBER_TOKEN not in (tmp_path / "tls-probe.log").read_text()


def test_plain_http_and_unverified_clients_are_refused(tls_server: RunningServer, pki: Ca) -> None:
    ca = pki
    with pytest.raises((http.client.HTTPException, ConnectionError, urllib.error.URLError)):
        urllib.request.urlopen(f"http://{tls_server.http}/healthz", timeout=5)
    with pytest.raises(urllib.error.URLError) as unverified:
        urllib.request.urlopen(f"https://{tls_server.http}/healthz", timeout=5, context=ssl.create_default_context())
    assert isinstance(unverified.value.reason, ssl.SSLCertVerificationError)
    assert call_api(tls_server, "GET", "/healthz", tls=verified(ca))[0] == 200
    # The prober token still cannot set an override, TLS or not.
    override = "/v1/overrides/health.test/pools/primary"
    assert call_api(tls_server, "PUT", override, {"state": "down"}, token=PROBER_TOKEN, tls=verified(ca))[0] == 403
    assert call_api(tls_server, "PUT", override, {"state": "down"}, token=OPERATOR_TOKEN, tls=verified(ca))[0] == 200


def peer_serial(connection: http.client.HTTPSConnection) -> int:
    assert connection.sock is not None
    der = connection.sock.getpeercert(binary_form=True)
    assert der is not None
    result = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                            capture_output=True, timeout=30, check=True)
    return int(result.stdout.decode().strip().partition("=")[2], 16)


def get(connection: http.client.HTTPSConnection, path: str = "/healthz") -> int:
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return response.status


def test_sighup_loads_a_new_certificate_without_dropping_connections(
        tmp_path: Path, tls_server: RunningServer, pki: Ca) -> None:
    ca = pki
    host, _, port = tls_server.http.rpartition(":")
    kept = http.client.HTTPSConnection(host, int(port), timeout=5, context=verified(ca))
    assert get(kept) == 200 and peer_serial(kept) == 1001
    socket_before = kept.sock

    new_cert, new_key = make_server_cert(tmp_path / "next", ca, serial=2002)
    live = tmp_path / "live"
    shutil.copyfile(new_cert, live / "server.pem")
    shutil.copyfile(new_key, live / "server.key")
    tls_server.signal(signal.SIGHUP)
    wait_for(lambda: "TLS certificate loaded again" in tls_server.log_text(), timeout=10)

    assert get(kept) == 200 and kept.sock is socket_before  # the open connection goes on
    fresh = http.client.HTTPSConnection(host, int(port), timeout=5, context=verified(ca))
    assert get(fresh) == 200 and peer_serial(fresh) == 2002

    # A broken pair of files is refused: the certificate in use stays.
    (live / "server.pem").write_text("not a certificate\n")
    tls_server.signal(signal.SIGHUP)
    wait_for(lambda: "the certificate in use stays" in tls_server.log_text(), timeout=10)
    third = http.client.HTTPSConnection(host, int(port), timeout=5, context=verified(ca))
    assert get(third) == 200 and peer_serial(third) == 2002
    for connection in (kept, fresh, third):
        connection.close()


def test_explain_asks_the_tls_server_by_its_own_certificate(tls_server: RunningServer) -> None:
    result = subprocess.run([sys.executable, "-m", "gslb", "explain", "-c", str(tls_server.config_path),
                             "www.health.test", "--client", "127.0.0.1", "--server", tls_server.http],
                            capture_output=True, text=True,
                            timeout=30, cwd=tls_server.workdir, check=False)
    assert result.returncode == 0, result.stderr
    assert f"health:   live, from the server at {tls_server.http}" in result.stdout


def test_a_missing_certificate_stops_the_server(tmp_path: Path) -> None:
    config = tmp_path / "gslb.yaml"
    config.write_text("dns: {listen: ['127.0.0.1:0']}\nhttp: {listen: '127.0.0.1:0', tls: {cert: absent.pem, "
                      "key: absent.key}}\nzones: zones\ngeodb: none\n")
    (tmp_path / "zones").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "GSLB_CONFIG"}
    result = subprocess.run([sys.executable, "-m", "gslb", "serve", "-c", str(config)], capture_output=True,
                            text=True, timeout=30, env=env, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"ERROR gslb: cannot start: http.tls: cannot read {tmp_path / 'absent.pem'}" in result.stderr
