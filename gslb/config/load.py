"""Reading `gslb.yaml`: where it comes from, the table of its keys, and the checks across keys.

Where the file comes from: `-c/--config`, else `GSLB_CONFIG`, else built-in defaults (serve
`zones/` on 127.0.0.1:5300 with the HTTP API on 127.0.0.1:8053). The defaults themselves live
in `gslb.config.model`.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gslb.common.digits import is_decimal
from gslb.common.endpoint import Endpoint, parse_endpoint
from gslb.common.problems import Problems, ProblemsError
from gslb.common.settings import (
    Section,
    Setting,
    SettingsReader,
    above_zero,
    boolean,
    choice,
    duration,
    one_or_more,
    path_text,
    read_document,
    share,
    text,
    whole,
)
from gslb.common.urls import redacted_url
from gslb.common.yamldoc import YMap
from gslb.config.cookie_secret import read_secrets
from gslb.config.model import (
    Config,
    CookieConfig,
    DnsConfig,
    DnssecConfig,
    HealthConfig,
    HttpConfig,
    LogConfig,
    QueryLogConfig,
    RateLimit,
    TcpConfig,
    TlsConfig,
    UpdatesConfig,
)
from gslb.config.tokens import ApiTokens
from gslb.config.updates import key_files, update_policy


class ConfigError(ProblemsError):
    """The config file was rejected; same `file:line: field: message` form as zone files."""


def _endpoints(value: Any) -> tuple[Endpoint, ...]:
    items = one_or_more(value)
    if not items:
        raise ValueError("at least one ADDRESS:PORT is required")
    return tuple(parse_endpoint(str(item)) for item in items)


def _optional_endpoint(value: Any) -> Endpoint | None:
    if value in ("", "off", False):
        return None
    return parse_endpoint(str(value))


def _workers(value: Any) -> int | str:
    if value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 256:
        raise ValueError(f"'{value}' is not 'auto' or a number from 1 to 256")
    return value


def _quorum(value: Any) -> float | str:
    if value in ("any", "all"):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(f"'{value}' is not a share above 0 and at most 1, 'any' or 'all'")
    return float(value)


def _geodb(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{value}' is not 'bundled', 'none' or a path to an .mmdb file")
    return value


def _validity(value: Any) -> float:
    seconds = duration(value)
    if seconds < 6 * 3600:
        raise ValueError(f"'{value}' is shorter than 6h (signatures start an hour back and are renewed halfway)")
    return seconds


def _health_backend(value: Any) -> str:
    if value == "local":
        return value
    url = value if isinstance(value, str) else str(value)
    shown = redacted_url(url)
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"'{shown}' is not local, redis://host:port/db or rediss://host:port/db")
    if not parts.hostname:
        raise ValueError(f"'{shown}' names no host")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(f"'{shown}': the port is not a number from 1 to 65535")
    database = parts.path.lstrip("/")
    if database and not is_decimal(database):
        raise ValueError(f"'{shown}': the database '{database}' is not a number")
    return url


# The keys of gslb.yaml, in the order the docs and the messages list them.
SCHEMA = Section(Config, {
    "dns": Section(DnsConfig, {
        "listen": Setting(_endpoints),
        "max_udp_size": Setting(whole(512, 65535, what="a size")),
        "nsid": Setting(text(1, 128)),
        "workers": Setting(_workers),
        "rate_limit": Section(RateLimit, {
            "responses_per_second": Setting(above_zero),
            "window": Setting(duration),
            "slip": Setting(whole(0, note=" (0: never send a truncated reply)")),
        }, optional=True),
        "tcp": Section(TcpConfig, {
            "idle_timeout": Setting(duration),
            "max_connections": Setting(whole(1)),
            "max_queries": Setting(whole(1)),
        }),
        "cookies": Section(CookieConfig, {
            "enabled": Setting(boolean),
            "secret_file": Setting(path_text, path=True),
        }),
    }),
    "http": Section(HttpConfig, {
        "listen": Setting(_optional_endpoint),
        "tls": Section(TlsConfig, {
            "cert": Setting(path_text, path=True),
            "key": Setting(path_text, path=True),
        }, optional=True),
        "token_file": Setting(path_text, path=True),
        "prober_token_file": Setting(path_text, path=True),
        "operator_token_file": Setting(path_text, path=True),
        "read_token_file": Setting(path_text, path=True),
    }),
    "zones": Setting(path_text, path=True),
    "state_dir": Setting(path_text, path=True),
    "geodb": Setting(_geodb),
    "health": Section(HealthConfig, {
        "quorum": Setting(_quorum),
        "stale_after": Setting(duration),
        "local_prober": Setting(boolean),
        "backend": Setting(_health_backend),
        "redis_password_file": Setting(path_text, path=True),
    }),
    "log": Section(LogConfig, {
        "format": Setting(choice("plain", "json")),
        "level": Setting(choice("DEBUG", "INFO", "WARNING", "ERROR", upper=True)),
        "queries": Section(QueryLogConfig, {
            "sample": Setting(share(" (0: off, 1: every query)")),
            "file": Setting(path_text, path=True),
        }),
    }),
    "updates": Section(UpdatesConfig, {
        "key_files": Setting(key_files, path=True),
        "policy": Setting(update_policy),
        "max_records": Setting(whole(1, 1_000_000)),
    }, optional=True),
    "dnssec": Section(DnssecConfig, {
        "keys": Setting(path_text, path=True),
        "signature_validity": Setting(_validity),
        "signature_cache": Setting(whole(100, what="a number of signatures")),
    }),
})


def config_path(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("GSLB_CONFIG")
    return Path(env) if env else None


def load_config(explicit: str | None = None) -> Config:
    """Load the config named by -c or GSLB_CONFIG, or the defaults; raises ConfigError."""
    path = config_path(explicit)
    if path is None:
        return Config()
    doc, problems = read_document(path, ConfigError, "the config")
    reader = SettingsReader(path, problems)
    config: Config = reader.read(doc, SCHEMA)
    if config.geodb not in ("bundled", "none"):
        config = replace(config, geodb=str(reader.resolve(config.geodb)))
    _check_across_keys(config, doc, problems)
    problems.raise_if_any(ConfigError)
    return replace(config, file=path)


def _check_across_keys(config: Config, doc: YMap, problems: Problems) -> None:
    """Checks that look at more than one key or at other files (each reported at the key that has to change)."""
    _check_cookie_secret(config, doc, problems)
    _check_tls(config, doc, problems)
    health = doc.get("health")
    if not isinstance(health, YMap) or config.health.redis_password_file is None:
        return
    line = health.line_of("redis_password_file")
    if config.health.backend == "local":
        problems.add(line, "health.redis_password_file", "only used with a redis:// or rediss:// backend")
    elif urlsplit(config.health.backend).password:
        problems.add(line, "health.redis_password_file",
                     "give the password in health.backend or in this file, not both")


def _check_cookie_secret(config: Config, doc: YMap, problems: Problems) -> None:
    """A secret file that is named must be readable and well formed now, not at the first query."""
    cookies = config.dns.cookies
    if cookies.secret_file is None:
        return
    dns = doc.get("dns")
    section = dns.get("cookies") if isinstance(dns, YMap) else None
    line = section.line_of("secret_file") if isinstance(section, YMap) else 0
    try:
        read_secrets(cookies.secret_file)
    except ValueError as exc:
        problems.add(line, "dns.cookies.secret_file", str(exc))


def _check_tls(config: Config, doc: YMap, problems: Problems) -> None:
    """`http.tls` needs both its files."""
    http = doc.get("http")
    tls = config.http.tls
    if tls is None or not isinstance(http, YMap):
        return
    for key in ("cert", "key"):
        if getattr(tls, key) is None:
            problems.add(http.line_of("tls"), f"http.tls.{key}", "required: tls needs both cert and key")


def unsafe_api_reason(config: Config, tokens: ApiTokens) -> str | None:
    """Why the HTTP API must not start as configured, or None.

    Without a token the write routes refuse everything, which is safe, but an API open to the
    network with no token is almost always a forgotten token file; starting anyway would hide it.
    """
    listen = config.http.listen
    if listen is None or ipaddress.ip_address(listen.host).is_loopback or tokens:
        return None
    return (
        f"refusing to serve the HTTP API on {listen} without a token: set http.token_file or GSLB_TOKEN "
        "(or listen on a loopback address, or set http.listen: off)"
    )
