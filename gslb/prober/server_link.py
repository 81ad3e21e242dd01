"""The server-facing side of a prober: where targets come from and where verdicts go.

A prober works for one or more servers, each a ``ServerLink``: a ``TargetSource`` (what to probe)
and a ``ReportSink`` (where verdicts go). The standalone prober talks HTTP to ``/v1/targets`` and
``/v1/reports`` (``HttpServerClient``); the server's embedded prober passes plain callables
(``FunctionSource``, ``FunctionSink``). The engine sees only the two protocols, so it neither knows
nor cares which it has.
"""

from __future__ import annotations

import inspect
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import aiohttp

from gslb.checks.target import Target, TargetError
from gslb.prober.probes import describe_error

__all__ = [
    "FunctionSink",
    "FunctionSource",
    "HttpServerClient",
    "ReportSink",
    "ServerLink",
    "ServerRequestError",
    "TargetSource",
]

log = logging.getLogger(__name__)


class ServerRequestError(Exception):
    """A server could not be reached, refused us, or answered with something unusable."""


@runtime_checkable
class TargetSource(Protocol):
    """Where a prober learns what to probe."""

    async def fetch(self) -> list[Target]:
        """The current target list; raise on failure (the previous list is then kept)."""
        ...


@runtime_checkable
class ReportSink(Protocol):
    """Where a prober's verdicts go."""

    async def send(self, report: dict[str, Any]) -> None:
        """Deliver one ``/v1/reports`` body; raise on failure (it is retried with backoff)."""
        ...


@dataclass(frozen=True)
class ServerLink:
    """One server as the prober sees it: its targets come from ``source``, its verdicts go to ``sink``.

    Not to be confused with ``gslb.common.endpoint.Endpoint`` (an address and port): a link is named
    (the URL for a remote server, ``local`` inside the server) and may involve no network at all.
    """

    name: str
    source: TargetSource
    sink: ReportSink


class FunctionSource:
    """A ``TargetSource`` over a plain callable (sync or async), for the server's embedded prober."""

    def __init__(self, fn: Callable[[], Sequence[Target] | Awaitable[Sequence[Target]]]) -> None:
        self._fn = fn

    async def fetch(self) -> list[Target]:
        result = self._fn()
        if inspect.isawaitable(result):
            result = await result
        return list(result)


class FunctionSink:
    """A ``ReportSink`` over a plain callable (sync or async), for the server's embedded prober."""

    def __init__(self, fn: Callable[[dict[str, Any]], object]) -> None:
        self._fn = fn

    async def send(self, report: dict[str, Any]) -> None:
        result = self._fn(report)
        if inspect.isawaitable(result):
            await result


class HttpServerClient:
    """Both halves of a remote server: ``GET /v1/targets`` and ``POST /v1/reports`` with a bearer token.

    Malformed entries in a target list are skipped (and logged) rather than failing the whole list:
    a server newer than this prober may list checks it does not understand yet.
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0,
                 tls: ssl.SSLContext | None = None) -> None:
        """`tls`: how an https:// server is verified (default: the system's CAs, host name checked)."""
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None
        self.rejected_targets = 0
        self._last_rejects: tuple[str, ...] = ()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._tls if self._tls is not None else True),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers={"Authorization": f"Bearer {self._token}", "User-Agent": "gslb-prober"},
                trust_env=False,
            )
        return self._session

    async def fetch(self) -> list[Target]:
        url = f"{self.base_url}/v1/targets"
        try:
            async with self._client().get(url) as response:
                if response.status != 200:
                    raise ServerRequestError(f"GET /v1/targets: {_status_text(response.status)}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ServerRequestError(f"GET /v1/targets: {describe_error(exc)}") from exc
        except ValueError as exc:
            raise ServerRequestError(f"GET /v1/targets: body is not JSON: {exc}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("targets"), list):
            raise ServerRequestError('GET /v1/targets: body is not {"targets": [...]}')
        targets: list[Target] = []
        rejects: list[str] = []
        for i, entry in enumerate(body["targets"]):
            try:
                targets.append(Target.from_json(entry))
            except TargetError as exc:
                rejects.append(f"targets[{i}]: {exc}")
        self.rejected_targets += len(rejects)
        if rejects and tuple(rejects) != self._last_rejects:
            log.warning("%s: skipped %d malformed target(s): %s", self.base_url, len(rejects), "; ".join(rejects[:5]))
        self._last_rejects = tuple(rejects)
        return targets

    async def send(self, report: dict[str, Any]) -> None:
        url = f"{self.base_url}/v1/reports"
        try:
            async with self._client().post(url, json=report) as response:
                if not 200 <= response.status < 300:
                    detail = (await response.text())[:200].strip()
                    message = _status_text(response.status) + (f": {detail}" if detail else "")
                    raise ServerRequestError(f"POST /v1/reports: {message}")
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ServerRequestError(f"POST /v1/reports: {describe_error(exc)}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _status_text(status: int) -> str:
    if status == 401:
        return "HTTP 401 (token rejected)"
    return f"HTTP {status}"
