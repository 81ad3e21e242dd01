#!/usr/bin/env python3
"""Measure UDP amplification (bytes out / bytes in) against a zone folder, with and without RRL.

    .venv/bin/python fuzz/amplification.py              # zones/, a table
    .venv/bin/python fuzz/amplification.py --json       # the same numbers as JSON (the tests use it)
    .venv/bin/python fuzz/amplification.py --zones DIR --nsid ns-seoul-1 --max-udp-size 1232

Every owner name of every zone (plus a name under each wildcard, a name under each delegation
and a name that does not exist) is asked for every type gslb knows, from several client
locations, each as the smallest query that can carry it: without EDNS, with EDNS, with DO,
with an NSID request, and with an ECS /24 option. The answers come from the real query handler
(`QueryHandler.handle`, the code both listeners call). The script checks that no UDP reply
exceeds its limit (512 bytes without EDNS, min(client's size, max_udp_size) with it) and
reports the worst factor.

Then it replays the worst query as a sustained flood from one spoofed source (1,000 queries a
second for 60 simulated seconds) through a `RateLimiter` with the recommended settings (20/s,
15 s window) and slip 2 and 1, and reports bytes out / bytes in for the whole flood.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import struct
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
from gslb.wire.constants import EDNS_DO, OPTION_ECS, OPTION_NSID, RRClass, RRType  # noqa: E402
from gslb.wire.name import WILDCARD_LABEL, Name  # noqa: E402
from gslb.zones.directory import load_zone_paths, zone_files  # noqa: E402
from gslb.zones.zoneset import ZoneSet  # noqa: E402

SOURCES = ["127.0.0.1", "175.223.10.1", "3.120.0.1", "52.0.0.1", "2001:db8::1"]
VARIANTS = ["plain", "edns", "edns+do", "edns+nsid", "edns+do+nsid", "edns+ecs24"]


def query_wire(name: Name, qtype: int, variant: str, qclass: int = RRClass.IN, payload: int = 4096) -> bytes:
    """The smallest query for this question and EDNS variant (no RD, no padding)."""
    edns = variant != "plain"
    header = struct.pack("!HHHHHH", 0x1234, 0, 1, 0, 0, 1 if edns else 0)
    wire = header + name.wire + struct.pack("!HH", qtype, qclass)
    if edns:
        options = b""
        if "nsid" in variant:
            options += struct.pack("!HH", OPTION_NSID, 0)
        if "ecs24" in variant:
            options += struct.pack("!HHHBB", OPTION_ECS, 7, 1, 24, 0) + bytes((175, 223, 10))
        ttl = EDNS_DO if "+do" in variant else 0
        wire += b"\x00" + struct.pack("!HHIH", RRType.OPT, payload, ttl, len(options)) + options
    return wire


def question_names(zones: ZoneSet) -> list[Name]:
    names: list[Name] = []
    for zone in zones:
        names.append(zone.origin.prepend(b"zz"))  # does not exist: NXDOMAIN
        for wire in sorted(zone.existing):
            name = _name_from_wire(wire)
            if name.labels and name.labels[0] == WILDCARD_LABEL:
                names.append(name.parent().prepend(b"a"))  # synthesised from the wildcard
            else:
                names.append(name)
        for wire in sorted(zone.cuts):
            names.append(_name_from_wire(wire).prepend(b"a"))  # below a delegation: a referral
    return names


def _name_from_wire(wire: bytes) -> Name:
    labels = []
    pos = 0
    while wire[pos]:
        labels.append(wire[pos + 1 : pos + 1 + wire[pos]])
        pos += wire[pos] + 1
    return Name(tuple(labels))


def build_handler(zones_dir: Path, nsid: str | None, max_udp_size: int) -> QueryHandler:
    report = load_zone_paths(zone_files(zones_dir))
    if report.rejected:
        raise SystemExit(f"rejected zone files: {[str(e) for e in report.rejected]}")
    try:
        geodb: GeoDatabase | None = GeoDatabase.open("bundled")
    except GeoDatabaseError:
        geodb = None
    return QueryHandler(ServingState(ZoneSet(report.loaded)), Responder(Resolver(SteeringEngine(geodb)), nsid),
                        DnsConfig(max_udp_size=max_udp_size, nsid=nsid))


def measure(handler: QueryHandler, max_udp_size: int) -> dict:
    types = sorted({int(t) for t in RRType} | {99, 65})
    results = []
    over_limit = []
    names = question_names(handler.state.zones)
    if handler.nsid is not None:
        names.append(Name.from_text("id.server."))
    for name in names:
        for qtype in types:
            for variant in VARIANTS:
                qclass = RRClass.CH if name == Name.from_text("id.server.") else RRClass.IN
                wire = query_wire(name, qtype, variant, qclass)
                limit = 512 if variant == "plain" else min(4096, max_udp_size)
                for source in SOURCES:
                    reply = handler.handle(wire, ipaddress.ip_address(source), False)
                    if reply is None:
                        continue
                    entry = {
                        "name": name.text, "type": _type_name(qtype), "variant": variant, "source": source,
                        "query": len(wire), "reply": len(reply), "factor": round(len(reply) / len(wire), 2),
                        "tc": bool(reply[2] & 0x02),
                    }
                    results.append(entry)
                    if len(reply) > limit:
                        over_limit.append(entry)
    results.sort(key=lambda e: (-e["factor"], -e["reply"]))
    top: list[dict] = []
    for entry in results:  # one line per question and variant, whichever source asked
        if not any((t["name"], t["type"], t["variant"]) == (entry["name"], entry["type"], entry["variant"])
                   for t in top):
            top.append(entry)
        if len(top) == 10:
            break
    return {
        "queries": len(results),
        "max_udp_size": max_udp_size,
        "largest_reply": max(e["reply"] for e in results),
        "over_limit": over_limit,
        "worst": results[0],
        "top": top,
    }


def _type_name(qtype: int) -> str:
    try:
        return RRType(qtype).name
    except ValueError:
        return f"TYPE{qtype}"


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def flood(handler: QueryHandler, worst: dict, slip: int, qps: int = 1000, seconds: int = 60) -> dict:
    """bytes out / bytes in for a sustained flood of the worst query from one spoofed source."""
    name = Name.from_text(worst["name"])
    qclass = RRClass.CH if name == Name.from_text("id.server.") else RRClass.IN
    qtype = RRType[worst["type"]] if worst["type"] in RRType.__members__ else int(worst["type"][4:])
    wire = query_wire(name, qtype, worst["variant"], qclass)
    clock = _Clock()
    limiter = RateLimiter(RateLimit(20, 15, slip), clock=clock)
    source = ipaddress.ip_address(worst["source"])
    bytes_in = bytes_out = sent = 0
    for _ in range(qps * seconds):
        clock.now += 1 / qps
        reply = handler.handle(wire, source, False, limiter=limiter)
        bytes_in += len(wire)
        if reply is not None:
            bytes_out += len(reply)
            sent += 1
    return {
        "rate": 20, "window": 15, "slip": slip, "qps": qps, "seconds": seconds,
        "replies": sent, "full_answers": qps * seconds - limiter.stats.limited,
        "bytes_in": bytes_in, "bytes_out": bytes_out, "factor": round(bytes_out / bytes_in, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zones", type=Path, default=ROOT / "zones")
    parser.add_argument("--nsid", default=None)
    parser.add_argument("--max-udp-size", type=int, default=1232)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    handler = build_handler(args.zones, args.nsid, args.max_udp_size)
    report = measure(handler, args.max_udp_size)
    report["rate_limited"] = {f"slip_{slip}": flood(handler, report["worst"], slip) for slip in (2, 1)}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['queries']} queries, largest reply {report['largest_reply']} bytes "
          f"(max_udp_size {report['max_udp_size']}), over the limit: {len(report['over_limit'])}")
    print("worst factors (reply / query bytes):")
    for e in report["top"]:
        print(f"  {e['factor']:6.2f}  {e['reply']:5d}/{e['query']:3d}  {e['name']} {e['type']} "
              f"{e['variant']} from {e['source']}{' TC' if e['tc'] else ''}")
    for key, r in report["rate_limited"].items():
        print(f"flood of the worst query, {r['qps']}/s for {r['seconds']} s, RRL {r['rate']}/s "
              f"window {r['window']} s slip {r['slip']}: {r['full_answers']} full answers, "
              f"{r['replies']} replies, factor {r['factor']} ({key})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
