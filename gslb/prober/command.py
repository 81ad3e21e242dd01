"""``gslb prober -c prober.yaml``: run a remote prober until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from gslb.common.durations import format_duration
from gslb.prober.config import ProberConfig, ProberConfigError, load_prober_config
from gslb.prober.engine import Prober

__all__ = ["register", "run_command", "run_prober"]

log = logging.getLogger(__name__)

CONFIG_ENV = "GSLB_CONFIG"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_CONFIG = 2


def register(subparsers: Any, add_config_arg: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``prober`` subcommand; ``add_config_arg`` adds the shared ``-c/--config`` option."""
    parser = subparsers.add_parser(
        "prober",
        help="run a remote prober: fetch targets from servers, probe them, report verdicts",
        description=(
            "Run a remote prober. -c/--config (or $GSLB_CONFIG) names its prober.yaml: name, "
            "datacenter or location, servers, token_file, ca_file, refresh, concurrency. $GSLB_TOKEN overrides "
            "the token file. Runs until SIGINT or SIGTERM; exit 2 on a bad config."
        ),
    )
    add_config_arg(parser)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """The subcommand's handler: load the config, then probe until told to stop."""
    path = getattr(args, "config", None) or os.environ.get(CONFIG_ENV)
    if not path:
        print(f"gslb prober: no config: pass -c prober.yaml (or set {CONFIG_ENV})", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        config = load_prober_config(path)
    except ProberConfigError as exc:
        for problem in exc.problems:  # every mistake at once, one line each, so one edit fixes them all
            print(problem, file=sys.stderr)
        return EXIT_BAD_CONFIG
    _setup_logging(getattr(args, "log_level", "INFO"))
    try:
        return asyncio.run(run_prober(config))
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        return EXIT_OK


async def run_prober(config: ProberConfig) -> int:
    """Run a standalone prober for ``config`` until SIGINT/SIGTERM; 0 on a clean stop, 1 on a crash."""
    prober = Prober.from_config(config)
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread / not Unix
            loop.add_signal_handler(sig, prober.stop)
            installed.append(sig)
    where = config.datacenter or (f"{config.location[0]},{config.location[1]}" if config.location else "-")
    log.info(
        "prober %s (%s) starting: %d server(s), refresh %s, concurrency %d",
        config.name,
        where,
        len(config.servers),
        format_duration(config.refresh),
        config.concurrency,
    )
    try:
        await prober.run()
    except Exception:
        log.exception("prober %s stopped on an internal error", config.name)
        return EXIT_FAILED
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    log.info("prober %s stopped", config.name)
    return EXIT_OK


def _setup_logging(level: str) -> None:
    """Use the project's log format when available; it is shared by every command."""
    try:
        from gslb.common.logsetup import setup_logging
    except ImportError:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return
    setup_logging(level)
