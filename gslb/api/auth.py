"""Who may call which route: bearer tokens by role (gslb.config.tokens).

- prober routes (`/v1/targets`, `/v1/reports`): the prober token or the one token;
- operator routes (overrides, `/v1/reload`): the operator token or the one token;
- read routes (`/`, `/status`, `/status/datacenters`, `/metrics`, `/v1/explain`): open while no
  read token is configured; with one, the read token, the operator token or the one token.

No token, or one the server does not know: 401. A token the server knows for another role: 403
(a prober's token setting an override). Read routes also take HTTP Basic credentials whose
password is the token, so that a browser can open the status page (any user name).

The given token is compared with every configured token, each in constant time and all of them
every time, so the time taken reveals neither how much of a token was right nor which one.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from enum import Enum

from aiohttp import web

from gslb.api.errors import json_error
from gslb.config.tokens import SETTING, ApiTokens


class Role(Enum):
    PROBER = "prober"
    OPERATOR = "operator"
    READ = "read"


# The token roles (gslb.config.tokens.ROLES) each route role accepts.
ACCEPTED = {Role.PROBER: {"all", "prober"}, Role.OPERATOR: {"all", "operator"},
            Role.READ: {"all", "operator", "read"}}
WHAT = {Role.PROBER: "a prober token", Role.OPERATOR: "an operator token", Role.READ: "a read token"}


def presented_token(request: web.Request, basic: bool) -> str | None:
    """The token in `Authorization`: `Bearer <token>`, or (when `basic`) Basic credentials' password."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        return value
    if basic and scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def matching_roles(given: str | None, tokens: ApiTokens) -> set[str]:
    """The roles whose token is `given`; every configured token is compared, each in constant time."""
    candidate = (given or "").encode()
    found = set()
    for role, token in tokens.configured().items():
        if hmac.compare_digest(candidate, token.encode()) and given:
            found.add(role)
    return found


def authorize(request: web.Request, tokens: ApiTokens, role: Role) -> None:
    """Return when the request may use a route of `role`; raise 401 or 403 (nothing changes) otherwise."""
    if role is Role.READ and tokens.read is None:
        return  # reads are open unless a read token is configured
    scheme = 'Basic realm="gslb", charset="UTF-8"' if role is Role.READ else 'Bearer realm="gslb"'
    challenge = {"WWW-Authenticate": scheme}
    matched = matching_roles(presented_token(request, basic=role is Role.READ), tokens)
    if matched & ACCEPTED[role]:
        return
    if matched:
        raise json_error(web.HTTPForbidden, f"this token may not use this route: it needs {WHAT[role]}")
    if not set(tokens.configured()) & ACCEPTED[role]:
        raise json_error(web.HTTPUnauthorized, f"no token for this route is configured on this server "
                         f"({SETTING[role.value]} or {SETTING['all']})", challenge)
    raise json_error(web.HTTPUnauthorized, f"a valid bearer token is required ({WHAT[role]})", challenge)
