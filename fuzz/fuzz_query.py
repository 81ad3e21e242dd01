#!/usr/bin/env python3
"""Coverage-guided fuzzing of the query path with atheris (libFuzzer for Python).

atheris is not a test dependency; install it where you fuzz:

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_query.py --make-corpus fuzz/corpus     # seed queries, once
    .venv/bin/python fuzz/fuzz_query.py fuzz/corpus -max_total_time=600 -rss_limit_mb=2048

Any libFuzzer flag works (-jobs=4, -max_len=4096, ...). A finding is written as crash-<sha1>;
replay it, without atheris, with:

    .venv/bin/python fuzz/fuzz_query.py --replay crash-<sha1>

Each input is one packet; its first byte picks the transport (UDP or TCP) and whether a rate
limiter is in the path, the rest is the packet. The packet goes through
`QueryHandler.handle` against the zones in zones/ and the test geo database (the code both
listeners call), and the harness fails on: an exception, an "internal error" logged by the
handler (which otherwise turns an exception into SERVFAIL), a reply that does not echo the
ID or lacks QR, or a UDP reply over its size limit.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gslb.config.model import DnsConfig, RateLimit  # noqa: E402
from gslb.dns.handler import QueryHandler, ServingState  # noqa: E402
from gslb.dns.ratelimit import RateLimiter  # noqa: E402
from gslb.engine.resolver import Resolver  # noqa: E402
from gslb.engine.respond import Responder  # noqa: E402
from gslb.geo.database import GeoDatabase  # noqa: E402
from gslb.geo.errors import GeoDatabaseError  # noqa: E402
from gslb.steering.engine import SteeringEngine  # noqa: E402
from gslb.zones.directory import load_zone_paths, zone_files  # noqa: E402
from gslb.zones.zoneset import ZoneSet  # noqa: E402

MAX_UDP = 1232
SOURCES = [ipaddress.ip_address(a) for a in ("127.0.0.1", "175.223.10.1", "3.120.0.1", "2001:db8::1")]


class _Errors(logging.Handler):
    """Collects what the handler logs at ERROR or above (it never raises by design)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _geodb() -> GeoDatabase | None:
    test_db = ROOT / "geodb" / "test-city.mmdb"
    try:
        return GeoDatabase.open(str(test_db) if test_db.exists() else "bundled")
    except GeoDatabaseError:
        return None


def _build() -> tuple[QueryHandler, RateLimiter]:
    report = load_zone_paths(zone_files(ROOT / "zones"))
    handler = QueryHandler(
        ServingState(ZoneSet(report.loaded)), Responder(Resolver(SteeringEngine(_geodb())), "fuzz"),
        DnsConfig(max_udp_size=MAX_UDP, nsid="fuzz"),
    )
    return handler, RateLimiter(RateLimit(5, 2, 2))


HANDLER, LIMITER = _build()
ERRORS = _Errors()
logging.getLogger("gslb").addHandler(ERRORS)


def TestOneInput(data: bytes) -> None:  # the name atheris and libFuzzer expect
    if not data:
        return
    mode, packet = data[0], data[1:]
    tcp = bool(mode & 1)
    limiter = LIMITER if (mode & 2 and not tcp) else None
    source = SOURCES[(mode >> 2) % len(SOURCES)]
    ERRORS.records.clear()
    reply = HANDLER.handle(packet, source, tcp, limiter=limiter)
    if ERRORS.records:
        record = ERRORS.records[0]
        ERRORS.records.clear()
        raise AssertionError(f"handler logged: {record.getMessage()}\n{record.exc_text or ''}")
    if reply is None:
        return
    assert len(reply) >= 12, reply
    assert reply[:2] == packet[:2], "the ID is not echoed"
    assert reply[2] & 0x80, "QR is not set"
    if not tcp:
        assert len(reply) <= MAX_UDP, f"UDP reply of {len(reply)} bytes"


def _seeds() -> list[bytes]:
    from fuzz.corpus import seed_queries  # ROOT is on sys.path (see the top of this file)

    queries = seed_queries()
    return [bytes((mode,)) + q.to_wire() for q in queries for mode in (0, 1, 2)]


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--make-corpus"]:
        folder = Path(argv[2])
        folder.mkdir(parents=True, exist_ok=True)
        for index, seed in enumerate(_seeds()):
            (folder / f"seed-{index:03d}").write_bytes(seed)
        print(f"{len(_seeds())} seeds in {folder}")
        return 0
    if argv[1:2] == ["--replay"]:
        for name in argv[2:]:
            TestOneInput(Path(name).read_bytes())
            print(f"{name}: ok")
        return 0
    import atheris  # type: ignore[import-not-found]

    logging.getLogger("gslb").propagate = False  # findings are reported by the harness, not printed

    atheris.instrument_all()
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
