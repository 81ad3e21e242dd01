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


async def explain(request: web.Request) -> web.Response:
    """The decision trace for ?name=&type=&client=&ecs= with live health (a read: no token)."""
    from gslb.steering.explain import ExplainError
    from gslb.steering.explain import explain as explain_query

    server = _server(request)
    query = request.query
    if "name" not in query or "client" not in query:
        return web.json_response({"error": "name and client are required"}, status=400)
    try:
        report = explain_query(
            server.state.zones, server.steering, query["name"], query.get("type", "A"), query["client"],
            query.get("ecs") or None,
        )
    except ExplainError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(report)


def build_app(server: GslbServer) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[SERVER_KEY] = server
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/status", status)
    app.router.add_get("/v1/explain", explain)
    return app
