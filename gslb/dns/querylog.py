"""The sampled query log: who asked what, and what steering decided, for a share of queries.

The handler holds a `QueryLog` only when `log.queries.sample` is above 0, so a server without
a query log pays one `is not None` per query. A sampled line goes to the logger `gslb.queries`
(operators can route it on its own) and, with `log.queries.file`, to that file instead of the
main log. Everything is formatted here, after the sampling decision, never on the query path.
"""

from __future__ import annotations

import ipaddress
import logging
import logging.handlers
import random
from collections.abc import Callable
from typing import Any

from gslb.common.logsetup import make_formatter
from gslb.config.model import QueryLogConfig
from gslb.engine.answer import Answer
from gslb.wire.constants import RRType, rcode_name, type_name
from gslb.wire.message import Query

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
LOGGER_NAME = "gslb.queries"
ADDRESS_TYPES = (RRType.A, RRType.AAAA)


def presentable(text: str) -> str:
    """A query name as one safe token: blanks, quotes and control bytes as `\\DDD` (RFC 1035 style).

    Names come from the network; unescaped, a crafted one could split or forge log lines.
    """
    if text.isprintable() and " " not in text and '"' not in text:
        return text
    return "".join(c if c.isprintable() and c not in ' "' else f"\\{ord(c):03d}" for c in text)


class QueryLog:
    """Decides per query whether to log it (`random() < sample`) and writes the line."""

    def __init__(self, sample: float, logger: logging.Logger, random_: Callable[[], float] = random.random) -> None:
        self.sample = sample
        self.logger = logger
        self.random = random_

    def record(self, source: IPAddress, query: Query, answer: Answer, scope: int, tcp: bool) -> None:
        """Called once per answered query; returns at once unless the query is sampled."""
        if self.sample < 1.0 and self.random() >= self.sample:
            return
        question = query.question
        ecs = query.edns.ecs if query.edns is not None else None
        fields: dict[str, Any] = {
            "event": "query",
            "client": str(source),
            "ecs": f"{ecs.address}/{ecs.source_prefix}" if ecs is not None else None,
            "scope": scope if ecs is not None else None,
            "qname": presentable(question.name.text),
            "qtype": type_name(question.qtype),
            "rcode": rcode_name(answer.rcode),
            "answers": [r.text for rrset in answer.answer if rrset.rtype in ADDRESS_TYPES for r in rrset.rdatas],
            "decision": answer.steered.choice.describe(answer.steered.service) if answer.steered else None,
            "transport": "tcp" if tcp else "udp",
        }
        self.logger.info(_plain(fields), extra=fields)


def _plain(fields: dict[str, Any]) -> str:
    """`query client=… ecs=… scope=… name=… type=… rcode=… answers=… decision="…" transport=…`."""
    parts = [f"query client={fields['client']}"]
    if fields["ecs"] is not None:
        parts.append(f"ecs={fields['ecs']} scope={fields['scope']}")
    parts.append(f"name={fields['qname']} type={fields['qtype']} rcode={fields['rcode']}")
    parts.append(f"answers={','.join(fields['answers']) or '-'}")
    if fields["decision"] is not None:
        parts.append(f'decision="{fields["decision"]}"')
    parts.append(f"transport={fields['transport']}")
    return " ".join(parts)


def open_query_log(settings: QueryLogConfig, fmt: str = "plain") -> QueryLog | None:
    """Set up the `gslb.queries` logger; None (no query log at all) while `sample` is 0.

    With a file, lines go there only (a WatchedFileHandler, so logrotate can move the file);
    without one they join the main log. The logger is at INFO whatever `log.level` says: a
    query log that was asked for is written.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = True
    if settings.sample <= 0:
        return None
    logger.setLevel(logging.INFO)
    if settings.file is not None:
        try:
            settings.file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.WatchedFileHandler(settings.file, encoding="utf-8")
        except OSError as exc:  # serving DNS matters more than where the query log goes
            logging.getLogger("gslb").error(
                "query log file %s cannot be opened (%s): query lines go to the main log", settings.file,
                exc.strerror or exc, extra={"event": "query_log_file_failed", "file": str(settings.file)},
            )
        else:
            handler.setFormatter(make_formatter(fmt))
            logger.addHandler(handler)
            logger.propagate = False
    return QueryLog(settings.sample, logger)
