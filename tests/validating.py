"""Real validating resolvers for the DNSSEC tests: Unbound and delv, pointed only at gslb.

Unbound runs on a free 127.0.0.1 port with stub zones for the zones under test (nothing else is
ever asked: no root hints are used, nothing leaves the machine), the trust anchor that
`gslb dnssec ds` printed, and its ECS module so client subnets reach gslb. `delv` asks gslb
directly with the same anchor. `TamperProxy` sits between a resolver and gslb and changes one
address in replies, as an attacker on the path would.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode

from tests.processes import stop_process, wait_until_ready

UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
UNBOUND_CHECKCONF = shutil.which("unbound-checkconf") or "/usr/sbin/unbound-checkconf"
DELV = shutil.which("delv") or "/usr/bin/delv"
START_TIMEOUT = 15.0


def gslb(*args: str, timeout: float = 60) -> str:
    """Run a `gslb` subcommand; its standard output (fails the test on a non-zero exit)."""
    result = subprocess.run([sys.executable, "-m", "gslb", *args], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (as far as one can tell before binding)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def anchors_from(ds_output: str) -> list[tuple[str, int, int, int, str]]:
    """The (zone, tag, algorithm, digest type, digest) of each line `gslb dnssec ds` printed."""
    found = []
    for line in ds_output.splitlines():
        owner, _, _, tag, algorithm, digest_type, digest = line.split()
        found.append((owner, int(tag), int(algorithm), int(digest_type), digest))
    return found


@dataclass
class Unbound:
    proc: subprocess.Popen
    port: int
    workdir: Path

    def ask(self, name: str, rdtype: str = "A", ecs: str | None = None, timeout: float = 5.0) -> dns.message.Message:
        """A recursive query with DO, as a stub that wants the AD bit would send it."""
        options = [dns.edns.ECSOption.from_text(ecs)] if ecs else []
        query = dns.message.make_query(name, rdtype, want_dnssec=True, use_edns=0, options=options)
        query.flags |= dns.flags.RD | dns.flags.AD
        return dns.query.udp(query, "127.0.0.1", port=self.port, timeout=timeout)

    def answers(self, probe: str) -> bool:
        """Unbound is up: it answers the SOA of `probe` with NOERROR."""
        try:
            return self.ask(probe, "SOA", timeout=0.5).rcode() == dns.rcode.NOERROR
        except (dns.exception.Timeout, OSError):
            return False

    def log_text(self) -> str:
        path = self.workdir / "unbound.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        stop_process(self.proc)


def start_unbound(workdir: Path, stubs: dict[str, int], anchors: list[tuple[str, int, int, int, str]],
                  probe: str) -> Unbound:
    """Unbound validating with `anchors`, each zone of `stubs` asked at 127.0.0.1 on its port.

    `probe`: a name whose answer shows Unbound is up.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    lines = [
        "server:",
        "  interface: 127.0.0.1", f"  port: {port}", "  do-ip6: no", "  do-daemonize: no",
        '  username: ""', '  chroot: ""', f'  directory: "{workdir}"', '  pidfile: ""',
        "  use-syslog: no", f'  logfile: "{workdir / "unbound.log"}"', "  verbosity: 1", "  val-log-level: 2",
        "  num-threads: 1", "  access-control: 127.0.0.0/8 allow", "  do-not-query-localhost: no",
        '  module-config: "subnetcache validator iterator"',
        "  send-client-subnet: 127.0.0.1", "  client-subnet-always-forward: yes", "  max-client-subnet-ipv4: 24",
        "  qname-minimisation: yes", "  harden-dnssec-stripped: yes", "  val-permissive-mode: no",
        "  prefetch: no", "  serve-expired: no", "  cache-max-negative-ttl: 5",
    ]
    for top in dict.fromkeys(zone.rstrip(".").split(".")[-1] for zone in stubs):
        lines.append(f'  local-zone: "{top}." nodefault')  # Unbound answers test. itself by default
    for owner, tag, algorithm, digest_type, digest in anchors:
        lines.append(f'  trust-anchor: "{owner} DS {tag} {algorithm} {digest_type} {digest}"')
    for zone, zone_port in stubs.items():
        lines += ["stub-zone:", f'  name: "{zone}"', f"  stub-addr: 127.0.0.1@{zone_port}"]
    lines += ["remote-control:", "  control-enable: no"]
    config = workdir / "unbound.conf"
    config.write_text("\n".join(lines) + "\n")
    check = subprocess.run([UNBOUND_CHECKCONF, str(config)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    proc = subprocess.Popen([UNBOUND, "-d", "-c", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, cwd=workdir)
    unbound = Unbound(proc, port, workdir)
    wait_until_ready(proc, lambda: unbound.answers(probe), "unbound", workdir / "unbound.log", START_TIMEOUT,
                     step=0.1)
    return unbound


def delv(port: int, anchors: list[tuple[str, int, int, int, str]], name: str, rdtype: str = "A",
         workdir: Path | None = None, source: str | None = None, server: str = "127.0.0.1") -> str:
    """delv's report of a validation against gslb at `server`:`port` (stdout and stderr together)."""
    folder = workdir or Path(".")
    anchor_file = folder / "delv-anchors.conf"
    body = "".join(f'  {o} static-ds {t} {a} {d} "{digest}";\n' for o, t, a, d, digest in anchors)
    anchor_file.write_text("trust-anchors {\n" + body + "};\n")
    command = [DELV, f"@{server}", "-p", str(port), "-a", str(anchor_file), f"+root={anchors[0][0]}", name, rdtype]
    if source:
        command[1:1] = ["-b", source]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    return result.stdout + result.stderr


class TamperProxy:
    """A UDP relay on a free port that replaces `original` by `forged` in every reply (address bytes)."""

    def __init__(self, upstream: int, original: bytes, forged: bytes) -> None:
        self.upstream = upstream
        self.original, self.forged = original, forged
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.tampered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            out.settimeout(2.0)
            while not self._stop.is_set():
                try:
                    query, client = self.sock.recvfrom(65535)
                except (TimeoutError, OSError):
                    continue
                try:
                    out.sendto(query, ("127.0.0.1", self.upstream))
                    reply = out.recv(65535)
                except (TimeoutError, OSError):
                    continue
                if self.original in reply:
                    reply = reply.replace(self.original, self.forged)
                    self.tampered += 1
                self.sock.sendto(reply, client)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
