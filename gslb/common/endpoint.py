"""An address and port to listen on or connect to, as written in config files."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from gslb.common.digits import is_decimal


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
    if not is_decimal(port) or int(port) > 65535:
        raise ValueError(f"port '{port}' is not a number from 0 to 65535")
    return Endpoint(host, int(port))
