"""`gslb check [PATH…]`: validate zone files the way the server would load them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gslb.config.load import load_config
from gslb.zones.directory import load_zone_paths, zone_files


def register(subparsers: Any, add_config_arg: Callable[[argparse.ArgumentParser], Any]) -> None:
    parser = subparsers.add_parser(
        "check", help="validate zone files; print every error as file:line: field: message",
        description="Validate zone files (default: the configured zones folder). Exit 1 on any error.",
    )
    add_config_arg(parser)
    parser.add_argument("paths", nargs="*", metavar="PATH", help="zone files or folders")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
