"""The `gslb` command: serve, check, explain, prober, geodb and dnssec, each with -c/--config."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gslb import __version__
from gslb.commands import check, dnssec, explain, geodb, serve
from gslb.config.load import ConfigError
from gslb.prober import command as prober

GEO_CREDIT = serve.GEO_CREDIT


def add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", metavar="FILE",
        help="server config file (default: $GSLB_CONFIG, else built-in defaults)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gslb",
        description="Authoritative GeoDNS / global server load balancing server.",
        epilog=GEO_CREDIT,
    )
    parser.add_argument("--version", action="version", version=f"gslb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (serve, check, explain, prober, geodb, dnssec):
        module.register(sub, add_config_arg)
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
