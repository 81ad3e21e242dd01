"""``prober.yaml``: who a remote prober is, where it stands and which servers it works for.

Validation is strict and complete before anything starts, so a typo is a clear message at start-up
(``prober.yaml: servers[1]: 'ftp://x' is not an http(s) URL``), not a prober that quietly does less.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yarl import URL

from gslb.common.durations import parse_duration

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_REFRESH",
    "TOKEN_ENV",
    "ProberConfig",
    "ProberConfigError",
    "load_prober_config",
    "parse_prober_config",
]

TOKEN_ENV = "GSLB_TOKEN"
DEFAULT_REFRESH = 30.0
DEFAULT_CONCURRENCY = 100
MAX_CONCURRENCY = 10_000

_FIELDS = frozenset({"name", "datacenter", "location", "servers", "token_file", "refresh", "concurrency"})
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class ProberConfigError(ValueError):
    """The prober config is unusable; the message reads ``file: field: message``."""

    def __init__(self, file: str, field_name: str, message: str) -> None:
        super().__init__(f"{file}: {field_name}: {message}")
        self.file = file
        self.field = field_name
        self.message = message


# Builds the error for a field; the caller raises it (so the raise is visible where it happens).
_Fail = Callable[[str, str], ProberConfigError]


@dataclass(frozen=True)
class ProberConfig:
    """A validated prober config, with the token already resolved (env first, then ``token_file``)."""

    name: str
    servers: tuple[str, ...]
    token: str = field(repr=False)
    datacenter: str | None = None
    location: tuple[float, float] | None = None
    refresh: float = DEFAULT_REFRESH
    concurrency: int = DEFAULT_CONCURRENCY
    token_file: str | None = None


def load_prober_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> ProberConfig:
    """Read and validate ``path``; a relative ``token_file`` is relative to the config's directory."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ProberConfigError(file, "file", exc.strerror or str(exc)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProberConfigError(file, "yaml", str(exc).replace("\n", " ")) from None
    return parse_prober_config(data, file=file, base_dir=Path(path).parent, env=env)


def parse_prober_config(
    data: object,
    *,
    file: str = "prober.yaml",
    base_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ProberConfig:
    """Validate an already-parsed config mapping (``load_prober_config`` minus the file reading)."""
    env = os.environ if env is None else env

    def fail(field_name: str, message: str) -> ProberConfigError:
        return ProberConfigError(file, field_name, message)

    if data is None:
        raise fail("file", "empty; expected a mapping with at least name, servers and a token")
    if not isinstance(data, Mapping):
        raise fail("file", f"expected a mapping, got {type(data).__name__}")
    for key in data:
        if key not in _FIELDS:
            raise fail(str(key), f"unknown field (known: {', '.join(sorted(_FIELDS))})")

    name = data.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise fail("name", f"{name!r} is not a prober name (letters, digits, '.', '_', '-'; required)")

    datacenter = data.get("datacenter")
    if datacenter is not None and (
        not isinstance(datacenter, str) or not datacenter or any(c.isspace() for c in datacenter)
    ):
        raise fail("datacenter", f"{datacenter!r} is not a datacenter name")

    location = _location(data.get("location"), fail)
    servers = _servers(data.get("servers"), fail)
    token_file = data.get("token_file")
    if token_file is not None and (not isinstance(token_file, str) or not token_file):
        raise fail("token_file", f"{token_file!r} is not a path")
    token = _token(token_file, base_dir, env, fail)

    refresh = DEFAULT_REFRESH
    if "refresh" in data:
        try:
            refresh = parse_duration(data["refresh"])
        except ValueError as exc:
            raise fail("refresh", str(exc)) from None
        if refresh <= 0:
            raise fail("refresh", "must be more than zero")

    concurrency = data.get("concurrency", DEFAULT_CONCURRENCY)
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise fail("concurrency", f"{concurrency!r} is not a whole number from 1 to {MAX_CONCURRENCY}")

    return ProberConfig(
        name=name,
        servers=servers,
        token=token,
        datacenter=datacenter,
        location=location,
        refresh=refresh,
        concurrency=concurrency,
        token_file=token_file,
    )


def _location(value: object, fail: _Fail) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise fail("location", f"{value!r} is not [latitude, longitude]")
    coords: list[float] = []
    for part, limit, label in zip(value, (90.0, 180.0), ("latitude", "longitude"), strict=True):
        if not isinstance(part, int | float) or isinstance(part, bool) or not math.isfinite(part):
            raise fail("location", f"{label} {part!r} is not a number")
        if not -limit <= part <= limit:
            raise fail("location", f"{label} {part!r} is outside [-{limit:g}, {limit:g}]")
        coords.append(float(part))
    return (coords[0], coords[1])


def _servers(value: object, fail: _Fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise fail("servers", "required: a non-empty list of base URLs such as http://127.0.0.1:8053")
    seen: list[str] = []
    for i, item in enumerate(value):
        where = f"servers[{i}]"
        if not isinstance(item, str):
            raise fail(where, f"{item!r} is not a URL")
        try:
            url = URL(item)
        except ValueError as exc:
            raise fail(where, f"{item!r} is not a URL: {exc}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise fail(where, f"{item!r} is not an http(s) URL with a host")
        if url.user is not None or url.password is not None:
            raise fail(where, f"{item!r} carries credentials; put the token in token_file or {TOKEN_ENV}")
        if url.query_string or url.fragment:
            raise fail(where, f"{item!r} must not have a query or fragment")
        base = item.rstrip("/")
        if base in seen:
            raise fail(where, f"{item!r} is listed twice")
        seen.append(base)
    return tuple(seen)


def _token(token_file: str | None, base_dir: Path | None, env: Mapping[str, str], fail: _Fail) -> str:
    from_env = env.get(TOKEN_ENV, "").strip()
    if from_env:
        return from_env
    if token_file is None:
        raise fail("token_file", f"required (or set {TOKEN_ENV})")
    path = Path(token_file)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise fail("token_file", f"{path}: {exc.strerror or exc}") from None
    if not token:
        raise fail("token_file", f"{path} is empty")
    return token
