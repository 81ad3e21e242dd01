"""Times as the HTTP API writes them: ISO 8601 in UTC, one formatter for every document."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(timestamp: float | None) -> str | None:
    """Unix seconds as ISO 8601 UTC ('2025-06-01T12:00:00.250000+00:00'); None stays None."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat() if timestamp is not None else None
