"""`gslb explain NAME [TYPE] --client IP [--ecs SUBNET]`.

Asks the running server (its /v1/explain) so the answer reflects live health; when no server
answers, or with --offline, it loads the zones and geo database itself and explains with
every member's health unknown (each pool then counts as its `initial` state). Dynamic records
(from the journal in state_dir, when updates are on) are shown with the key that changed them.
Exit status: 0 for an answer (NOERROR or NXDOMAIN), 1 for REFUSED (the name is in no zone) or
SERVFAIL, or when the address asked is not a gslb server or refuses us, 2 for a question that
cannot be asked.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from gslb.commands.server_api import NoServer, NotUsable, base_url, get_json
from gslb.config.load import load_config
from gslb.config.model import Config
from gslb.geo.errors import GeoDatabaseError

REPORT_KEYS = {"question", "client", "rcode", "answer", "steering"}


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
    parser.add_argument("--server", metavar="ADDRESS:PORT",
                        help="the server's HTTP API, or its URL (default: http.listen, https with http.tls)")
    parser.add_argument("--offline", action="store_true", help="do not ask the running server")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """0 for an answer (NOERROR, NXDOMAIN), 1 for REFUSED or SERVFAIL or a server that cannot be
    used, 2 for a question that cannot be asked."""
    from gslb.engine.explain import ExplainError, format_explain

    config = load_config(args.config)
    report, note = None, None
    url = None if args.offline else base_url(config, args.server)
    try:
        if url is not None:
            try:
                report = _ask_server(config, url, args)
            except NoServer as exc:
                note = str(exc)
        if report is None:
            report = _explain_locally(config, args)
            report["health"] = "offline: every member unknown, counted as its pool's initial state"
            if note:
                report["health"] += f" ({note})"
    except ExplainError as exc:
        print(f"gslb explain: {exc}", file=sys.stderr)
        return 2
    except NotUsable as exc:
        print(f"gslb explain: {exc}", file=sys.stderr)
        return 1
    except GeoDatabaseError as exc:
        print(f"gslb explain: {exc} (set geodb: none in the config to explain without one)", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2) if args.json else format_explain(report))
    return _exit_status(report)


def _exit_status(report: dict[str, Any]) -> int:
    """Non-zero, with a line saying why, when no answer comes of the question."""
    name, rcode = report["question"]["name"], report["rcode"]
    if rcode == "REFUSED":
        print(f"gslb explain: {name} is in no zone of this server (REFUSED)", file=sys.stderr)
        return 1
    if rcode == "SERVFAIL":
        print(f"gslb explain: {name} gets SERVFAIL", file=sys.stderr)
        return 1
    return 0


def _ask_server(config: Config, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The live report from the server's /v1/explain; raises NoServer, NotUsable or ExplainError."""
    from gslb.engine.explain import ExplainError

    query = {"name": args.name, "type": args.type, "client": args.client}
    if args.ecs:
        query["ecs"] = args.ecs
    status, body = get_json(config, url, "/v1/explain", query)
    if status == 400 and isinstance(body, dict) and isinstance(body.get("error"), str):
        raise ExplainError(body["error"])
    if status != 200 or not isinstance(body, dict) or not set(body) >= REPORT_KEYS:
        raise NotUsable(f"{url} is not a gslb server's HTTP API (HTTP {status} for /v1/explain, "
                        "not an explain report)")
    body["health"] = f"live, from the server at {urlsplit(url).netloc}"
    return body


def _explain_locally(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    from gslb.engine.explain import explain
    from gslb.geo.database import NONE, GeoDatabase
    from gslb.steering.engine import SteeringEngine
    from gslb.updates.journal import Journal
    from gslb.zones.directory import load_zone_paths, zone_files
    from gslb.zones.dynamic import merge
    from gslb.zones.zoneset import ZoneSet

    report = load_zone_paths(zone_files(config.zones))
    for error in report.rejected:
        for problem in error.problems:
            print(f"warning: {problem}", file=sys.stderr)
    engine = SteeringEngine(GeoDatabase.open(config.geodb) if config.geodb != NONE else None)
    dynamic = Journal(config.state_dir / "updates").load(set_aside=False) if config.updates is not None else {}
    zones = ZoneSet(merge(zone, dynamic.get(zone.origin.text))[0] for zone in report.loaded)
    return explain(zones, engine, args.name, args.type, args.client, args.ecs)
