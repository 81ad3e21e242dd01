"""Fail a test when the query handler logs an internal error.

`QueryHandler.handle` never raises: an exception anywhere below it (the parser, the engine, the
encoder) becomes a SERVFAIL reply and a `log.exception("internal error answering a query
from ...")` on the `gslb.dns.handler` logger. A test that only looks at the reply therefore
passes when the code crashed; `no_internal_errors` makes such a crash fail the test.

A handler is attached to the logger itself rather than relying on pytest's caplog, which sits
on the root logger and misses records when propagation or the root's handlers were changed
(`gslb serve`'s logging setup replaces them).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

HANDLER_LOGGER = "gslb.dns.handler"


class ErrorRecords(logging.Handler):
    """Keeps every record at ERROR or above that reaches it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def describe(self) -> str:
        """The messages and tracebacks, for the failure report."""
        formatter = logging.Formatter()
        parts = []
        for record in self.records:
            text = f"{record.levelname} {record.name}: {record.getMessage()}"
            if record.exc_info:
                text += "\n" + formatter.formatException(record.exc_info)
            parts.append(text)
        return "\n".join(parts)


@contextlib.contextmanager
def no_internal_errors(logger_name: str = HANDLER_LOGGER) -> Iterator[ErrorRecords]:
    """Within the block, collect what `logger_name` logs at ERROR; fail afterwards if anything was."""
    logger = logging.getLogger(logger_name)
    saved_level = logger.level
    if not logger.isEnabledFor(logging.ERROR):
        logger.setLevel(logging.ERROR)  # a quieter level set elsewhere must not hide a crash
    assert logger.isEnabledFor(logging.ERROR), "logging is disabled: an internal error would go unseen"
    collected = ErrorRecords()
    logger.addHandler(collected)
    try:
        yield collected
    finally:
        logger.removeHandler(collected)
        logger.setLevel(saved_level)
    assert not collected.records, f"{logger_name} logged an internal error:\n{collected.describe()}"
