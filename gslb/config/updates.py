"""The `updates` section of `gslb.yaml`: checking the update policy as the operator wrote it.

The policy is a list of grants, each saying what one key may change in one zone. A grant's
names are relative to its zone and may be patterns: `*` stands for any names, either as the
leftmost label (`*.dyn`: any name strictly below `dyn`) or as the rightmost one
(`_acme-challenge.*`: `_acme-challenge` on top of any name of the zone, the apex included);
`*` alone is any name of the zone. How a name matches is `gslb.updates.policy`'s job; here the
text is only checked, so a typo stops the server at start rather than refusing updates later.
"""

from __future__ import annotations

import re
from typing import Any

from gslb.common.settings import nonempty_texts
from gslb.common.yamldoc import YList, YMap
from gslb.config.model import UPDATABLE_TYPES, UpdateGrant

GRANT_KEYS = ("key", "zone", "names", "types")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


def _texts(value: Any, what: str) -> list[str]:
    return nonempty_texts(value, f"{what}: expected one or more names in a list")


def name_pattern(text: str) -> str:
    """A grant's name, lower-cased, or ValueError saying what is wrong with it."""
    pattern = text.strip().lower()
    if pattern in ("*", "@"):
        return pattern
    if pattern.endswith("."):
        raise ValueError(f"'{text}': write names relative to the zone, without a trailing dot")
    labels = pattern.split(".")
    stars = [index for index, label in enumerate(labels) if label == "*"]
    if stars and (len(stars) > 1 or stars[0] not in (0, len(labels) - 1)):
        raise ValueError(f"'{text}': '*' may only be the first or the last label, once")
    for label in labels:
        if label != "*" and not _LABEL.match(label):
            raise ValueError(f"'{text}': label '{label}' is not 1 to 63 letters, digits, '-' or '_'")
    if len(pattern) > 250:
        raise ValueError(f"'{text}': too long for a name")
    return pattern


def _grant(entry: Any, where: str) -> UpdateGrant:
    if not isinstance(entry, YMap):
        raise ValueError(f"{where}: expected a mapping with {', '.join(GRANT_KEYS)}")
    unknown = [key for key in entry if key not in GRANT_KEYS]
    if unknown:
        raise ValueError(f"{where}: unknown key '{unknown[0]}' (expected one of: {', '.join(GRANT_KEYS)})")
    missing = [key for key in GRANT_KEYS if key not in entry]
    if missing:
        raise ValueError(f"{where}: '{missing[0]}' is required")
    key, zone = entry["key"], entry["zone"]
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"{where}: key: '{key}' is not a key name")
    if not isinstance(zone, str) or not zone.strip(". "):
        raise ValueError(f"{where}: zone: '{zone}' is not a zone name")
    try:
        names = tuple(name_pattern(name) for name in _texts(entry["names"], f"{where}: names"))
    except ValueError as exc:
        raise ValueError(str(exc) if str(exc).startswith(where) else f"{where}: names: {exc}") from None
    types = tuple(t.upper() for t in _texts(entry["types"], f"{where}: types"))
    wrong = [t for t in types if t not in UPDATABLE_TYPES]
    if wrong:
        raise ValueError(f"{where}: types: {wrong[0]} cannot be updated (one of: {', '.join(UPDATABLE_TYPES)})")
    return UpdateGrant(key.strip().lower().rstrip(".") + ".", zone.strip().lower().rstrip(".") + ".", names, types)


def update_policy(value: Any) -> tuple[UpdateGrant, ...]:
    """The list of grants; each problem names the grant (and its line) it is in."""
    if not isinstance(value, YList | list):
        raise ValueError("expected a list of grants (key, zone, names, types)")
    grants = []
    for index, entry in enumerate(value):
        line = entry.line if isinstance(entry, YMap) else (value.line_of(index) if isinstance(value, YList) else 0)
        grants.append(_grant(entry, f"grant {index + 1} (line {line})"))
    return tuple(grants)


def key_files(value: Any) -> tuple[str, ...]:
    """One path or a list of them (made absolute by the reader)."""
    return tuple(nonempty_texts(value, f"'{value}' is not a path or a list of paths"))
