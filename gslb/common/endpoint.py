"""An address and port to listen on or connect to, as written in config files."""

from __future__ import annotations

import errno
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


# What the usual errors of bind() mean for someone starting a server.
_BIND_REASONS = {
    errno.EADDRINUSE: "the address is already in use (another server, or another copy of this one?)",
    errno.EACCES: "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
    errno.EADDRNOTAVAIL: "this machine has no such address",
}


class ListenError(Exception):
    """An address the config says to listen on cannot be had; the message is one line for the operator."""

    def __init__(self, endpoint: Endpoint, what: str, error: OSError) -> None:
        reason = _BIND_REASONS.get(error.errno or 0, error.strerror or str(error))
        super().__init__(f"cannot listen on {endpoint} ({what}): {reason}")
        self.endpoint = endpoint
