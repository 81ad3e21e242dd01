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
class DnsConfig:
    listen: tuple[Endpoint, ...] = DEFAULT_DNS_LISTEN
    max_udp_size: int = 1232
    nsid: str | None = None
    workers: int | str = 1  # or "auto"
    rate_limit: RateLimit | None = None
    tcp: TcpConfig = field(default_factory=TcpConfig)


@dataclass(frozen=True)
class HttpConfig:
    listen: Endpoint | None = DEFAULT_HTTP_LISTEN  # None: no HTTP API
    token_file: Path | None = None


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
    state_dir: Path = Path("state")
    geodb: str = "bundled"  # or the path of a .mmdb file
    health: HealthConfig = field(default_factory=HealthConfig)
    log: LogConfig = field(default_factory=LogConfig)
    dnssec: DnssecConfig = field(default_factory=DnssecConfig)

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
