"""The HTTP API (aiohttp): read-only status routes for now; health routes plug in here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from gslb.service import GslbServer

SERVER_KEY = web.AppKey("gslb_server", object)


def _server(request: web.Request) -> GslbServer:
    return request.app[SERVER_KEY]  # type: ignore[return-value]


async def healthz(request: web.Request) -> web.Response:
    """200 when zones are loaded and the DNS sockets are open, else 503 with the reason."""
    server = _server(request)
    problems = []
    if not len(server.state.zones):
        problems.append("no zone loaded")
    if not server.dns.is_open:
        problems.append("DNS sockets not open")
    if problems:
        return web.json_response({"ok": False, "problems": problems}, status=503)
    return web.json_response({"ok": True})


async def status(request: web.Request) -> web.Response:
    server = _server(request)
    return web.json_response(server.status())


def build_app(server: GslbServer) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[SERVER_KEY] = server
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/status", status)
    return app
