"""The cost of answering one query in-process: no sockets, no event loop, just the handler.

usage: inprocess.py --geodb DB --queries DIR [--mode unique|unique-do|wide|varied] [--profile N] [--general]

The query path is built as the server builds it (`build_query_path`), serving the bench zone,
and every query of a workload file (unique.blob, unique-do.blob: signed, or wide.blob) is handed to
`QueryHandler.handle` the way the UDP listener hands it over. The first 5,000 queries warm up;
the mean over the rest is printed in microseconds. `--general` switches the compiled path off
(the general path alone); `--profile N` prints the N functions with the most own time.
"""

from __future__ import annotations

import argparse
import cProfile
import ipaddress
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from workloads import read_blob  # noqa: E402

from gslb.config.model import Config, DnssecConfig  # noqa: E402
from gslb.dns.querypath import QueryPath, build_query_path  # noqa: E402
from gslb.dnssec.algorithms import ECDSAP256SHA256, PrivateKey  # noqa: E402
from gslb.dnssec.keyfiles import write_key  # noqa: E402
from gslb.dnssec.records import SEP, ZONE_KEY  # noqa: E402
from gslb.geo.database import open_geodb  # noqa: E402
from gslb.wire.name import Name  # noqa: E402
from gslb.zones.directory import load_zone_paths, zone_files  # noqa: E402
from gslb.zones.zoneset import ZoneSet  # noqa: E402

WARM_UP = 5000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--geodb", required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--mode", default="unique", choices=("unique", "unique-do", "wide", "varied"))
    parser.add_argument("--limit", type=int, default=200_000, help="queries measured at most")
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--general", action="store_true", help="without the compiled path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gslb-inprocess-") as state:  # the cookie secret and a key go there
        measure(args, Path(state))


def signed_query_path(geodb: str, state_dir: Path) -> QueryPath:
    """The query path `gslb serve` builds, serving the bench zone, which is signed: its key is made
    in state_dir/keys (the cookie secret goes to state_dir too). Shared with scale.py."""
    keys = state_dir / "keys"
    keys.mkdir()
    write_key(keys, Name.from_text("example.test"), PrivateKey.generate(ECDSAP256SHA256), ZONE_KEY | SEP, {})
    config = Config(geodb=geodb, state_dir=state_dir, dnssec=DnssecConfig(keys=keys))
    path = build_query_path(config, open_geodb(geodb))
    path.zones_changed(ZoneSet(load_zone_paths(zone_files(HERE / "zones")).loaded))
    return path


def measure(args: argparse.Namespace, state_dir: Path) -> None:
    path = signed_query_path(args.geodb, state_dir)
    if args.general:
        path.handler.compiled = None
    queries = read_blob(args.queries / f"{args.mode}.blob")
    while len(queries) < WARM_UP + args.limit:  # varied.blob repeats its 1,536 queries, as dnsperf does
        queries += queries
    queries = queries[: WARM_UP + args.limit]
    source = ipaddress.ip_address("127.0.0.1")
    handle = path.handler.handle
    for data in queries[:WARM_UP]:
        handle(data, source, False)
    measured = queries[WARM_UP:]
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    started = time.perf_counter()
    for data in measured:
        handle(data, source, False)
    elapsed = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(args.profile)
    compiled = path.handler.compiled
    print(json.dumps({
        "mode": args.mode, "path": "general" if args.general else "compiled", "queries": len(measured),
        "us_per_query": round(elapsed / len(measured) * 1e6, 2),
        "compiled_share": round(compiled.answered / (WARM_UP + len(measured)), 3) if compiled else 0.0,
    }))


if __name__ == "__main__":
    main()
