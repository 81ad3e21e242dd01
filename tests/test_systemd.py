"""systemd integration: sd_notify messages, and the shipped unit files as systemd reads them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gslb.server.sdnotify import Notifier
from tests.harness import start_server
from tests.testdata import ROOT

UNITS = ("gslb.service", "gslb-prober.service")


# -- sd_notify ---------------------------------------------------------------------------


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket standing in for systemd's notification socket, and its path."""
    path = tmp_path / "notify.sock"
    if len(str(path)) > 100:  # sun_path holds 108 bytes
        path = Path(f"/tmp/gslb-notify-{uuid.uuid4().hex[:12]}.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5.0)
    yield sock, str(path)
    sock.close()
    path.unlink(missing_ok=True)


def receive(sock: socket.socket) -> dict[str, str]:
    fields = {}
    for line in sock.recv(4096).decode().split("\n"):
        key, _, value = line.partition("=")
        fields[key] = value
    return fields


def test_notifier_sends_to_a_socket_path(notify_socket) -> None:
    sock, path = notify_socket
    notifier = Notifier(path)
    assert notifier.enabled
    assert notifier.ready("serving 2 zone(s)")
    assert receive(sock) == {"READY": "1", "STATUS": "serving 2 zone(s)"}
    assert notifier.reloading("reloading\nzones")
    message = receive(sock)
    assert message["RELOADING"] == "1"
    assert message["STATUS"] == "reloading zones"  # a newline would start a new field
    assert abs(int(message["MONOTONIC_USEC"]) - time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000) < 5_000_000
    assert notifier.stopping()
    assert receive(sock) == {"STOPPING": "1"}
    assert notifier.status("idle")
    assert receive(sock) == {"STATUS": "idle"}


def test_notifier_reads_notify_socket_from_the_environment(notify_socket, monkeypatch) -> None:
    sock, path = notify_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    assert Notifier().ready()
    assert receive(sock) == {"READY": "1"}


def test_notifier_sends_to_an_abstract_socket() -> None:
    name = f"gslb-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(5.0)
        assert Notifier(f"@{name}").ready()
        assert receive(sock) == {"READY": "1"}


def test_notifier_without_a_socket_is_a_no_op(monkeypatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.stopping() is False


def test_notifier_never_raises(tmp_path: Path, caplog) -> None:
    notifier = Notifier(str(tmp_path / "nobody-listens.sock"))
    assert notifier.ready() is False
    assert notifier.ready() is False
    assert Notifier("@" + "x" * 200).ready() is False  # a name too long for sun_path
    assert Notifier(str(tmp_path)).ready() is False  # a folder, not a socket
    # One warning, not one per message.
    assert sum("nobody-listens" in r.message for r in caplog.records) == 1


def test_the_server_notifies_ready_reloading_and_stopping(tmp_path: Path, notify_socket) -> None:
    sock, path = notify_socket
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "example.org.yaml").write_text("zone: example.org\nns: [ns1.example.net.]\n")
    server = start_server(tmp_path / "srv", zones, env={"NOTIFY_SOCKET": path})
    try:
        ready = receive(sock)
        assert ready == {"READY": "1", "STATUS": "serving 1 zone(s)"}
        # READY=1 comes once DNS answers (and after the HTTP API is open).
        assert server.ask("example.org", "SOA").answer

        server.signal(signal.SIGHUP)
        reloading = receive(sock)
        assert reloading["RELOADING"] == "1"
        assert "MONOTONIC_USEC" in reloading
        assert reloading["STATUS"] == "reloading zones (requested by signal)"
        done = receive(sock)
        assert done["READY"] == "1"
        assert done["STATUS"] == "serving 1 zone(s); last reload: 1 loaded, 0 rejected, 0 kept; serving 1 zone(s)"

        server.signal(signal.SIGTERM)
        assert receive(sock)["STOPPING"] == "1"
        assert server.proc.wait(timeout=10) == 0
    finally:
        server.stop()


# -- unit files --------------------------------------------------------------------------


def systemd_analyze() -> str | None:
    """The systemd-analyze binary; installs Debian's `systemd` package (as `make tools` does) if missing."""
    found = shutil.which("systemd-analyze")
    if found or shutil.which("apt-get") is None or os.geteuid() != 0:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "systemd"]
    for step in ([*install], ["apt-get", "update", "-qq"], [*install]):
        try:
            subprocess.run(step, env=env, capture_output=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if shutil.which("systemd-analyze"):
            break
    return shutil.which("systemd-analyze")


def gslb_executable() -> Path:
    script = Path(sys.executable).parent / "gslb"
    return script if script.exists() else Path(shutil.which("gslb") or script)


def test_unit_files_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    if analyze is None:
        pytest.skip("systemd-analyze is not installed and the Debian package `systemd` could not be installed")
    gslb = gslb_executable()
    assert os.access(gslb, os.X_OK), gslb
    copies = []
    for unit in UNITS:
        text = (ROOT / "systemd" / unit).read_text()
        assert "ExecStart=/usr/local/bin/gslb " in text
        # systemd-analyze checks that ExecStart's program exists: point it at this venv's gslb.
        copy = tmp_path / unit
        copy.write_text(text.replace("ExecStart=/usr/local/bin/gslb ", f"ExecStart={gslb} "))
        copies.append(str(copy))
    result = subprocess.run(
        [analyze, "verify", "--man=no", *copies], capture_output=True, text=True, timeout=120, check=False
    )
    output = result.stdout + result.stderr
    ours = [line for line in output.splitlines() if any(unit in line for unit in UNITS) or str(tmp_path) in line]
    assert result.returncode == 0, output
    assert ours == [], output


def test_unit_files_hold_what_the_deployment_relies_on() -> None:
    server = (ROOT / "systemd" / "gslb.service").read_text()
    prober = (ROOT / "systemd" / "gslb-prober.service").read_text()

    def settings(text: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for line in text.splitlines():
            if line and not line.startswith(("#", "[")):
                key, _, value = line.partition("=")
                found.setdefault(key, []).append(value)
        return found

    s, p = settings(server), settings(prober)
    assert s["Type"] == ["notify"]
    assert s["ExecStart"] == ["/usr/local/bin/gslb serve -c /etc/gslb/gslb.yaml"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert s["User"] == ["gslb"]
    assert s["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]
    assert s["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    assert s["StateDirectory"] == ["gslb"]
    assert s["ConfigurationDirectory"] == ["gslb"]
    assert s["Restart"] == ["on-failure"]
    assert p["ExecStart"] == ["/usr/local/bin/gslb prober -c /etc/gslb/prober.yaml"]
    assert p["Restart"] == ["always"]
    assert p["CapabilityBoundingSet"] == [""]
    assert p["AmbientCapabilities"] == [""]
    for unit in (s, p):
        for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
                    "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups"):
            assert unit[key] == ["yes"], key
        assert unit["ProtectSystem"] == ["strict"]
        assert unit["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    sysusers = (ROOT / "systemd" / "gslb.sysusers.conf").read_text()
    assert any(line.split()[:2] == ["u", "gslb"] for line in sysusers.splitlines() if line and line[0] != "#")
