"""HTTP routes for probers and operators: targets, reports, overrides.

Targets and reports need a prober token, overrides an operator token (gslb.api.auth). Bodies are
validated whole before anything changes, so a 401, 403 or 400 leaves the server exactly as it was.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from typing import Any

from aiohttp import web

from gslb.api.auth import Role, authorize
from gslb.api.control import ServerControl
from gslb.api.errors import json_error
from gslb.health.backend import BackendUnavailable
from gslb.health.overrides import EVERY_ZONE, KINDS, Override, OverrideKey
from gslb.health.reports import ReportError, parse_report

log = logging.getLogger(__name__)
OVERRIDE_KEYS = {"state", "expires_in", "reason", "by"}
MAX_LOGGED_DETAIL = 200
MAX_REASON = 500
MAX_NAME = 128
NAME_TEXT = f"printable text of 1 to {MAX_NAME} characters"
RETRY_LATER = {"Retry-After": "5"}  # with a 503: the shared health backend cannot take an override now


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        raise json_error(web.HTTPBadRequest, "the body is not valid JSON") from None


def _who(request: web.Request, body: dict[str, Any] | None = None) -> str | None:
    """Who makes the change: the body's `by`, else the X-Gslb-User header, else nobody named."""
    by = (body or {}).get("by")
    if by is not None:
        return str(by)
    header = request.headers.get("X-Gslb-User")
    if header is not None and not _valid_name(header):
        raise json_error(web.HTTPBadRequest, f"X-Gslb-User: expected {NAME_TEXT}")
    return header


def _actor(request: web.Request, who: str | None) -> str:
    """Who (`_who`) and from where, for the audit log and the log line."""
    return f"{who} via {request.remote}" if who else f"api via {request.remote}"


def _valid_name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME and value.isprintable()


class HealthRoutes:
    def __init__(self, server: ServerControl) -> None:
        self.server = server

    def authorize(self, request: web.Request, role: Role, counted: bool = False) -> None:
        try:
            authorize(request, self.server.tokens, role)
        except (web.HTTPUnauthorized, web.HTTPForbidden) as exc:
            if counted:
                self.server.health.count_rejected("unauthorized")
                _log_rejected("unauthorized", request, "no valid prober token" if exc.status == 401
                              else "a token of another role")
            raise

    async def targets(self, request: web.Request) -> web.Response:
        self.authorize(request, Role.PROBER)
        targets = sorted(self.server.health.index.targets.values(), key=lambda t: (t.address, t.id))
        return web.json_response({"targets": [t.to_json() for t in targets]})

    async def reports(self, request: web.Request) -> web.Response:
        self.authorize(request, Role.PROBER, counted=True)
        try:
            body = await _json_body(request) if request.can_read_body else None
        except web.HTTPBadRequest:  # not JSON at all: as malformed as a report can be
            self.server.health.count_rejected("malformed")
            _log_rejected("malformed", request, "the body is not valid JSON")
            raise
        try:
            report = parse_report(body)
        except ReportError as exc:
            self.server.health.count_rejected("malformed")
            _log_rejected("malformed", request, str(exc).partition(":")[0])  # where, not the values sent
            raise json_error(web.HTTPBadRequest, str(exc)) from None
        accepted, unknown = self.server.health.apply_report(report)
        return web.json_response({"accepted": accepted, "unknown": unknown})

    # -- overrides -----------------------------------------------------------------------

    async def list_overrides(self, request: web.Request) -> web.Response:
        self.authorize(request, Role.OPERATOR)
        return web.json_response({"overrides": [o.to_api_json() for o in self.server.health.overrides.active()]})

    @staticmethod
    def _key(request: web.Request) -> OverrideKey:
        """(zone, kind, name, address) as the path names them; `/v1/overrides/datacenters/{name}` is a
        datacenter in every zone (zone "*")."""
        info = request.match_info
        address = info.get("address")
        return (info.get("zone", EVERY_ZONE).rstrip(".").lower(), info.get("kind", "datacenters"), info["name"],
                _normal_address(address) if address is not None else None)

    def _subject(self, request: web.Request) -> OverrideKey:
        """(zone, kind, name, address) from the path, checked against the zones being served."""
        zone_name, kind, name, address = self._key(request)
        if zone_name == EVERY_ZONE:
            if kind != "datacenters" or address is not None:
                raise json_error(web.HTTPNotFound, "only a datacenter can be overridden in every zone: "
                                 "/v1/overrides/datacenters/{name}")
            if not any(z.policy is not None and name in z.policy.datacenters for z in self.server.zones):
                raise json_error(web.HTTPNotFound, f"no zone has a datacenter '{name}'")
            return zone_name, kind, name, None
        if kind not in KINDS:
            raise json_error(web.HTTPNotFound, f"kind '{kind}' is not one of {', '.join(KINDS)}")
        if (kind == "members") != (address is not None):
            raise json_error(web.HTTPNotFound,
                             "members take a pool name and an address; datacenters and pools take a name only")
        zone = next((z for z in self.server.zones if z.origin.text.rstrip(".").lower() == zone_name), None)
        if zone is None or zone.policy is None:
            raise json_error(web.HTTPNotFound, f"no steered zone '{zone_name}'")
        policy = zone.policy
        if kind == "datacenters" and name not in policy.datacenters:
            raise json_error(web.HTTPNotFound, f"no datacenter '{name}' in {zone_name}")
        if kind in ("pools", "members") and name not in policy.pools:
            raise json_error(web.HTTPNotFound, f"no pool '{name}' in {zone_name}")
        if address is not None and address not in {str(m.address) for m in policy.pools[name].members}:
            raise json_error(web.HTTPNotFound, f"no member {address} in pool '{name}'")
        return zone_name, kind, name, address

    async def put_override(self, request: web.Request) -> web.Response:
        self.authorize(request, Role.OPERATOR)
        body = await _json_body(request)
        zone, kind, name, address = self._subject(request)
        state, expires_in, reason = _override_body(body)
        by = _who(request, body)
        now = self.server.health.clock()
        override = Override(
            zone, kind, name, address, state, reason, now,
            now + expires_in if expires_in is not None else None, by,
        )
        try:
            await self.server.health.set_override(override, _actor(request, by))
        except BackendUnavailable as exc:
            raise json_error(web.HTTPServiceUnavailable, str(exc), RETRY_LATER) from None
        return web.json_response(override.to_api_json())

    async def delete_override(self, request: web.Request) -> web.Response:
        """Lift an override. One that exists is lifted even when its zone or name is gone (a reload
        removed it): it would otherwise stay listed, and come back with the name, forever."""
        self.authorize(request, Role.OPERATOR)
        key = self._key(request)
        if self.server.health.overrides.lookup(*key) is None:
            self._subject(request)  # 404 saying what is wrong with the path, when something is
            raise json_error(web.HTTPNotFound, "no such override")
        try:
            lifted = await self.server.health.lift_override(key, _actor(request, _who(request)))
        except BackendUnavailable as exc:
            raise json_error(web.HTTPServiceUnavailable, str(exc), RETRY_LATER) from None
        if not lifted:
            raise json_error(web.HTTPNotFound, "no such override")
        return web.json_response({"deleted": True})

    def register(self, app: web.Application) -> None:
        router = app.router
        router.add_get("/v1/targets", self.targets)
        router.add_post("/v1/reports", self.reports)
        router.add_get("/v1/overrides", self.list_overrides)
        for path in ("/v1/overrides/{zone}/{kind}/{name}", "/v1/overrides/{zone}/{kind}/{name}/{address}",
                     "/v1/overrides/datacenters/{name}"):  # the last: a datacenter in every zone
            router.add_put(path, self.put_override)
            router.add_delete(path, self.delete_override)


def _log_rejected(reason: str, request: web.Request, detail: str) -> None:
    """One line per refused report: the reason and who sent it, never the token or the body."""
    # Cut short and without control characters: a crafted body must not forge or split log lines.
    detail = "".join(c if c.isprintable() else "?" for c in detail[:MAX_LOGGED_DETAIL])
    log.warning("prober report rejected (%s) from %s: %s", reason, request.remote, detail,
                extra={"event": "report_rejected", "reason": reason, "remote": request.remote, "detail": detail})


def _normal_address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def _override_body(body: Any) -> tuple[str, float | None, str]:
    if not isinstance(body, dict):
        raise json_error(web.HTTPBadRequest, "the body must be a JSON object")
    unknown = set(body) - OVERRIDE_KEYS
    if unknown:
        raise json_error(web.HTTPBadRequest, f"unknown keys: {', '.join(sorted(unknown))}")
    state = body.get("state")
    if state not in ("up", "down"):
        raise json_error(web.HTTPBadRequest, "state: expected \"up\" or \"down\"")
    expires_in = body.get("expires_in")
    if expires_in is not None and (
        isinstance(expires_in, bool) or not isinstance(expires_in, int | float)
        or not math.isfinite(expires_in) or expires_in <= 0
    ):
        raise json_error(web.HTTPBadRequest, "expires_in: expected a number of seconds above 0")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise json_error(web.HTTPBadRequest, f"reason: expected text of at most {MAX_REASON} characters")
    by = body.get("by")
    if by is not None and not _valid_name(by):
        raise json_error(web.HTTPBadRequest, f"by: expected {NAME_TEXT}")
    return state, float(expires_in) if expires_in is not None else None, reason
