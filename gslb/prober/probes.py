"""Running one probe of one target: a single observation, bounded by the check's timeout.

Nothing here remembers anything between probes (rise/fall is risefall.py's job) and nothing raises
for a failed target: every failure becomes a ``ProbeResult`` with ``ok=False`` and an ``error``
string short enough to show on a status page ("connection refused", "status 500 not in [200]").
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from dnslib import QTYPE, RCODE, DNSHeader, DNSQuestion, DNSRecord

from gslb.checks.spec import CheckSpec

__all__ = [
    "BODY_LIMIT",
    "DNS_OK_RCODES",
    "LOAD_HEADER",
    "ProbeResult",
    "describe_error",
    "make_probe_session",
    "run_probe",
    "url_host",
]

log = logging.getLogger(__name__)

LOAD_HEADER = "X-Load"
BODY_LIMIT = 64 * 1024  # bytes of a response body read for expect_body / load; health pages are small
DNS_OK_RCODES: frozenset[int] = frozenset({0, 3})  # NOERROR, NXDOMAIN: the server is answering
_USER_AGENT = "gslb-prober"
_NUMBER_RE = re.compile(rb"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class ProbeResult:
    """One observation: did the target pass, how fast, and what it said.

    ``status`` is the HTTP status for http/https and the DNS RCODE for dns; ``rtt_ms`` is the time to
    the TCP connection (tcp), the response headers (http/https) or the reply (dns), and is None when
    nothing came back.
    """

    ok: bool
    rtt_ms: float | None = None
    status: int | None = None
    error: str | None = None
    load: float | None = None


_Probe = Callable[[str, CheckSpec, aiohttp.ClientSession | None], Awaitable[ProbeResult]]


async def run_probe(address: str, spec: CheckSpec, session: aiohttp.ClientSession | None = None) -> ProbeResult:
    """Probe ``address`` once as ``spec`` says, never taking longer than ``spec.timeout``.

    ``session`` is used for http/https checks (the prober shares one, see ``make_probe_session``);
    without one a short-lived session is made for this probe.
    """
    if not spec.probed:
        return ProbeResult(ok=True)
    probe = _PROBES[spec.type]
    try:
        async with asyncio.timeout(spec.timeout):
            return await probe(address, spec, session)
    except TimeoutError:
        return ProbeResult(ok=False, error=f"timeout after {spec.timeout}s")
    except (OSError, aiohttp.ClientError) as exc:
        return ProbeResult(ok=False, error=describe_error(exc))
    except Exception as exc:  # a probe must never take the prober down; it is a failed observation
        log.warning("probe of %s (%s) failed unexpectedly: %r", address, spec.type, exc)
        return ProbeResult(ok=False, error=f"{type(exc).__name__}: {exc}")


def make_probe_session(limit: int = 100) -> aiohttp.ClientSession:
    """A session fit for health checks: a new connection per probe, no cookies, no proxies from env.

    Reusing kept-alive connections would hide a backend that no longer accepts new ones, and a
    cookie set by one target must not reach another.
    """
    connector = aiohttp.TCPConnector(limit=limit, force_close=True)
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        headers={"User-Agent": _USER_AGENT},
    )


def url_host(address: str) -> str:
    """The host part of a URL for ``address``: IPv6 literals are bracketed (zone ids escaped)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return "[" + address.replace("%", "%25") + "]"
    return address


def describe_error(exc: BaseException) -> str:
    """A short, stable, human description of why a probe failed."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        reason = getattr(cert_error, "verify_message", None) or getattr(cert_error, "reason", None)
        return f"certificate verify failed: {reason or cert_error}"
    if isinstance(exc, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError):
        return f"tls error: {getattr(exc, 'os_error', exc)}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return describe_error(exc.os_error)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"tls error: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected"
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return f"bad response: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _probe_http(address: str, spec: CheckSpec, session: aiohttp.ClientSession | None) -> ProbeResult:
    """GET the check's path; pass on an expected status and (if asked) a body substring."""
    if session is None:
        async with make_probe_session(limit=1) as own:
            return await _probe_http(address, spec, own)
    url = f"{spec.type}://{url_host(address)}:{spec.port}{spec.path}"
    headers = {"Connection": "close"}
    if spec.host is not None:
        headers["Host"] = spec.host
    https = spec.type == "https"
    need_body = spec.expect_body is not None or spec.load == "body"
    start = time.monotonic()
    async with session.get(
        url,
        headers=headers,
        allow_redirects=False,  # a redirect is an answer to judge, not an instruction to follow
        ssl=not spec.insecure,  # True: verify against the system CAs; False: no verification
        server_hostname=spec.host if https else None,
    ) as response:
        rtt_ms = (time.monotonic() - start) * 1000.0
        body = await _read_capped(response, BODY_LIMIT) if need_body else b""
        status = response.status
        load = _load_from(spec, response.headers.get(LOAD_HEADER), body)
    error = None
    if status not in spec.expect_status:
        error = f"status {status} not in [{', '.join(str(s) for s in spec.expect_status)}]"
    elif spec.expect_body is not None and spec.expect_body.encode("utf-8") not in body:
        error = f"body does not contain {spec.expect_body!r}"
    return ProbeResult(ok=error is None, rtt_ms=rtt_ms, status=status, error=error, load=load)


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Read at most ``limit`` bytes, so a huge or endless body cannot hold a probe's memory."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = await response.content.read(limit - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _load_from(spec: CheckSpec, header: str | None, body: bytes) -> float | None:
    """The load number the check is configured to read, or None when absent or not a number."""
    if spec.load == "header" and header is not None:
        return _finite(header.strip())
    if spec.load == "body":
        match = _NUMBER_RE.search(body)
        if match is not None:
            return _finite(match.group().decode("ascii"))
    return None


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


async def _probe_tcp(address: str, spec: CheckSpec, session: aiohttp.ClientSession | None) -> ProbeResult:
    """Pass when a TCP connection is established; it is closed again at once."""
    start = time.monotonic()
    _reader, writer = await asyncio.open_connection(address, spec.port)
    rtt_ms = (time.monotonic() - start) * 1000.0
    writer.close()
    return ProbeResult(ok=True, rtt_ms=rtt_ms)


class _MalformedReplyError(OSError):
    """A datagram carried our query id but did not parse as DNS."""


class _DnsReply(asyncio.DatagramProtocol):
    """Waits for the one datagram that answers our query; everything else is ignored."""

    def __init__(self, query_id: int, done: asyncio.Future[DNSRecord]) -> None:
        self.query_id = query_id
        self.done = done

    def datagram_received(self, data: bytes, addr: object) -> None:
        if self.done.done() or len(data) < 12 or int.from_bytes(data[:2], "big") != self.query_id:
            return
        try:
            record = DNSRecord.parse(data)
        except Exception:  # dnslib raises several types for malformed packets
            self.done.set_exception(_MalformedReplyError("malformed reply"))
            return
        if record.header.qr:
            self.done.set_result(record)

    def error_received(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


async def _probe_dns(address: str, spec: CheckSpec, session: aiohttp.ClientSession | None) -> ProbeResult:
    """Send one UDP query; pass on a reply with our id and RCODE NOERROR or NXDOMAIN."""
    loop = asyncio.get_running_loop()
    query_id = random.randrange(0, 65536)
    query = DNSRecord(DNSHeader(id=query_id, rd=0), q=DNSQuestion(spec.qname, QTYPE.reverse[spec.qtype]))
    done: asyncio.Future[DNSRecord] = loop.create_future()
    start = time.monotonic()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _DnsReply(query_id, done), remote_addr=(address, spec.port)
    )
    try:
        transport.sendto(query.pack())
        reply = await done
    except _MalformedReplyError:
        return ProbeResult(ok=False, rtt_ms=(time.monotonic() - start) * 1000.0, error="malformed reply")
    finally:
        transport.close()
    rtt_ms = (time.monotonic() - start) * 1000.0
    rcode = reply.header.rcode
    if rcode in DNS_OK_RCODES:
        return ProbeResult(ok=True, rtt_ms=rtt_ms, status=rcode)
    return ProbeResult(ok=False, rtt_ms=rtt_ms, status=rcode, error=f"rcode {RCODE.get(rcode, rcode)}")


_PROBES: dict[str, _Probe] = {
    "http": _probe_http,
    "https": _probe_http,
    "tcp": _probe_tcp,
    "dns": _probe_dns,
}
