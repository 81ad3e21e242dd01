"""``prober.yaml``: who a remote prober is, where it stands and which servers it works for.

Read like every other YAML file of gslb (``gslb.common.settings``): typing is narrow, so
``datacenter: NO`` stays the text "NO", and every mistake in the file is reported at once, each
as ``file:line: field: message`` (``prober.yaml:4: servers[1]: 'ftp://x' is not an http(s) URL
with a host``), before anything starts: a typo is a clear message, not a prober that quietly
does less. The token is resolved after reading: ``GSLB_TOKEN`` wins, else ``token_file``.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from yarl import URL

from gslb.common.problems import Problems, ProblemsError
from gslb.common.secret_file import read_secret_file
from gslb.common.settings import (
    Section,
    Setting,
    SettingsReader,
    coordinates,
    duration,
    path_text,
    read_document,
    whole,
)
from gslb.common.yamldoc import YList, YMap
from gslb.config.tokens import TOKEN_ENV, token_from_env

__all__ = ["MAX_CONCURRENCY", "SETTINGS", "TOKEN_ENV", "ProberConfig", "ProberConfigError", "load_prober_config",
           "tls_context"]

MAX_CONCURRENCY = 10_000
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_SERVERS_EXAMPLE = "a non-empty list of base URLs such as http://127.0.0.1:8053"


class ProberConfigError(ProblemsError):
    """The prober config was rejected; every problem reads ``file:line: field: message``."""


@dataclass(frozen=True)
class ProberConfig:
    """A validated prober config, with the token already resolved (env first, then ``token_file``).

    The defaults here are the only ones. ``name``, ``servers`` and ``token`` are required: their
    empty defaults only let the reader build a config from whatever the file holds, and
    ``load_prober_config`` reports them missing rather than return them empty.
    """

    name: str = ""
    servers: tuple[str, ...] = ()
    token: str = field(default="", repr=False)
    datacenter: str | None = None
    location: tuple[float, float] | None = None
    refresh: float = 30.0
    concurrency: int = 100
    token_file: str | None = None
    ca_file: Path | None = None  # CA certificates to verify https:// servers by; None: the system's


def _name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ValueError(f"'{value}' is not a prober name (letters, digits, '.', '_', '-'; at most 63)")
    return value


def _datacenter(value: Any) -> str:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise ValueError(f"'{value}' is not a datacenter name")
    return value


def _server_list(value: Any) -> tuple[Any, ...]:
    """Only the shape: each URL is checked afterwards, at its own line (see ``_checked_servers``)."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"'{value}' is not {_SERVERS_EXAMPLE}")
    return tuple(value)


# The keys of prober.yaml, in the order the docs and the messages list them.
SETTINGS = Section(ProberConfig, {
    "name": Setting(_name),
    "datacenter": Setting(_datacenter),
    "location": Setting(coordinates),
    "servers": Setting(_server_list),
    "token_file": Setting(path_text),
    "ca_file": Setting(path_text, path=True),
    "refresh": Setting(duration),
    "concurrency": Setting(whole(1, MAX_CONCURRENCY)),
})


def load_prober_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> ProberConfig:
    """Read and check ``path``; raises ProberConfigError listing every problem found.

    A relative ``token_file`` is relative to the config's folder; ``env`` (default: the process
    environment) is where ``GSLB_TOKEN`` is looked up.
    """
    file = Path(path)
    doc, problems = read_document(file, ProberConfigError, "the prober config")
    reader = SettingsReader(file, problems)
    config: ProberConfig = reader.read(doc, SETTINGS)
    for key in ("name", "servers"):
        if doc.get(key) is None:
            message = f"required: {_SERVERS_EXAMPLE}" if key == "servers" else "required"
            problems.add(doc.line_of(key), key, message)
    servers = doc.get("servers")
    checked = _checked_servers(servers, problems) if config.servers and isinstance(servers, YList) else ()
    token = _token(config, doc, reader, os.environ if env is None else env)
    if config.ca_file is not None:
        _check_ca_file(config.ca_file, doc.line_of("ca_file"), problems)
    problems.raise_if_any(ProberConfigError)
    return replace(config, servers=checked, token=token)


def tls_context(config: ProberConfig) -> ssl.SSLContext:
    """How https:// servers are verified: by the CAs of `ca_file`, else by the system's (host names checked)."""
    if config.ca_file is not None:
        return ssl.create_default_context(cafile=str(config.ca_file))
    return ssl.create_default_context()


def _check_ca_file(path: Path, line: int, problems: Problems) -> None:
    """The CA file must read as PEM certificates now, not at the first fetch."""
    try:
        ssl.create_default_context(cafile=str(path))
    except ssl.SSLError as exc:  # an OSError too: first
        problems.add(line, "ca_file", f"{path} holds no PEM certificate ({exc.reason or exc})")
    except OSError as exc:
        problems.add(line, "ca_file", f"{path}: {exc.strerror or exc}")


def _server_url(item: Any) -> str:
    """One base URL, without its trailing ``/``; raises ValueError saying what is wrong with it."""
    if not isinstance(item, str):
        raise ValueError(f"'{item}' is not a URL")
    try:
        url = URL(item)
    except ValueError as exc:
        raise ValueError(f"'{item}' is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"'{item}' is not an http(s) URL with a host")
    if url.user is not None or url.password is not None:
        raise ValueError(f"'{item}' carries credentials; put the token in token_file or {TOKEN_ENV}")
    if url.query_string or url.fragment:
        raise ValueError(f"'{item}' must not have a query or fragment")
    return item.rstrip("/")


def _checked_servers(items: YList, problems: Problems) -> tuple[str, ...]:
    """Every server URL checked, each problem at the URL's own line."""
    seen: list[str] = []
    for i, item in enumerate(items):
        try:
            base = _server_url(item)
        except ValueError as exc:
            problems.add(items.line_of(i), f"servers[{i}]", str(exc))
            continue
        if base in seen:
            problems.add(items.line_of(i), f"servers[{i}]", f"'{item}' is listed twice")
            continue
        seen.append(base)
    return tuple(seen)


def _token(config: ProberConfig, doc: YMap, reader: SettingsReader, env: Mapping[str, str]) -> str:
    """``GSLB_TOKEN`` if set (the file is then not read at all), else the token file's content."""
    from_env = token_from_env(env)
    if from_env:
        return from_env
    line = doc.line_of("token_file")
    if config.token_file is None:
        if doc.get("token_file") is None:  # a token_file that is there but unusable is reported already
            reader.problems.add(line, "token_file", f"required (or set {TOKEN_ENV})")
        return ""
    path = reader.resolve(config.token_file)
    try:
        token = read_secret_file(path)
    except OSError as exc:
        reader.problems.add(line, "token_file", f"{path}: {exc.strerror or exc}")
        return ""
    if not token:
        reader.problems.add(line, "token_file", f"{path} is empty")
    return token
