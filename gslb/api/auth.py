"""Bearer-token checks for the routes that write or that probers use."""

from __future__ import annotations

import hmac
import json

from aiohttp import web


def unauthorized(reason: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(
        text=json.dumps({"error": reason}), content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="gslb"'},
    )


def check_token(request: web.Request, token: str | None) -> None:
    """Raise 401 unless the request carries `Authorization: Bearer <token>`.

    The comparison takes the same time whatever the given token is, so timing does not reveal
    how much of it was right. A server without a configured token refuses every such request.
    """
    if not token:
        raise unauthorized("no token is configured on this server (http.token_file or GSLB_TOKEN)")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise unauthorized("a valid bearer token is required")
