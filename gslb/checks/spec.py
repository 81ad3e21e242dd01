"""What one health check is: the settings from a zone's ``checks:`` section, and their wire form.

The same ``CheckSpec`` travels from the zone file (the server builds it) through ``GET /v1/targets``
(JSON) to the prober (which runs it). It validates itself on construction, so a spec that exists is a
spec that can be probed, whichever side built it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from dnslib import QTYPE

from gslb.common.durations import parse_duration

__all__ = [
    "CHECK_TYPES",
    "DEFAULT_PORTS",
    "LOAD_SOURCES",
    "CheckSpec",
    "CheckSpecError",
]

CHECK_TYPES: tuple[str, ...] = ("http", "https", "tcp", "dns", "none")
LOAD_SOURCES: tuple[str, ...] = ("header", "body")
DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443, "dns": 53}

_COMMON: frozenset[str] = frozenset({"type", "interval", "timeout", "rise", "fall"})
_HTTP: frozenset[str] = _COMMON | {"port", "path", "host", "expect_status", "expect_body", "load"}
# Which fields mean something for which type: anything else is an operator's mistake, reported as such.
_FIELDS_BY_TYPE: dict[str, frozenset[str]] = {
    "http": _HTTP,
    "https": _HTTP | {"insecure"},
    "tcp": _COMMON | {"port"},
    "dns": _COMMON | {"port", "qname", "qtype"},
    "none": _COMMON,
}
_ALL_FIELDS: frozenset[str] = frozenset().union(*_FIELDS_BY_TYPE.values())
# Query types that make no sense as a single UDP question.
_BAD_QTYPES: frozenset[str] = frozenset({"AXFR", "IXFR", "OPT", "MAILA", "MAILB"})

_HOST_LABEL_RE = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_DNS_LABEL_RE = re.compile(r"^[A-Za-z0-9_*]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_MAX_INTERVAL = 86400.0
_MAX_TIMEOUT = 3600.0
_MAX_RISE_FALL = 1000
_MAX_BODY = 4096
_MAX_PATH = 2048


class CheckSpecError(ValueError):
    """A check's settings are invalid; ``field`` names the offending setting within the check."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class CheckSpec:
    """The settings of one health check.

    ``name`` is the label a zone gave the check; it takes no part in equality, hashing or
    ``content_key()``, because two checks with the same settings are one target whatever their names.
    Fields that do not apply to ``type`` must keep their defaults. ``port=None`` means the type's
    default port (80, 443, 53); a tcp check has no default and must name its port.
    """

    type: str
    port: int | None = None
    path: str = "/"
    host: str | None = None
    expect_status: tuple[int, ...] = (200,)
    expect_body: str | None = None
    interval: float = 5.0
    timeout: float = 2.0
    rise: int = 2
    fall: int = 3
    insecure: bool = False
    qname: str = "."
    qtype: str = "SOA"
    load: str | None = None
    name: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        """Validate and normalise, so every CheckSpec in the program is a valid one."""
        if not isinstance(self.type, str) or self.type not in CHECK_TYPES:
            raise CheckSpecError("type", f"{self.type!r} is not one of {', '.join(CHECK_TYPES)}")
        allowed = _FIELDS_BY_TYPE[self.type]
        for f in fields(self):
            if f.name in allowed or f.name == "name" or f.name == "port":
                continue
            if getattr(self, f.name) != f.default:
                raise CheckSpecError(f.name, f"does not apply to a {self.type} check")
        self._set("port", _check_port(self.type, self.port))
        self._set("path", _check_path(self.path))
        self._set("host", _check_host(self.host))
        self._set("expect_status", _check_statuses(self.expect_status))
        self._set("expect_body", _check_body(self.expect_body))
        self._set("interval", _check_seconds("interval", self.interval, _MAX_INTERVAL))
        self._set("timeout", _check_seconds("timeout", self.timeout, _MAX_TIMEOUT))
        _check_count("rise", self.rise)
        _check_count("fall", self.fall)
        if not isinstance(self.insecure, bool):
            raise CheckSpecError("insecure", f"{self.insecure!r} is not true or false")
        self._set("qname", _check_qname(self.qname))
        self._set("qtype", _check_qtype(self.qtype))
        if self.load is not None and self.load not in LOAD_SOURCES:
            raise CheckSpecError("load", f"{self.load!r} is not one of {', '.join(LOAD_SOURCES)}")
        if self.name is not None and (not isinstance(self.name, str) or not self.name):
            raise CheckSpecError("name", f"{self.name!r} is not a non-empty string")

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    @property
    def probed(self) -> bool:
        """False for ``type: none``: such a member is never probed and counts as up."""
        return self.type != "none"

    def content_key(self) -> tuple[tuple[str, Any], ...]:
        """Every setting except the name, hashable: equal keys mean one target."""
        return tuple((f.name, getattr(self, f.name)) for f in fields(self) if f.compare)

    def to_json(self, *, include_name: bool = False) -> dict[str, Any]:
        """The wire form used in ``/v1/targets``: every field that applies to the type, explicitly.

        Defaults are written out so that a prober with other defaults still probes the same way;
        unset optional fields (host, expect_body, load) are left out rather than sent as null.
        """
        allowed = _FIELDS_BY_TYPE[self.type]
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in allowed:
                continue
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        if include_name and self.name is not None:
            out["name"] = self.name
        return out

    @classmethod
    def from_json(cls, data: object) -> CheckSpec:
        """Build a spec from its wire form (or a zone file's mapping), rejecting anything unknown.

        Durations may be numbers of seconds or duration strings (``2s``, ``500ms``), so the zone
        loader can hand over its YAML mapping as it is. Raises ``CheckSpecError``.
        """
        if not isinstance(data, Mapping):
            raise CheckSpecError("check", f"expected a mapping, got {type(data).__name__}")
        for key in data:
            if not isinstance(key, str) or (key not in _ALL_FIELDS and key != "name"):
                raise CheckSpecError(str(key), "unknown field")
        if "type" not in data:
            raise CheckSpecError("type", "required")
        kind = data["type"]
        if not isinstance(kind, str) or kind not in CHECK_TYPES:
            raise CheckSpecError("type", f"{kind!r} is not one of {', '.join(CHECK_TYPES)}")
        allowed = _FIELDS_BY_TYPE[kind]
        for key in data:
            if key not in allowed and key != "name":
                raise CheckSpecError(key, f"does not apply to a {kind} check")
        kwargs: dict[str, Any] = {"type": kind}
        for key, value in data.items():
            if key == "type":
                continue
            if key in ("interval", "timeout"):
                kwargs[key] = _json_duration(key, value)
            elif key == "expect_status":
                kwargs[key] = _json_statuses(value)
            else:
                kwargs[key] = value
        return cls(**kwargs)


def _json_duration(name: str, value: object) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise CheckSpecError(name, str(exc)) from None


def _json_statuses(value: object) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    raise CheckSpecError("expect_status", f"{value!r} is not a list of HTTP status codes")


def _check_port(kind: str, port: object) -> int | None:
    if kind == "none":
        if port is not None:
            raise CheckSpecError("port", "does not apply to a none check")
        return None
    if port is None:
        if kind not in DEFAULT_PORTS:
            raise CheckSpecError("port", f"required for a {kind} check")
        return DEFAULT_PORTS[kind]
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise CheckSpecError("port", f"{port!r} is not a port number (1-65535)")
    return port


def _check_path(path: object) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise CheckSpecError("path", f"{path!r} must start with '/'")
    if len(path) > _MAX_PATH or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in path):
        raise CheckSpecError("path", f"{path!r} contains spaces or control characters, or is too long")
    return path


def _check_host(host: object) -> str | None:
    if host is None:
        return None
    if not isinstance(host, str):
        raise CheckSpecError("host", f"{host!r} is not a host name")
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_HOST_LABEL_RE.match(label) for label in labels):
        raise CheckSpecError("host", f"{host!r} is not a host name")
    return name.lower()


def _check_statuses(statuses: object) -> tuple[int, ...]:
    if not isinstance(statuses, tuple | list) or not statuses:
        shown = list(statuses) if isinstance(statuses, tuple | list) else statuses
        raise CheckSpecError("expect_status", f"{shown!r} is not a non-empty list of status codes")
    for i, status in enumerate(statuses):
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise CheckSpecError(f"expect_status[{i}]", f"{status!r} is not an HTTP status code (100-599)")
    return tuple(sorted(set(statuses)))


def _check_body(body: object) -> str | None:
    if body is None:
        return None
    if not isinstance(body, str) or not body:
        raise CheckSpecError("expect_body", f"{body!r} is not a non-empty string")
    if len(body) > _MAX_BODY:
        raise CheckSpecError("expect_body", f"longer than {_MAX_BODY} characters")
    return body


def _check_seconds(name: str, value: object, maximum: float) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= maximum:
        raise CheckSpecError(name, f"{value!r} is not a number of seconds in (0, {maximum:g}]")
    return float(value)


def _check_count(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= _MAX_RISE_FALL:
        raise CheckSpecError(name, f"{value!r} is not a whole number from 1 to {_MAX_RISE_FALL}")


def _check_qname(qname: object) -> str:
    if not isinstance(qname, str) or not qname:
        raise CheckSpecError("qname", f"{qname!r} is not a domain name")
    if qname == ".":
        return "."
    name = qname[:-1] if qname.endswith(".") else qname
    labels = name.split(".")
    if len(name) > 253 or not all(_DNS_LABEL_RE.match(label) for label in labels):
        raise CheckSpecError("qname", f"{qname!r} is not a domain name")
    return name.lower() + "."


def _check_qtype(qtype: object) -> str:
    if not isinstance(qtype, str):
        raise CheckSpecError("qtype", f"{qtype!r} is not a DNS record type")
    upper = qtype.upper()
    if upper not in QTYPE.reverse or upper in _BAD_QTYPES:
        raise CheckSpecError("qtype", f"{qtype!r} is not a DNS record type that can be queried over UDP")
    return upper
