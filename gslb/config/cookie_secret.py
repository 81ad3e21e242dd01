"""The server secret of DNS cookies (RFC 7873, RFC 9018): its file format, and the one made per server.

Servers behind one address (anycast, a load balancer) must make and accept the same server
cookies, so they share a secret: `dns.cookies.secret_file`, one secret per line, each 32 hex
digits (128 bits, the SipHash-2-4 key of RFC 9018 section 4.4). The first line is the secret
new server cookies are made with; the lines after it (at most two) are still accepted when a
client shows a cookie, which is how a secret is rolled over without invalidating the cookies
clients hold (RFC 9018 section 5). Blank lines and `#` comments are ignored.

Without a secret file, one secret is made at the first start and kept in
`state_dir/cookie-secret`, so restarts and the worker processes of one server share it.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from gslb.common.statefile import write_atomically

SECRET_BYTES = 16
MAX_SECRETS = 3  # the current one and two older ones: each costs a hash when a cookie does not verify
GENERATED_NAME = "cookie-secret"
_HEX = re.compile(r"^[0-9A-Fa-f]{32}$")


def parse_secrets(text: str) -> tuple[bytes, ...]:
    """The secrets a file holds, current first; raises ValueError naming the line at fault."""
    found: list[bytes] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not _HEX.match(line):
            raise ValueError(f"line {number}: a secret is 32 hex digits (128 bits), e.g. from "
                             "'openssl rand -hex 16'")
        secret = bytes.fromhex(line)
        if secret in found:
            raise ValueError(f"line {number}: the same secret as an earlier line")
        found.append(secret)
    if not found:
        raise ValueError("no secret in the file (one line of 32 hex digits)")
    if len(found) > MAX_SECRETS:
        raise ValueError(f"{len(found)} secrets (at most {MAX_SECRETS}: the current one and two being rolled out)")
    return tuple(found)


def read_secrets(path: Path) -> tuple[bytes, ...]:
    """The secrets of a file; raises ValueError with a message for the operator."""
    try:
        text = path.read_text(encoding="ascii")
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not text (32 hex digits per line)") from None
    try:
        return parse_secrets(text)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def generated_secret_file(state_dir: Path, renew: bool = False) -> Path:
    """`state_dir/cookie-secret`, made with a new random secret (mode 0600) when it is not there yet.

    Made with O_EXCL, so two processes starting at once cannot both write it: the second reads
    what the first wrote. `renew`: replace it (atomically) with a new secret, for a file that
    no longer reads. Raises OSError when the folder cannot be written.
    """
    path = state_dir / GENERATED_NAME
    text = ("# DNS cookie secret made by gslb (docs/configuration.md)\n"
            + secrets.token_hex(SECRET_BYTES) + "\n")
    if renew:
        write_atomically(path, text)  # a temporary file of mode 0600, renamed over the old one
        return path
    if path.exists():
        return path
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return path
