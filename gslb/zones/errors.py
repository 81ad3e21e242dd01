"""The error a rejected zone file raises (its problems say where and why)."""

from __future__ import annotations

from gslb.common.problems import ProblemsError


class ZoneFileError(ProblemsError):
    """A zone file was rejected; `problems` lists every reason found."""
