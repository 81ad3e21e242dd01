"""`gslb serve`: assemble the server process from the config and run it.

This is where the optional embedded prober is plugged in (`health.local_prober`), so that the
server itself never imports the prober program.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Callable
from typing import Any

from gslb import __version__
from gslb.common.logsetup import LEVELS, setup_logging
from gslb.config.load import load_config, unsafe_api_reason
from gslb.config.tokens import TokenFileError, read_tokens
from gslb.geo.errors import GeoDatabaseError
from gslb.health.reports import parse_report
from gslb.server.http_listener import CertificateError
from gslb.server.service import GslbServer, run_server
from gslb.updates.keys import KeyFileError

GEO_CREDIT = "The bundled geo database is DB-IP City Lite: IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0."


def register(subparsers: Any, add_config_arg: Callable[[argparse.ArgumentParser], Any]) -> None:
    parser = subparsers.add_parser("serve", help="run the authoritative server (DNS, HTTP API)", epilog=GEO_CREDIT)
    add_config_arg(parser)
    parser.add_argument("--log-level", choices=list(LEVELS), help="overrides log.level of the config (default INFO)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        tokens = read_tokens(config.http)
    except TokenFileError as exc:
        print(f"gslb serve: {exc}", file=sys.stderr)
        return 2
    problem = unsafe_api_reason(config, tokens)
    if problem is not None:
        print(f"gslb serve: {problem}", file=sys.stderr)
        return 2
    setup_logging(args.log_level or config.log.level, config.log.format)  # the command line wins
    source = str(config.file) if config.file is not None else "built-in defaults"
    logging.getLogger("gslb").info(
        "starting gslb %s (config: %s)", __version__, source,
        extra={"event": "start", "version": __version__, "config": source},
    )
    try:
        server = GslbServer(config, tokens)
    except KeyFileError as exc:
        print(f"gslb serve: {exc}", file=sys.stderr)
        return 2
    except GeoDatabaseError as exc:
        logging.getLogger("gslb").error("cannot start: %s (set geodb: none to run without a geo database)", exc)
        return 1
    except CertificateError as exc:
        logging.getLogger("gslb").error("cannot start: %s", exc)
        return 1
    if config.health.local_prober:
        server.background.append(_embedded_prober(server))
    return run_server(server)


def _embedded_prober(server: GslbServer) -> Any:
    """The same prober as `gslb prober`, reading targets from and reporting to this process."""
    from gslb.prober.embedded import EmbeddedProber

    monitor = server.health
    return EmbeddedProber(
        f"local-{server.config.dns.nsid or socket.gethostname()}",
        targets=lambda: list(monitor.index.targets.values()),
        report=lambda body: monitor.apply_report(parse_report(body)),
    )
