"""Zone reloads on the real server: SIGHUP, the folder watcher, and reloads under query load."""

from __future__ import annotations

import random
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from tests.harness import RunningServer, start_server, write_atomically

ZONE = "reload.test"
NAMES = 20


def versioned_zone(version: int, valid: bool = True) -> str:
    """A zone whose every answer names its version: TXT `v<k>` everywhere, SOA serial k.

    `c` is a CNAME to `t-v<k>`, whose TXT is `v<k>` again, so one answer holds two names and
    both must come from the same version. An invalid version is complete too, plus one bad
    record at the end: if any of it were ever served, the version number would show it.
    """
    lines = [
        f"zone: {ZONE}",
        "ttl: 60",
        f"soa: {{serial: {version}}}",
        "ns: [ns1.example.net.]",
        "records:",
        f"  c: {{CNAME: t-v{version}}}",
        f'  t-v{version}: {{TXT: "v{version}"}}',
    ]
    lines += [f'  n{i}: {{TXT: ["v{version}", "v{version}-n{i}"]}}' for i in range(NAMES)]
    if not valid:
        lines.append("  broken: {A: 999.0.0.1}")
    return "\n".join(lines) + "\n"


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def reloads_done(server: RunningServer, trigger: str) -> int:
    return server.log_text().count(f"reload done ({trigger})")


def sighup_and_wait(server: RunningServer) -> None:
    """Send SIGHUP and wait until that reload has finished (its `reload done` log line)."""
    before = reloads_done(server, "signal")
    server.signal(signal.SIGHUP)
    wait_for(lambda: reloads_done(server, "signal") > before, what="the reload after SIGHUP")


def txt_strings(response: dns.message.Message, name: str) -> list[str]:
    rrset = response.get_rrset(response.answer, dns.name.from_text(name), dns.rdataclass.IN, dns.rdatatype.TXT)
    assert rrset is not None, response
    return sorted(b"".join(rdata.strings).decode() for rdata in rrset)


def soa_serial(response: dns.message.Message) -> int:
    for rrset in response.answer + response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    raise AssertionError(f"no SOA in {response}")


@pytest.fixture
def zones_dir(tmp_path: Path) -> Path:
    path = tmp_path / "zones"
    path.mkdir()
    return path


@pytest.fixture
def serve(tmp_path: Path, zones_dir: Path) -> Iterator[Callable[[], RunningServer]]:
    started: list[RunningServer] = []

    def factory() -> RunningServer:
        server = start_server(tmp_path / "srv", zones_dir)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


# -- SIGHUP ------------------------------------------------------------------------------


def test_sighup_picks_up_a_changed_zone_and_the_serial_rises(zones_dir: Path, serve) -> None:
    zone_file = zones_dir / "example.org.yaml"
    zone_file.write_text("zone: example.org\nns: [ns1.example.net.]\nrecords:\n  www: {A: 192.0.2.1}\n")
    server = serve()
    first = server.ask("www.example.org", "A")
    assert [rr.address for rr in first.answer[0]] == ["192.0.2.1"]
    serial_before = soa_serial(server.ask("example.org", "SOA"))

    zone_file.write_text("zone: example.org\nns: [ns1.example.net.]\nrecords:\n  www: {A: 192.0.2.2}\n")
    sighup_and_wait(server)

    second = server.ask("www.example.org", "A")
    assert [rr.address for rr in second.answer[0]] == ["192.0.2.2"]
    serial_after = soa_serial(server.ask("example.org", "SOA"))
    assert serial_after > serial_before
    log = server.log_text()
    assert "reload requested by signal" in log
    assert f"zone example.org. loaded from {zone_file} (serial {serial_after})" in log


def test_an_invalid_file_is_rejected_and_the_old_version_keeps_answering(zones_dir: Path, serve) -> None:
    zone_file = zones_dir / f"{ZONE}.yaml"
    zone_file.write_text(versioned_zone(1))
    server = serve()
    assert txt_strings(server.ask(f"n3.{ZONE}", "TXT"), f"n3.{ZONE}.") == ["v1", "v1-n3"]

    zone_file.write_text(versioned_zone(2, valid=False))
    sighup_and_wait(server)

    assert txt_strings(server.ask(f"n3.{ZONE}", "TXT"), f"n3.{ZONE}.") == ["v1", "v1-n3"]
    assert soa_serial(server.ask(ZONE, "SOA")) == 1
    bad_line = versioned_zone(2, valid=False).splitlines().index("  broken: {A: 999.0.0.1}") + 1
    log = server.log_text()
    assert f"zone file rejected: {zone_file}:{bad_line}: records.broken.A: '999.0.0.1' is not an IPv4 address" in log
    assert f"zone {ZONE}. keeps serving its previous version (serial 1)" in log
    assert "reload done (signal): 0 loaded, 1 rejected, 1 kept; serving 1 zone(s)" in log

    # Fixing the file brings the new version in.
    zone_file.write_text(versioned_zone(3))
    sighup_and_wait(server)
    assert txt_strings(server.ask(f"n3.{ZONE}", "TXT"), f"n3.{ZONE}.") == ["v3", "v3-n3"]


def test_a_removed_file_stops_its_zone_and_a_new_file_starts_serving(zones_dir: Path, serve) -> None:
    for name in ("a.test", "b.test"):
        text = f"zone: {name}\nns: [ns1.example.net.]\nrecords:\n  www: {{A: 192.0.2.1}}\n"
        (zones_dir / f"{name}.yaml").write_text(text)
    server = serve()
    assert server.ask("www.b.test", "A").rcode() == dns.rcode.NOERROR
    assert server.ask("www.c.test", "A").rcode() == dns.rcode.REFUSED

    (zones_dir / "b.test.yaml").unlink()
    (zones_dir / "c.test.yaml").write_text("zone: c.test\nns: [ns1.example.net.]\nrecords:\n  www: {A: 192.0.2.3}\n")
    sighup_and_wait(server)

    assert server.ask("www.b.test", "A").rcode() == dns.rcode.REFUSED
    assert server.ask("www.a.test", "A").rcode() == dns.rcode.NOERROR
    answer = server.ask("www.c.test", "A")
    assert answer.rcode() == dns.rcode.NOERROR
    assert [rr.address for rr in answer.answer[0]] == ["192.0.2.3"]


def test_a_vanished_zone_folder_keeps_every_zone(tmp_path: Path, zones_dir: Path, serve) -> None:
    (zones_dir / "a.test.yaml").write_text("zone: a.test\nns: [ns1.example.net.]\nrecords:\n  www: {A: 192.0.2.1}\n")
    server = serve()
    zones_dir.rename(tmp_path / "zones.moved")
    sighup_and_wait(server)
    assert server.ask("www.a.test", "A").rcode() == dns.rcode.NOERROR
    assert "no such file or folder: every zone keeps serving its current version" in server.log_text()


# -- the watcher -------------------------------------------------------------------------


def test_the_watcher_reloads_a_changed_file_without_any_signal(zones_dir: Path, serve) -> None:
    zone_file = zones_dir / f"{ZONE}.yaml"
    zone_file.write_text(versioned_zone(1))
    server = serve()
    assert soa_serial(server.ask(ZONE, "SOA")) == 1

    zone_file.write_text(versioned_zone(2))  # in place, as an editor without a rename would
    wait_for(lambda: soa_serial(server.ask(ZONE, "SOA")) == 2, timeout=6, what="the watcher's reload")
    assert txt_strings(server.ask(f"n0.{ZONE}", "TXT"), f"n0.{ZONE}.") == ["v2", "v2-n0"]
    log = server.log_text()
    assert "reload requested by watch" in log
    assert "reload requested by signal" not in log

    # A new file and a removed one are changes too.
    (zones_dir / "other.test.yaml").write_text("zone: other.test\nns: [ns1.example.net.]\n")
    wait_for(lambda: server.ask("other.test", "SOA").rcode() == dns.rcode.NOERROR, timeout=6, what="a new zone")
    (zones_dir / "other.test.yaml").unlink()
    wait_for(lambda: server.ask("other.test", "SOA").rcode() == dns.rcode.REFUSED, timeout=6, what="a removed zone")


def test_the_watcher_waits_until_a_slowly_written_file_is_complete(zones_dir: Path, serve) -> None:
    zone_file = zones_dir / f"{ZONE}.yaml"
    zone_file.write_text(versioned_zone(1))
    server = serve()
    # Once the watcher is polling, write version 2 in place, in pieces 0.1 s apart (less than
    # the 0.5 s of quiet the watcher waits for), each ending mid-line: only the whole file loads.
    time.sleep(1.2)
    text = versioned_zone(2)
    pieces = [text[i : i + 97] for i in range(0, len(text), 97)]
    assert len(pieces) >= 6
    with zone_file.open("w") as handle:
        for piece in pieces:
            handle.write(piece)
            handle.flush()
            time.sleep(0.1)
    wait_for(lambda: soa_serial(server.ask(ZONE, "SOA")) == 2, timeout=6, what="the watcher's reload")
    time.sleep(1.5)  # any further reload would have happened by now
    log = server.log_text()
    assert "zone file rejected" not in log
    assert log.count("reload requested by watch") == 1


# -- 100 reloads under load --------------------------------------------------------------


@dataclass
class QueryStats:
    sent: int = 0
    answered: int = 0
    failures: list[str] = field(default_factory=list)
    versions: set[int] = field(default_factory=set)


def _version_of(text: str) -> int:
    match = re.fullmatch(r"v(\d+)(?:-n\d+)?", text)
    assert match, text
    return int(match.group(1))


def check_answer(qname: str, qtype: str, response: dns.message.Message) -> int:
    """The version one answer comes from; AssertionError when it is not one complete version."""
    assert response.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(response.rcode())
    if qtype == "SOA":
        assert len(response.answer) == 1
        return soa_serial(response)
    if qname.startswith("c."):
        cname = response.get_rrset(response.answer, dns.name.from_text(qname), dns.rdataclass.IN, dns.rdatatype.CNAME)
        assert cname is not None, response
        target = cname[0].target.to_text()
        label = target.split(".")[0]
        assert label.startswith("t-v"), target
        version = int(label[3:])
        assert txt_strings(response, target) == [f"v{version}"], response
        return version
    strings = txt_strings(response, qname)
    versions = {_version_of(s) for s in strings}
    assert len(strings) == 2 and len(versions) == 1, strings
    (version,) = versions
    assert strings == sorted([f"v{version}", f"v{version}-{qname.split('.')[0]}"]), strings
    return version


def query_loop(host: str, port: int, stop: threading.Event, stats: QueryStats, valid: Callable[[int], bool]) -> None:
    """Ask one question at a time until stopped; each reply must be from a valid version."""
    rng = random.Random()
    latest = -1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2.0)
        sock.connect((host, port))
        while not stop.is_set():
            pick = rng.random()
            if pick < 0.15:
                qname, qtype = f"{ZONE}.", "SOA"
            elif pick < 0.35:
                qname, qtype = f"c.{ZONE}.", "TXT"
            else:
                qname, qtype = f"n{rng.randrange(NAMES)}.{ZONE}.", "TXT"
            query = dns.message.make_query(qname, qtype)
            stats.sent += 1
            try:
                sock.send(query.to_wire())
                while True:  # a late reply to an earlier query is not this one's
                    response = dns.message.from_wire(sock.recv(65535))
                    if response.id == query.id:
                        break
            except (TimeoutError, OSError) as exc:
                stats.failures.append(f"{qname} {qtype}: no answer ({exc!r})")
                continue
            stats.answered += 1
            try:
                version = check_answer(qname, qtype, response)
                assert valid(version), f"version {version} was never valid"
                assert version >= latest, f"version went back from {latest} to {version}"
            except AssertionError as exc:
                stats.failures.append(f"{qname} {qtype}: {exc}")
                continue
            latest = version
            stats.versions.add(version)


def test_100_reloads_under_continuous_queries_lose_nothing_and_never_mix_versions(zones_dir: Path, serve) -> None:
    """Valid and invalid versions alternate, 100 SIGHUP reloads, while clients keep asking.

    Version 0 is the start; reload i writes version i, valid when i is odd. Every answer must
    come whole from one valid version written so far, no query may go unanswered, and a
    client never sees a version older than one it already saw.
    """
    zone_file = zones_dir / f"{ZONE}.yaml"
    write_atomically(zone_file, versioned_zone(0))
    server = serve()
    written_valid = [0]  # the newest valid version written; read by the client threads

    def valid(version: int) -> bool:
        return (version == 0 or version % 2 == 1) and version <= written_valid[0]

    stop = threading.Event()
    clients = [QueryStats() for _ in range(3)]
    threads = [
        threading.Thread(target=query_loop, args=(server.host, server.port, stop, stats, valid), daemon=True)
        for stats in clients
    ]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    try:
        for i in range(1, 101):
            is_valid = i % 2 == 1
            if is_valid:
                written_valid[0] = i  # before the file exists: a client may see it as soon as it loads
            write_atomically(zone_file, versioned_zone(i, valid=is_valid))
            sighup_and_wait(server)
            time.sleep(0.01)  # let a few queries through each version
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    elapsed = time.monotonic() - started

    failures = [f for stats in clients for f in stats.failures]
    sent = sum(stats.sent for stats in clients)
    answered = sum(stats.answered for stats in clients)
    assert failures == [], failures[:20]
    assert sent == answered
    assert sent > 1000, f"only {sent} queries in {elapsed:.1f} s"
    seen = set().union(*(stats.versions for stats in clients))
    assert len(seen) >= 25, sorted(seen)  # the clients really saw the versions change
    assert elapsed < 30, elapsed

    log = server.log_text()
    assert reloads_done(server, "signal") == 100
    assert log.count("reload done (signal): 1 loaded, 0 rejected, 0 kept") == 50
    assert log.count("reload done (signal): 0 loaded, 1 rejected, 1 kept") == 50
    assert soa_serial(server.ask(ZONE, "SOA")) == 99  # version 100 is invalid: 99 keeps serving
    assert server.alive()
