"""Every setting of `gslb.yaml`, with its default written here and nowhere else.

Relative paths in a file are taken relative to that file's folder, so a config can travel with
its zones; without a file they are relative to the current directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gslb.common.endpoint import Endpoint

DEFAULT_DNS_LISTEN = (Endpoint("127.0.0.1", 5300),)
DEFAULT_HTTP_LISTEN = Endpoint("127.0.0.1", 8053)


def default_state_dir() -> Path:
    """`$STATE_DIRECTORY` when the service manager made one (systemd's StateDirectory=, /var/lib/gslb
    under the shipped unit: writable under ProtectSystem=strict), else `state` in the current folder."""
    given = os.environ.get("STATE_DIRECTORY", "")
    return Path(given.split(":")[0]) if given else Path("state")


@dataclass(frozen=True)
class RateLimit:
    """Response rate limiting per client network (see gslb.dns.ratelimit); off unless configured."""

    responses_per_second: float = 20.0
    window: float = 15.0
    slip: int = 2


@dataclass(frozen=True)
class TcpConfig:
    idle_timeout: float = 10.0
    max_connections: int = 1000
    # High on purpose: resolvers and load generators pipeline thousands of queries per connection.
    max_queries: int = 100_000


@dataclass(frozen=True)
class CookieConfig:
    """DNS cookies (RFC 7873, server cookies as RFC 9018 makes them); see gslb.config.cookie_secret."""

    enabled: bool = True
    secret_file: Path | None = None  # None: a secret made once in state_dir/cookie-secret


@dataclass(frozen=True)
class DnsConfig:
    listen: tuple[Endpoint, ...] = DEFAULT_DNS_LISTEN
    max_udp_size: int = 1232
    nsid: str | None = None
    workers: int | str = 1  # or "auto"
    rate_limit: RateLimit | None = None
    tcp: TcpConfig = field(default_factory=TcpConfig)
    cookies: CookieConfig = field(default_factory=CookieConfig)


@dataclass(frozen=True)
class TlsConfig:
    """HTTPS on the API listener: a PEM certificate chain and its private key, re-read on SIGHUP."""

    cert: Path | None = None  # both are required when `tls` is given (checked by the reader)
    key: Path | None = None


@dataclass(frozen=True)
class HttpConfig:
    listen: Endpoint | None = DEFAULT_HTTP_LISTEN  # None: no HTTP API
    tls: TlsConfig | None = None  # None: plain HTTP
    # Bearer tokens by role (see gslb.config.tokens); token_file is the one token for everything.
    token_file: Path | None = None
    prober_token_file: Path | None = None
    operator_token_file: Path | None = None
    read_token_file: Path | None = None


@dataclass(frozen=True)
class HealthConfig:
    quorum: float | str = 0.5  # a share, "any" or "all"
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


# What a dynamic update may add: data the resolver serves as is. NS (a delegation made by an
# update) and SOA (the file's) are never updatable; see docs/dynamic-updates.md.
UPDATABLE_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "PTR", "SRV", "TXT")


@dataclass(frozen=True)
class UpdateGrant:
    """One entry of the update policy: what a TSIG key may change in a zone (names as written)."""

    key: str  # the key's name, lower case, with a trailing dot
    zone: str  # the zone, lower case, with a trailing dot
    names: tuple[str, ...]  # relative to the zone; patterns: see gslb.config.updates
    types: tuple[str, ...]


@dataclass(frozen=True)
class UpdatesConfig:
    """Dynamic updates (RFC 2136 with TSIG): accepted only when this section is in the file."""

    key_files: tuple[Path, ...] = ()  # BIND key files: key "name" { algorithm ...; secret "..."; };
    policy: tuple[UpdateGrant, ...] = ()  # nothing is allowed unless a grant allows it
    max_records: int = 1000  # dynamic records per zone


@dataclass(frozen=True)
class DnssecConfig:
    """Online signing (docs/dnssec.md): where the keys are and how long signatures last.

    Which zones are signed is said in each zone file (`dnssec: true`).
    """

    keys: Path = Path("keys")
    signature_validity: float = 7 * 24 * 3600.0  # renewed when half has passed
    signature_cache: int = 100_000  # signatures kept; the cache starts over when full


@dataclass(frozen=True)
class Config:
    file: Path | None = None  # where it was read from; None: built-in defaults
    dns: DnsConfig = field(default_factory=DnsConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    zones: Path = Path("zones")
    state_dir: Path = field(default_factory=default_state_dir)
    geodb: str = "bundled"  # or the path of a .mmdb file, or "none"
    health: HealthConfig = field(default_factory=HealthConfig)
    log: LogConfig = field(default_factory=LogConfig)
    updates: UpdatesConfig | None = None  # None: an UPDATE gets NOTIMP, as before
    dnssec: DnssecConfig = field(default_factory=DnssecConfig)
