"""The `gslb` command: serve, check, explain, prober and geodb, each with -c/--config."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from gslb import __version__
from gslb.config import ConfigError, load_config, unsafe_api_reason
from gslb.geo import command as geodb_command
from gslb.health import command as prober_command
from gslb.logsetup import setup_logging
from gslb.steering import command as explain_command
from gslb.zones.directory import load_zone_paths, zone_files

GEO_CREDIT = "The bundled geo database is DB-IP City Lite: IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0."


def add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", metavar="FILE",
        help="server config file (default: $GSLB_CONFIG, else built-in defaults)",
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from gslb.service import serve

    config = load_config(args.config)
    problem = unsafe_api_reason(config)
    if problem is not None:
        print(f"gslb serve: {problem}", file=sys.stderr)
        return 2
    level = args.log_level or config.log.level  # the command line wins over gslb.yaml
    setup_logging(level, config.log.format)
    source = str(config.file) if config.file is not None else "built-in defaults"
    logging.getLogger("gslb").info(
        "starting gslb %s (config: %s)", __version__, source,
        extra={"event": "start", "version": __version__, "config": source},
    )
    return serve(config)


def _cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    targets = [Path(p) for p in args.paths] or [config.zones]
    paths: list[Path] = []
    missing = False
    for target in targets:
        found = zone_files(target)
        if not found:
            print(f"{target}: no zone files (*.yaml, *.yml) found", file=sys.stderr)
            missing = True
        paths.extend(found)
    report = load_zone_paths(paths)
    for error in report.rejected:
        for problem in error.problems:
            print(problem)
    for zone in report.loaded:
        print(f"{zone.file}: ok ({zone.origin.text}, {len(zone.nodes)} names)", file=sys.stderr)
    return 1 if report.rejected or missing else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gslb",
        description="Authoritative GeoDNS / global server load balancing server.",
        epilog=GEO_CREDIT,
    )
    parser.add_argument("--version", action="version", version=f"gslb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser("serve", help="run the authoritative server (DNS, HTTP API)", epilog=GEO_CREDIT)
    add_config_arg(serve)
    serve.add_argument(
        "--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="overrides log.level of the config (default INFO)",
    )
    serve.set_defaults(func=_cmd_serve)

    check = sub.add_parser(
        "check", help="validate zone files; print every error as file:line: field: message",
        description="Validate zone files (default: the configured zones folder). Exit 1 on any error.",
    )
    add_config_arg(check)
    check.add_argument("paths", nargs="*", metavar="PATH", help="zone files or folders")
    check.set_defaults(func=_cmd_check)

    for register in (explain_command.register, prober_command.register, geodb_command.register):
        register(sub, add_config_arg)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
