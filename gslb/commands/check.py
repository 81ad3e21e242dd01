"""`gslb check [PATH…]`: validate zone files the way the server would load them.

Problems and warnings go to standard error, one per line as `file:line: field: message`; what was
checked goes to standard output, a line per file that passed and a summary. Exit status 1 on any
problem (a rejected file, a path with no zone files); warnings alone leave it 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gslb.common.problems import Problem
from gslb.config.load import load_config
from gslb.zones.directory import load_zone_paths, zone_files
from gslb.zones.policy_model import SharedDefinitions
from gslb.zones.shared import SHARED_FILE


def register(subparsers: Any, add_config_arg: Callable[[argparse.ArgumentParser], Any]) -> None:
    parser = subparsers.add_parser(
        "check", help="validate zone files; print every problem as file:line: field: message",
        description="Validate zone files (default: the configured zones folder), with the folder's shared "
                    f"definitions ({SHARED_FILE}). Problems and warnings go to standard error, a line per "
                    "file that passed and a summary to standard output. Exit 1 on any problem, 2 on a bad "
                    "config file; warnings alone exit 0.",
    )
    add_config_arg(parser)
    parser.add_argument("paths", nargs="*", metavar="PATH", help="zone files or folders")
    parser.set_defaults(func=run)


def warning_line(problem: Problem) -> str:
    """`file:line: warning: field: message`, the way compilers mark what is accepted but suspicious."""
    where = f"{problem.file}:{problem.line}" if problem.line else problem.file
    return f"{where}: warning: {problem.field}: {problem.message}"


def _count(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def _shared_line(shared: SharedDefinitions) -> str:
    counts = (_count(len(shared.datacenters), "datacenter"), _count(len(shared.checks), "check"),
              _count(len(shared.pools), "pool"))
    return f"{shared.file}: ok (shared: {', '.join(counts)})"


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    targets = [Path(p) for p in args.paths] or [config.zones]
    paths: list[Path] = []
    missing = 0
    for target in targets:
        found = zone_files(target)
        if not found:
            print(f"{target}: no zone files (*.yaml, *.yml) found", file=sys.stderr)
            missing += 1
        paths.extend(found)
    report = load_zone_paths(paths)
    for error in report.rejected:
        for problem in error.problems:
            print(problem, file=sys.stderr)
    warnings = [warning for zone in report.loaded for warning in zone.warnings]
    for warning in warnings:
        print(warning_line(warning), file=sys.stderr)
    for shared in report.shared:
        print(_shared_line(shared))
    for zone in report.loaded:
        print(f"{zone.file}: ok ({zone.origin.text}, {len(zone.nodes)} names)")
    files = len(report.loaded) + len(report.shared) + len(report.rejected)
    summary = (f"checked {_count(files, 'file')}: {files - len(report.rejected)} ok, {len(report.rejected)} "
               f"rejected, {_count(len(warnings), 'warning')}")
    if missing:
        summary += f"; {_count(missing, 'path')} without zone files"
    print(summary)
    return 1 if report.rejected or missing else 0
