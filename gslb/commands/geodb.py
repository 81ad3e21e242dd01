"""`gslb geodb lookup IP` and `gslb geodb build CSV OUT`: what the geo database says, and a way to make one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from ipaddress import ip_address
from typing import Any

from gslb.config.load import load_config
from gslb.geo.builder import COLUMNS, build_database
from gslb.geo.database import BUNDLED, NONE, GeoDatabase
from gslb.geo.errors import GeoCsvError, GeoDatabaseError
from gslb.geo.location import GeoLocation
from gslb.geo.subdivisions import country_name, subdivision_name

CREDIT = "IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0"

_DESCRIPTION = f"""\
Inspect or build the geo database that geo and nearest steering read.
The bundled database is DB-IP City Lite: {CREDIT}.
A MaxMind GeoIP2/GeoLite2 City or Country .mmdb works too (geodb: PATH in the config)."""


def register(subparsers: Any, add_config_arg: Callable[[argparse.ArgumentParser], Any]) -> None:
    """Add `geodb` and its subcommands to the CLI; each leaf gets -c/--config."""
    geodb = subparsers.add_parser(
        "geodb",
        help=f"look up or build the geo database ({CREDIT})",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = geodb.add_subparsers(dest="geodb_command", metavar="COMMAND", required=True)

    lookup = commands.add_parser(
        "lookup",
        help="what the geo database says of an address",
        description=f"Print the location the geo database gives an address. {CREDIT}.",
    )
    lookup.add_argument("ip", metavar="IP", help="an IPv4 or IPv6 address")
    lookup.add_argument(
        "--geodb",
        metavar="SPEC",
        help=f"'{BUNDLED}' or a .mmdb path (default: the config's geodb, else {BUNDLED})",
    )
    add_config_arg(lookup)
    lookup.set_defaults(func=_lookup)

    build = commands.add_parser(
        "build",
        help="build a GeoIP2-City-compatible .mmdb from a CSV",
        description=f"Build a GeoIP2-City-compatible .mmdb. The CSV header is {','.join(COLUMNS)}; "
        "values as MaxMind stores them (US, CA, NA).",
    )
    build.add_argument("csv", metavar="CSV", help="the source table")
    build.add_argument("out", metavar="OUT", help="the .mmdb file to write")
    add_config_arg(build)
    build.set_defaults(func=_build)


def _geodb_spec(args: argparse.Namespace) -> str:
    """--geodb, else the config file's `geodb`, else the bundled database."""
    if getattr(args, "geodb", None):
        return str(args.geodb)
    return str(load_config(getattr(args, "config", None)).geodb)


def _lookup(args: argparse.Namespace) -> int:
    try:
        address = ip_address(args.ip)
    except ValueError:
        print(f"gslb geodb lookup: '{args.ip}' is not an IP address", file=sys.stderr)
        return 1
    spec = _geodb_spec(args)
    if spec == NONE:
        print("gslb geodb lookup: the config says geodb: none; name a database with --geodb PATH", file=sys.stderr)
        return 1
    try:
        database = GeoDatabase.open(spec)
    except GeoDatabaseError as err:
        print(f"gslb geodb lookup: {err}", file=sys.stderr)
        return 1
    with database:
        location, network = database.lookup(address)
        print(format_report(str(address), network, location, database.summary))
    return 0


def _build(args: argparse.Namespace) -> int:
    try:
        count = build_database(args.csv, args.out)
    except GeoCsvError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    except (GeoDatabaseError, OSError) as err:
        print(f"gslb geodb build: {err}", file=sys.stderr)
        return 1
    print(f"{args.out}: {count} networks from {args.csv}")
    return 0


def format_report(address: str, network: object, location: GeoLocation | None, database: str) -> str:
    """The readable multi-line answer of `geodb lookup`; '-' where the database says nothing."""
    where = location or GeoLocation()
    country = f"{where.country} ({country_name(where.country)})" if where.country else None
    subdivision = where.subdivision
    if subdivision and subdivision_name(subdivision):
        subdivision = f"{subdivision} ({subdivision_name(subdivision)})"
    coordinates = None
    if where.latitude is not None and where.longitude is not None:
        coordinates = f"{where.latitude}, {where.longitude}"
    lines = [
        ("address", address),
        ("network", str(network)),
        ("country", country),
        ("subdivision", subdivision),
        ("continent", where.continent),
        ("coordinates", coordinates),
        ("city", where.city),
        ("database", database),
    ]
    report = "\n".join(f"{label + ':':<13}{value or '-'}" for label, value in lines)
    return report if location else f"{report}\n(no location: this network is not in the database)"
