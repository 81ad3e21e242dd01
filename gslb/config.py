"""The server config (`gslb.yaml`): every setting with a default, validated with line numbers.

Where the file comes from: `-c/--config`, else `GSLB_CONFIG`, else built-in defaults (serve
`zones/` on 127.0.0.1:5300 with the HTTP API on 127.0.0.1:8053). Relative paths in a file
are taken relative to that file's folder, so a config can travel with its zones; without a
file they are relative to the current directory.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gslb.durations import parse_duration
from gslb.zones.errors import Problems, ZoneFileError
from gslb.zones.yamldoc import YamlError, YList, YMap, load_yaml

DEFAULT_DNS_LISTEN = ("127.0.0.1:5300",)
DEFAULT_HTTP_LISTEN = "127.0.0.1:8053"


class ConfigError(ZoneFileError):
    """The config file was rejected; same `file:line: field: message` form as zone files."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_endpoint(text: str) -> Endpoint:
    """'127.0.0.1:53', '[::1]:53' or '0.0.0.0:53' (an address is required: no host names)."""
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"'{text}' is not ADDRESS:PORT ([v6]:port for IPv6)")
    else:
        host, sep, port = text.rpartition(":")
        if not sep or ":" in host:
            raise ValueError(f"'{text}' is not ADDRESS:PORT ([v6]:port for IPv6)")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"'{host}' is not an IP address") from None
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"port '{port}' is not a number from 0 to 65535")
    return Endpoint(host, int(port))


DEFAULT_DNS_ENDPOINTS = tuple(parse_endpoint(e) for e in DEFAULT_DNS_LISTEN)
DEFAULT_HTTP_ENDPOINT = parse_endpoint(DEFAULT_HTTP_LISTEN)


@dataclass(frozen=True)
class RateLimit:
    responses_per_second: float
    window: float
    slip: int


@dataclass(frozen=True)
class DnsConfig:
    listen: tuple[Endpoint, ...] = DEFAULT_DNS_ENDPOINTS
    max_udp_size: int = 1232
    nsid: str | None = None
    workers: int | str = 1
    rate_limit: RateLimit | None = None
    tcp_idle_timeout: float = 10.0
    tcp_max_connections: int = 1000
    tcp_max_queries: int = 100_000


@dataclass(frozen=True)
class HttpConfig:
    listen: Endpoint | None = DEFAULT_HTTP_ENDPOINT
    token_file: Path | None = None


@dataclass(frozen=True)
class HealthConfig:
    quorum: float | str = 0.5
    stale_after: float = 30.0
    local_prober: bool = False
    backend: str = "local"  # or redis://[:password@]host:port/db, rediss://... for TLS
    redis_password_file: Path | None = None


@dataclass(frozen=True)
class QueryLogConfig:
    """The sampled query log: off while `sample` is 0."""

    sample: float = 0.0
    file: Path | None = None


@dataclass(frozen=True)
class LogConfig:
    format: str = "plain"
    level: str = "INFO"
    queries: QueryLogConfig = field(default_factory=QueryLogConfig)


@dataclass(frozen=True)
class Config:
    file: Path | None = None
    dns: DnsConfig = field(default_factory=DnsConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    zones: Path = Path("zones")
    state_dir: Path = Path("state")
    geodb: str = "bundled"
    health: HealthConfig = field(default_factory=HealthConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def token(self) -> str | None:
        """The bearer token: GSLB_TOKEN wins over token_file."""
        env = os.environ.get("GSLB_TOKEN")
        if env:
            return env.strip()
        if self.http.token_file is not None:
            try:
                return self.http.token_file.read_text().strip() or None
            except OSError:
                return None
        return None


def unsafe_api_reason(config: Config) -> str | None:
    """Why the HTTP API must not start as configured, or None.

    Without a token the write routes refuse everything, which is safe, but an API open to the
    network with no token is almost always a forgotten token file; starting anyway would hide it.
    """
    listen = config.http.listen
    if listen is None or ipaddress.ip_address(listen.host).is_loopback or config.token():
        return None
    return (
        f"refusing to serve the HTTP API on {listen} without a token: set http.token_file or GSLB_TOKEN "
        "(or listen on a loopback address, or set http.listen: off)"
    )


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
    problems = Problems(str(path))
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.add(0, "", f"cannot read: {exc.strerror}")
        raise ConfigError(str(path), problems.items) from None
    except (YamlError, UnicodeDecodeError) as exc:
        problems.add(getattr(exc, "line", 0), "", getattr(exc, "message", str(exc)))
        raise ConfigError(str(path), problems.items) from None
    if doc is None:
        doc = YMap()
        doc.line, doc.key_lines = 1, {}
    if not isinstance(doc, YMap):
        problems.add(1, "", "the config must be a mapping")
        raise ConfigError(str(path), problems.items)
    config = _ConfigReader(doc, path, problems).read()
    if problems:
        raise ConfigError(str(path), sorted(problems.items, key=lambda p: p.line))
    return config


class _ConfigReader:
    def __init__(self, doc: YMap, path: Path, problems: Problems) -> None:
        self.doc = doc
        self.base = path.parent
        self.path = path
        self.problems = problems

    def section(self, name: str, keys: tuple[str, ...], parent: YMap | None = None) -> YMap:
        parent = self.doc if parent is None else parent
        value = parent.get(name)
        if value is None:
            empty = YMap()
            empty.line, empty.key_lines = parent.line_of(name), {}
            return empty
        if not isinstance(value, YMap):
            self.problems.add(parent.line_of(name), name, "must be a mapping")
            empty = YMap()
            empty.line, empty.key_lines = parent.line_of(name), {}
            return empty
        for key in value:
            if key not in keys:
                expected = ", ".join(keys)
                self.problems.add(value.line_of(key), f"{name}.{key}", f"unknown key (expected one of: {expected})")
        return value

    def get(self, section: YMap, prefix: str, key: str, convert: Any, default: Any) -> Any:
        if key not in section or section[key] is None:
            return default
        try:
            return convert(section[key])
        except (ValueError, TypeError) as exc:
            self.problems.add(section.line_of(key), f"{prefix}{key}", str(exc))
            return default

    def path_value(self, value: Any) -> Path:
        if not isinstance(value, str) or not value:
            raise ValueError(f"'{value}' is not a path")
        path = Path(value)
        return path if path.is_absolute() else self.base / path

    def read_log(self) -> LogConfig:
        """The `log:` section: line format, level and the sampled query log."""
        section = self.section("log", ("format", "level", "queries"))
        queries = self.section("queries", ("sample", "file"), section)
        return LogConfig(
            format=self.get(section, "log.", "format", _log_format, "plain"),
            level=self.get(section, "log.", "level", _log_level, "INFO"),
            queries=QueryLogConfig(
                sample=self.get(queries, "log.queries.", "sample", _share, 0.0),
                file=self.get(queries, "log.queries.", "file", self.path_value, None),
            ),
        )

    def read_health(self) -> HealthConfig:
        """The `health:` section, with the shared backend (local, or Redis) and its password file."""
        keys = ("quorum", "stale_after", "local_prober", "backend", "redis_password_file")
        section = self.section("health", keys)
        backend = self.get(section, "health.", "backend", _health_backend, "local")
        password_file = self.get(section, "health.", "redis_password_file", self.path_value, None)
        if password_file is not None and backend == "local":
            self.problems.add(section.line_of("redis_password_file"), "health.redis_password_file",
                              "only used with a redis:// or rediss:// backend")
        elif password_file is not None and urlsplit(backend).password:
            self.problems.add(section.line_of("redis_password_file"), "health.redis_password_file",
                              "give the password in health.backend or in this file, not both")
        return HealthConfig(
            quorum=self.get(section, "health.", "quorum", _quorum, 0.5),
            stale_after=self.get(section, "health.", "stale_after", _positive_duration, 30.0),
            local_prober=self.get(section, "health.", "local_prober", _bool, False),
            backend=backend,
            redis_password_file=password_file,
        )

    def read(self) -> Config:
        top = ("dns", "http", "zones", "state_dir", "geodb", "health", "log")
        for key in self.doc:
            if key not in top:
                self.problems.add(self.doc.line_of(key), key, f"unknown key (expected one of: {', '.join(top)})")
        dns = self.section("dns", ("listen", "max_udp_size", "nsid", "workers", "rate_limit", "tcp"))
        tcp = self.section("tcp", ("idle_timeout", "max_connections", "max_queries"), dns)
        rate = self.section("rate_limit", ("responses_per_second", "window", "slip"), dns)
        http = self.section("http", ("listen", "token_file"))
        geodb = self.get(self.doc, "", "geodb", _geodb_spec, "bundled")
        if geodb != "bundled":
            geodb = str(self.path_value(geodb))
        rate_limit = None
        if "rate_limit" in dns and dns["rate_limit"] is not None:
            rate_limit = RateLimit(
                self.get(rate, "dns.rate_limit.", "responses_per_second", _positive_number, 20.0),
                self.get(rate, "dns.rate_limit.", "window", parse_duration, 15.0),
                self.get(rate, "dns.rate_limit.", "slip", _slip, 2),
            )
        return Config(
            file=self.path,
            log=self.read_log(),
            dns=DnsConfig(
                listen=self.get(dns, "dns.", "listen", _endpoints, DnsConfig.listen),
                max_udp_size=self.get(dns, "dns.", "max_udp_size", _udp_size, 1232),
                nsid=self.get(dns, "dns.", "nsid", _nsid, None),
                workers=self.get(dns, "dns.", "workers", _workers, 1),
                rate_limit=rate_limit,
                tcp_idle_timeout=self.get(tcp, "dns.tcp.", "idle_timeout", _positive_duration, 10.0),
                tcp_max_connections=self.get(tcp, "dns.tcp.", "max_connections", _positive_int, 1000),
                tcp_max_queries=self.get(tcp, "dns.tcp.", "max_queries", _positive_int, 100_000),
            ),
            http=HttpConfig(
                listen=self.get(http, "http.", "listen", _optional_endpoint, HttpConfig.listen),
                token_file=self.get(http, "http.", "token_file", self.path_value, None),
            ),
            zones=self.get(self.doc, "", "zones", self.path_value, Path("zones")),
            state_dir=self.get(self.doc, "", "state_dir", self.path_value, Path("state")),
            geodb=geodb,
            health=self.read_health(),
        )


def _endpoints(value: Any) -> tuple[Endpoint, ...]:
    items = list(value) if isinstance(value, YList | list) else [value]
    if not items:
        raise ValueError("at least one ADDRESS:PORT is required")
    return tuple(parse_endpoint(str(item)) for item in items)


def _optional_endpoint(value: Any) -> Endpoint | None:
    if value in ("", "off", False):
        return None
    return parse_endpoint(str(value))


def _udp_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 512 <= value <= 65535:
        raise ValueError(f"'{value}' is not a size from 512 to 65535")
    return value


def _nsid(value: Any) -> str:
    text = str(value)
    if not text or len(text.encode()) > 128:
        raise ValueError("must be 1 to 128 bytes")
    return text


def _workers(value: Any) -> int | str:
    if value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 256:
        raise ValueError(f"'{value}' is not 'auto' or a number from 1 to 256")
    return value


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"'{value}' is not a whole number of at least 1")
    return value


def _positive_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"'{value}' is not a number above 0")
    return float(value)


def _positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"'{value}' must be longer than 0")
    return seconds


def _slip(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"'{value}' is not a whole number of at least 0 (0: never send a truncated reply)")
    return value


def _quorum(value: Any) -> float | str:
    if value in ("any", "all"):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(f"'{value}' is not a share above 0 and at most 1, 'any' or 'all'")
    return float(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"'{value}' is not true or false")
    return value


def _log_format(value: Any) -> str:
    if value not in ("plain", "json"):
        raise ValueError(f"'{value}' is not plain or json")
    return value


def _log_level(value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"'{value}' is not DEBUG, INFO, WARNING or ERROR")
    return value.upper()


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"'{value}' is not a share from 0 to 1 (0: off, 1: every query)")
    return float(value)


def redacted_url(url: str) -> str:
    """A backend URL fit for logs and error messages: any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}").geturl()


def _health_backend(value: Any) -> str:
    if value == "local":
        return value
    text = value if isinstance(value, str) else str(value)
    shown = redacted_url(text)
    parts = urlsplit(text)
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
    if database and not database.isdigit():
        raise ValueError(f"'{shown}': the database '{database}' is not a number")
    return text


def _geodb_spec(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{value}' is not 'bundled' or a path to an .mmdb file")
    return value
