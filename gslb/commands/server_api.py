"""Asking the running server's HTTP API from a command (`gslb explain`), as its config describes it.

The URL is `http.listen` (or `--server`), over HTTPS when `http.tls` is set. Over HTTPS the server
is verified by its own certificate file (`http.tls.cert`, pinned: the command runs beside the
server and connects by address, so the name in the certificate is not compared). A read token,
else the operator token, else the one token of the config is sent when one is configured and
readable. What comes back is sorted into: a JSON answer, no server there (the caller may work
offline), and something that is not a gslb server, or refuses us (the caller stops).
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from gslb.config.model import Config
from gslb.config.tokens import TokenFileError, read_tokens

TIMEOUT = 2.0


class NoServer(Exception):
    """Nothing answers at that address (connection refused, timeout)."""


class NotUsable(Exception):
    """Something answered, but not as a gslb server that lets us in; the message says what."""


def base_url(config: Config, server: str | None) -> str | None:
    """`--server` (ADDRESS:PORT or a URL), else the config's `http.listen`; None when the API is off."""
    scheme = "https" if config.http.tls is not None else "http"
    if server:
        return server.rstrip("/") if "://" in server else f"{scheme}://{server}"
    return f"{scheme}://{config.http.listen}" if config.http.listen is not None else None


def _context(config: Config, url: str) -> ssl.SSLContext | None:
    if not url.startswith("https://"):
        return None
    tls = config.http.tls
    if tls is None or tls.cert is None:
        return ssl.create_default_context()
    context = ssl.create_default_context(cafile=str(tls.cert))
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # the server's own certificate is the anchor
    context.check_hostname = False
    return context


def _token(config: Config) -> str | None:
    try:
        tokens = read_tokens(config.http)
    except TokenFileError:
        return None  # not readable by this user: ask without one (the server says if it needs one)
    return tokens.read or tokens.operator or tokens.all


def get_json(config: Config, url: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
    """(status, JSON body) of GET url+path?query; raises NoServer or NotUsable."""
    full = f"{url}{path}?{urllib.parse.urlencode(query)}"
    request = urllib.request.Request(full, headers={"Accept": "application/json"})
    token = _token(config)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=_context(config, url)) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLError):
            raise NotUsable(f"{url}: TLS failed: {exc.reason}") from None
        raise NoServer(f"no server at {url}: {exc.reason}") from None
    except (http.client.HTTPException, ConnectionError) as exc:
        raise NotUsable(f"{url} does not speak HTTP as a gslb server does ({type(exc).__name__}); "
                        "is it an HTTPS server asked over plain HTTP?") from None
    except (TimeoutError, OSError) as exc:
        raise NoServer(f"no server at {url}: {exc}") from None
    try:
        body = json.loads(raw)
    except ValueError:
        raise NotUsable(f"{url} is not a gslb server's HTTP API (HTTP {status} for {path}, not JSON)") from None
    if status in (401, 403) and isinstance(body, dict) and "error" in body:
        raise NotUsable(f"the server at {url} refused: {body['error']}")
    return status, body
