"""The HTTP API (aiohttp): reads (status, metrics, explain, the status page), and the routes of
probers and operators. Who may call what is `gslb.api.auth`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from gslb.api.auth import Role, authorize
from gslb.api.control import ServerControl
from gslb.api.errors import json_error
from gslb.api.health_routes import HealthRoutes
from gslb.api.metrics import build_registry
from gslb.api.page import status_page
from gslb.api.records import records as zone_records
from gslb.api.status import datacenters_status, server_status
from gslb.engine.explain import ExplainError
from gslb.engine.explain import explain as explain_query

SERVER_KEY = web.AppKey("gslb_server", object)
REGISTRY_KEY = web.AppKey("gslb_registry", CollectorRegistry)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _server(request: web.Request) -> ServerControl:
    return request.app[SERVER_KEY]  # type: ignore[return-value]


def _read(handler: Handler) -> Handler:
    """A read route: open, unless a read token is configured."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        authorize(request, _server(request).tokens, Role.READ)
        return await handler(request)

    return guarded


async def healthz(request: web.Request) -> web.Response:
    """200 when zones are loaded and the DNS sockets are open, else 503 with the reason."""
    server = _server(request)
    problems = []
    if not len(server.zones):
        problems.append("no zone loaded")
    if not server.dns_open():
        problems.append("DNS sockets not open")
    if problems:
        return web.json_response({"ok": False, "problems": problems}, status=503)
    return web.json_response({"ok": True})


async def status(request: web.Request) -> web.Response:
    server = _server(request)
    return web.json_response(server_status(server))


async def explain(request: web.Request) -> web.Response:
    """The decision trace for ?name=&type=&client=&ecs= with live health (a read)."""
    server = _server(request)
    query = request.query
    if "name" not in query or "client" not in query:
        raise json_error(web.HTTPBadRequest, "name and client are required")
    try:
        report = explain_query(
            server.zones, server.steering, query["name"], query.get("type", "A"), query["client"],
            query.get("ecs") or None, overrides=server.health.override_for,
        )
    except ExplainError as exc:
        raise json_error(web.HTTPBadRequest, str(exc)) from None
    return web.json_response(report)


async def records(request: web.Request) -> web.Response:
    """Every record of one zone, dynamic ones with the key that last changed them (a read)."""
    return await zone_records(request, _server(request).zones)


async def datacenters(request: web.Request) -> web.Response:
    server = _server(request)
    return web.json_response({"datacenters": datacenters_status(server.zones, server.health)})


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY_KEY]
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def reload(request: web.Request) -> web.Response:
    """(operator) Reload the zone folder and the geo database; 200 when nothing was rejected, else 422."""
    server = _server(request)
    authorize(request, server.tokens, Role.OPERATOR)
    outcome = await server.reload("api")
    report = outcome.zones
    body = {
        "loaded": [zone.origin.text for zone in report.loaded],
        "rejected": [{"file": error.file, "errors": [str(p) for p in error.problems]} for error in report.rejected],
        "geodb": outcome.geodb,
        "settings": outcome.settings,
    }
    return web.json_response(body, status=200 if outcome.ok else 422)


def build_app(server: ServerControl) -> web.Application:
    # Reports from a prober with thousands of targets fit well under 4 MiB; larger bodies are refused.
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[SERVER_KEY] = server
    app[REGISTRY_KEY] = build_registry(server)
    app.router.add_get("/", _read(status_page))
    app.router.add_get("/healthz", healthz)  # always open: load balancers and monitoring ask it
    app.router.add_get("/status", _read(status))
    app.router.add_get("/status/datacenters", _read(datacenters))
    app.router.add_get("/metrics", _read(metrics))
    app.router.add_get("/v1/explain", _read(explain))
    app.router.add_get("/v1/records/{zone}", _read(records))
    app.router.add_post("/v1/reload", reload)
    HealthRoutes(server).register(app)
    return app
