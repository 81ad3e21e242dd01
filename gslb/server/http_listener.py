"""The HTTP API's listening socket: plain HTTP, or HTTPS with `http.tls`.

With TLS the certificate chain and key are loaded into one `ssl.SSLContext` that every new
connection is made from. A reload (SIGHUP, `POST /v1/reload`) loads the files again into that same
context, after trying them on a fresh one: connections that are open keep going undisturbed, new
ones get the new certificate, and a bad pair of files changes nothing (it is logged). TLS 1.2 is
the oldest version offered.
"""

from __future__ import annotations

import logging
import ssl

from aiohttp import web

from gslb.common.endpoint import Endpoint, ListenError
from gslb.config.model import TlsConfig

log = logging.getLogger("gslb")


class CertificateError(Exception):
    """The certificate chain or key cannot be used; the message names the files and the reason."""


def server_context(tls: TlsConfig) -> ssl.SSLContext:
    """A server-side TLS context holding `tls`'s certificate chain and key; raises CertificateError."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load(context, tls)
    return context


def _load(context: ssl.SSLContext, tls: TlsConfig) -> None:
    cert, key = tls.cert, tls.key
    assert cert is not None and key is not None, "the config reader requires both"
    for path in (cert, key):  # OpenSSL's own message would not say which file
        try:
            path.open("rb").close()
        except OSError as exc:
            raise CertificateError(f"http.tls: cannot read {path}: {exc.strerror or exc}") from None
    try:
        context.load_cert_chain(str(cert), str(key))
    except ssl.SSLError as exc:  # an OSError too: first
        raise CertificateError(f"http.tls: {cert} and {key} are not a PEM certificate chain and its private key "
                               f"({exc.reason or exc})") from None
    except OSError as exc:
        raise CertificateError(f"http.tls: cannot read {cert} or {key}: {exc.strerror or exc}") from None


class HttpListener:
    """Serves `app` on `endpoint`, over TLS when `tls` is given."""

    def __init__(self, app: web.Application, endpoint: Endpoint, tls: TlsConfig | None) -> None:
        self.app = app
        self.endpoint = endpoint
        self.context = server_context(tls) if tls is not None else None
        self.runner: web.AppRunner | None = None
        self.bound: Endpoint | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.context is not None else "http"

    async def start(self) -> Endpoint:
        """Listen; the address actually bound (port 0 picks one). Raises ListenError."""
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.endpoint.host, self.endpoint.port, ssl_context=self.context)
        try:
            await site.start()
        except OSError as exc:
            raise ListenError(self.endpoint, "HTTP API", exc) from None
        sockets = site._server.sockets if site._server else []
        port = sockets[0].getsockname()[1] if sockets else self.endpoint.port
        self.bound = Endpoint(self.endpoint.host, port)
        return self.bound

    def reload_certificates(self, tls: TlsConfig) -> str | None:
        """Load the certificate and key again (from `tls`, whose paths may have changed); the problem, or None."""
        if self.context is None:
            return None
        try:
            server_context(tls)  # the whole pair must load before the live context is touched
            _load(self.context, tls)
        except CertificateError as exc:
            log.error("%s; the certificate in use stays", exc, extra={"event": "tls_rejected", "problem": str(exc)})
            return str(exc)
        log.info("TLS certificate loaded again from %s", tls.cert, extra={"event": "tls_loaded", "cert": str(tls.cert)})
        return None

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
