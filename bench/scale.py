"""Scale checks: a large zone loads fast and small, and a million client subnets do not grow memory.

usage: .venv/bin/python bench/scale.py [--names 10000] [--services 1000] [--subnets 1000000]

1. Writes a zone with N static names and M geo services (three pools each), starts the real
   `gslb serve` on it, and reports the time to its ready line and its resident memory.
2. In one process, answers a query for a steered name from each of K distinct client /24s
   (through ECS), through the real handler, and reports resident memory as it goes: the caches
   are bounded, so it must level off.
Traffic: none but 127.0.0.1; the ECS addresses are only option payload.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gslb.dns.handler import QueryHandler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTINENTS = ["asia", "europe", "north-america", "south-america", "africa", "oceania"]


def rss_mib(pid: int | str = "self") -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024  # type: ignore[union-attr]


def big_zone(names: int, services: int) -> str:
    lines = ["zone: scale.test.", "ns: [ns1.scale.test.]", "records:", "  ns1: {A: 127.0.0.53}"]
    for i in range(names):
        lines.append(f"  host{i}: {{A: 10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}, TXT: \"host {i}\"}}")
    for i in range(services):
        lines.append(f"  svc{i}: {{service: svc{i}}}")
    lines += ["datacenters:", "  a: {location: [37.5, 127.0]}", "  b: {location: [50.1, 8.7]}",
              "  c: {location: [38.9, -77.4]}", "pools:"]
    for i in range(services):
        for j, dc in enumerate("abc"):
            members = f"10.200.{i % 250}.{j + 1}, 10.201.{i % 250}.{j + 1}"
            lines.append(f"  p{i}-{dc}: {{datacenter: {dc}, members: [{members}]}}")
    lines.append("services:")
    for i in range(services):
        mapping = ", ".join(f"{c}: [p{i}-{'abc'[k % 3]}, p{i}-{'abc'[(k + 1) % 3]}]" for k, c in enumerate(CONTINENTS))
        lines.append(f"  svc{i}: {{method: geo, map: {{{mapping}, default: [p{i}-c, p{i}-b]}}}}")
    return "\n".join(lines) + "\n"


def load_check(names: int, services: int, geodb: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "zones").mkdir()
        (work / "zones" / "scale.test.yaml").write_text(big_zone(names, services))
        size = (work / "zones" / "scale.test.yaml").stat().st_size
        (work / "gslb.yaml").write_text(
            f"dns: {{listen: ['127.0.0.1:0']}}\nhttp: {{listen: off}}\nzones: {work / 'zones'}\n"
            f"state_dir: {work / 'state'}\ngeodb: {geodb}\n"
        )
        log = work / "log"
        started = time.monotonic()
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "gslb", "serve", "-c", str(work / "gslb.yaml")],
                                    stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            while "ready:" not in log.read_text():
                if proc.poll() is not None or time.monotonic() - started > 120:
                    raise SystemExit(f"server did not start:\n{log.read_text()}")
                time.sleep(0.02)
            elapsed = time.monotonic() - started
            print(f"zone: {names:,} static names, {services:,} services, {3 * services:,} pools, "
                  f"{size / 1e6:.1f} MB of YAML")
            print(f"  start to ready (load, validate, serve): {elapsed:.2f} s  (target < 5 s)")
            print(f"  resident memory once serving: {rss_mib(proc.pid):.0f} MiB  (target < 300 MB)")
        finally:
            proc.terminate()
            proc.wait()


def subnet_check(subnets: int, geodb: str) -> None:
    from inprocess import signed_query_path  # bench/, the script's own folder

    with tempfile.TemporaryDirectory(prefix="gslb-scale-") as state:  # the cookie secret and the zone's key
        path = signed_query_path(geodb, Path(state))
        walk_subnets(path.handler, subnets)


def walk_subnets(handler: QueryHandler, subnets: int) -> None:
    """A query for the steered name from each of `subnets` client /24s, memory reported as it goes."""
    import dns.edns
    import dns.message

    source = ipaddress.ip_address("127.0.0.1")
    query = dns.message.make_query("www.example.test", "A", use_edns=0,
                                   options=[dns.edns.ECSOption("10.0.0.0", 24)]).to_wire()
    prefix, tail = query[:-3], query[-3:]
    assert tail == b"\x0a\x00\x00"
    print(f"{subnets:,} distinct client /24s through ECS (www.example.test, the bench zone):")
    started = time.monotonic()
    checkpoints = {subnets // 8 * k for k in range(1, 9)}
    for i in range(subnets):
        network = (167772160 + i * 256) % (1 << 32)  # 10.0.0.0/24, 10.0.1.0/24, ... then onwards
        data = prefix + network.to_bytes(4, "big")[:3]
        handler.handle(data, source, False)
        if i + 1 in checkpoints:
            compiled = handler.compiled
            print(f"  {i + 1:>9,} subnets: {rss_mib():6.0f} MiB resident, {time.monotonic() - started:6.1f} s, "
                  f"compiled names {len(compiled.names) if compiled else 0:,}, "
                  f"client subnets {sum(map(len, compiled.clients.values())) if compiled else 0:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=int, default=10_000)
    parser.add_argument("--services", type=int, default=1_000)
    parser.add_argument("--subnets", type=int, default=1_000_000)
    parser.add_argument("--geodb", default=str(ROOT / "bench" / "run" / "peers" / "run" / "geo-test.mmdb"))
    args = parser.parse_args()
    if not Path(args.geodb).exists():
        raise SystemExit(f"{args.geodb}: run `make bench` once first (it builds the peers' test database)")
    load_check(args.names, args.services, args.geodb)
    subnet_check(args.subnets, args.geodb)


if __name__ == "__main__":
    main()
