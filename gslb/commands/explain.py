"""`gslb explain NAME [TYPE] --client IP [--ecs SUBNET]`.

Asks the running server (its /v1/explain) so the answer reflects live health; when no server
answers, or with --offline, it loads the zones and geo database itself and explains with
every member's health unknown (each pool then counts as its `initial` state).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from gslb.config.load import load_config
from gslb.config.model import Config
from gslb.geo.errors import GeoDatabaseError


def register(subparsers: Any, add_config_arg: Callable[[argparse.ArgumentParser], Any]) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="print the answer for a client and why (location, service, pools, health, scope, TTL)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    add_config_arg(parser)
    parser.add_argument("name", help="the name to ask for, e.g. www.example.com")
    parser.add_argument("type", nargs="?", default="A", help="query type (default A)")
    parser.add_argument("--client", required=True, metavar="IP", help="the query's source address")
    parser.add_argument("--ecs", metavar="SUBNET", help="an EDNS Client Subnet, e.g. 175.223.10.0/24")
    parser.add_argument("--server", metavar="ADDRESS:PORT", help="the server's HTTP API (default: http.listen)")
    parser.add_argument("--offline", action="store_true", help="do not ask the running server")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gslb.engine.explain import ExplainError, format_explain

    config = load_config(args.config)
    report, note = None, None
    server = args.server or (str(config.http.listen) if config.http.listen is not None else None)
    if not args.offline and server:
        report, note = _ask_server(server, args)
    if report is None:
        try:
            report = _explain_locally(config, args)
        except ExplainError as exc:
            print(f"gslb explain: {exc}", file=sys.stderr)
            return 2
        except GeoDatabaseError as exc:
            print(f"gslb explain: {exc} (set geodb: none in the config to explain without one)", file=sys.stderr)
            return 1
        report["health"] = "offline: every member unknown, counted as its pool's initial state"
        if note:
            report["health"] += f" ({note})"
    print(json.dumps(report, indent=2) if args.json else format_explain(report))
    return 0


def _ask_server(server: str, args: argparse.Namespace) -> tuple[dict[str, Any] | None, str | None]:
    query = {"name": args.name, "type": args.type, "client": args.client}
    if args.ecs:
        query["ecs"] = args.ecs
    url = f"http://{server}/v1/explain?{urllib.parse.urlencode(query)}"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            report = json.load(response)
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")
        return None, f"server answered {exc.code}: {body.strip()}"
    except (OSError, ValueError) as exc:
        return None, f"no server at {server}: {getattr(exc, 'reason', exc)}"
    report["health"] = f"live, from the server at {server}"
    return report, None


def _explain_locally(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    from gslb.engine.explain import explain
    from gslb.geo.database import NONE, GeoDatabase
    from gslb.steering.engine import SteeringEngine
    from gslb.zones.directory import load_zone_paths, zone_files
    from gslb.zones.zoneset import ZoneSet

    report = load_zone_paths(zone_files(config.zones))
    for error in report.rejected:
        for problem in error.problems:
            print(f"warning: {problem}", file=sys.stderr)
    engine = SteeringEngine(GeoDatabase.open(config.geodb) if config.geodb != NONE else None)
    return explain(ZoneSet(report.loaded), engine, args.name, args.type, args.client, args.ecs)
