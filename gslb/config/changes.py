"""Which settings of `gslb.yaml` changed between two readings, and which of them a reload can apply.

A reload (SIGHUP, `POST /v1/reload`) reads the config file again. The token files and the TLS
certificate files are read again and applied at once; every other setting is fixed for the life
of the process (sockets are open, worker processes started), so a change to it is logged as
waiting for a restart and the running value stays.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from gslb.config import tokens
from gslb.config.model import Config

# Settings a reload applies (their files are read again on every reload, changed or not).
APPLIED_ON_RELOAD = frozenset({*tokens.SETTING.values(), "http.tls.cert", "http.tls.key"})
_ABSENT = object()


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    """Dotted setting names to values; a section that is off (None) is one entry."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            if prefix == "" and item.name == "file":
                continue  # where the config came from, not a setting
            _flatten(getattr(value, item.name), f"{prefix}{item.name}.", out)
        return
    out[prefix.rstrip(".")] = value


def changed_settings(old: Config, new: Config) -> list[str]:
    """The settings whose value differs, outermost first: `http.tls` rather than its keys when TLS was
    turned on or off."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flatten(old, "", before)
    _flatten(new, "", after)
    changed = {key for key in before.keys() | after.keys() if before.get(key, _ABSENT) != after.get(key, _ABSENT)}
    return sorted(key for key in changed if not any(key.startswith(f"{other}.") for other in changed))


def needing_restart(old: Config, new: Config) -> list[str]:
    """The changed settings a reload cannot apply."""
    return [key for key in changed_settings(old, new) if key not in APPLIED_ON_RELOAD]
