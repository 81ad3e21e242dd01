"""A key rollover while a validating resolver keeps asking: no answer fails validation.

The child zone's combined signing key is rolled the way docs/dnssec.md describes (pre-publish,
double DS at the parent, swap, remove), with the parent zone on the same server standing in for
the registrar. TTLs are one second, so each step's wait is short; Unbound re-fetches keys, DS and
answers all the time, and every one of its answers must come back NOERROR with AD=1.
"""

from __future__ import annotations

import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dns.dnssec
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from tests import signed_zones as zones
from tests.harness import RunningServer, start_server, wait_for
from tests.validating import Unbound, anchors_from, gslb, start_unbound

pytestmark = pytest.mark.skipif(not (shutil.which("unbound") or Path("/usr/sbin/unbound").exists()),
                                reason="needs unbound (make tools)")

QUESTIONS = [(f"www.{zones.CHILD}", "A"), (zones.CHILD, "DNSKEY"), (f"gone.{zones.CHILD}", "A"), (zones.CHILD, "DS"),
             (f"www.{zones.CHILD}", "TXT")]
SETTLE = 2.5  # seconds: longer than every TTL in play, so caches turn over between steps


class Asker:
    """Asks Unbound the QUESTIONS in turn until stopped, keeping every reply that did not validate."""

    def __init__(self, unbound: Unbound) -> None:
        self.unbound = unbound
        self.asked = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, rdtype in QUESTIONS:
                try:
                    reply = self.unbound.ask(name, rdtype, timeout=3)
                except Exception as exc:  # a timeout is a failure too
                    self.failed.append(f"{name} {rdtype}: {exc!r}")
                    continue
                self.asked += 1
                if reply.rcode() != dns.rcode.NOERROR or not reply.flags & dns.flags.AD:
                    self.failed.append(f"{time.strftime('%X')} {name} {rdtype}: {dns.rcode.to_text(reply.rcode())}, "
                                       f"AD={bool(reply.flags & dns.flags.AD)}")
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[RunningServer, Unbound, Path, Path]]:
    keys, folder = tmp_path / "keys", tmp_path / "zones"
    folder.mkdir()
    for zone in (zones.PARENT, zones.CHILD):
        gslb("dnssec", "keygen", zone, "--keys", str(keys))
    write_parent(folder, keys)
    (folder / f"{zones.CHILD}.yaml").write_text(zones.child_zone(ttl=1))
    server = start_server(tmp_path / "server", folder, {"dnssec": {"keys": str(keys)}, "http": {"listen": "off"}})
    anchors = anchors_from(gslb("dnssec", "ds", zones.PARENT, "--keys", str(keys)))
    try:
        unbound = start_unbound(tmp_path / "unbound", {zones.PARENT: server.port, zones.CHILD: server.port}, anchors,
                                zones.PARENT)
    except Exception:
        server.stop()
        raise
    yield server, unbound, keys, folder
    unbound.stop()
    server.stop()


def write_parent(folder: Path, keys: Path) -> None:
    """The parent with the child's DS as `gslb dnssec ds` prints it now (the registrar's step)."""
    printed = gslb("dnssec", "ds", zones.CHILD, "--keys", str(keys))
    (folder / f"{zones.PARENT}.yaml").write_text(
        zones.parent_zone([" ".join(line.split()[3:]) for line in printed.splitlines()], ttl=1))


def tags(server: RunningServer, name: str, rdtype: str) -> list[int]:
    """The key tags gslb answers with now: of the DNSKEY or DS set, or of the RRSIGs over an A set."""
    reply = server.udp(dns.message.make_query(name, rdtype, want_dnssec=True))
    found = []
    for rrset in reply.answer:
        if rdtype == "A" and rrset.rdtype == dns.rdatatype.RRSIG:
            found += [sig.key_tag for sig in rrset]
        elif rrset.rdtype == dns.rdatatype.DNSKEY:
            found += [dns.dnssec.key_id(key) for key in rrset]
        elif rrset.rdtype == dns.rdatatype.DS:
            found += [ds.key_tag for ds in rrset]
    return sorted(found)


def reload(server: RunningServer, until: Callable[[], bool]) -> None:
    """SIGHUP, then wait until the server answers as the step intends."""
    server.signal(signal.SIGHUP)
    wait_for(until, timeout=15)


def test_a_key_rollover_while_queries_run(served: tuple[RunningServer, Unbound, Path, Path]) -> None:
    server, unbound, keys, folder = served
    old = tags(server, zones.CHILD, "DNSKEY")
    assert len(old) == 1
    asker = Asker(unbound)
    try:
        wait_for(lambda: asker.asked > 20, timeout=15)
        # 1. Pre-publish the new key: in the DNSKEY set, not signing.
        gslb("dnssec", "keygen", zones.CHILD, "--keys", str(keys), "--prepublish")
        reload(server, lambda: len(tags(server, zones.CHILD, "DNSKEY")) == 2)
        new = [tag for tag in tags(server, zones.CHILD, "DNSKEY") if tag not in old]
        # 2. The parent gets both DS records (what `gslb dnssec ds` prints now).
        write_parent(folder, keys)
        reload(server, lambda: tags(server, zones.CHILD, "DS") == sorted(old + new))
        time.sleep(SETTLE)
        # 3. Swap: the new key signs, the old one stops signing but stays published.
        gslb("dnssec", "activate", zones.CHILD, str(new[0]), "--keys", str(keys))
        gslb("dnssec", "retire", zones.CHILD, str(old[0]), "--keys", str(keys))
        reload(server, lambda: tags(server, f"www.{zones.CHILD}", "A") == new)
        time.sleep(SETTLE)
        # 4. Remove the old key from the DNSKEY set, then its DS from the parent.
        gslb("dnssec", "remove", zones.CHILD, str(old[0]), "--keys", str(keys))
        reload(server, lambda: tags(server, zones.CHILD, "DNSKEY") == new)
        time.sleep(SETTLE)
        write_parent(folder, keys)
        reload(server, lambda: tags(server, zones.CHILD, "DS") == new)
        time.sleep(SETTLE)
        asked_during = asker.asked
    finally:
        asker.stop()
    assert asker.failed == [], "\n".join(asker.failed[:20]) + "\n" + unbound.log_text()[-3000:]
    assert asked_during > 200, asked_during
